package fhirapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/records"
	"github.com/careledger/careledger/custodian"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/fhirapi"
	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/tx"
)

const (
	hospitalA = "hospital-a"
	hospitalB = "hospital-b"
)

// schemaPath is the FHIR R4 schema from the shared test data, if present.
func schemaPath(t testing.TB) string {
	p, err := filepath.Abs("../../shared/data/fhir-schema/fhir.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Logf("no FHIR schema at %s: resources are parsed, not validated", p)
		return ""
	}
	return p
}

// story is a node of hospital A and the people of the story.
type story struct {
	t         testing.TB
	n         *nodetest.Node
	c         *client.Client
	drA, drB  ed25519.PrivKey
	patient   ed25519.PrivKey
	tokens    map[string]string
	patientID string // the FHIR Patient id at hospital A
	// claimsAgent is hospital A's claims agent, once storyClaim made one.
	claimsAgent ed25519.PrivKey
	// salts are the salts of the devices setDevice authorized, which their
	// requests name.
	salts map[string][]byte
}

func newStory(t testing.TB) *story {
	n := nodetest.Start(t, node.InitOptions{
		ChainID: "careledger-story",
		Org:     node.Org{ID: hospitalA, Name: "Hospital A", Type: identity.Provider},
		Others:  []node.Org{{ID: hospitalB, Name: "Hospital B", Type: identity.Provider}, {ID: storyPayer, Name: "Story Payer", Type: identity.Payer}},
		Config:  node.Config{FHIRSchema: schemaPath(t)},
	})
	s := &story{t: t, n: n, c: n.Client, drA: ed25519.GenPrivKey(), drB: ed25519.GenPrivKey(), patient: ed25519.GenPrivKey(), tokens: map[string]string{}}
	adminB, err := keys.Dir(filepath.Join(n.Home, "keys")).Load(hospitalB+"-admin", nil)
	if err != nil {
		t.Fatal(err)
	}
	s.send(n.Admin, contract.Encode(identity.RegisterMember{Org: hospitalA, PubKey: s.drA.PubKey().Bytes(), Roles: []identity.Role{identity.Physician}}))
	s.send(adminB, contract.Encode(identity.RegisterMember{Org: hospitalB, PubKey: s.drB.PubKey().Bytes(), Roles: []identity.Role{identity.Physician}}))
	s.send(s.patient, contract.Encode(identity.RegisterPatient{}))
	return s
}

func (s *story) send(key ed25519.PrivKey, msgs ...tx.Msg) v1.TxAnswer {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.c.Send(ctx, key, msgs...)
	if err != nil {
		s.t.Fatalf("send %v: %v", res.Detail, err)
	}
	return res
}

func addr(k ed25519.PrivKey) tx.Address { return tx.AddressOf(k.PubKey().Bytes()) }

// setDevice has patient authorize device to write readings of codes to
// custodian, committed under a salt of the device's own, which the
// device's requests then name.
func (s *story) setDevice(patient, device ed25519.PrivKey, custodian string, codes ...string) {
	s.t.Helper()
	salt := sha256.Sum256(device.Bytes())
	s.send(patient, contract.Encode(identity.SetDevice{Patient: addr(patient), PubKey: device.PubKey().Bytes(), Custodian: custodian,
		Codes: identity.CommitCodes(salt[:16], codes)}))
	if s.salts == nil {
		s.salts = map[string][]byte{}
	}
	s.salts[string(device)] = salt[:16]
}

func (s *story) token(k ed25519.PrivKey) string {
	s.t.Helper()
	if tok, ok := s.tokens[string(k)]; ok {
		return tok
	}
	ans, err := s.c.AuthToken(context.Background(), k)
	if err != nil {
		s.t.Fatalf("auth token: %v", err)
	}
	s.tokens[string(k)] = ans.Token
	return ans.Token
}

// fhir makes a FHIR request as who and returns the status and body.
func (s *story) fhir(who ed25519.PrivKey, method, path string, body any, headers ...string) (int, []byte) {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte: // sent as it is, valid JSON or not
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.n.URL+"/fhir/"+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return s.do(req, who)
}

// fhirNoFatal is fhir for other goroutines than the test's: it reports a
// failed request as status 0.
func (s *story) fhirNoFatal(who ed25519.PrivKey, method, path string) (int, []byte) {
	req, err := http.NewRequest(method, s.n.URL+"/fhir/"+path, nil)
	if err != nil {
		return 0, []byte(err.Error())
	}
	req.Header.Set("Authorization", "Bearer "+s.tokens[string(who)])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// readAll reads paths as who, 8 at a time (each read of a record is its own
// decision, and many decisions share a block), and calls check with each
// answer, one at a time.
func (s *story) readAll(who ed25519.PrivKey, paths []string, check func(path string, status int, body []byte, got map[string]any)) {
	s.token(who)
	work := make(chan string)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				status, body := s.fhirNoFatal(who, "GET", p)
				var got map[string]any
				json.Unmarshal(body, &got)
				mu.Lock()
				check(p, status, body, got)
				mu.Unlock()
			}
		}()
	}
	for _, p := range paths {
		work <- p
	}
	close(work)
	wg.Wait()
}

// do sends req with who's bearer token and returns the status and body.
func (s *story) do(req *http.Request, who ed25519.PrivKey) (int, []byte) {
	s.t.Helper()
	req.Header.Set("Authorization", "Bearer "+s.token(who))
	if salt, ok := s.salts[string(who)]; ok && req.Header.Get(fhirapi.DeviceSaltHeader) == "" {
		req.Header.Set(fhirapi.DeviceSaltHeader, hex.EncodeToString(salt))
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return res.StatusCode, b
}

func (s *story) expect(what string, status, want int, body []byte) {
	s.t.Helper()
	if status != want {
		s.t.Fatalf("%s: status %d; want %d; body %s", what, status, want, body)
	}
}

// accessEvents returns the consent.access events on the patient's
// account, oldest first: the receipts of the reads of their records.
func (s *story) accessEvents() []map[string]string {
	s.t.Helper()
	return s.accessEventsOf(s.patient)
}

// accessEventsOf returns the consent.access events on the account of key k,
// as k's holder reads them.
func (s *story) accessEventsOf(k ed25519.PrivKey) []map[string]string {
	s.t.Helper()
	txs, err := s.c.AccountTxs(context.Background(), s.token(k), addr(k), 0, 100)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []map[string]string
	for i := len(txs) - 1; i >= 0; i-- {
		for _, e := range txs[i].Events {
			if e.Type == "consent.access" {
				m := map[string]string{}
				for _, a := range e.Attrs {
					m[a.Key] = a.Value
				}
				out = append(out, m)
			}
		}
	}
	return out
}

// TestStory walks the consent story through the HTTP API of a real node:
// hospital B's physician is denied a record hospital A holds, asks, is
// approved for 30 days, reads; a short grant expires in block time; the
// glass is broken and flagged; the patient erases the record and nobody
// reads it again. Every read leaves its receipt on the chain first.
func TestStory(t *testing.T) {
	s := newStory(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pa := addr(s.patient)
	stream, err := s.c.Events(ctx, s.token(s.patient), &pa)
	if err != nil {
		t.Fatal(err)
	}

	// Hospital A records the patient and an observation.
	status, body := s.fhir(s.drA, "POST", "Patient", map[string]any{
		"resourceType": "Patient", "gender": "female", "birthDate": "1980-04-02",
		"identifier": []any{map[string]any{"system": "urn:careledger:patient", "value": pa.String()}},
	})
	s.expect("create Patient", status, http.StatusCreated, body)
	var patient struct{ ID string }
	json.Unmarshal(body, &patient)
	obs := map[string]any{
		"resourceType": "Observation", "status": "final",
		"category":      []any{map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}}}},
		"code":          map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "2339-0", "display": "Glucose"}}},
		"subject":       map[string]any{"reference": "Patient/" + patient.ID},
		"valueQuantity": map[string]any{"value": 6.3, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"},
	}
	status, body = s.fhir(s.drA, "POST", "Observation", obs)
	s.expect("create Observation", status, http.StatusCreated, body)
	var created struct {
		ID   string
		Meta struct{ VersionID string }
	}
	json.Unmarshal(body, &created)
	path := "Observation/" + created.ID
	status, body = s.fhir(s.drA, "GET", path, nil)
	s.expect("hospital A's physician reads", status, http.StatusOK, body)
	storedObs := body

	// Hospital B's physician is denied, and the denial is on the chain.
	status, body = s.fhir(s.drB, "GET", path, nil)
	s.expect("hospital B's physician without a grant", status, http.StatusForbidden, body)
	if !strings.Contains(string(body), "OperationOutcome") {
		t.Errorf("denial body %s; want an OperationOutcome", body)
	}

	// B asks; the patient hears of it at once and approves for 30 days.
	s.send(s.drB, contract.Encode(consent.Request{Patient: pa, Scope: consent.Scope{Types: []string{"Observation"}}, Purpose: "TREAT", Duration: 30 * 24 * 3600, Reason: "referral"}))
	waitEvent(t, stream, "consent.requested")
	s.send(s.patient, contract.Encode(consent.Answer{Request: 1, Approve: true}))
	waitEvent(t, stream, "consent.answered")
	status, body = s.fhir(s.drB, "GET", path, nil)
	s.expect("hospital B's physician with a grant", status, http.StatusOK, body)
	if !bytes.Equal(body, storedObs) {
		t.Errorf("B read %s; want what A stored, %s", body, storedObs)
	}
	if e := waitEvent(t, stream, "consent.access"); e.attr("outcome") != "permit" || e.attr("requester") != addr(s.drB).String() {
		t.Errorf("patient's stream shows access %+v; want B's permitted read", e.Attrs)
	}

	// A grant that ends in a few seconds of block time: permitted now,
	// denied once a block's time is past its end.
	s.send(s.patient, contract.Encode(consent.Revoke{Grant: 1}))
	s.send(s.drB, contract.Encode(consent.Request{Patient: pa, Scope: consent.Scope{Types: []string{"Observation"}}, Purpose: "TREAT", Duration: 3, Reason: "referral"}))
	s.send(s.patient, contract.Encode(consent.Answer{Request: 2, Approve: true}))
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, body = s.fhir(s.drB, "GET", path, nil)
		if status == http.StatusForbidden || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	s.expect("read after the grant expired", status, http.StatusForbidden, body)
	ev := s.accessEvents()
	if last := ev[len(ev)-1]; last["outcome"] != "deny" {
		t.Errorf("last receipt %v; want the denial", last)
	}

	// Break the glass: refused without a coded reason; with one, allowed,
	// flagged with the reason, and queued for review.
	for _, reason := range []string{"", "he looked unwell"} {
		status, body = s.fhir(s.drB, "GET", path, nil, "X-Purpose-Of-Use", "ETREAT", "X-Break-Glass", "true", "X-Break-Glass-Reason", reason)
		s.expect("break the glass with reason "+strconv.Quote(reason), status, http.StatusBadRequest, body)
	}
	status, body = s.fhir(s.drB, "GET", path, nil, "X-Purpose-Of-Use", "ETREAT", "X-Break-Glass", "true", "X-Break-Glass-Reason", "unconscious")
	s.expect("break the glass", status, http.StatusOK, body)
	if e := waitEvent(t, stream, "consent.break_glass"); e.attr("custodian") != hospitalA || e.attr("glass_reason") != "unconscious" {
		t.Errorf("break-the-glass event %+v; want custodian %s, glass_reason unconscious", e.Attrs, hospitalA)
	}

	// The patient erases the record; nobody reads it again.
	// The chain knows the record by its ref, which the patient reads in
	// the record's meta.
	ref := "Observation/" + recordRef(t, storedObs)
	s.send(s.patient, contract.Encode(records.Erase{Custodian: hospitalA, Patient: pa, Record: ref}))
	deadline = time.Now().Add(30 * time.Second)
	for {
		status, body = s.fhir(s.drA, "GET", path, nil)
		if status == http.StatusGone || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.expect("read after erasure", status, http.StatusGone, body)
	status, body = s.fhir(s.drB, "GET", path, nil, "X-Purpose-Of-Use", "ETREAT", "X-Break-Glass", "true", "X-Break-Glass-Reason", "unconscious")
	s.expect("break the glass after erasure", status, http.StatusGone, body)

	// Every read that reached the contract has its receipt, in order: A's
	// read, B's denial, B's permitted read, the reads under the expiring
	// grant, the break-the-glass, then only denials (a read that raced the
	// shredding is denied by the chain's tombstone).
	a, b := addr(s.drA).String(), addr(s.drB).String()
	receipts := s.accessEvents()
	want := []string{a + " permit", b + " deny", b + " permit"}
	for i, w := range want {
		if got := receipts[i]["requester"] + " " + receipts[i]["outcome"]; got != w {
			t.Errorf("receipt %d: %s; want %s", i, got, w)
		}
	}
	glass := -1
	for i, r := range receipts {
		if r["break_glass"] == "true" {
			glass = i
			if r["requester"] != b || r["outcome"] != "permit" {
				t.Errorf("break-the-glass receipt %v; want B's permit", r)
			}
		}
	}
	if glass < 0 {
		t.Fatalf("no break-the-glass receipt among %v", receipts)
	}
	if r := receipts[glass]; r["glass_reason"] != "unconscious" {
		t.Errorf("break-the-glass receipt %v; want glass_reason unconscious", r)
	}
	for _, r := range receipts[glass+1:] {
		if r["outcome"] != "deny" {
			t.Errorf("receipt after erasure %v; want a denial", r)
		}
	}

	// The patient erases everything A holds about them. The content is
	// gone; the accounting of who read it is not.
	s.send(s.patient, contract.Encode(records.Erase{Custodian: hospitalA, Patient: pa}))
	deadline = time.Now().Add(30 * time.Second)
	for {
		status, body = s.fhir(s.drA, "GET", "Patient/"+patient.ID, nil)
		if status == http.StatusGone || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.expect("read of the erased patient", status, http.StatusGone, body)
	status, body = s.fhir(s.patient, "GET", "AuditEvent?patient=Patient/"+patient.ID, nil)
	s.expect("the erased patient's audit trail", status, http.StatusOK, body)
	var trail struct{ Total int }
	json.Unmarshal(body, &trail)
	if trail.Total < len(receipts) || !strings.Contains(string(body), "consent.break_glass") {
		t.Errorf("the erased patient's trail has %d events; want at least the %d receipts and the break-the-glass", trail.Total, len(receipts))
	}
	if n := glassReasons(t, body, "unconscious"); n != 1 {
		t.Errorf("the trail's AuditEvents give the reason unconscious in the purposeOfUse of %d; want 1 (the access)", n)
	}
}

// glassReasons counts the AuditEvents of a searchset whose agent's
// purposeOfUse has reason as a break-the-glass reason coding.
func glassReasons(t *testing.T, bundle []byte, reason string) int {
	t.Helper()
	var b struct {
		Entry []struct {
			Resource struct {
				Agent []struct {
					PurposeOfUse []struct {
						Coding []struct{ System, Code string }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(bundle, &b); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range b.Entry {
		for _, a := range e.Resource.Agent {
			for _, p := range a.PurposeOfUse {
				for _, c := range p.Coding {
					if c.System == fhirapi.GlassReasonSystem && c.Code == reason {
						n++
					}
				}
			}
		}
	}
	return n
}

type event v1.StreamEvent

// recordRef returns the ref (custodian.Ref) a stored resource's meta.tag
// carries.
func recordRef(t *testing.T, resource []byte) string {
	t.Helper()
	r, err := fhir.Parse(resource)
	if err != nil {
		t.Fatal(err)
	}
	ref := r.Tag(custodian.RecordTagSystem)
	if len(ref) != 64 {
		t.Fatalf("record's tag of %s is %q; want its ref, 64 hex digits", custodian.RecordTagSystem, ref)
	}
	return ref
}

func (e event) attr(k string) string {
	for _, a := range e.Attrs {
		if a.Key == k {
			return a.Value
		}
	}
	return ""
}

// waitEvent returns the next event of type typ on stream.
func waitEvent(t *testing.T, stream <-chan v1.StreamEvent, typ string) event {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e, ok := <-stream:
			if !ok {
				t.Fatalf("event stream ended waiting for %s", typ)
			}
			if e.Type == typ {
				return event(e)
			}
		case <-timeout:
			t.Fatalf("no %s event within 30s", typ)
		}
	}
}
