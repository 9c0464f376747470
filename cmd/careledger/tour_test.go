package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/nodetest"
)

// TestTour walks the README's five-minute tour against a demo node run as
// a separate process, so that the README stays true.
func TestTour(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	httpAddr := fmt.Sprintf("127.0.0.1:%d", nodetest.FreePort(t))
	careledger(t, "init", "--demo", "--home", home, "--http", httpAddr, "--p2p", fmt.Sprintf("127.0.0.1:%d", nodetest.FreePort(t)))
	p := startNodeArgs(t, "node", "--demo", "--home", home)
	c := client.New("http://" + httpAddr)
	// The node prints its prompt once the demo is seeded.
	waitFor(t, func() bool { return strings.Contains(readFile(t, p.log), "press Ctrl-C") })
	if log := readFile(t, p.log); !strings.Contains(log, "patient-alice") || !strings.Contains(log, "dr-adams") {
		t.Fatalf("node --demo output names no demo keys:\n%s", log)
	}

	env := []string{"CARELEDGER_HOME=" + home, "CARELEDGER_NODE=http://" + httpAddr, "CARELEDGER_PASSPHRASE=correct horse"}
	run := func(wantOK bool, args ...string) string {
		t.Helper()
		cmd := exec.Command(binary, args...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if (err == nil) != wantOK {
			t.Fatalf("careledger %s: err = %v; want ok = %v\n%s", strings.Join(args, " "), err, wantOK, out)
		}
		return strings.TrimSpace(string(out))
	}

	var orgs []map[string]any
	mustJSON(t, run(true, "query", "orgs", "--key", "admin"), &orgs)
	if len(orgs) != 6 {
		t.Fatalf("query orgs: %d organizations; want 6", len(orgs))
	}
	var members []map[string]any
	mustJSON(t, run(true, "query", "members", "--key", "admin", "mercy-hospital"), &members)
	if len(members) < 5 {
		t.Fatalf("query members mercy-hospital: %d; want the admin and four demo members", len(members))
	}
	run(true, "keys", "list")

	run(true, "keys", "new", "dr-new")
	pub := run(true, "keys", "show", "--pubkey", "dr-new")
	run(true, "tx", "register-member", "--key", "admin", "--org", "mercy-hospital", "--roles", "physician", pub)
	addr := run(true, "keys", "show", "--address", "dr-new")
	run(true, "tx", "set-roles", "--key", "admin", "--roles", "physician,auditor", addr)
	run(true, "tx", "suspend", "--key", "admin", addr)
	if out := run(false, "auth", "token", "--key", "dr-new"); !strings.Contains(out, "suspended") {
		t.Errorf("auth token of a suspended member: %s; want suspended", out)
	}
	run(true, "tx", "reinstate", "--key", "admin", addr)
	if out := run(false, "tx", "suspend", "--key", "lakeside-clinic-admin", addr); !strings.Contains(out, "wrong_organization") {
		t.Errorf("suspend by another organization's admin: %s; want wrong_organization", out)
	}

	run(true, "keys", "new", "--seal", "dave")
	run(true, "tx", "register-patient", "--key", "dave")
	run(true, "keys", "new", "dave-phone")
	run(true, "tx", "rotate-key", "--key", "dave", "dave-phone")
	if out := run(false, "tx", "rotate-key", "--key", "dave", "dave-phone"); !strings.Contains(out, "unknown_signer") {
		t.Errorf("old key after rotation: %s; want unknown_signer", out)
	}
	var txs []map[string]any
	mustJSON(t, run(true, "query", "txs", "--key", "dave-phone", run(true, "keys", "show", "--address", "dave")), &txs)
	if len(txs) != 2 {
		t.Errorf("query txs of dave: %d transactions; want register and rotate", len(txs))
	}

	var tok struct{ Token string }
	mustJSON(t, run(true, "auth", "token", "--key", "dr-adams"), &tok)
	who, err := c.WhoAmI(t.Context(), tok.Token)
	if err != nil || who.Org != "mercy-hospital" {
		t.Fatalf("whoami with dr-adams' token = %+v, %v", who, err)
	}

	// Health records and consent.
	total := func(out string) int {
		var b struct{ Total int }
		mustJSON(t, out, &b)
		return b.Total
	}
	alice := run(true, "keys", "show", "--address", "patient-alice")
	if n := total(run(true, "fhir", "--key", "dr-adams", "GET", "Observation?patient=patient-alice&category=laboratory")); n != 2 {
		t.Errorf("dr-adams' laboratory search: %d results; want 2", n)
	}
	// SMART: a scoped token, and a search its scope does not cover.
	var scoped struct{ Scope string }
	mustJSON(t, run(true, "auth", "token", "--key", "patient-alice", "--scope", "patient/Observation.rs"), &scoped)
	if scoped.Scope != "patient/Observation.rs" {
		t.Errorf("auth token --scope patient/Observation.rs granted %q", scoped.Scope)
	}
	if out := run(false, "fhir", "--key", "dr-adams", "--scope", "user/Observation.rs", "GET", "Condition?patient=patient-alice"); !strings.Contains(out, "scope") {
		t.Errorf("fhir --scope user/Observation.rs searching Conditions: %s; want refused by scope", out)
	}
	if n := total(run(true, "fhir", "--key", "dr-chen", "GET", "Observation?patient=patient-alice")); n != 0 {
		t.Errorf("dr-chen's search without a grant: %d results; want 0", n)
	}
	run(true, "tx", "request-access", "--key", "dr-chen", "--patient", alice, "--types", "Observation", "--for", "720h", "--reason", "referral")
	run(true, "tx", "approve", "--key", "patient-alice", "1")
	if n := total(run(true, "fhir", "--key", "dr-chen", "GET", "Observation?patient=patient-alice")); n != 3 {
		t.Errorf("dr-chen's search with a grant: %d results; want 3", n)
	}
	var grants []map[string]any
	mustJSON(t, run(true, "query", "grants", "--key", "patient-alice", alice), &grants)
	if len(grants) != 1 {
		t.Errorf("query grants: %d; want 1", len(grants))
	}
	// Who granted whom is hers: without a key, or as another patient,
	// nothing.
	if out := run(false, "query", "grants", alice); !strings.Contains(out, "--key is required") {
		t.Errorf("query grants without --key: %s; want --key is required", out)
	}
	if out := run(false, "query", "grants", "--key", "patient-bob", alice); !strings.Contains(out, "unauthorized") {
		t.Errorf("query grants of alice as bob: %s; want unauthorized", out)
	}
	run(true, "tx", "revoke", "--key", "patient-alice", "1")
	if out := run(false, "fhir", "--key", "dr-chen", "GET", "Patient/patient-alice"); !strings.Contains(out, "forbidden") {
		t.Errorf("dr-chen's read after revocation: %s; want forbidden", out)
	}
	run(true, "fhir", "--key", "dr-chen", "--purpose", "ETREAT", "--break-glass", "--glass-reason", "unconscious", "GET", "Patient/patient-alice")
	var reviews []struct{ Access uint64 }
	mustJSON(t, run(true, "query", "reviews", "--key", "privacy-officer", "mercy-hospital"), &reviews)
	if len(reviews) != 1 {
		t.Fatalf("query reviews: %v; want the break-the-glass access", reviews)
	}
	run(true, "tx", "review", "--key", "privacy-officer", fmt.Sprint(reviews[0].Access))
	run(true, "tx", "erase", "--key", "patient-alice", "--custodian", "mercy-hospital")
	waitFor(t, func() bool {
		return strings.Contains(run(false, "fhir", "--key", "dr-adams", "GET", "Patient/patient-alice"), "answered 410")
	})

	// Bob names one record by the ref in its meta.tag, as the chain knows
	// it: he grants it alone, then erases it.
	var bobs struct {
		Entry []struct {
			Resource struct {
				Meta struct {
					Tag []struct{ System, Code string }
				}
			}
		}
	}
	mustJSON(t, run(true, "fhir", "--key", "patient-bob", "GET", "Observation?patient=patient-bob"), &bobs)
	if len(bobs.Entry) != 3 || len(bobs.Entry[0].Resource.Meta.Tag) != 1 || bobs.Entry[0].Resource.Meta.Tag[0].System != "urn:careledger:record" {
		t.Fatalf("bob's observations: %+v; want 3, each tagged with its ref", bobs.Entry)
	}
	record := "Observation/" + bobs.Entry[0].Resource.Meta.Tag[0].Code
	run(true, "tx", "grant", "--key", "patient-bob", "--to", "lakeside-clinic", "--types", "Observation", "--records", record)
	if n := total(run(true, "fhir", "--key", "dr-chen", "GET", "Observation?patient=patient-bob")); n != 1 {
		t.Errorf("dr-chen's search under a grant of one record: %d results; want 1", n)
	}
	run(true, "tx", "erase", "--key", "patient-bob", "--custodian", "mercy-hospital", record)
	waitFor(t, func() bool {
		return total(run(true, "fhir", "--key", "dr-adams", "GET", "Observation?patient=patient-bob")) == 2
	})

	tourClaims(t, run)
	tourSupply(t, run)

	// Who saw what, verified offline.
	dir := t.TempDir()
	genesis := filepath.Join(home, "config", "genesis.json")
	report := run(true, "audit", "disclosures", "--key", "patient-alice", "--all", alice)
	if err := os.WriteFile(filepath.Join(dir, "report.json"), []byte(report), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := run(true, "verify", "report", "--genesis", genesis, filepath.Join(dir, "report.json")); !strings.Contains(out, "verified:") {
		t.Errorf("verify report: %s", out)
	}
	if page := run(true, "audit", "disclosures", "--key", "patient-alice", "--format", "html", alice); !strings.Contains(page, "Accounting of disclosures") {
		t.Errorf("HTML accounting: %.200s", page)
	}
	bundle := run(true, "query", "bundle", "--key", "patient-alice", "3")
	if err := os.WriteFile(filepath.Join(dir, "event.json"), []byte(bundle), 0o600); err != nil {
		t.Fatal(err)
	}
	run(true, "verify", "bundle", "--genesis", genesis, filepath.Join(dir, "event.json"))
	p.stop(t)
	if out := run(true, "verify", "data", "--home", home); !strings.Contains(out, "verified:") {
		t.Errorf("verify data: %s", out)
	}
}

func startNodeArgs(t *testing.T, args ...string) *process {
	t.Helper()
	return startProcess(t, binary, args...)
}

// tourSupply walks the README's drug supply chain: a package's journey
// through the demo's manufacturer and wholesaler to the pharmacy, its
// verification, a subscription to recalls and a recall.
func tourSupply(t *testing.T, run func(bool, ...string) string) {
	t.Helper()
	var j struct {
		Holder, Status string
		Events         []struct{ BizStep, Org string }
	}
	mustJSON(t, run(true, "supply", "journey", "--key", "pharmacist", "/01/09521234543213/21/PK0001"), &j)
	var steps []string
	for _, e := range j.Events {
		steps = append(steps, e.BizStep+"@"+e.Org)
	}
	want := "commissioning@acme-pharma packing@acme-pharma shipping@acme-pharma receiving@north-wholesale shipping@north-wholesale receiving@corner-pharmacy"
	if got := strings.Join(steps, " "); got != want || j.Holder != "corner-pharmacy" || j.Status != "received" {
		t.Errorf("supply journey PK0001: %s, held %s by %s; want %s, received by corner-pharmacy", got, j.Status, j.Holder, want)
	}
	var c struct{ Children []string }
	mustJSON(t, run(true, "supply", "journey", "--key", "pharmacist", "/00/106141412345678908"), &c)
	if len(c.Children) != 4 {
		t.Errorf("supply journey of the case: children %v; want its four packs", c.Children)
	}

	verify := func(args ...string) (verified bool, reason, info string) {
		var v struct {
			Data struct {
				Verified                  bool
				VerificationFailureReason string
				AdditionalInfo            string
			}
		}
		mustJSON(t, run(true, append([]string{"supply", "verify", "--key", "pharmacist", "09521234543213"}, args...)...), &v)
		return v.Data.Verified, v.Data.VerificationFailureReason, v.Data.AdditionalInfo
	}
	for _, c := range []struct {
		args     []string
		verified bool
		reason   string
	}{
		{[]string{"PK0001", "--lot", "DEMO-LOT1", "--expiry", "281231"}, true, ""},
		{[]string{"PK0001", "--lot", "OTHER-LOT"}, false, "No_match_GTIN_Serial_Lot"},
		{[]string{"FAKE0001"}, false, "No_match_GTIN_Serial"},
	} {
		if ok, reason, _ := verify(c.args...); ok != c.verified || reason != c.reason {
			t.Errorf("supply verify %v: verified %v (%s); want %v (%s)", c.args, ok, reason, c.verified, c.reason)
		}
	}
	// The manufacturer records a commissioning through the contract's
	// message, from a file; the new pack then verifies.
	file := filepath.Join(t.TempDir(), "commission.json")
	if err := os.WriteFile(file, []byte(`{"events":[{"hash":"`+strings.Repeat("7e", 32)+`","type":"ObjectEvent","action":"ADD",`+
		`"bizStep":"commissioning","disposition":"active","epcList":["/01/09521234543213/21/PK0100"],"lot":"DEMO-LOT2","expiry":20290630}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	run(true, "supply", "record", "--key", "acme-pharma-admin", file)
	if ok, reason, _ := verify("PK0100", "--lot", "DEMO-LOT2", "--expiry", "290630"); !ok {
		t.Errorf("supply verify of the recorded pack: not verified (%s)", reason)
	}
	if out := run(false, "supply", "record", "--key", "pharmacist", file); !strings.Contains(out, "already_exists") {
		t.Errorf("supply record of the same event again: %s; want already_exists", out)
	}
	if out := run(false, "supply", "verify", "--key", "dr-adams", "09521234543213", "PK0001"); !strings.Contains(out, "unauthorized") {
		t.Errorf("supply verify by a hospital's physician: %s; want unauthorized", out)
	}

	// The pharmacy subscribes to recalls of its stock; the recall reaches
	// its webhook, and the packs verify as recalled.
	got := make(chan []byte, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- b
	}))
	defer hook.Close()
	run(true, "supply", "subscribe", "--key", "pharmacist", "SupplyRecallsOfMyStock", hook.URL)
	run(true, "supply", "recall", "--key", "acme-pharma-admin", "09521234543213", "DEMO-LOT1")
	select {
	case b := <-got:
		if !strings.Contains(string(b), `"supply.recall_notice"`) || !strings.Contains(string(b), `"corner-pharmacy"`) {
			t.Errorf("recall webhook got %s; want the pharmacy's recall notice", b)
		}
	case <-time.After(20 * time.Second):
		t.Errorf("no recall delivered to the pharmacy's webhook in 20 s")
	}
	if ok, reason, info := verify("PK0001"); ok || reason != "Not_for_re-distribution" || info != "Recalled" {
		t.Errorf("supply verify after the recall: verified %v (%s, %s); want false (Not_for_re-distribution, Recalled)", ok, reason, info)
	}
}

// startProcess starts a program, its output going to a log file, and kills
// it when the test ends.
func startProcess(t *testing.T, program string, args ...string) *process {
	t.Helper()
	log := filepath.Join(t.TempDir(), "node.log")
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(program, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, log: log}
	t.Cleanup(p.kill)
	return p
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("output is not the expected JSON: %v\n%s", err, s)
	}
}
