package fhirapi

import (
	"slices"
	"testing"
)

// TestScopeNeeds checks that every route says what a token's SMART scopes
// must cover, but those whose scopes are checked elsewhere: a Bundle's
// entry by entry, a bulk export's status and files at its kick-off. A
// route added without a need would otherwise be open to every scope.
func TestScopeNeeds(t *testing.T) {
	elsewhere := []string{"POST /fhir", "POST /fhir/{$}", "GET /fhir/$export-poll/{job}", "DELETE /fhir/$export-poll/{job}", "GET /fhir/$export-file/{file}"}
	for _, rt := range (&Server{}).routes() {
		if rt.need.perms == 0 && !slices.Contains(elsewhere, rt.pattern) {
			t.Errorf("route %s needs no scope", rt.pattern)
		}
	}
}
