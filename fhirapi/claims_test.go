package fhirapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/claimfhir"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/claims/policycsv"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/custodian"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/tx"
)

// claimsNet is a payer's node (org0) and a clinic's node (org1), each
// organization with a claims agent, and patients covered by the payer.
type claimsNet struct {
	t                     *testing.T
	payer, clinic         *nodetest.Node
	payerAgent, clinicAgt ed25519.PrivKey
	tokens                map[string]string
}

const (
	payerOrg  = "org0"
	clinicOrg = "org1"
	planID    = "gold"
)

func newClaimsNet(t *testing.T) *claimsNet {
	nodes := nodetest.TestnetOf(t, []identity.OrgType{identity.Payer, identity.Provider}, node.Config{})
	n := &claimsNet{t: t, payer: nodes[0], clinic: nodes[1], payerAgent: ed25519.GenPrivKey(), clinicAgt: ed25519.GenPrivKey(), tokens: map[string]string{}}
	n.send(n.payer.Admin, identity.RegisterMember{Org: payerOrg, PubKey: n.payerAgent.PubKey().Bytes(), Roles: []identity.Role{identity.ClaimsAgent}})
	n.send(n.clinic.Admin, identity.RegisterMember{Org: clinicOrg, PubKey: n.clinicAgt.PubKey().Bytes(), Roles: []identity.Role{identity.ClaimsAgent}})
	n.send(n.payer.Admin, claims.RegisterPlan{Payer: payerOrg, Plan: planID, Deductible: 50_000, Coinsurance: 2_000, Copay: 2_000, OOPMax: 400_000, YearStart: 101})
	n.send(n.payer.Admin, claims.Deposit{Payer: payerOrg, Amount: 100_000_000_000})
	return n
}

func (n *claimsNet) send(key ed25519.PrivKey, msgs ...contract.Msg) {
	n.t.Helper()
	var raw []tx.Msg
	for _, m := range msgs {
		raw = append(raw, contract.Encode(m))
	}
	ans, err := n.payer.Client.Send(context.Background(), key, raw...)
	if err != nil || ans.Code != tx.CodeOK {
		n.t.Fatalf("send %T: %v, code %v %s", msgs[0], err, ans.Code, ans.Log)
	}
}

// loadPolicy loads the CSV table as version 1 of the payer's policy, in
// force from 1900.
func (n *claimsNet) loadPolicy(table string) {
	n.t.Helper()
	loads, err := policycsv.Read(strings.NewReader(table), payerOrg, 1, 0)
	if err != nil {
		n.t.Fatal(err)
	}
	for _, l := range loads {
		n.send(n.payer.Admin, l)
	}
	n.send(n.payer.Admin, claims.PolicyPublish{Payer: payerOrg, Version: 1, Effective: 19000101})
}

// covered registers a patient, covers them and files their Patient
// resource at the clinic; it returns their key and the Patient's id there.
func (n *claimsNet) covered(birthDate string) (ed25519.PrivKey, string) {
	n.t.Helper()
	k := ed25519.GenPrivKey()
	n.send(k, identity.RegisterPatient{})
	n.send(n.payerAgent, claims.RegisterCoverage{Payer: payerOrg, Coverage: coverageOf(k), Plan: planID, Patient: addr(k), Start: 19000101})
	status, body := n.fhir(n.clinic, n.clinic.Admin, "POST", "Patient", obj("resourceType", "Patient", "birthDate", birthDate,
		"identifier", []any{obj("system", custodian.PatientSystem, "value", addr(k).String())}))
	if status != http.StatusCreated {
		n.t.Fatalf("create Patient = %d %s", status, body)
	}
	return k, decode(n.t, body)["id"].(string)
}

// synced waits until the payer's node has the block of a decision the
// clinic's node answered with.
func (n *claimsNet) synced(cr claimResponse) {
	n.t.Helper()
	for _, e := range cr.Extension {
		if e.URL == "urn:careledger:claims:height" {
			nodetest.WaitHeight(n.t, n.payer.Client, e.ValueUnsignedInt)
			return
		}
	}
	n.t.Fatalf("ClaimResponse %s has no height", cr.ID)
}

func coverageOf(k ed25519.PrivKey) string { return "cov-" + addr(k).String()[:8] }

func (n *claimsNet) token(at *nodetest.Node, k ed25519.PrivKey) string {
	key := at.URL + string(k)
	if tok, ok := n.tokens[key]; ok {
		return tok
	}
	ans, err := at.Client.AuthToken(context.Background(), k)
	if err != nil {
		n.t.Fatalf("auth token: %v", err)
	}
	n.tokens[key] = ans.Token
	return ans.Token
}

func (n *claimsNet) fhir(at *nodetest.Node, who ed25519.PrivKey, method, path string, body any, headers ...string) (int, []byte) {
	n.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			n.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, at.URL+"/fhir/"+path, rd)
	if err != nil {
		n.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+n.token(at, who))
	req.Header.Set("Content-Type", "application/fhir+json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// submit posts a Claim as the clinic's claims agent and returns its
// ClaimResponse.
func (n *claimsNet) submit(claim map[string]any) claimResponse {
	n.t.Helper()
	status, body := n.fhir(n.clinic, n.clinicAgt, "POST", "Claim", claim)
	if status != http.StatusCreated {
		n.t.Fatalf("POST Claim = %d %s", status, body)
	}
	var cr claimResponse
	if err := json.Unmarshal(body, &cr); err != nil {
		n.t.Fatal(err)
	}
	return cr
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return m
}

// claimResponse is what the test reads of a ClaimResponse or an
// ExplanationOfBenefit.
type claimResponse struct {
	ResourceType, ID, Use, Outcome, Disposition, PreAuthRef string
	Item                                                    []struct {
		Adjudication []adjudication
		Extension    []struct {
			URL              string
			ValueString      string
			ValuePositiveInt uint64
		}
	}
	Extension []struct {
		URL              string
		ValueUnsignedInt int64
		ValueReference   struct{ Reference string }
	}
	Total   []adjudication
	Payment *struct{ Amount struct{ Value json.Number } }
}

type adjudication struct {
	Category struct{ Coding []struct{ Code string } }
	Reason   *struct{ Coding []struct{ Code string } }
	Amount   struct {
		Value    json.Number
		Currency string
	}
}

// amount returns the adjudication of category code in minor units.
func amountOf(t *testing.T, as []adjudication, code string) uint64 {
	for _, a := range as {
		if a.Category.Coding[0].Code == code {
			v, err := claimfhir.MinorUnits(a.Amount.Value)
			if err != nil || a.Amount.Currency != claimfhir.Currency {
				t.Fatalf("amount %v %s: %v", a.Amount.Value, a.Amount.Currency, err)
			}
			return v
		}
	}
	return 0
}

// denial returns the reasons and edits of item i, "" when approved.
func (cr *claimResponse) denial(i int) (reasons, edits []string) {
	for _, a := range cr.Item[i].Adjudication {
		if a.Reason != nil {
			reasons = append(reasons, a.Reason.Coding[0].Code)
		}
	}
	for _, e := range cr.Item[i].Extension {
		if e.URL == claimfhir.EditExtension {
			edits = append(edits, e.ValueString)
		}
	}
	return reasons, edits
}

// claimOf returns a professional Claim of the clinic for patient pid.
func claimOf(k ed25519.PrivKey, pid, use string, items ...map[string]any) map[string]any {
	seq := make([]any, len(items))
	for i, it := range items {
		it["sequence"] = i + 1
		seq[i] = it
	}
	return obj("resourceType", "Claim", "status", "active", "use", use, "created", "2024-03-01",
		"type", obj("coding", []any{obj("system", "http://terminology.hl7.org/CodeSystem/claim-type", "code", "professional")}),
		"patient", obj("reference", "Patient/"+pid), "priority", obj("coding", []any{obj("code", "normal")}),
		"provider", obj("identifier", obj("system", claimfhir.OrgSystem, "value", clinicOrg)),
		"insurer", obj("identifier", obj("system", claimfhir.OrgSystem, "value", payerOrg)),
		"insurance", []any{obj("sequence", 1, "focal", true, "coverage", obj("identifier", obj("system", claimfhir.CoverageSystem, "value", coverageOf(k))))},
		"item", seq)
}

func item(code, date string, units int, net string) map[string]any {
	return obj("productOrService", obj("coding", []any{obj("system", "http://www.ama-assn.org/go/cpt", "code", code)}),
		"servicedDate", date, "quantity", obj("value", units), "net", obj("value", json.Number(net), "currency", "USD"))
}

// syntheaClaims returns the Claims of a Synthea bundle as the clinic
// submits them for the patient filed as pid: the Patient, payer and
// coverage named as this network knows them, diagnoses as codes. It also
// returns the patient's birth date.
func syntheaClaims(t *testing.T, file string, k ed25519.PrivKey, pid string) ([]map[string]any, string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "shared", "data", "synthea", "google-fhir-data-pipes-synthea-hiv", file))
	if err != nil {
		t.Skipf("Synthea data: %v", err)
	}
	b, err := fhir.ParseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	conditions := map[string]string{}
	var birth string
	var out []map[string]any
	for _, e := range b.Entries {
		var r map[string]any
		if err := json.Unmarshal(e.Resource.Canonical(), &r); err != nil {
			t.Fatal(err)
		}
		switch e.Resource.Type() {
		case "Patient":
			birth = r["birthDate"].(string)
		case "Condition":
			conditions[e.FullURL] = r["code"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"].(string)
		case "Claim":
			out = append(out, r)
		}
	}
	var claimsOut []map[string]any
	for _, c := range out {
		c["patient"] = obj("reference", "Patient/"+pid)
		c["insurer"] = obj("identifier", obj("system", claimfhir.OrgSystem, "value", payerOrg))
		c["provider"] = obj("identifier", obj("system", claimfhir.OrgSystem, "value", clinicOrg))
		c["insurance"] = []any{obj("sequence", 1, "focal", true, "coverage", obj("identifier", obj("system", claimfhir.CoverageSystem, "value", coverageOf(k))))}
		ds, _ := c["diagnosis"].([]any)
		for _, d := range ds {
			dm := d.(map[string]any)
			ref := dm["diagnosisReference"].(map[string]any)["reference"].(string)
			delete(dm, "diagnosisReference")
			dm["diagnosisCodeableConcept"] = obj("coding", []any{obj("system", "http://snomed.info/sct", "code", conditions[ref])})
		}
		b, _ := json.Marshal(c)
		if _, err := claimfhir.Decode(b); err != nil {
			continue // a claim with nothing billed (the test's derivation skips them too)
		}
		claimsOut = append(claimsOut, c)
	}
	return claimsOut, birth
}

// syntheaFees returns fee rows paying 90% of the largest charge of each
// code the claims bill.
func syntheaFees(t *testing.T, cs []map[string]any) string {
	allowed := map[string]uint64{}
	for _, c := range cs {
		b, _ := json.Marshal(c)
		d, err := claimfhir.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range d.Lines {
			allowed[l.Code] = max(allowed[l.Code], l.Charge*9/10, 1)
		}
	}
	var sb strings.Builder
	for _, code := range slices.Sorted(maps.Keys(allowed)) {
		fmt.Fprintf(&sb, "fee,%s,,%d.%02d\n", code, allowed[code]/100, allowed[code]%100)
	}
	return sb.String()
}

// TestClaimsThroughNodes submits, over HTTP at a clinic's node, every
// Synthea claim of two patients and claims made to trip each edit, and
// reads the answers at the payer's node: duplicates, unbundled pairs and
// over-limit units denied with their X12 reasons, a prior authorization
// consumed once, the deductible accumulating (seen by eligibility), the
// clinic paid in the block that decided, and each patient's explanation of
// benefits. Bad claims are refused with stable codes and leave nothing.
func TestClaimsThroughNodes(t *testing.T) {
	n := newClaimsNet(t)
	files := syntheaPatients[:2]
	type patient struct {
		key    ed25519.PrivKey
		pid    string
		claims []map[string]any
	}
	var ps []patient
	var all []map[string]any
	for _, f := range files {
		k, pid := n.covered("1970-01-01")
		cs, birth := syntheaClaims(t, f, k, pid)
		// file the Patient again with the bundle's birth date, so the
		// claims carry the patient's age
		status, body := n.fhir(n.clinic, n.clinic.Admin, "PUT", "Patient/"+pid, obj("resourceType", "Patient", "id", pid, "birthDate", birth,
			"identifier", []any{obj("system", custodian.PatientSystem, "value", addr(k).String())}))
		if status != http.StatusOK {
			t.Fatalf("update Patient = %d %s", status, body)
		}
		ps = append(ps, patient{k, pid, cs})
		all = append(all, cs...)
	}
	n.loadPolicy(syntheaFees(t, all) + `fee,99214,,180
fee,36415,,3.25
fee,80053,,11
fee,70551,,900
pair,99214,36415,0
units,80053,1
rule,mri-needs-auth,auth,,"code == ""70551"""
`)

	alice := ps[0]
	eligibility := func() map[string]any {
		status, body := n.fhir(n.payer, alice.key, "POST", "CoverageEligibilityRequest/$submit", obj("resourceType", "CoverageEligibilityRequest",
			"status", "active", "purpose", []any{"benefits"}, "created", "2024-01-01", "servicedDate", "2024-06-01",
			"patient", obj("identifier", obj("system", custodian.PatientSystem, "value", addr(alice.key).String())),
			"insurer", obj("identifier", obj("system", claimfhir.OrgSystem, "value", payerOrg)),
			"insurance", []any{obj("coverage", obj("identifier", obj("system", claimfhir.CoverageSystem, "value", coverageOf(alice.key))))}))
		if status != http.StatusOK {
			t.Fatalf("eligibility = %d %s", status, body)
		}
		return decode(t, body)
	}
	deductibleUsed := func(r map[string]any) uint64 {
		t.Helper()
		ins := r["insurance"].([]any)[0].(map[string]any)
		if ins["inforce"] != true {
			t.Fatalf("coverage not in force: %v", ins)
		}
		for _, b := range ins["item"].([]any)[0].(map[string]any)["benefit"].([]any) {
			bm := b.(map[string]any)
			if bm["type"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"] == "deductible" {
				v, _ := claimfhir.MinorUnits(json.Number(fmt.Sprint(bm["usedMoney"].(map[string]any)["value"])))
				return v
			}
		}
		t.Fatal("no deductible in the eligibility response")
		return 0
	}
	if used := deductibleUsed(eligibility()); used != 0 {
		t.Fatalf("deductible used before any claim = %d; want 0", used)
	}

	// Every Synthea claim: only duplicates are denied.
	var benefit uint64
	var lines, dups int
	benefitOf := map[string]uint64{} // patient key → benefits of their claims
	for _, p := range ps {
		for _, c := range p.claims {
			cr := n.submit(c)
			for i := range cr.Item {
				lines++
				if reasons, edits := cr.denial(i); slices.Contains(edits, "duplicate") {
					dups++
					if !slices.Contains(reasons, "18") {
						t.Errorf("duplicate line reasons %v; want 18", reasons)
					}
				} else if amountOf(t, cr.Item[i].Adjudication, "benefit") == 0 && amountOf(t, cr.Item[i].Adjudication, "eligible") == 0 {
					t.Errorf("claim %s line %d denied by %v %v; only duplicates should be", cr.ID, i, reasons, edits)
				}
			}
			b := amountOf(t, cr.Total, "benefit")
			if b > 0 && (cr.Payment == nil) {
				t.Errorf("claim %s approved for %d has no payment", cr.ID, b)
			}
			benefit += b
			benefitOf[string(p.key)] += b
		}
	}
	if lines == 0 || benefit == 0 {
		t.Fatalf("%d lines, %d paid; want Synthea claims paid", lines, benefit)
	}
	t.Logf("%d Synthea claims, %d lines, %d duplicates, %d paid", len(all), lines, dups, benefit)

	// The same claim again: every line a duplicate.
	again := n.submit(alice.claims[0])
	for i := range again.Item {
		if reasons, _ := again.denial(i); !slices.Contains(reasons, "18") {
			t.Errorf("resubmitted claim line %d reasons %v; want 18", i, reasons)
		}
	}

	// An unbundled pair and units over the limit.
	cr := n.submit(claimOf(alice.key, alice.pid, "claim", item("99214", "2024-03-05", 1, "200.00"), item("36415", "2024-03-05", 1, "10.00"), item("80053", "2024-03-05", 2, "40.00")))
	want := []struct{ reason, edit string }{{"", ""}, {"97", "code_pair"}, {"119", "unit_limit"}}
	for i, w := range want {
		reasons, edits := cr.denial(i)
		if w.reason == "" {
			if amountOf(t, cr.Item[i].Adjudication, "eligible") == 0 {
				t.Errorf("line %d denied %v %v; want approved", i, reasons, edits)
			}
			continue
		}
		if !slices.Contains(reasons, w.reason) || !slices.Contains(edits, w.edit) {
			t.Errorf("line %d = %v %v; want reason %s edit %s", i, reasons, edits, w.reason, w.edit)
		}
	}
	benefit += amountOf(t, cr.Total, "benefit")
	benefitOf[string(alice.key)] += amountOf(t, cr.Total, "benefit")
	n.synced(cr)
	if used := deductibleUsed(eligibility()); used != 18_000 {
		t.Errorf("deductible used in 2024 after a visit allowed 180.00 = %d; want 18000", used)
	}

	// A prior authorization, consumed once.
	mri := func(date string) map[string]any {
		return claimOf(alice.key, alice.pid, "claim", item("70551", date, 1, "1000.00"))
	}
	if denied := n.submit(mri("2024-04-01")); !slices.Contains(first(denied.denial(0)), "197") {
		t.Errorf("MRI without authorization: %v; want 197", first(denied.denial(0)))
	}
	pa := n.submit(claimOf(alice.key, alice.pid, "preauthorization", item("70551", "2024-04-02", 1, "1000.00")))
	if pa.Use != "preauthorization" || pa.PreAuthRef == "" || pa.Outcome != "complete" {
		t.Fatalf("preauthorization = %+v; want complete with a preAuthRef", pa)
	}
	withAuth := func(date string) map[string]any {
		c := mri(date)
		c["insurance"].([]any)[0].(map[string]any)["preAuthRef"] = []any{pa.PreAuthRef}
		return c
	}
	ok := n.submit(withAuth("2024-04-03"))
	if ok.Outcome != "complete" || amountOf(t, ok.Total, "benefit") == 0 {
		t.Errorf("MRI with authorization = %s, benefit %d; want paid", ok.Outcome, amountOf(t, ok.Total, "benefit"))
	}
	for _, e := range ok.Item[0].Extension {
		if e.URL == claimfhir.PolicyExtension && e.ValuePositiveInt != 1 {
			t.Errorf("policy version %d; want 1", e.ValuePositiveInt)
		}
	}
	benefit += amountOf(t, ok.Total, "benefit")
	benefitOf[string(alice.key)] += amountOf(t, ok.Total, "benefit")
	n.synced(ok)
	if used := deductibleUsed(eligibility()); used != 50_000 {
		t.Errorf("deductible used in 2024 after the MRI = %d; want all 50000", used)
	}
	twice := n.submit(withAuth("2024-04-04"))
	if !slices.Contains(first(twice.denial(0)), "198") {
		t.Errorf("second use of the authorization: %v; want 198", first(twice.denial(0)))
	}
	n.synced(twice)

	// Balances moved in the blocks that decided.
	st := n.payer.App().State()
	if got, _ := ledger.Balance(st, clinicOrg); got != benefit {
		t.Errorf("clinic balance %d; the ClaimResponses paid %d", got, benefit)
	}
	if got, _ := ledger.Balance(st, payerOrg); got != 100_000_000_000-benefit {
		t.Errorf("payer balance %d; want %d", got, 100_000_000_000-benefit)
	}

	// The decision is an audit event, which members of the network read
	// (with its proof at /v1); the ClaimResponse, read again, refers to it.
	var event string
	for _, e := range ok.Extension {
		if e.URL == claimfhir.AuditExtension {
			event = e.ValueReference.Reference
		}
	}
	if status, body := n.fhir(n.payer, n.payerAgent, "GET", event, nil); status != http.StatusOK || !strings.Contains(string(body), claims.EventAdjudicated) {
		t.Errorf("GET %q as the payer's agent = %d %s; want the claims.adjudicated event", event, status, body)
	}
	if status, body := n.fhir(n.payer, alice.key, "GET", "ClaimResponse/"+ok.ID, nil); status != http.StatusOK || !strings.Contains(string(body), event) {
		t.Errorf("GET ClaimResponse as the patient = %d %s; want it to refer to %s", status, body, event)
	}

	// The payer's agent reads a ClaimResponse at its own node; the
	// clinic finds it by its Claim.
	status, body := n.fhir(n.payer, n.payerAgent, "GET", "ClaimResponse/"+ok.ID, nil)
	if status != http.StatusOK || decode(t, body)["id"] != ok.ID {
		t.Errorf("payer reads ClaimResponse = %d %s", status, body)
	}
	other := ps[1]
	if status, body := n.fhir(n.payer, other.key, "GET", "ClaimResponse/"+ok.ID, nil); status != http.StatusForbidden {
		t.Errorf("another patient reads the ClaimResponse = %d %s; want 403", status, body)
	}

	// Each patient's explanation of benefits: one per claim, what the plan
	// paid adding up to what their claims were paid.
	for _, p := range ps {
		status, body := n.fhir(n.payer, p.key, "GET", "ExplanationOfBenefit?patient="+addr(p.key).String(), nil)
		if status != http.StatusOK {
			t.Fatalf("EOB search = %d %s", status, body)
		}
		var bundle struct {
			Total int
			Entry []struct{ Resource claimResponse }
		}
		json.Unmarshal(body, &bundle)
		var paid uint64
		for _, e := range bundle.Entry {
			if e.Resource.ResourceType != "ExplanationOfBenefit" || e.Resource.Use != "claim" {
				t.Fatalf("EOB entry %+v", e.Resource)
			}
			paid += amountOf(t, e.Resource.Total, "benefit")
		}
		if bundle.Total == 0 || paid != benefitOf[string(p.key)] {
			t.Errorf("patient's EOBs: %d, paid %d; want their claims' %d", bundle.Total, paid, benefitOf[string(p.key)])
		}
	}
	// A caregiver Alice names reads her explanations of benefits too.
	caregiver := ed25519.GenPrivKey()
	n.send(caregiver, identity.RegisterPatient{})
	n.send(alice.key, identity.SetDelegate{Delegate: addr(caregiver), Relation: identity.Caregiver})
	if status, body := n.fhir(n.payer, caregiver, "GET", "ExplanationOfBenefit?patient="+addr(alice.key).String(), nil); status != http.StatusOK || decode(t, body)["total"].(float64) == 0 {
		t.Errorf("the caregiver's EOB search = %d %.300s; want Alice's", status, body)
	}

	// A token scoped to the patient's explanations of benefits reads
	// those, and not the ClaimResponses.
	scoped, err := n.payer.Client.ScopedToken(context.Background(), alice.key, "patient/ExplanationOfBenefit.rs")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{"ExplanationOfBenefit?patient=" + addr(alice.key).String(): http.StatusOK, "ClaimResponse/" + ok.ID: http.StatusForbidden} {
		req, _ := http.NewRequest("GET", n.payer.URL+"/fhir/"+path, nil)
		req.Header.Set("Authorization", "Bearer "+scoped.Token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s with a token scoped to EOBs = %d; want %d", path, res.StatusCode, want)
		}
	}
	t.Run("BadInput", func(t *testing.T) { badClaims(t, n, alice.key, alice.pid, other.key) })
}

func first(a, _ []string) []string { return a }

// badClaims submits claims that must be refused with a stable code, and
// checks that the clinic's vault holds no more claims than before.
func badClaims(t *testing.T, n *claimsNet, k ed25519.PrivKey, pid string, other ed25519.PrivKey) {
	before := claimsHeld(t, n, k)
	good := func() map[string]any {
		return claimOf(k, pid, "claim", item("99214", "2024-05-01", 1, "200.00"))
	}
	cases := []struct {
		name   string
		who    ed25519.PrivKey
		edit   func(map[string]any)
		status int
		code   string
	}{
		{"unknown coverage", n.clinicAgt, func(c map[string]any) {
			c["insurance"] = []any{obj("sequence", 1, "focal", true, "coverage", obj("identifier", obj("system", claimfhir.CoverageSystem, "value", "cov-nobody")))}
		}, http.StatusUnprocessableEntity, claimfhir.CodeCoverage},
		{"another patient's coverage", n.clinicAgt, func(c map[string]any) {
			c["insurance"] = []any{obj("sequence", 1, "focal", true, "coverage", obj("identifier", obj("system", claimfhir.CoverageSystem, "value", coverageOf(other))))}
		}, http.StatusUnprocessableEntity, claimfhir.CodeCoverage},
		{"conditional create", n.clinicAgt, nil, http.StatusBadRequest, claimfhir.CodeUnsupported},
		{"unknown payer", n.clinicAgt, func(c map[string]any) {
			c["insurer"] = obj("identifier", obj("system", claimfhir.OrgSystem, "value", "no-such-payer"))
		}, http.StatusUnprocessableEntity, claimfhir.CodeInsurer},
		{"negative charge", n.clinicAgt, func(c map[string]any) { c["item"] = []any{item("99214", "2024-05-01", 1, "-5.00")} }, http.StatusBadRequest, claimfhir.CodeAmount},
		{"absurd units", n.clinicAgt, func(c map[string]any) { c["item"] = []any{item("99214", "2024-05-01", 100000, "5.00")} }, http.StatusBadRequest, claimfhir.CodeInvalid},
		{"invalid code", n.clinicAgt, func(c map[string]any) { c["item"] = []any{item("99/214", "2024-05-01", 1, "5.00")} }, http.StatusBadRequest, claimfhir.CodeInvalid},
		{"no date", n.clinicAgt, func(c map[string]any) { c["item"].([]any)[0].(map[string]any)["servicedDate"] = "May 1" }, http.StatusBadRequest, claimfhir.CodeDate},
		{"predetermination", n.clinicAgt, func(c map[string]any) { c["use"] = "predetermination" }, http.StatusBadRequest, claimfhir.CodeUse},
		{"not a claims agent", n.clinic.Admin, func(map[string]any) {}, http.StatusForbidden, ""},
		{"another organization's agent", n.payerAgent, func(map[string]any) {}, http.StatusForbidden, ""},
	}
	// A diagnosis may be a Condition held at the clinic about the patient.
	condition := func(pid string) string {
		status, body := n.fhir(n.clinic, n.clinic.Admin, "POST", "Condition", obj("resourceType", "Condition", "subject", obj("reference", "Patient/"+pid),
			"code", obj("coding", []any{obj("system", "http://snomed.info/sct", "code", "44054006")})))
		if status != http.StatusCreated {
			t.Fatalf("create Condition = %d %s", status, body)
		}
		return decode(t, body)["id"].(string)
	}
	withCondition := func(id string) map[string]any {
		c := claimOf(k, pid, "claim", item("99214", "2024-05-02", 1, "200.00"))
		c["diagnosis"] = []any{obj("sequence", 1, "diagnosisReference", obj("reference", "Condition/"+id))}
		return c
	}
	if status, got := n.fhir(n.clinic, n.clinicAgt, "POST", "Claim", withCondition(condition(pid))); status != http.StatusCreated {
		t.Errorf("claim with a Condition held here = %d %s", status, got)
	}
	before++
	_, otherPid := n.covered("1980-01-01")
	if status, got := n.fhir(n.clinic, n.clinicAgt, "POST", "Claim", withCondition(condition(otherPid))); status != http.StatusBadRequest || !strings.Contains(string(got), claimfhir.CodeDiagnosis) {
		t.Errorf("claim with another patient's Condition = %d %s; want 400 %s", status, got, claimfhir.CodeDiagnosis)
	}
	for _, c := range cases {
		body := good()
		var headers []string
		if c.edit != nil {
			c.edit(body)
		} else {
			headers = []string{"If-None-Exist", "patient=Patient/" + pid}
		}
		status, got := n.fhir(n.clinic, c.who, "POST", "Claim", body, headers...)
		if status != c.status || !strings.Contains(string(got), `"OperationOutcome"`) || !strings.Contains(string(got), c.code) {
			t.Errorf("%s: %d %s; want %d OperationOutcome with %q", c.name, status, got, c.status, c.code)
		}
	}
	if after := claimsHeld(t, n, k); after != before {
		t.Errorf("the clinic holds %d claims after bad input; want %d", after, before)
	}
	// A claim the chain refuses after it was stored leaves nothing: the
	// payer's node is no provider, which only the contract checks.
	status, body := n.fhir(n.payer, n.payer.Admin, "POST", "Patient", obj("resourceType", "Patient", "birthDate", "1970-01-01",
		"identifier", []any{obj("system", custodian.PatientSystem, "value", addr(k).String())}))
	if status != http.StatusCreated {
		t.Fatalf("create Patient at the payer = %d %s", status, body)
	}
	atPayer := claimOf(k, decode(t, body)["id"].(string), "claim", item("99214", "2024-05-03", 1, "200.00"))
	if status, got := n.fhir(n.payer, n.payerAgent, "POST", "Claim", atPayer); status != http.StatusForbidden || !strings.Contains(string(got), "not provider") {
		t.Errorf("claim submitted by a payer's node = %d %s; want 403 from the contract", status, got)
	}
	if recs, err := n.payer.Vault().List(addr(k).String(), "Claim"); err != nil || len(recs) != 0 {
		t.Errorf("the payer's vault holds %d claims after the refusal (%v); want none", len(recs), err)
	}
	// $submit takes the Claim in Parameters.
	status, got := n.fhir(n.clinic, n.clinicAgt, "POST", "Claim/$submit", obj("resourceType", "Parameters", "parameter", []any{obj("name", "resource", "resource", good())}))
	if status != http.StatusCreated || decode(t, got)["resourceType"] != "ClaimResponse" {
		t.Errorf("Claim/$submit = %d %s", status, got)
	}
}

// claimsHeld counts the Claim records the clinic's vault holds of patient k.
func claimsHeld(t *testing.T, n *claimsNet, k ed25519.PrivKey) int {
	recs, err := n.clinic.Vault().List(addr(k).String(), "Claim")
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

// syntheaPatients are two patients of the HIV cohort, about 30 claims each.
var syntheaPatients = []string{
	"Bob965_Keeling57_3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b.json",
	"Cecelia952_Romaguera67_f1731e33-dc55-4ee8-72d7-cece2e49bedd.json",
}

// storyPayer is the story's payer, whose node is not started: its admin
// signs at hospital A's node.
const storyPayer = "story-payer"

// storyClaim covers the story's patient by the story's payer under a plan
// and a policy paying 99213, makes hospital A a claims agent, files a
// Patient with a birth date, and returns a Claim of a visit.
func storyClaim(s *story) map[string]any {
	s.t.Helper()
	admin, err := keys.Dir(filepath.Join(s.n.Home, "keys")).Load(storyPayer+"-admin", nil)
	if err != nil {
		s.t.Fatal(err)
	}
	if s.claimsAgent == nil {
		s.claimsAgent = ed25519.GenPrivKey()
		s.send(s.n.Admin, contract.Encode(identity.RegisterMember{Org: hospitalA, PubKey: s.claimsAgent.PubKey().Bytes(), Roles: []identity.Role{identity.ClaimsAgent}}))
		s.send(admin, contract.Encode(claims.RegisterPlan{Payer: storyPayer, Plan: planID, Deductible: 10_000, Coinsurance: 2_000, YearStart: 101}),
			contract.Encode(claims.RegisterCoverage{Payer: storyPayer, Coverage: coverageOf(s.patient), Plan: planID, Patient: addr(s.patient), Start: 20000101}),
			contract.Encode(claims.PolicyLoad{Payer: storyPayer, Version: 1, Fees: []claims.Fee{{Code: "99213", Allowed: 12_550}}}),
			contract.Encode(claims.PolicyPublish{Payer: storyPayer, Version: 1, Effective: 20000101}),
			contract.Encode(claims.Deposit{Payer: storyPayer, Amount: 1_000_000}))
	}
	pid := s.create(obj("resourceType", "Patient", "birthDate", "1980-02-03", "identifier", []any{obj("system", custodian.PatientSystem, "value", addr(s.patient).String())}))
	return storyClaimBody(s, pid, "2024-03-01")
}

// storyClaimBody is a Claim of a visit on date for the story's patient,
// filed at hospital A as pid.
func storyClaimBody(s *story, pid, date string) map[string]any {
	c := claimOf(s.patient, pid, "claim", item("99213", date, 1, "150.00"))
	c["insurer"] = obj("identifier", obj("system", claimfhir.OrgSystem, "value", storyPayer))
	c["provider"] = obj("identifier", obj("system", claimfhir.OrgSystem, "value", hospitalA))
	return c
}

// storyEligibility asks whether the story patient's coverage is in force.
func storyEligibility(s *story) map[string]any {
	return obj("resourceType", "CoverageEligibilityRequest", "status", "active", "purpose", []any{"validation"}, "created", "2024-01-01",
		"servicedDate", "2024-06-01", "patient", obj("identifier", obj("system", custodian.PatientSystem, "value", addr(s.patient).String())),
		"insurer", obj("identifier", obj("system", claimfhir.OrgSystem, "value", storyPayer)),
		"insurance", []any{obj("coverage", obj("identifier", obj("system", claimfhir.CoverageSystem, "value", coverageOf(s.patient))))})
}

// BenchmarkClaim measures POST /fhir/Claim by a claims agent, one at a
// time: the Claim parsed and checked, stored encrypted, anchored and
// adjudicated in one transaction, and the ClaimResponse built from the
// committed decision and its audit event. The baseline creates an
// Observation of the same patient, which stores and anchors a record the
// same way without adjudication. Each reports p50 and p99 and per second.
//
//	go test ./fhirapi -run '^$' -bench Claim -benchtime 50x
func BenchmarkClaim(b *testing.B) {
	n := nodetest.Start(b, node.InitOptions{
		Org:    node.Org{ID: hospitalA, Name: "Hospital A", Type: identity.Provider},
		Others: []node.Org{{ID: storyPayer, Name: "Story Payer", Type: identity.Payer}},
		Config: node.Config{TimeoutCommit: node.Duration(100 * time.Millisecond)},
	})
	s := &story{t: b, n: n, c: n.Client, patient: ed25519.GenPrivKey(), tokens: map[string]string{}}
	s.physician()
	s.send(s.patient, contract.Encode(identity.RegisterPatient{}))
	claim := storyClaim(s)
	pid := strings.TrimPrefix(claim["patient"].(map[string]any)["reference"].(string), "Patient/")
	measure := func(b *testing.B, who ed25519.PrivKey, typ string, body func(i int) map[string]any) {
		var lat []time.Duration
		i := 0
		for b.Loop() {
			start := time.Now()
			status, got := s.fhir(who, "POST", typ, body(i))
			lat = append(lat, time.Since(start))
			if status != http.StatusCreated {
				b.Fatalf("POST %s: %d %.300s", typ, status, got)
			}
			i++
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	}
	// concurrent posts from 16 clients, as a clearinghouse would send them.
	parallel := func(b *testing.B, who ed25519.PrivKey, typ string, body func(i int) map[string]any) {
		tok := s.token(who)
		var next atomic.Int64
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				raw, _ := json.Marshal(body(int(next.Add(1))))
				req, _ := http.NewRequest("POST", s.n.URL+"/fhir/"+typ, bytes.NewReader(raw))
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", "application/fhir+json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusCreated {
					b.Errorf("POST %s: %d", typ, res.StatusCode)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	}
	b.Run("record-create-x16", func(b *testing.B) {
		parallel(b, s.drA, "Observation", func(int) map[string]any {
			return obj("resourceType", "Observation", "status", "final", "code", obj("text", "glucose"), "subject", obj("reference", "Patient/"+pid))
		})
	})
	b.Run("claim-submit-x16", func(b *testing.B) {
		parallel(b, s.claimsAgent, "Claim", func(i int) map[string]any {
			return storyClaimBody(s, pid, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format(time.DateOnly))
		})
	})
	b.Run("record-create", func(b *testing.B) {
		measure(b, s.drA, "Observation", func(int) map[string]any {
			return obj("resourceType", "Observation", "status", "final", "code", obj("text", "glucose"), "subject", obj("reference", "Patient/"+pid))
		})
	})
	b.Run("claim-submit", func(b *testing.B) {
		measure(b, s.claimsAgent, "Claim", func(i int) map[string]any {
			c := storyClaimBody(s, pid, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format(time.DateOnly))
			return c
		})
	})
}
