package fhirapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/disclosure"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/tx"
)

// trustedGenesis reads what the node's genesis makes trusted.
func trustedGenesis(t *testing.T, home string) (string, *cmttypes.ValidatorSet, []tx.PubKey) {
	gen, err := cmttypes.GenesisDocFromFile(filepath.Join(home, "config", "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vals []*cmttypes.Validator
	for _, v := range gen.Validators {
		vals = append(vals, cmttypes.NewValidator(v.PubKey, v.Power))
	}
	g, err := app.ParseGenesis(gen.AppState)
	if err != nil {
		t.Fatal(err)
	}
	var keys []tx.PubKey
	for _, o := range g.Organizations {
		keys = append(keys, o.Nodes...)
	}
	return gen.ChainID, cmttypes.NewValidatorSet(vals), keys
}

// TestAccountingOfDisclosures reads a patient's records for treatment and
// for public health (not research, which needs the patient enrolled in a
// trial: recruit's tests), then has the patient compile the accounting:
// the public health disclosure is listed (treatment is excluded unless a full report is
// asked for), the report verifies offline against the genesis, and an entry
// removed, added or altered is caught.
func TestAccountingOfDisclosures(t *testing.T) {
	s := newStory(t)
	ctx := context.Background()
	pa := addr(s.patient)
	status, body := s.fhir(s.drA, "PUT", "Patient/p1", obj("resourceType", "Patient", "id", "p1",
		"identifier", []any{obj("system", "urn:careledger:patient", "value", pa.String())}))
	s.expect("create Patient", status, http.StatusCreated, body)
	status, body = s.fhir(s.drA, "PUT", "Observation/o1", obj("resourceType", "Observation", "id", "o1", "status", "final",
		"code", obj("text", "glucose"), "subject", obj("reference", "Patient/p1")))
	s.expect("create Observation", status, http.StatusCreated, body)
	o1 := "Observation/" + recordRef(t, body) // as the chain, and so the signed accounting, names it
	s.send(s.patient, contract.Encode(consent.Grant{Patient: pa, Grantee: consent.Grantee{Org: hospitalB},
		Scope: consent.Scope{Types: []string{"Observation"}}, Purposes: []string{"PUBHLTH"}}))
	status, body = s.fhir(s.drA, "GET", "Observation/o1", nil)
	s.expect("treatment read", status, http.StatusOK, body)
	status, body = s.fhir(s.drB, "GET", "Observation/o1", nil, "X-Purpose-Of-Use", "PUBHLTH")
	s.expect("public health read", status, http.StatusOK, body)
	status, body = s.fhir(s.drB, "GET", "Patient/p1", nil)
	s.expect("denied read", status, http.StatusForbidden, body)
	// Wait until the reads are certified (a block after them).
	h := mustHeight(t, s)
	nodetestWait(t, s, h+2)

	stream, err := s.c.Events(ctx, s.token(s.patient), &pa)
	if err != nil {
		t.Fatal(err)
	}
	report := func(q url.Values) *disclosure.Report {
		raw, err := s.c.Disclosures(ctx, s.token(s.patient), pa, "json", q)
		if err != nil {
			t.Fatal(err)
		}
		var r disclosure.Report
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		return &r
	}
	r := report(nil)
	if len(r.Entries) != 1 || r.Entries[0].Purpose != "PUBHLTH" || r.Entries[0].Recipient != addr(s.drB) ||
		r.Entries[0].RecipientOrg != hospitalB || r.Entries[0].Custodian != hospitalA || !strings.Contains(r.Entries[0].Description, o1) {
		t.Fatalf("accounting entries %+v; want hospital B's public health read of %s alone", r.Entries, o1)
	}
	if e := waitEvent(t, stream, "audit.accounting_compiled"); e.attr("entries") != "1" {
		t.Errorf("patient's stream: %+v; want the accounting's notice", e)
	}
	chainID, vals, keys := trustedGenesis(t, s.n.Home)
	if err := r.Verify(chainID, vals, keys); err != nil {
		t.Fatalf("Verify(accounting) = %v", err)
	}
	full := report(url.Values{"all": {"true"}})
	if len(full.Entries) != 2 {
		t.Errorf("full access report has %d entries; want the treatment and the public health reads", len(full.Entries))
	}
	if err := full.Verify(chainID, vals, keys); err != nil {
		t.Errorf("Verify(full report) = %v", err)
	}

	for _, tc := range []struct {
		name   string
		tamper func(r *disclosure.Report)
	}{
		{"entry removed", func(r *disclosure.Report) { r.Entries = r.Entries[1:] }},
		{"entry added", func(r *disclosure.Report) { r.Entries = append(r.Entries, r.Entries[0]) }},
		{"description altered", func(r *disclosure.Report) { r.Entries[0].Description = "nothing" }},
		{"date altered", func(r *disclosure.Report) { r.Entries[0].Time = r.Entries[0].Time.Add(time.Hour) }},
		{"recipient altered", func(r *disclosure.Report) { r.Entries[0].Recipient = tx.Address{9} }},
		{"other chain", func(r *disclosure.Report) { r.ChainID = "careledger-other" }},
		{"signed by a stranger", func(r *disclosure.Report) { r.Sign(s.drB) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b disclosure.Report
			raw, _ := json.Marshal(full)
			json.Unmarshal(raw, &b)
			tc.tamper(&b)
			if err := b.Verify(chainID, vals, keys); err == nil {
				t.Errorf("Verify accepted a report with %s", tc.name)
			}
		})
	}

	csv, err := s.c.Disclosures(ctx, s.token(s.patient), pa, "csv", nil)
	if err != nil || !strings.HasPrefix(string(csv), "date,recipient,") || strings.Count(string(csv), "\n") != 2 {
		t.Errorf("CSV accounting: %s, %v; want a header and one row", csv, err)
	}
	page, err := s.c.Disclosures(ctx, s.token(s.patient), pa, "html", nil)
	if err != nil || !strings.Contains(string(page), "Accounting of disclosures") || !strings.Contains(string(page), "public health") {
		t.Errorf("HTML accounting: %.300s, %v", page, err)
	}
	// Only the patient, a delegate, an auditor or a privacy officer.
	if _, err := s.c.Disclosures(ctx, s.token(s.drB), pa, "json", nil); err == nil {
		t.Error("hospital B's physician read the patient's accounting")
	}

	// The same trail as FHIR AuditEvents, each with its log index, valid
	// against the schema.
	var validator *fhir.Validator
	if path := schemaPath(t); path != "" {
		schema, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if validator, err = fhir.NewValidator(schema); err != nil {
			t.Fatal(err)
		}
	}
	trailOf := func(reader ed25519.PrivKey, q string) []map[string]any {
		status, body := s.fhir(reader, "GET", "AuditEvent?patient=p1"+q, nil)
		s.expect("AuditEvent search"+q, status, http.StatusOK, body)
		var b struct {
			Entry []struct{ Resource map[string]any }
		}
		json.Unmarshal(body, &b)
		var out []map[string]any
		for _, e := range b.Entry {
			out = append(out, e.Resource)
			if validator != nil {
				raw, _ := json.Marshal(e.Resource)
				r, err := fhir.Parse(raw)
				if err == nil {
					err = validator.Validate(r)
				}
				if err != nil {
					t.Errorf("AuditEvent %v does not validate: %v", e.Resource["id"], err)
				}
			}
		}
		return out
	}
	trail := func(q string) []map[string]any { return trailOf(s.patient, q) }
	all := trail("")
	checkRecordNames(t, s, all, trailOf)
	if len(all) < 5 {
		t.Fatalf("AuditEvent trail has %d events; want the anchors, the grant and the three reads", len(all))
	}
	if ext := all[0]["extension"].([]any)[0].(map[string]any); ext["url"] != "urn:careledger:audit-log-index" {
		t.Errorf("AuditEvent %v carries no log index", all[0])
	}
	byB := trail("&agent=" + addr(s.drB).String() + "&type=consent.access")
	if len(byB) != 2 {
		t.Errorf("hospital B's reads: %d AuditEvents; want 2 (the public health read, the denial)", len(byB))
	}
	outcomes := map[any]int{}
	for _, e := range byB {
		outcomes[e["outcome"]]++
	}
	if outcomes["0"] != 1 || outcomes["4"] != 1 {
		t.Errorf("outcomes of hospital B's reads: %v; want one success and one refusal", outcomes)
	}
	if got := trail("&date=gt2100-01-01"); len(got) != 0 {
		t.Errorf("AuditEvents after 2100: %d; want 0", len(got))
	}
	// The audit index by organization, account and time, as dr B reads
	// it (its own account, its organization; nothing without a token).
	get := func(q, token string) *http.Response {
		req, err := http.NewRequest("GET", s.n.URL+"/v1/audit/events?"+q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	anon := get("account="+addr(s.drB).String(), "")
	anon.Body.Close()
	if anon.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /v1/audit/events?account=(dr B) without a token = HTTP %d; want 401", anon.StatusCode)
	}
	list := func(q string) []map[string]any {
		res := get(q, s.token(s.drB))
		defer res.Body.Close()
		var l struct {
			Events []struct{ Event map[string]any }
		}
		json.NewDecoder(res.Body).Decode(&l)
		var out []map[string]any
		for _, e := range l.Events {
			out = append(out, e.Event["event"].(map[string]any))
		}
		return out
	}
	if evs := list("account=" + addr(s.drB).String()); len(evs) < 3 {
		t.Errorf("events of dr B: %d; want the registration and the two reads at least", len(evs))
	}
	for _, e := range list("org=" + hospitalB) {
		if !strings.Contains(fmt.Sprint(e["attrs"]), hospitalB) {
			t.Errorf("event %v does not name %s", e, hospitalB)
		}
	}
	if evs := list("to=2000-01-01T00:00:00Z"); len(evs) != 0 {
		t.Errorf("events before 2000: %d; want 0", len(evs))
	}
	if status, body := s.fhir(s.drB, "GET", "AuditEvent?patient=p1", nil); status != http.StatusForbidden {
		t.Errorf("hospital B's physician reading the trail: %d %.200s; want 403", status, body)
	}
}

func nodetestWait(t *testing.T, s *story, h int64) {
	deadline := time.Now().Add(30 * time.Second)
	for mustHeight(t, s) < h {
		if time.Now().After(deadline) {
			t.Fatalf("height %d not reached", h)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkRecordNames checks how records are named in a patient's trail: the
// chain's decisions name Observation/o1 by its ref, the patient's AuditEvents
// by its FHIR id, and an auditor of another organization's by its ref.
func checkRecordNames(t *testing.T, s *story, patientTrail []map[string]any, trailOf func(ed25519.PrivKey, string) []map[string]any) {
	t.Helper()
	status, body := s.fhir(s.drA, "GET", "Observation/o1", nil)
	s.expect("read o1", status, http.StatusOK, body)
	ref := "Observation/" + recordRef(t, body)
	txs, err := s.c.AccountTxs(context.Background(), s.token(s.patient), addr(s.patient), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var items []string
	for _, r := range txs {
		for _, e := range r.Events {
			for _, a := range e.Attrs {
				if a.Key == "item" || a.Key == "record" {
					items = append(items, a.Value)
				}
			}
		}
	}
	if !slices.Contains(items, ref) || slices.Contains(items, "Observation/o1") {
		t.Errorf("decisions name items %v; want the ref %s, never Observation/o1", items, ref)
	}
	named := func(trail []map[string]any) []string {
		var refs []string
		for _, ev := range trail {
			es, _ := ev["entity"].([]any)
			for _, e := range es {
				if r, ok := e.(map[string]any)["what"].(map[string]any)["reference"].(string); ok {
					refs = append(refs, r)
				}
			}
		}
		return refs
	}
	if got := named(patientTrail); !slices.Contains(got, "Observation/o1") || slices.Contains(got, ref) {
		t.Errorf("the patient's AuditEvents name %v; want Observation/o1, not its ref", got)
	}
	adminB, err := keys.Dir(filepath.Join(s.n.Home, "keys")).Load(hospitalB+"-admin", nil)
	if err != nil {
		t.Fatal(err)
	}
	auditorB := ed25519.GenPrivKey()
	s.send(adminB, contract.Encode(identity.RegisterMember{Org: hospitalB, PubKey: auditorB.PubKey().Bytes(), Roles: []identity.Role{identity.Auditor}}))
	if got := named(trailOf(auditorB, "")); !slices.Contains(got, ref) || slices.Contains(got, "Observation/o1") {
		t.Errorf("hospital B's auditor's AuditEvents name %v; want the ref %s, not Observation/o1", got, ref)
	}
}
