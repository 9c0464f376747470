package fhir_test

import (
	"fmt"
	"net/url"
	"time"

	"github.com/careledger/careledger/fhir"
)

// A store with one Organization, for the conditional reference below.
type exampleStore struct{}

func (exampleStore) Lookup(typ string, q url.Values) ([]string, error) {
	if typ == "Organization" && q.Get("identifier") == "https://github.com/synthetichealth/synthea|abc" {
		return []string{"org-7"}, nil
	}
	return nil, nil
}

// A transaction creates a Patient and an Observation about it: Resolve gives
// each an id, rewrites the urn:uuid and conditional references, and the
// server then stores each op's resource with its meta.
func Example() {
	bundle := []byte(`{"resourceType":"Bundle","type":"transaction","entry":[
	  {"fullUrl":"urn:uuid:1","request":{"method":"POST","url":"Patient"},
	   "resource":{"resourceType":"Patient","managingOrganization":{"reference":"Organization?identifier=https://github.com/synthetichealth/synthea|abc"}}},
	  {"fullUrl":"urn:uuid:2","request":{"method":"POST","url":"Observation"},
	   "resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8302-2"}]},
	               "subject":{"reference":"urn:uuid:1"},"valueQuantity":{"value":168.80}}}]}`)
	b, err := fhir.ParseBundle(bundle)
	if err != nil {
		fmt.Println(err)
		return
	}
	n := 0
	newID := func(string) string { n++; return fmt.Sprintf("id%d", n) }
	plan, err := fhir.Resolve(b, newID, exampleStore{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, i := range plan.Order() {
		op := plan.Ops[i]
		op.Resource.SetMeta(1, time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
		patient, _ := fhir.PatientOf(op.Resource)
		fmt.Printf("%s %s/%s of patient %s: %s\n", op.Action, op.Type, op.ID, patient, op.Resource.Canonical())
	}

	q, _ := fhir.ParseQuery("Observation", url.Values{"patient": {"id1"}, "code": {"http://loinc.org|8302-2"}})
	fmt.Println("search confined to patient", q.Patient(), "matches:", q.Match(plan.Ops[1].Resource))
	// Output:
	// create Patient/id1 of patient id1: {"id":"id1","managingOrganization":{"reference":"Organization/org-7"},"meta":{"lastUpdated":"2025-01-02T03:04:05Z","versionId":"1"},"resourceType":"Patient"}
	// create Observation/id2 of patient id1: {"code":{"coding":[{"code":"8302-2","system":"http://loinc.org"}]},"id":"id2","meta":{"lastUpdated":"2025-01-02T03:04:05Z","versionId":"1"},"resourceType":"Observation","status":"final","subject":{"reference":"Patient/id1"},"valueQuantity":{"value":168.80}}
	// search confined to patient id1 matches: true
}
