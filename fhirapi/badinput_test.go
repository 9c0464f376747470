package fhirapi_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
)

func obj(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func txBundle(entries ...map[string]any) map[string]any {
	es := make([]any, len(entries))
	for i, e := range entries {
		es[i] = e
	}
	return obj("resourceType", "Bundle", "type", "transaction", "entry", es)
}

func putEntry(r map[string]any) map[string]any {
	return obj("resource", r, "request", obj("method", "PUT", "url", r["resourceType"].(string)+"/"+r["id"].(string)))
}

// TestBadInput sends one bad request per case and requires the status and
// an OperationOutcome, that a failed transaction stored nothing, and that
// the node keeps serving.
func TestBadInput(t *testing.T) {
	s := newStory(t)
	validating := schemaPath(t) != ""
	status, body := s.fhir(s.drA, "PUT", "Patient/p1", obj("resourceType", "Patient", "id", "p1"))
	s.expect("create Patient/p1", status, http.StatusCreated, body)

	observation := func(id, patient string) map[string]any {
		return obj("resourceType", "Observation", "id", id, "status", "final",
			"code", obj("text", "glucose"), "subject", obj("reference", "Patient/"+patient))
	}
	raw := func(b string) []byte { return []byte(b) }
	for _, tc := range []struct {
		name         string
		who          func() ed25519.PrivKey
		method, path string
		body         any
		status       int
		schemaOnly   bool
	}{
		{"invalid JSON", nil, "POST", "Observation", raw(`{"resourceType": "Observation",`), http.StatusBadRequest, false},
		{"not an object", nil, "POST", "Observation", raw(`[1, 2]`), http.StatusBadRequest, false},
		{"unknown resource type", nil, "POST", "Spaceship", obj("resourceType", "Spaceship"), http.StatusNotFound, false},
		{"type differs from the URL", nil, "POST", "Observation", obj("resourceType", "Patient"), http.StatusBadRequest, false},
		{"schema violation", nil, "POST", "Observation", obj("resourceType", "Observation", "status", 5, "code", obj("text", "x")), http.StatusBadRequest, true},
		{"unknown element", nil, "POST", "Patient", obj("resourceType", "Patient", "shoeSize", 44), http.StatusBadRequest, true},
		{"reference to no patient", nil, "PUT", "Observation/o1", observation("o1", "nobody"), http.StatusBadRequest, false},
		{"id differs from the URL", nil, "PUT", "Observation/o2", observation("o3", "p1"), http.StatusBadRequest, false},
		{"read of nothing", nil, "GET", "Observation/none", nil, http.StatusNotFound, false},
		{"search without a patient", nil, "GET", "Observation?code=x", nil, http.StatusBadRequest, false},
		{"unknown search parameter", nil, "GET", "Observation?patient=p1&shoe=44", nil, http.StatusBadRequest, false},
		{"write by another hospital", func() ed25519.PrivKey { return s.drB }, "PUT", "Observation/o4", observation("o4", "p1"), http.StatusForbidden, false},
		{"write by a patient", func() ed25519.PrivKey { return s.patient }, "PUT", "Observation/o5", observation("o5", "p1"), http.StatusForbidden, false},
		{"transaction with a reference to nothing", nil, "POST", "", txBundle(
			putEntry(obj("resourceType", "Patient", "id", "p-fail")),
			putEntry(observation("o-fail", "p-fail")),
			putEntry(obj("resourceType", "Observation", "id", "o-fail2", "status", "final", "code", obj("text", "x"),
				"subject", obj("reference", "urn:uuid:0b9d1ad2-7f1c-4bb8-a5b5-6c1ab7b7d2f1"))),
		), http.StatusBadRequest, false},
		{"transaction with an invalid entry", nil, "POST", "", txBundle(
			putEntry(obj("resourceType", "Patient", "id", "p-fail")),
			putEntry(obj("resourceType", "Observation", "id", "o-fail", "status", 7)),
		), http.StatusBadRequest, true},
		{"not a Bundle at the base", nil, "POST", "", obj("resourceType", "Patient"), http.StatusBadRequest, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.schemaOnly && !validating {
				t.Skip("needs the FHIR schema from ../shared/data")
			}
			who := s.drA
			if tc.who != nil {
				who = tc.who()
			}
			status, body := s.fhir(who, tc.method, tc.path, tc.body)
			if status != tc.status || !strings.Contains(string(body), `"resourceType":"OperationOutcome"`) {
				t.Errorf("%s %s: status %d, body %.300s; want %d and an OperationOutcome", tc.method, tc.path, status, body, tc.status)
			}
		})
	}
	for _, path := range []string{"Patient/p-fail", "Observation/o-fail", "Observation/o1", "Observation/o4"} {
		if status, body := s.fhir(s.drA, "GET", path, nil); status != http.StatusNotFound {
			t.Errorf("GET %s after the failed writes: %d %.200s; want 404: nothing partial is stored", path, status, body)
		}
	}

	// An oversize Bundle is refused before it is parsed.
	big := bytes.Repeat([]byte(" "), 17<<20)
	req, _ := http.NewRequest("POST", s.n.URL+"/fhir", bytes.NewReader(append([]byte(`{"resourceType":"Bundle","type":"batch","entry":[]`), append(big, '}')...)))
	if status, body := s.do(req, s.drA); status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversize Bundle: %d %.200s; want 413", status, body)
	}

	// Tokens: none, forged, and one of a member suspended since.
	for _, auth := range []string{"", "Bearer not-a-token"} {
		req, _ := http.NewRequest("GET", s.n.URL+"/fhir/Patient/p1", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET with Authorization %q: %d; want 401", auth, res.StatusCode)
		}
	}
	s.token(s.drA)
	s.send(s.n.Admin, contract.Encode(identity.SetMemberStatus{Member: addr(s.drA), Suspended: true}))
	if status, body := s.fhir(s.drA, "GET", "Patient/p1", nil); status != http.StatusForbidden {
		t.Errorf("read by a suspended member: %d %.200s; want 403", status, body)
	}

	// The node keeps serving.
	res, err := http.Get(s.n.URL + "/fhir/metadata")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /fhir/metadata after bad input: %v, %v", res, err)
	}
	res.Body.Close()
	if _, err := s.c.Status(context.Background()); err != nil {
		t.Fatalf("status after bad input: %v", err)
	}
}
