package fhirapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/fhirapi"
)

// signedConsent returns a Consent carrying a grant signed by key.
func (s *story) signedConsent(key ed25519.PrivKey, g consent.Grant) map[string]any {
	s.t.Helper()
	t, err := s.c.Build(context.Background(), key, contract.Encode(g))
	if err != nil {
		s.t.Fatal(err)
	}
	return obj("resourceType", "Consent", "status", "active",
		"scope", obj("coding", []any{obj("system", "http://terminology.hl7.org/CodeSystem/consentscope", "code", "patient-privacy")}),
		"category", []any{obj("coding", []any{obj("system", "http://loinc.org", "code", "59284-0")})},
		"extension", []any{obj("url", fhirapi.SignedGrantURL, "valueBase64Binary", base64.StdEncoding.EncodeToString(t.Encode()))})
}

// TestConsentResources posts a patient-signed grant as a FHIR Consent, reads
// it back as a Consent derived from the chain (valid against the schema),
// finds it by patient, and sees a grant signed by someone else refused.
func TestConsentResources(t *testing.T) {
	s := newStory(t)
	pa := addr(s.patient)
	status, body := s.fhir(s.drA, "PUT", "Patient/alice", obj("resourceType", "Patient", "id", "alice",
		"identifier", []any{obj("system", "urn:careledger:patient", "value", pa.String())}))
	s.expect("create Patient", status, http.StatusCreated, body)

	grant := consent.Grant{
		Patient: pa, Grantee: consent.Grantee{Org: hospitalB, Role: identity.Physician},
		Scope:    consent.Scope{Types: []string{"Observation"}, Categories: []string{"laboratory"}},
		Purposes: []string{"TREAT"}, NotBefore: 1700000000, NotAfter: 4000000000, Condition: `purpose == "TREAT"`,
	}
	status, body = s.fhir(s.patient, "POST", "Consent", s.signedConsent(s.patient, grant))
	s.expect("post a signed Consent", status, http.StatusCreated, body)
	var c map[string]any
	json.Unmarshal(body, &c)
	if c["id"] != "grant-1" || c["status"] != "active" {
		t.Fatalf("posted Consent came back as %s; want grant-1, active", body)
	}
	if g, err := s.c.Grant(context.Background(), s.token(s.patient), 1); err != nil || g.Grantee.Org != hospitalB {
		t.Fatalf("grant 1 on the chain = %+v, %v", g, err)
	}
	status, read := s.fhir(s.drB, "GET", "Consent/grant-1", nil)
	s.expect("read the grant as a Consent", status, http.StatusOK, read)
	if string(read) != string(body) {
		t.Errorf("read %s; want what the post answered, %s", read, body)
	}
	if path := schemaPath(t); path != "" {
		schema, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		v, err := fhir.NewValidator(schema)
		if err != nil {
			t.Fatal(err)
		}
		r, err := fhir.Parse(read)
		if err == nil {
			err = v.Validate(r)
		}
		if err != nil {
			t.Errorf("grant as Consent does not validate: %v", err)
		}
	}
	// Who reads a grant, by id or by patient: the patient, the grantee
	// (here a physician of hospital B) and an auditor; not hospital A's
	// physician, whom no grant names, nor another patient.
	auditor, stranger := ed25519.GenPrivKey(), ed25519.GenPrivKey()
	s.send(s.n.Admin, contract.Encode(identity.RegisterMember{Org: hospitalA, PubKey: auditor.PubKey().Bytes(), Roles: []identity.Role{identity.Auditor}}))
	s.send(stranger, contract.Encode(identity.RegisterPatient{}))
	for _, tt := range []struct {
		who  ed25519.PrivKey
		name string
		want int
	}{
		{s.patient, "the patient", http.StatusOK},
		{s.drB, "the grantee's physician", http.StatusOK},
		{auditor, "an auditor", http.StatusOK},
		{s.drA, "a physician no grant names", http.StatusForbidden},
		{stranger, "another patient", http.StatusForbidden},
	} {
		for _, path := range []string{"Consent/grant-1", "Consent?patient=alice"} {
			status, body := s.fhir(tt.who, "GET", path, nil)
			if status != tt.want || (status == http.StatusOK) != strings.Contains(string(body), `"id":"grant-1"`) {
				t.Errorf("GET %s as %s = %d %.300s; want %d", path, tt.name, status, body, tt.want)
			}
			if status == http.StatusForbidden && !strings.Contains(string(body), `"code":"forbidden"`) {
				t.Errorf("GET %s as %s = %.300s; want an OperationOutcome with issue forbidden", path, tt.name, body)
			}
		}
	}

	// A grant signed by someone who does not act for the patient: refused
	// unauthorized, which answers as tx's table says.
	status, body = s.fhir(s.drB, "POST", "Consent", s.signedConsent(s.drB, grant))
	if status != http.StatusForbidden || !strings.Contains(string(body), `"code":"forbidden"`) || !strings.Contains(string(body), "unauthorized") {
		t.Errorf("Consent signed by a physician: %d %.300s; want 403, issue forbidden, unauthorized", status, body)
	}
	// Revocation shows.
	s.send(s.patient, contract.Encode(consent.Revoke{Grant: 1}))
	if _, body := s.fhir(s.drB, "GET", "Consent/grant-1", nil); !strings.Contains(string(body), `"status":"inactive"`) {
		t.Errorf("revoked grant as Consent: %.300s; want status inactive", body)
	}
}
