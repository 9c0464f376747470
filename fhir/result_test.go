package fhir_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/careledger/careledger/fhir"
)

func TestResultParamErrors(t *testing.T) {
	tests := []struct{ typ, raw, mention string }{
		{"Observation", "_sort=patient", "_sort"},
		{"Observation", "_sort=nope", "_sort"},
		{"Observation", "_sort=date,", "_sort"},
		{"Observation", "_sort=date&_sort=code", "_sort"},
		{"Observation", "_sort=a,b,c,d,e,f,g,h,i", "_sort"},
		{"Observation", "_total=some", "_total"},
		{"Observation", "_summary=maybe", "_summary"},
		{"Observation", "_elements=status,1x", "_elements"},
		{"Observation", "_elements=status&_summary=true", "combined"},
		{"Observation", "_include=Patient:link", "_include"},
		{"Observation", "_include=Observation:code", "_include"},
		{"Observation", "_include=Observation:*", "_include"},
		{"Observation", "_include=Observation:subject:Medication", "_include"},
		{"Observation", "_include=Observation", "_include"},
		{"Observation", "_include:iterate=Observation:subject", "iterate"},
		{"Patient", "_revinclude=Observation:encounter", "_revinclude"},
		{"Patient", "_revinclude=Nope:subject", "_revinclude"},
		{"Patient", "name:text=x", "modifier"},
		{"Patient", "name=", "name"},
		{"Patient", "family:contains=%20", "family"},
	}
	for _, tt := range tests {
		v, _ := url.ParseQuery(tt.raw)
		_, err := fhir.ParseQuery(tt.typ, v)
		if !errors.Is(err, fhir.ErrInvalid) || !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("ParseQuery(%s, %s) = %v; want an invalid error mentioning %q", tt.typ, tt.raw, err, tt.mention)
		}
	}
}

func TestStringSearch(t *testing.T) {
	p := mustParse(t, `{"resourceType":"Patient","id":"p1","birthDate":"1980-04-02",
		"name":[{"family":"Müller-Lüdenscheidt","given":["Zoë","Anne  Marie"],"text":"Zoë Müller-Lüdenscheidt"}],
		"identifier":[{"system":"urn:mrn","value":"MRN-42"}]}`)
	tests := []struct {
		raw  string
		want bool
	}{
		{"name=zoe", true}, {"name=ZOË", true}, {"name=muller", true}, {"name=lüdenscheidt", false},
		{"name=anne%20%20marie", true}, {"name=anne marie", true}, {"name=marie", false},
		{"family=müller-lüd", true}, {"family=Zoe", false}, {"given=anne", true}, {"given=müller", false},
		{"name:exact=Zoë", true}, {"name:exact=zoë", false}, {"name:exact=Zo", false},
		{"name:contains=LÜDEN", true}, {"family:contains=zoe", false},
		{"name=x,zo", true}, {"name=zoe&family=x", false},
		{"birthdate=1980", true}, {"birthdate=1980-04", true}, {"birthdate=1980-04-02", true}, {"birthdate=1980-04-03", false},
		{"birthdate=ge1980-04-02", true}, {"birthdate=gt1980-04-02", false}, {"birthdate=lt1981", true},
		{"identifier=MRN-42", true}, {"identifier=urn:mrn|MRN-42", true}, {"identifier=mrn-42", false},
		{"name:missing=false", true},
	}
	for _, tt := range tests {
		if got := mustQuery(t, "Patient", tt.raw).Match(p); got != tt.want {
			t.Errorf("Patient?%s matches = %v; want %v", tt.raw, got, tt.want)
		}
	}
	org := mustParse(t, `{"resourceType":"Organization","id":"o","name":"St. Élise Hospital","alias":["Elise"]}`)
	if !mustQuery(t, "Organization", "name=st. elise").Match(org) || !mustQuery(t, "Organization", "name=elise").Match(org) {
		t.Error("Organization?name does not find an Organization by its name or alias")
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"  Zoë \t MÜLLER ": "zoe muller",
		"Ångström":         "angstrom",
		"O'Brien":          "o'brien",
		"\xff":             "\ufffd",
		"":                 "",
	} {
		if got := fhir.Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestSort(t *testing.T) {
	var rs []*fhir.Resource
	for _, s := range []string{
		`{"resourceType":"Patient","id":"a","birthDate":"1990","name":[{"family":"Órla"}],"meta":{"lastUpdated":"2024-01-03T00:00:00Z"}}`,
		`{"resourceType":"Patient","id":"b","birthDate":"1970-05-01","name":[{"family":"Zed"},{"family":"Abe"}],"meta":{"lastUpdated":"2024-01-01T00:00:00Z"}}`,
		`{"resourceType":"Patient","id":"c","name":[{"family":"Nash"}],"meta":{"lastUpdated":"2024-01-02T00:00:00Z"}}`,
		`{"resourceType":"Patient","id":"d","birthDate":"1970-05-01","name":[{"family":"Nash"}]}`,
	} {
		rs = append(rs, mustParse(t, s))
	}
	tests := []struct{ sort, want string }{
		{"", "a b c d"},
		{"_id", "a b c d"},
		{"-_id", "d c b a"},
		{"birthdate", "b d a c"},    // missing last, ties by id
		{"-birthdate", "a b d c"},   // missing last either way
		{"family", "b c d a"},       // b's lowest is Abe; Órla sorts as orla
		{"-family", "b a c d"},      // b's highest is Zed
		{"-family,-_id", "b a d c"}, // the second key breaks the tie
		{"_lastUpdated", "b c a d"},
		{"birthdate,-family", "b d a c"},
	}
	for _, tt := range tests {
		raw := ""
		if tt.sort != "" {
			raw = "_sort=" + tt.sort
		}
		got := slices.Clone(rs)
		mustQuery(t, "Patient", raw).Sort(got)
		var ids []string
		for _, r := range got {
			ids = append(ids, r.ID())
		}
		if s := strings.Join(ids, " "); s != tt.want {
			t.Errorf("_sort=%s orders %s; want %s", tt.sort, s, tt.want)
		}
	}
}

// entries decodes a searchset's entries as generic JSON.
func entries(t *testing.T, set *fhir.Resource) (total any, es []map[string]any) {
	t.Helper()
	var b struct {
		Total any
		Entry []map[string]any
	}
	if err := json.Unmarshal(set.Canonical(), &b); err != nil {
		t.Fatal(err)
	}
	return b.Total, b.Entry
}

func TestSummaryAndElements(t *testing.T) {
	obs := mustParse(t, `{"resourceType":"Observation","id":"o","meta":{"versionId":"1","tag":[{"code":"x"}]},
		"text":{"status":"generated","div":"<div>6.3</div>"},"status":"final","code":{"text":"glucose"},
		"subject":{"reference":"Patient/p"},"valueQuantity":{"value":6.3},"_status":{"id":"s"},
		"interpretation":[{"text":"high"}],"note":[{"text":"fasting"}]}`)
	pat := mustParse(t, `{"resourceType":"Patient","id":"p","name":[{"family":"X"}],"maritalStatus":{"text":"M"}}`)
	keys := func(m map[string]any) string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return strings.Join(ks, ",")
	}
	tests := []struct{ raw, obs, pat string }{
		{"_summary=false", "_status,code,id,interpretation,meta,note,resourceType,status,subject,text,valueQuantity", "id,maritalStatus,name,resourceType"},
		{"_summary=true", "_status,code,id,meta,resourceType,status,subject,valueQuantity", "id,meta,name,resourceType"},
		{"_summary=text", "_status,code,id,meta,resourceType,status,text", "id,meta,resourceType"},
		{"_summary=data", "_status,code,id,interpretation,meta,note,resourceType,status,subject,valueQuantity", "id,maritalStatus,meta,name,resourceType"},
		{"_elements=value,note", "_status,code,id,meta,note,resourceType,status,valueQuantity", "id,maritalStatus,name,resourceType"},
	}
	for _, tt := range tests {
		q := mustQuery(t, "Observation", "patient=p&"+tt.raw)
		_, es := entries(t, fhir.SearchSet(q, "https://n/fhir", 1, []*fhir.Resource{obs}, pat))
		if len(es) != 2 {
			t.Fatalf("%s: %d entries; want 2", tt.raw, len(es))
		}
		o, p := es[0]["resource"].(map[string]any), es[1]["resource"].(map[string]any)
		if got := keys(o); got != tt.obs {
			t.Errorf("%s: the match has %s; want %s", tt.raw, got, tt.obs)
		}
		if got := keys(p); got != tt.pat {
			t.Errorf("%s: the include has %s; want %s", tt.raw, got, tt.pat)
		}
		if es[1]["search"].(map[string]any)["mode"] != "include" {
			t.Errorf("%s: included entry %v; want search.mode include", tt.raw, es[1]["search"])
		}
		tags, _ := json.Marshal(o["meta"])
		if subsetted := strings.Contains(string(tags), "SUBSETTED"); subsetted != (tt.raw != "_summary=false") {
			t.Errorf("%s: meta %s; SUBSETTED tag present = %v", tt.raw, tags, subsetted)
		}
	}
	if !strings.Contains(string(obs.Canonical()), "interpretation") || strings.Contains(string(obs.Canonical()), "SUBSETTED") {
		t.Error("shaping changed the resource it was given")
	}
	total, es := entries(t, fhir.SearchSet(mustQuery(t, "Observation", "_summary=count"), "https://n/fhir", 7, []*fhir.Resource{obs}))
	if total != 7.0 || len(es) != 0 {
		t.Errorf("_summary=count: total %v, %d entries; want 7 and none", total, len(es))
	}
	total, _ = entries(t, fhir.SearchSet(mustQuery(t, "Observation", "_total=none"), "https://n/fhir", 7, []*fhir.Resource{obs}))
	if total != nil {
		t.Errorf("_total=none: total %v; want none", total)
	}
}

func TestIncludeRefs(t *testing.T) {
	obs := mustParse(t, `{"resourceType":"Observation","id":"o","status":"final","code":{},
		"subject":{"reference":"Patient/p"},"performer":[{"reference":"Practitioner/d"},{"reference":"Organization/h"},{"reference":"Practitioner/d"}],
		"encounter":{"reference":"Encounter/e"}}`)
	q := mustQuery(t, "Observation", "_include=Observation:performer&_include=Observation:performer:Organization&_include=Observation:patient")
	inc := q.Results.Include
	if got := inc[0].Refs(obs); !slices.Equal(got, []string{"Practitioner/d", "Organization/h"}) {
		t.Errorf("Observation:performer refs = %v", got)
	}
	if got := inc[1].Refs(obs); !slices.Equal(got, []string{"Organization/h"}) {
		t.Errorf("Observation:performer:Organization refs = %v", got)
	}
	if got := inc[2].Refs(obs); !slices.Equal(got, []string{"Patient/p"}) {
		t.Errorf("Observation:patient refs = %v", got)
	}
	rev := mustQuery(t, "Patient", "_revinclude=Observation:subject").Results.RevInclude[0]
	if !rev.RefersTo(obs, "Patient", "p") || rev.RefersTo(obs, "Patient", "q") {
		t.Error("Observation:subject RefersTo does not tell Patient/p from Patient/q")
	}
	// Links keep the result parameters, so that the next page is the same
	// search.
	var next string
	for _, l := range mustQuery(t, "Patient", "name=x&_sort=-birthdate&_revinclude=Observation:subject&_count=1").Links("b", 3) {
		if l.Relation == "next" {
			next = l.URL
		}
	}
	for _, want := range []string{"_sort=-birthdate", "_revinclude=Observation%3Asubject", "name=x", "_offset=1"} {
		if !strings.Contains(next, want) {
			t.Errorf("next link %s lacks %s", next, want)
		}
	}
}
