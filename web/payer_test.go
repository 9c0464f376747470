package web_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/demo"
	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/tx"
)

// TestPayerView is a payer's claims agent in Chromium against a node
// seeded as `careledger node --demo` seeds it: Mercy's billing agent
// submits a claim for Carol through the FHIR API (the visit paid in part,
// the venipuncture bundled into it); the agent signs in with the demo's key
// file, lands on the payer view, sees the balance lowered by the payment
// and the history's entry for it, opens the claim from that entry and sees
// its lines with their amounts, X12 reason codes, edits and policy version;
// the claims queue lists the claim with its status, amounts and edits, and
// filters by status and dates of service; the policy versions show the
// demo's; Mercy appeals the denied line, the queue's appealed claims hold
// it, and the agent opens it from there and overturns it from the page;
// a deposit redraws the balance and the history while the page is open.
func TestPayerView(t *testing.T) {
	chromiumPath(t)
	n, dir, body := demoWithCarolsClaim(t)
	ctx := t.Context()
	billing, err := dir.Load(demo.Biller, nil)
	if err != nil {
		t.Fatal(err)
	}
	var cr struct{ ID, Outcome string }
	if err := json.Unmarshal(body, &cr); err != nil || cr.Outcome != "partial" {
		t.Fatalf("ClaimResponse %s (%v); want a partial outcome", body, err)
	}

	shots := screens(t)
	p := newBrowser(t, n.URL).person("claims agent")
	p.signInWithFile("claims-agent", dir.Path("claims-agent"), "")
	p.waitFor("the payer view", `document.getElementById("main").dataset.route === "#/payer"`)
	const paid = 4800 // the plan's 48.00 for the visit
	if got, want := p.text("#balance"), "998,952.00"; got != want {
		t.Errorf("the balance shows %q; want %s (%d deposited less %d funding the demo's reward program and %d paid)", got, want, demo.PayerFunds, demo.RewardFunding, paid)
	}
	rows := eval[[]string](p, "the history", `[...document.querySelectorAll("#history-body tbody tr")].map((r) => r.innerText.replace(/\s+/g, " ").trim())`)
	if len(rows) != 3 || !strings.Contains(rows[0], "Paid −48.00 mercy-hospital") || !strings.Contains(rows[0], "998,952.00") ||
		!strings.Contains(rows[1], "−1,000.00") || !strings.Contains(rows[2], "Deposit +1,000,000.00") {
		t.Errorf("the history: %q; want the payment to mercy-hospital of 48.00 above the reward program's funding and the deposit", rows)
	}
	if got := p.text("#pending"); !strings.Contains(got, "none") {
		t.Errorf("pending payables: %q; want none (the funds covered the claim)", got)
	}

	// The claims queue: Carol's claim, paid in part, with the edit that
	// denied the venipuncture and the version that judged it; filters by
	// status and by dates of service keep or drop it.
	queueRows := func() []string {
		return eval[[]string](p, "the claims queue", `[...document.querySelectorAll("#queue-body tbody tr")].map((r) => r.innerText.replace(/\s+/g, " ").trim())`)
	}
	queue := queueRows()
	if len(queue) != 1 || !strings.Contains(queue[0], "mercy-hospital 2026-11-01 Approved in part 210.00 180.00 48.00 132.00") ||
		!strings.Contains(queue[0], "code_pair") || !strings.HasSuffix(queue[0], " 1") {
		t.Errorf("the claims queue: %q; want Carol's claim of 2026-11-01, approved in part (210.00 billed, 180.00 allowed, 48.00 paid, 132.00 owed), code_pair, version 1", queue)
	}
	filter := func(status, from string) {
		t.Helper()
		p.do("filter the claims", chromedp.SetValue(chromedp.CSS("#queue-status"), status), chromedp.SetValue(chromedp.CSS("#queue-from"), from))
		p.click("#queue-filter button[type=submit]")
		p.waitFor("the filtered claims", `document.getElementById("status").innerText.includes("Claims shown")`)
		eval[bool](p, "clear the status line", `(document.getElementById("status").replaceChildren(), true)`)
	}
	for _, f := range []struct{ status, from string }{{"denied", ""}, {"", "2026-11-02"}} {
		if filter(f.status, f.from); len(queueRows()) != 0 {
			t.Errorf("claims with status %q from %q: %q; want none", f.status, f.from, queueRows())
		}
	}
	if filter("approved", "2026-11-01"); len(queueRows()) != 1 {
		t.Errorf("approved claims from 2026-11-01: %q; want Carol's", queueRows())
	}
	// The policy versions: the demo's version 1, whole, and its rows.
	policies := eval[[]string](p, "the policy versions", `[...document.querySelectorAll("#policy-body tbody tr")].map((r) => [...r.cells].map((c) => c.innerText.trim()).join("|"))`)
	if len(policies) != 1 || policies[0] != "1|2000-01-01|✓ published|5|1|1|1" {
		t.Errorf("the policy versions: %q; want version 1 from 2000-01-01, published, with 5 fees, 1 pair, 1 unit limit and 1 rule", policies)
	}
	p.checkPage(shots, "payer")

	// The history's entry opens its claim.
	claim := eval[string](p, "the entry's claim", `document.querySelector("#history-body a.claim-link").dataset.claim`)
	p.click("#history-body a.claim-link")
	p.waitFor("the claim", `document.getElementById("main").dataset.route === "#/payer?claim=`+claim+`" && document.querySelector("#claim-lines")`)
	if got := p.text("#claim-outcome"); !strings.Contains(got, "Partly approved") {
		t.Errorf("the claim's outcome shows %q; want partly approved", got)
	}
	if got := p.text("#claim-benefit"); got != "48.00" {
		t.Errorf("the claim's benefit shows %q; want 48.00", got)
	}
	lines := eval[[]string](p, "the lines", `[...document.querySelectorAll("#claim-lines tbody tr")].map((r) => r.innerText.replace(/\s+/g, " ").trim())`)
	if len(lines) != 2 || !strings.Contains(lines[0], "approved") || !strings.Contains(lines[0], "200.00") ||
		!strings.Contains(lines[1], "denied") || !strings.Contains(lines[1], "97 (bundled into another service)") || !strings.Contains(lines[1], "code_pair") {
		t.Errorf("the claim's lines: %q; want the visit approved from 200.00 and the venipuncture denied, 97, by the code_pair edit", lines)
	}
	if !strings.Contains(lines[0], "1 ") {
		t.Errorf("the visit's line %q; want its policy version 1", lines[0])
	}
	if got := p.text("#appeals"); !strings.Contains(got, "Appeals: none") {
		t.Errorf("appeals: %q; want none", got)
	}
	eval[bool](p, "clear the status line", `(document.getElementById("status").replaceChildren(), true)`)
	p.checkPage(shots, "payer-claim")

	// Mercy appeals the venipuncture's denial; the agent overturns it from
	// the page, signing the decision with the key in the browser.
	id, err := hex.DecodeString(claim)
	if err != nil || len(id) != 32 {
		t.Fatalf("the entry's claim %q is not a claim ID", claim)
	}
	appeal := claims.Appeal{Lines: []uint64{1}, Reason: "separate-draw"}
	copy(appeal.Claim[:], id)
	if _, err := n.Client.Send(ctx, billing, contract.Encode(appeal)); err != nil {
		t.Fatalf("appeal: %v", err)
	}
	// The queue's appealed claims hold it; it opens from there.
	p.goTo("#/payer")
	if filter("appealed", ""); len(queueRows()) != 1 || !strings.Contains(queueRows()[0], "Appealed") {
		t.Errorf("appealed claims: %q; want Carol's", queueRows())
	}
	p.click("#queue-body a.claim-link")
	p.waitFor("the claim from the queue", `document.getElementById("main").dataset.route === "#/payer?claim=`+claim+`" && document.querySelector("#claim-lines")`)
	if got := p.text("#appeals"); !strings.Contains(got, "open") || !strings.Contains(got, appeal.Reason) {
		t.Errorf("appeals: %q; want the open appeal", got)
	}
	p.do("choose overturn", chromedp.SetValue(chromedp.CSS("#appeal-decision"), "overturn"))
	set(p, "#appeal-reason", "separately-billable")
	p.click("#appeal-form button[type=submit]")
	p.waitFor("the decision", `document.querySelector("#appeals")?.innerText.includes("overturned")`)
	if got := p.text("#appeals"); !strings.Contains(got, "separately-billable") || strings.Contains(got, "Decide the open appeal") {
		t.Errorf("appeals after the decision: %q; want it overturned, with no form left", got)
	}
	// The overturn re-priced the venipuncture under the plan's cost
	// sharing: the plan pays 2.60 more, from the account at once.
	if got := p.text("#claim-benefit"); got != "50.60" {
		t.Errorf("the claim's benefit after the overturn shows %q; want 50.60", got)
	}
	if got := p.text("#appeals"); !strings.Contains(got, "2.60") {
		t.Errorf("appeals after the overturn: %q; want the 2.60 it added", got)
	}
	p.goTo("#/payer")
	if got, want := p.text("#balance"), "998,949.40"; got != want {
		t.Errorf("the balance after the overturn shows %q; want %s", got, want)
	}
	// A deposit redraws the balance and the history on the open page.
	admin, err := dir.Load(demo.Payer+"-admin", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Client.Send(ctx, admin, contract.Encode(claims.Deposit{Payer: demo.Payer, Amount: 60})); err != nil {
		t.Fatalf("deposit: %v", err)
	}
	p.waitFor("the balance after the deposit", `document.querySelector("#balance")?.innerText === "998,950.00"`)
	if got := p.text("#history-body tbody tr"); !strings.Contains(got, "Deposit") || !strings.Contains(got, "+0.60") {
		t.Errorf("the history's newest entry after the deposit: %q; want the deposit of 0.60", got)
	}
}

// TestPayerHistoryPages pages through a payer's history: 21 deposits and
// the demo's first make 22 entries, shown 20 and then the 2 older ones,
// newest first, with no further page offered; a claim nobody submitted
// shows as not found.
func TestPayerHistoryPages(t *testing.T) {
	chromiumPath(t)
	n := nodetest.Start(t, demo.InitOptions(node.Config{}))
	dir := keys.Dir(filepath.Join(n.Home, "keys"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := demo.Seed(ctx, n.Client, dir); err != nil {
		t.Fatalf("seed the demo: %v", err)
	}
	admin, err := dir.Load(demo.Payer+"-admin", nil)
	if err != nil {
		t.Fatal(err)
	}
	var deposits []tx.Msg
	for i := 1; i <= 21; i++ {
		deposits = append(deposits, contract.Encode(claims.Deposit{Payer: demo.Payer, Amount: uint64(i)}))
	}
	if _, err := n.Client.Send(ctx, admin, deposits...); err != nil {
		t.Fatalf("deposit: %v", err)
	}
	p := newBrowser(t, n.URL).person("claims agent")
	p.signInWithFile("claims-agent", dir.Path("claims-agent"), "")
	p.waitFor("the payer view", `document.getElementById("main").dataset.route === "#/payer"`)
	entries := func() []string {
		return eval[[]string](p, "the history", `[...document.querySelectorAll("#history-body tbody tr")].map((r) => r.cells[0].innerText + " " + r.cells[3].innerText)`)
	}
	if got := entries(); len(got) != 20 || got[0] != "22 +0.21" || got[19] != "3 +0.02" {
		t.Fatalf("the first page: %q; want entries 22 (0.21) down to 3 (0.02)", got)
	}
	p.click("#history-more")
	p.waitFor("the older page", `document.querySelectorAll("#history-body tbody tr").length === 23`)
	if got := entries(); len(got) != 23 || got[20] != "2 +0.01" || got[21] != "1 −1,000.00" || got[22] != "0 +1,000,000.00" {
		t.Errorf("the older page: %q; want entries 2 (0.01), 1 (the reward program's funding) and 0 (the demo's deposit)", got[20:])
	}
	if eval[bool](p, "the button", `!document.querySelector("#history-more").hidden`) {
		t.Error("Older entries is still offered at the history's first entry")
	}
	// A claim nobody submitted: the view says so, and still shows the account.
	set(p, "#claim-id", strings.Repeat("ab", 32))
	p.click("#lookup-form button[type=submit]")
	p.waitFor("the answer", `document.querySelector("#claim-error") && document.querySelector("#balance")`)
	if got := p.text("#claim-error"); !strings.Contains(got, "no such claim") {
		t.Errorf("an unknown claim shows %q; want no such claim", got)
	}
}

// carolsClaim is the README tour's claim: a visit (99214, 200.00) and a
// venipuncture (36415, 10.00) the demo policy bundles into it.
func carolsClaim(carol string) string {
	return fmt.Sprintf(`{"resourceType": "Claim", "status": "active", "use": "claim", "created": "2026-11-02",
 "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
 "priority": {"coding": [{"code": "normal"}]},
 "patient": {"reference": "Patient/patient-carol"},
 "provider": {"identifier": {"system": "urn:careledger:org", "value": "mercy-hospital"}},
 "insurer": {"identifier": {"system": "urn:careledger:org", "value": "acme-health"}},
 "insurance": [{"sequence": 1, "focal": true, "coverage": {"identifier": {"system": "urn:careledger:coverage", "value": "cov-%s"}}}],
 "item": [
  {"sequence": 1, "productOrService": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99214"}]}, "servicedDate": "2026-11-01", "net": {"value": 200.00, "currency": "USD"}},
  {"sequence": 2, "productOrService": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "36415"}]}, "servicedDate": "2026-11-01", "net": {"value": 10.00, "currency": "USD"}}]}`, carol[:8])
}

// demoWithCarolsClaim starts a node seeded as `careledger node --demo`
// seeds it, has Mercy's billing agent submit Carol's claim through the FHIR
// API, and returns the node, its key directory and the ClaimResponse.
func demoWithCarolsClaim(t *testing.T) (*nodetest.Node, keys.Dir, []byte) {
	t.Helper()
	n := nodetest.Start(t, demo.InitOptions(node.Config{}))
	dir := keys.Dir(filepath.Join(n.Home, "keys"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	people, err := demo.Seed(ctx, n.Client, dir)
	if err != nil {
		t.Fatalf("seed the demo: %v", err)
	}
	var carol string
	for _, p := range people {
		if p.Key == "patient-carol" {
			carol = p.Address.String()
		}
	}
	billing, err := dir.Load(demo.Biller, nil)
	if err != nil {
		t.Fatal(err)
	}
	status, body, err := n.Client.FHIR(ctx, client.FHIRRequest{Method: "POST", Path: "Claim", Token: n.Token(t, billing), Body: []byte(carolsClaim(carol))})
	if err != nil || status != 201 && status != 200 {
		t.Fatalf("submit the claim: %d %v\n%s", status, err, body)
	}
	return n, dir, body
}
