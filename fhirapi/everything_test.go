package fhirapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
)

// TestEverythingAcrossCustodians runs two validators, org0 and org1, each
// holding records of the same patient. Patient/$everything at org0 gathers
// both, each custodian deciding and receipting its own part; once the
// patient revokes org0's grant at org1, org1's part is withheld.
func TestEverythingAcrossCustodians(t *testing.T) {
	nodes := nodetest.Testnet(t, 2, node.Config{FHIRSchema: schemaPath(t)})
	at := func(i int) *story {
		return &story{t: t, n: nodes[i], c: nodes[i].Client, tokens: map[string]string{}}
	}
	s0, s1 := at(0), at(1)
	patient, dr0 := ed25519.GenPrivKey(), ed25519.GenPrivKey()
	pa := addr(patient)
	s0.send(nodes[0].Admin, contract.Encode(identity.RegisterMember{Org: "org0", PubKey: dr0.PubKey().Bytes(), Roles: []identity.Role{identity.Physician}}))
	s0.send(patient, contract.Encode(identity.RegisterPatient{}))
	admin1, err := keys.Dir(filepath.Join(nodes[1].Home, "keys")).Load("admin", nil)
	if err != nil {
		t.Fatal(err)
	}
	nodetest.WaitHeight(t, s1.c, mustHeight(t, s0))

	link := []any{obj("system", "urn:careledger:patient", "value", pa.String())}
	for _, w := range []struct {
		s    *story
		key  ed25519.PrivKey
		id   string
		what string
	}{{s0, dr0, "p0", "glucose"}, {s1, admin1, "p1", "hba1c"}} {
		status, body := w.s.fhir(w.key, "PUT", "Patient/"+w.id, obj("resourceType", "Patient", "id", w.id, "identifier", link))
		w.s.expect("Patient at "+w.id, status, http.StatusCreated, body)
		status, body = w.s.fhir(w.key, "PUT", "Observation/"+w.id+"-obs", obj("resourceType", "Observation", "id", w.id+"-obs",
			"status", "final", "code", obj("text", w.what), "subject", obj("reference", "Patient/"+w.id)))
		w.s.expect("Observation at "+w.id, status, http.StatusCreated, body)
	}

	everything := func() map[string]bool {
		status, body := s0.fhir(dr0, "GET", "Patient/p0/$everything", nil)
		s0.expect("$everything", status, http.StatusOK, body)
		var b bundleJSON
		if err := json.Unmarshal(body, &b); err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, e := range b.Entry {
			got[e.Resource["resourceType"].(string)+"/"+e.Resource["id"].(string)] = true
		}
		return got
	}
	// Without a grant, org1 decides a denial: org0's own records only.
	if got := everything(); len(got) != 2 || !got["Observation/p0-obs"] {
		t.Errorf("$everything without a grant at org1: %v; want org0's two records", got)
	}
	s0.send(patient, contract.Encode(consent.Grant{
		Patient: pa, Grantee: consent.Grantee{Org: "org0", Role: identity.Physician},
		Scope: consent.Scope{Types: []string{"*"}}, Purposes: []string{"TREAT"},
	}))
	nodetest.WaitHeight(t, s1.c, mustHeight(t, s0))
	if got := everything(); len(got) != 4 || !got["Observation/p1-obs"] || !got["Patient/p1"] {
		t.Errorf("$everything with a grant at org1: %v; want both custodians' records", got)
	}
	// Each custodian's receipt names dr0 (org1's block reaches org0's
	// index when org0 commits it).
	nodetest.WaitHeight(t, s0.c, mustHeight(t, s1))
	custodians := map[string]bool{}
	for _, e := range s0.accessEventsOf(patient) {
		if e["requester"] == addr(dr0).String() && e["outcome"] == "permit" {
			custodians[e["custodian"]] = true
		}
	}
	if !custodians["org0"] || !custodians["org1"] {
		t.Errorf("permitted receipts for dr0 at %v; want org0 and org1", custodians)
	}
	// Only a service key may speak for someone else.
	req, _ := http.NewRequest("GET", nodes[1].URL+"/fhir/Patient/$everything?identifier=urn:careledger:patient|"+pa.String(), nil)
	req.Header.Set("X-On-Behalf-Of", addr(dr0).String())
	if status, body := s1.do(req, admin1); status != http.StatusForbidden {
		t.Errorf("X-On-Behalf-Of from an admin: %d %.200s; want 403", status, body)
	}
	// A patient gathers their records through org0's node with a
	// delegation they signed for org0; without one, or with one for another
	// organization, ended, or signed by another key, org1 answers nothing.
	chain := nodes[0].Client
	st, err := chain.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	delegation := func(k ed25519.PrivKey, org string, expires time.Time) string {
		sig, err := k.Sign(v1.DelegationSignBytes(st.ChainID, org, expires.Unix()))
		if err != nil {
			t.Fatal(err)
		}
		return strconv.FormatInt(expires.Unix(), 10) + "." + base64.StdEncoding.EncodeToString(sig)
	}
	soon := time.Now().Add(10 * time.Minute)
	for _, c := range []struct {
		what, header string
		want         int // records gathered
	}{
		{"no delegation", "", 2},
		{"a delegation for org0", delegation(patient, "org0", soon), 4},
		{"a delegation for org1", delegation(patient, "org1", soon), 2},
		{"an ended delegation", delegation(patient, "org0", time.Now().Add(-time.Minute)), 2},
		{"a delegation by another key", delegation(dr0, "org0", soon), 2},
	} {
		var headers []string
		if c.header != "" {
			headers = []string{"X-Delegation", c.header}
		}
		status, body := s0.fhir(patient, "GET", "Patient/$everything?identifier=urn:careledger:patient|"+pa.String(), nil, headers...)
		s0.expect("the patient's $everything with "+c.what, status, http.StatusOK, body)
		var b bundleJSON
		json.Unmarshal(body, &b)
		records := 0
		for _, e := range b.Entry {
			if e.Resource["resourceType"] != "OperationOutcome" {
				records++
			}
		}
		if records != c.want {
			t.Errorf("the patient's $everything with %s: %d records; want %d", c.what, records, c.want)
		}
	}

	// And a service key speaks only for its own organization's members:
	// not for a patient, whose records it would otherwise read as them,
	// nor for another organization's member.
	svc1 := ed25519.GenPrivKey()
	s1.send(admin1, contract.Encode(identity.RegisterMember{Org: "org1", PubKey: svc1.PubKey().Bytes(), Roles: []identity.Role{identity.Service}}))
	for _, as := range []ed25519.PrivKey{patient, dr0} {
		req, _ := http.NewRequest("GET", nodes[1].URL+"/fhir/Patient/$everything?identifier=urn:careledger:patient|"+pa.String(), nil)
		req.Header.Set("X-On-Behalf-Of", addr(as).String())
		if status, body := s1.do(req, svc1); status != http.StatusForbidden || !strings.Contains(string(body), "own organization") {
			t.Errorf("org1's service key on behalf of %s: %d %.200s; want 403", addr(as), status, body)
		}
	}
}

func mustHeight(t *testing.T, s *story) int64 {
	st, err := s.c.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.Height
}
