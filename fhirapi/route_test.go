package fhirapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// outcomeCodes returns the issue codes of an OperationOutcome body, or nil
// when body is not one.
func outcomeCodes(body []byte) []string {
	var oo struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Code        string `json:"code"`
			Diagnostics string `json:"diagnostics"`
		} `json:"issue"`
	}
	if json.Unmarshal(body, &oo) != nil || oo.ResourceType != "OperationOutcome" {
		return nil
	}
	codes := make([]string, len(oo.Issue))
	for i, is := range oo.Issue {
		codes[i] = is.Code
	}
	return codes
}

// TestBadRoutes sends the request shapes of issue 14 that once answered 500
// (ids that are not FHIR ids, type-level _history, unknown operations) to a
// real node and requires a 4xx OperationOutcome with the issue code of the
// table: 400 invalid for an invalid id, 404 not-found for an interaction or
// operation that is not served. A rejected id is never echoed back.
func TestBadRoutes(t *testing.T) {
	s := newStory(t)
	long := strings.Repeat("a", 65)
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "Patient/..%2F..%2Fetc", http.StatusBadRequest, "invalid"},
		{"GET", "Patient/a%2Fb", http.StatusBadRequest, "invalid"},
		{"GET", "Patient/%2e%2e%2Fsecret", http.StatusBadRequest, "invalid"},
		{"GET", "Patient/a%5Cb", http.StatusBadRequest, "invalid"},
		{"GET", "Patient/a%00b", http.StatusBadRequest, "invalid"},
		{"GET", "Patient/a_b", http.StatusBadRequest, "invalid"},
		{"GET", "Patient/a%20b", http.StatusBadRequest, "invalid"},
		{"GET", "Patient/" + long, http.StatusBadRequest, "invalid"},
		{"GET", "Patient/" + long[:64], http.StatusNotFound, "not-found"}, // valid, not known
		{"GET", "Patient/%2e%2e", http.StatusNotFound, "not-found"},       // ".." is a valid FHIR id
		{"PUT", "Patient/a_b", http.StatusBadRequest, "invalid"},
		{"DELETE", "Patient/a%5Cb", http.StatusBadRequest, "invalid"},
		{"GET", "Patient/a%00b/_history", http.StatusBadRequest, "invalid"},
		{"GET", "Patient/" + long + "/_history/1", http.StatusBadRequest, "invalid"},
		{"GET", "Patient/a_b/_history/1/$anchor", http.StatusBadRequest, "invalid"},
		{"GET", "Patient/a_b/$everything", http.StatusBadRequest, "invalid"},
		{"GET", "Consent/a_b", http.StatusBadRequest, "invalid"},
		{"GET", "Patient/p1/_history/99999999999", http.StatusNotFound, "not-found"},
		{"GET", "Patient/p1/_history/99999999999/$anchor", http.StatusNotFound, "not-found"},
		{"GET", "Patient/p1/_history/-1", http.StatusNotFound, "not-found"},
		{"GET", "Observation/_history", http.StatusNotFound, "not-found"},
		{"GET", "_history", http.StatusNotFound, "not-found"},
		{"GET", "Observation/$lastn", http.StatusNotFound, "not-found"},
		{"GET", "Observation/$lastn?patient=p1", http.StatusNotFound, "not-found"},
		{"GET", "Patient/p1/$nosuch", http.StatusNotFound, "not-found"},
		{"POST", "Observation/$validate", http.StatusNotFound, "not-found"},
		{"PATCH", "Patient/p1", http.StatusNotFound, "not-found"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			status, body := s.fhir(s.drA, tc.method, tc.path, nil)
			codes := outcomeCodes(body)
			if status != tc.status || len(codes) == 0 || codes[0] != tc.code {
				t.Errorf("%s %s = %d %v (%.300s); want %d with issue %s", tc.method, tc.path, status, codes, body, tc.status, tc.code)
			}
			if status == http.StatusBadRequest && (strings.Contains(string(body), "a_b") || strings.Contains(string(body), long)) {
				t.Errorf("%s %s: the answer echoes the rejected id: %.300s", tc.method, tc.path, body)
			}
		})
	}
}
