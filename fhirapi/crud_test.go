package fhirapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestCRUD walks the REST interactions on one record: create, update,
// vread, history, search with paging, delete.
func TestCRUD(t *testing.T) {
	s := newStory(t)
	status, body := s.fhir(s.drA, "PUT", "Patient/p1", obj("resourceType", "Patient", "id", "p1"))
	s.expect("create Patient", status, http.StatusCreated, body)
	obs := func(value float64) map[string]any {
		return obj("resourceType", "Observation", "id", "o1", "status", "final", "code", obj("text", "glucose"),
			"subject", obj("reference", "Patient/p1"), "valueQuantity", obj("value", value, "unit", "mmol/L"))
	}
	status, body = s.fhir(s.drA, "PUT", "Observation/o1", obs(5.1))
	s.expect("create", status, http.StatusCreated, body)
	status, body = s.fhir(s.drA, "PUT", "Observation/o1", obs(6.2))
	s.expect("update", status, http.StatusOK, body)
	var v2 struct{ Meta struct{ VersionID string } }
	json.Unmarshal(body, &v2)
	if v2.Meta.VersionID != "2" {
		t.Errorf("update answered version %q; want 2", v2.Meta.VersionID)
	}
	status, body = s.fhir(s.drA, "GET", "Observation/o1/_history/1", nil)
	s.expect("vread 1", status, http.StatusOK, body)
	if !strings.Contains(string(body), `"value":5.1`) {
		t.Errorf("vread 1: %s; want the first value", body)
	}
	status, body = s.fhir(s.drA, "GET", "Observation/o1/_history", nil)
	s.expect("history", status, http.StatusOK, body)
	var hist struct{ Total int }
	json.Unmarshal(body, &hist)
	if hist.Total != 2 {
		t.Errorf("history total %d; want 2", hist.Total)
	}

	// A second observation, and a search paged one at a time.
	o2 := obs(7.3)
	o2["id"] = "o2"
	status, body = s.fhir(s.drA, "PUT", "Observation/o2", o2)
	s.expect("create o2", status, http.StatusCreated, body)
	status, body = s.fhir(s.drA, "GET", "Observation?patient=p1&_count=1", nil)
	s.expect("search page 1", status, http.StatusOK, body)
	var page struct {
		Total int
		Link  []struct{ Relation, URL string }
		Entry []any
	}
	json.Unmarshal(body, &page)
	next := ""
	for _, l := range page.Link {
		if l.Relation == "next" {
			next = l.URL
		}
	}
	if page.Total != 2 || len(page.Entry) != 1 || next == "" {
		t.Fatalf("search with _count=1: total %d, %d entries, next %q; want 2, 1 and a next link", page.Total, len(page.Entry), next)
	}
	status, body = s.fhir(s.drA, "GET", strings.TrimPrefix(next, s.n.URL+"/fhir/"), nil)
	s.expect("search page 2", status, http.StatusOK, body)
	json.Unmarshal(body, &page)
	if len(page.Entry) != 1 {
		t.Errorf("page 2 has %d entries; want 1", len(page.Entry))
	}
	status, body = s.fhir(s.drA, "GET", "Observation?patient=p1&_lastUpdated=lt2000-01-01", nil)
	s.expect("search by _lastUpdated", status, http.StatusOK, body)
	json.Unmarshal(body, &page)
	if page.Total != 0 {
		t.Errorf("_lastUpdated before 2000: %d results; want 0", page.Total)
	}

	status, body = s.fhir(s.drA, "DELETE", "Observation/o1", nil)
	s.expect("delete", status, http.StatusNoContent, body)
	status, body = s.fhir(s.drA, "GET", "Observation/o1", nil)
	s.expect("read after delete", status, http.StatusGone, body)
	status, body = s.fhir(s.drA, "GET", "Observation/o1/_history", nil)
	s.expect("history after delete", status, http.StatusOK, body)
	json.Unmarshal(body, &hist)
	if hist.Total != 3 {
		t.Errorf("history after delete: total %d; want 3", hist.Total)
	}
	status, body = s.fhir(s.drA, "GET", "metadata", nil)
	s.expect("metadata", status, http.StatusOK, body)
	if !strings.Contains(string(body), `"CapabilityStatement"`) || !strings.Contains(string(body), `"everything"`) {
		t.Errorf("metadata: %.300s; want a CapabilityStatement naming $everything", body)
	}
}
