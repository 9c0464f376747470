package fhirapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/smart"
	"github.com/careledger/careledger/tx"
)

// scopedToken returns a token of key limited to scope, and the scope the
// node granted.
func (s *story) scopedToken(key ed25519.PrivKey, scope string) (string, string) {
	s.t.Helper()
	ans, err := s.c.ScopedToken(context.Background(), key, scope)
	if err != nil {
		s.t.Fatalf("token for %q: %v", scope, err)
	}
	return ans.Token, ans.Scope
}

// fhirAs makes a FHIR request with a bearer token.
func (s *story) fhirAs(token, method, path string, body any, headers ...string) (int, []byte) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.n.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/fhir+json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// TestSMARTDiscovery reads the discovery document at both places, without
// a token, and checks it claims what is served and nothing else.
func TestSMARTDiscovery(t *testing.T) {
	s := newStory(t)
	for _, path := range []string{"/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration"} {
		res, err := http.Get(s.n.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("GET %s = HTTP %d (%s) %s; want 200 JSON", path, res.StatusCode, res.Header.Get("Content-Type"), b)
		}
		var doc smart.Configuration
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		if doc.TokenEndpoint != s.n.URL+"/v1/auth/token" || doc.ChallengeEndpoint != s.n.URL+"/v1/auth/challenge" {
			t.Errorf("GET %s: endpoints %q, %q; want this node's /v1/auth/token and /v1/auth/challenge", path, doc.TokenEndpoint, doc.ChallengeEndpoint)
		}
		if !slices.Equal(doc.GrantTypesSupported, []string{smart.GrantType}) || slices.Contains(doc.GrantTypesSupported, "authorization_code") {
			t.Errorf("GET %s: grant types %v; want only the signed challenge", path, doc.GrantTypesSupported)
		}
		for _, c := range []string{"permission-v2", "permission-patient", "permission-user"} {
			if !slices.Contains(doc.Capabilities, c) {
				t.Errorf("GET %s: capabilities %v lack %s", path, doc.Capabilities, c)
			}
		}
		for _, c := range []string{"launch-standalone", "launch-ehr", "client-confidential-asymmetric", "sso-openid-connect", "permission-offline"} {
			if slices.Contains(doc.Capabilities, c) {
				t.Errorf("GET %s: capabilities claim %s, which is not served", path, c)
			}
		}
		for _, sc := range doc.ScopesSupported {
			if _, err := smart.Parse(sc); err != nil {
				t.Errorf("GET %s: scopes_supported has %q, which the token endpoint refuses: %v", path, sc, err)
			}
		}
	}
}

// TestSMARTScopes checks tokens limited by scopes against a real node: a
// patient's patient/Observation.rs token reads the patient's Observations
// and nothing else, and no consent decision is made for what it is
// refused; a user/*.cruds token does what an unlimited one does; bad
// scopes are refused at the token endpoint.
func TestSMARTScopes(t *testing.T) {
	s := newStory(t)
	pa := addr(s.patient)
	stranger, delegate := ed25519.GenPrivKey(), ed25519.GenPrivKey()
	s.send(stranger, contract.Encode(identity.RegisterPatient{}))
	s.send(delegate, contract.Encode(identity.RegisterPatient{}))
	s.send(s.patient, contract.Encode(identity.SetDelegate{Delegate: addr(delegate), Relation: identity.Caregiver}))

	// The physician, with a token that may do everything, writes the records.
	all, granted := s.scopedToken(s.drA, "user/*.cruds")
	if granted != "user/*.cruds" {
		t.Errorf("token for user/*.cruds granted %q", granted)
	}
	for _, r := range []map[string]any{
		obj("resourceType", "Patient", "id", "p1", "identifier", []any{obj("system", "urn:careledger:patient", "value", pa.String())}),
		obj("resourceType", "Observation", "id", "o1", "status", "final", "code", obj("text", "glucose"), "subject", obj("reference", "Patient/p1")),
		obj("resourceType", "Condition", "id", "c1", "subject", obj("reference", "Patient/p1")),
	} {
		status, body := s.fhirAs(all, "PUT", "/fhir/"+r["resourceType"].(string)+"/"+r["id"].(string), r)
		s.expect("user/*.cruds writes "+r["resourceType"].(string), status, http.StatusCreated, body)
	}
	status, body := s.fhirAs(all, "GET", "/fhir/Condition/c1", nil)
	s.expect("user/*.cruds reads the Condition", status, http.StatusOK, body)
	status, body = s.fhirAs(all, "DELETE", "/fhir/Condition/c1", nil)
	s.expect("user/*.cruds deletes", status, http.StatusNoContent, body)
	status, body = s.fhirAs(all, "PUT", "/fhir/Condition/c1", obj("resourceType", "Condition", "id", "c1", "subject", obj("reference", "Patient/p1")))
	s.expect("user/*.cruds writes the Condition again", status, http.StatusOK, body)

	obsOnly, granted := s.scopedToken(s.patient, "patient/Observation.read")
	if granted != "patient/Observation.rs" {
		t.Errorf("token for patient/Observation.read granted %q; want patient/Observation.rs", granted)
	}
	status, body = s.fhirAs(obsOnly, "GET", "/fhir/Observation/o1", nil)
	s.expect("patient/Observation.rs reads the patient's Observation", status, http.StatusOK, body)
	status, body = s.fhirAs(obsOnly, "GET", "/fhir/Observation?patient=p1", nil)
	s.expect("patient/Observation.rs searches Observations", status, http.StatusOK, body)
	if !strings.Contains(string(body), `"total":1`) {
		t.Errorf("search of Observations with patient/Observation.rs: %s; want the one", body)
	}

	// Refusals by scope come before the consent contract: no decision.
	decisions := len(s.accessEvents())
	refuse := func(what, token, method, path string, body any) {
		t.Helper()
		status, out := s.fhirAs(token, method, path, body)
		if status != http.StatusForbidden || !slices.Contains(outcomeCodes(out), "forbidden") || !strings.Contains(string(out), "scope") {
			t.Errorf("%s: HTTP %d %s; want 403 forbidden saying the scope does not cover it", what, status, out)
		}
	}
	refuse("patient/Observation.rs reads a Condition", obsOnly, "GET", "/fhir/Condition/c1", nil)
	refuse("patient/Observation.rs searches Conditions", obsOnly, "GET", "/fhir/Condition?patient=p1", nil)
	refuse("patient/Observation.rs creates an Observation", obsOnly, "POST", "/fhir/Observation",
		obj("resourceType", "Observation", "status", "final", "code", obj("text", "x"), "subject", obj("reference", "Patient/p1")))
	refuse("patient/Observation.rs asks $everything", obsOnly, "GET", "/fhir/Patient/p1/$everything", nil)
	refuse("patient/Observation.rs in a transaction reading a Condition", obsOnly, "POST", "/fhir",
		txBundle(obj("request", obj("method", "GET", "url", "Condition/c1"))))
	strangerObs, _ := s.scopedToken(stranger, "patient/Observation.rs")
	refuse("another patient's patient/Observation.rs", strangerObs, "GET", "/fhir/Observation/o1", nil)
	drObs, _ := s.scopedToken(s.drA, "patient/*.cruds")
	refuse("a physician's patient/*.cruds reads", drObs, "GET", "/fhir/Observation/o1", nil)
	refuse("a physician's patient/*.cruds writes", drObs, "PUT", "/fhir/Observation/o1",
		obj("resourceType", "Observation", "id", "o1", "status", "final", "code", obj("text", "x"), "subject", obj("reference", "Patient/p1")))
	if got := len(s.accessEvents()); got != decisions {
		t.Errorf("refusals by scope recorded %d consent decisions; want none", got-decisions)
	}

	// A batch: each entry is checked on its own.
	batch := txBundle(obj("request", obj("method", "GET", "url", "Observation/o1")), obj("request", obj("method", "GET", "url", "Condition/c1")))
	batch["type"] = "batch"
	status, body = s.fhirAs(obsOnly, "POST", "/fhir", batch)
	s.expect("batch with patient/Observation.rs", status, http.StatusOK, body)
	var resp struct {
		Entry []struct{ Response struct{ Status string } }
	}
	json.Unmarshal(body, &resp)
	if len(resp.Entry) != 2 || !strings.HasPrefix(resp.Entry[0].Response.Status, "200") || !strings.HasPrefix(resp.Entry[1].Response.Status, "403") {
		t.Errorf("batch reading an Observation and a Condition with patient/Observation.rs: %s; want 200 then 403", body)
	}

	// A delegate's patient/ scopes reach the patient they act for: the
	// consent contract decides (and, as for any delegate today, denies).
	delegateAll, _ := s.scopedToken(delegate, "patient/*.rs")
	decisions = len(s.accessEvents())
	status, body = s.fhirAs(delegateAll, "GET", "/fhir/Condition/c1", nil)
	if got := len(s.accessEvents()); got != decisions+1 || strings.Contains(string(body), "scope") {
		t.Errorf("the delegate's patient/*.rs reads the patient's Condition: HTTP %d %s, %d decisions; want the consent contract's one", status, body, got-decisions)
	}

	// The JSON API: a patient/ token reads no patient data there.
	status, body = s.fhirAs(obsOnly, "GET", "/v1/accounts/"+pa.String(), nil)
	s.expect("patient/Observation.rs on /v1/accounts", status, http.StatusForbidden, body)
	status, body = s.fhirAs(obsOnly, "GET", "/v1/orgs", nil)
	s.expect("patient/Observation.rs on a chain-wide view", status, http.StatusOK, body)
	userRead, _ := s.scopedToken(s.patient, "user/*.rs")
	status, body = s.fhirAs(userRead, "GET", "/v1/accounts/"+pa.String(), nil)
	s.expect("user/*.rs on /v1/accounts", status, http.StatusOK, body)
}

// TestSMARTBadScopes checks that the token endpoint refuses scopes it does
// not grant.
func TestSMARTBadScopes(t *testing.T) {
	s := newStory(t)
	for _, tc := range []struct {
		key   ed25519.PrivKey
		scope string
		code  tx.Code
	}{
		{s.patient, "openid", tx.CodeMalformed},
		{s.patient, "patient/Observation.sr", tx.CodeMalformed},
		{s.patient, "patient/Foo.rs", tx.CodeMalformed},
		{s.patient, "patient/Observation.rs  user/*.r", tx.CodeMalformed},
		{s.patient, "patient/*.rs?category=laboratory", tx.CodeMalformed},
		{s.patient, "system/*.rs", tx.CodeUnauthorized},
	} {
		_, err := s.c.ScopedToken(context.Background(), tc.key, tc.scope)
		if code, ok := tx.CodeOf(err); !ok || code != tc.code {
			t.Errorf("token for scope %q: %v; want %s", tc.scope, err, tc.code)
		}
	}
	if _, granted := s.scopedToken(s.drA, "system/Observation.rs"); granted != "system/Observation.rs" {
		t.Errorf("a member's token for system/Observation.rs granted %q", granted)
	}
}
