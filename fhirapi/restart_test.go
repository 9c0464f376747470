package fhirapi_test

import (
	"net/http"
	"testing"

	"github.com/careledger/careledger/nodetest"
)

// TestRecordsSurviveRestart stores a record, restarts the node, and reads
// it back: the vault is on disk, and the node's own transactions pick up
// their sequence again.
func TestRecordsSurviveRestart(t *testing.T) {
	s := newStory(t)
	status, body := s.fhir(s.drA, "PUT", "Patient/p1", obj("resourceType", "Patient", "id", "p1"))
	s.expect("create Patient", status, http.StatusCreated, body)
	status, before := s.fhir(s.drA, "GET", "Patient/p1", nil)
	s.expect("read before restart", status, http.StatusOK, before)

	s.n.Stop(t)
	s.n = nodetest.Open(t, s.n.Home)
	s.c = s.n.Client
	s.tokens = map[string]string{} // tokens are good at the node that issued them; its secret is on disk, but ask again
	status, after := s.fhir(s.drA, "GET", "Patient/p1", nil)
	s.expect("read after restart", status, http.StatusOK, after)
	if string(after) != string(before) {
		t.Errorf("after restart read %s; want %s", after, before)
	}
	status, body = s.fhir(s.drA, "PUT", "Patient/p2", obj("resourceType", "Patient", "id", "p2"))
	s.expect("write after restart", status, http.StatusCreated, body)
}
