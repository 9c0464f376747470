package fhir_test

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"testing"

	"github.com/careledger/careledger/fhir"
)

// TestIndexTermsFindEveryMatch checks the blind index's promise against
// Match, the oracle: for random patients and random searches, every
// patient a search matches has, for every condition the index answers, one
// of the condition's terms among its own. The index may find more (Match
// then decides), never fewer.
func TestIndexTermsFindEveryMatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"Zoë", "zoe", "Müller", "Mueller", "Anne Marie", "Ng", "Ólafsdóttir-Bergmann", "O'Brien", "Li", "Ångström"}
	dates := []string{"1980", "1980-04", "1980-04-02", "1979-12-31", "2001-01-01", "1800-06-15", "2200-12-31"}
	var patients []*fhir.Resource
	for i := range 200 {
		p := fmt.Sprintf(`{"resourceType":"Patient","id":"p%d","name":[{"family":%q,"given":[%q]}],"birthDate":%q,"identifier":[{"system":"urn:s%d","value":"v%d"}]}`,
			i, names[rng.IntN(len(names))], names[rng.IntN(len(names))], dates[rng.IntN(len(dates))], rng.IntN(3), rng.IntN(5))
		patients = append(patients, mustParse(t, p))
	}
	var queries []string
	for _, n := range names {
		for _, param := range []string{"name", "family", "given", "name:exact", "family:exact"} {
			for _, cut := range []int{1, 2, 5, 20} {
				queries = append(queries, param+"="+url.QueryEscape(string([]rune(n)[:min(cut, len([]rune(n)))])))
			}
		}
	}
	for _, d := range dates {
		for _, prefix := range []string{"", "eq", "gt", "lt", "ge", "le", "sa", "eb"} {
			queries = append(queries, "birthdate="+prefix+d)
		}
	}
	for s := range 3 {
		for v := range 5 {
			queries = append(queries, fmt.Sprintf("identifier=v%d", v), fmt.Sprintf("identifier=urn:s%d|v%d", s, v))
		}
	}
	queries = append(queries, "family=zo&birthdate=ge1980", "name=mu,an&identifier=v1")
	for _, raw := range queries {
		q := mustQuery(t, "Patient", raw)
		conds, ok := q.IndexTerms()
		if !ok {
			t.Errorf("Patient?%s: the index answers none of its conditions", raw)
			continue
		}
		for _, p := range patients {
			if !q.Match(p) {
				continue
			}
			have := fhir.IndexTerms(p)
			for _, cond := range conds {
				if !slices.ContainsFunc(cond, func(term fhir.Term) bool { return slices.Contains(have, term) }) {
					t.Errorf("Patient?%s matches %s but the index would not find it (terms %v)", raw, p.Canonical(), cond)
				}
			}
		}
	}
}

func TestIndexTermsNotAnswerable(t *testing.T) {
	for _, raw := range []string{"family:contains=x", "name:missing=true", "birthdate=ne1980", "identifier=urn:s|", "identifier:not=x", "_lastUpdated=2020"} {
		if _, ok := mustQuery(t, "Patient", raw).IndexTerms(); ok {
			t.Errorf("Patient?%s: IndexTerms says the index answers it", raw)
		}
	}
	if terms := fhir.IndexTerms(mustParse(t, `{"resourceType":"Observation","status":"final","code":{}}`)); len(terms) != 0 {
		t.Errorf("an Observation has index terms %v; want none", terms)
	}
}

func TestIndexTermsOfPatient(t *testing.T) {
	p := mustParse(t, `{"resourceType":"Patient","name":[{"family":"Ng","given":["Ann"]}],"birthDate":"1980-04","identifier":[{"system":"urn:mrn","value":"7"}]}`)
	got := fhir.IndexTerms(p)
	want := []fhir.Term{
		{"search/Patient.birthdate", "1980"}, {"search/Patient.birthdate", "1980-04"},
		{"search/Patient.family", "ng"}, {"search/Patient.family^", "n"}, {"search/Patient.family^", "ng"},
		{"search/Patient.given", "ann"}, {"search/Patient.given^", "a"}, {"search/Patient.given^", "an"}, {"search/Patient.given^", "ann"},
		{"search/Patient.identifier", "urn:mrn|7"}, {"search/Patient.identifier:value", "7"},
		{"search/Patient.name", "ng"}, {"search/Patient.name^", "n"}, {"search/Patient.name^", "ng"},
		{"search/Patient.name", "ann"}, {"search/Patient.name^", "a"}, {"search/Patient.name^", "an"}, {"search/Patient.name^", "ann"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("IndexTerms = %v\nwant %v", got, want)
	}
	long := mustParse(t, `{"resourceType":"Patient","name":[{"family":"Abcdefghijklmnopqrstuvwxyz"}]}`)
	for _, term := range fhir.IndexTerms(long) {
		if term.Domain == "search/Patient.family^" && len([]rune(term.Value)) > fhir.MaxPrefixRunes {
			t.Errorf("prefix %q is longer than %d runes", term.Value, fhir.MaxPrefixRunes)
		}
	}
}
