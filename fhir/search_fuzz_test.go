package fhir_test

import (
	"errors"
	"net/url"
	"testing"

	"github.com/careledger/careledger/fhir"
)

// FuzzParseQuery checks search parsing, result parameters included
// (_sort, _include, _revinclude, _elements, _summary, _total): ParseQuery
// never panics and refuses with an invalid or unsupported *Error; a query
// it accepts sorts, shapes, finds its index terms and matches without
// panicking, and its paging link parses back to the same query.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []struct{ typ, raw string }{
		{"Patient", "name=zo%C3%AB&_sort=-birthdate,family&_summary=true"},
		{"Patient", "family:exact=M%C3%BCller&birthdate=ge1980-04&identifier=urn:mrn|42"},
		{"Patient", "_revinclude=Observation:subject&_revinclude=Condition:patient:Patient&_total=accurate"},
		{"Observation", "patient=p1&_include=Observation:performer:Practitioner&_elements=status,value"},
		{"Observation", "patient=p1&_sort=date,-_lastUpdated&_count=2&_offset=4"},
		{"Observation", "_include:iterate=Observation:subject&_summary=count"},
		{"Encounter", "patient=p1&_elements=a,1&_summary=text"},
		{"Organization", "name:contains=st%20&_sort=name"},
	} {
		f.Add(s.typ, s.raw)
	}
	f.Fuzz(func(t *testing.T, typ, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := fhir.ParseQuery(typ, v)
		if err != nil {
			var fe *fhir.Error
			if !errors.As(err, &fe) || !errors.Is(err, fhir.ErrInvalid) && !errors.Is(err, fhir.ErrUnsupported) && !errors.Is(err, fhir.ErrUnknownType) {
				t.Fatalf("ParseQuery(%q, %q) = %v; want an invalid or unsupported *Error", typ, raw, err)
			}
			return
		}
		rs := []*fhir.Resource{
			mustParseF(t, `{"resourceType":"Patient","id":"a","name":[{"family":"Zoë","given":["X"]}],"birthDate":"1980"}`),
			mustParseF(t, `{"resourceType":"Observation","id":"b","status":"final","code":{},"subject":{"reference":"Patient/a"},"effectiveDateTime":"2020-01-01"}`),
		}
		q.Sort(rs)
		q.IndexTerms()
		for _, r := range rs {
			q.Match(r)
			for _, inc := range append(q.Results.Include, q.Results.RevInclude...) {
				inc.Refs(r)
			}
		}
		fhir.SearchSet(q, "https://n/fhir", len(rs), rs, rs...).Canonical()
		again, err := url.ParseQuery(q.Encode())
		if err != nil {
			t.Fatalf("Encode() = %q does not parse: %v", q.Encode(), err)
		}
		q2, err := fhir.ParseQuery(typ, again)
		if err != nil || q2.Encode() != q.Encode() {
			t.Fatalf("ParseQuery(Encode()) = %v, %v; want the query %q again", q2, err, q.Encode())
		}
	})
}

func mustParseF(t *testing.T, s string) *fhir.Resource {
	r, err := fhir.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return r
}
