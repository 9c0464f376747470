package fhirapi_test

import (
	"fmt"
	"net/http"
	"testing"
)

// TestManyPatientsOneRequest writes a transaction Bundle of 70 patients,
// more than one transaction's 64 messages of anchors, and finds them all
// by name, more than one transaction's 64 accesses: the custodian splits
// its anchors and its decisions into several transactions.
func TestManyPatientsOneRequest(t *testing.T) {
	s := newStory(t)
	const n = 70
	entries := make([]map[string]any, n)
	for i := range entries {
		entries[i] = obj("fullUrl", fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", i),
			"resource", obj("resourceType", "Patient", "name", name("Zyzzogeton", fmt.Sprintf("P%d", i))),
			"request", obj("method", "POST", "url", "Patient"))
	}
	status, body := s.fhir(s.drA, "POST", "", txBundle(entries...))
	s.expect("a transaction Bundle of 70 patients", status, http.StatusOK, body)
	if got := s.searchTotal(s.drA, "Patient?family=zyzzogeton"); got != n {
		t.Errorf("Patient?family=zyzzogeton found %d; want %d", got, n)
	}
}
