package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/x12"
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
	if log := readFile(t, p.log); !strings.Contains(log, "mercy-hospital checkups") || !strings.Contains(log, "demo-checkups") {
		t.Errorf("node --demo output names no demo schedule or reward program:\n%s", log)
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
	if len(orgs) != 7 {
		t.Fatalf("query orgs: %d organizations; want 7", len(orgs))
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

	// A care team: granted once, it covers whoever is on it at each read.
	run(true, "tx", "set-team", "--key", "patient-bob", "--orgs", "lakeside-clinic")
	run(true, "tx", "grant", "--key", "patient-bob", "--to", "team:1", "--types", "Observation")
	if n := total(run(true, "fhir", "--key", "dr-chen", "GET", "Observation?patient=patient-bob")); n != 2 {
		t.Errorf("dr-chen's search under the care team's grant: %d results; want 2", n)
	}
	run(true, "tx", "set-team", "--key", "patient-bob", "--team", "1")
	if n := total(run(true, "fhir", "--key", "dr-chen", "GET", "Observation?patient=patient-bob")); n != 0 {
		t.Errorf("dr-chen's search after leaving the care team: %d results; want 0", n)
	}

	tourClaims(t, run)
	tourDevice(t, run, total)
	tourSupply(t, run, env)
	tourScheduling(t, run)

	// Who saw what, verified offline.
	dir := t.TempDir()
	genesis := filepath.Join(home, "config", "genesis.json")
	tourTrial(t, run, genesis)
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

// tourDevice walks the README's monitoring device: Bob authorizes a
// meter, which writes a reading that Mercy's physician finds among his
// records, and nothing once Bob removes it.
func tourDevice(t *testing.T, run func(bool, ...string) string, total func(string) int) {
	t.Helper()
	reading := filepath.Join(t.TempDir(), "reading.json")
	if err := os.WriteFile(reading, []byte(`{"resourceType":"Observation","status":"final","subject":{"reference":"Patient/patient-bob"},
  "code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueQuantity":{"value":72,"unit":"/min"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	before := total(run(true, "fhir", "--key", "dr-adams", "GET", "Observation?patient=patient-bob"))
	run(true, "keys", "new", "bob-meter")
	pub := run(true, "keys", "show", "--pubkey", "bob-meter")
	salt := "00112233445566778899aabbccddeeff"
	run(true, "tx", "set-device", "--key", "patient-bob", "--custodian", "mercy-hospital", "--codes", "8867-4,2339-0", "--salt", salt, pub)
	run(true, "fhir", "--key", "bob-meter", "--device-salt", salt, "POST", "Observation", reading)
	if n := total(run(true, "fhir", "--key", "dr-adams", "GET", "Observation?patient=patient-bob")); n != before+1 {
		t.Errorf("bob's observations after his meter's reading: %d; want %d", n, before+1)
	}
	if out := run(false, "fhir", "--key", "bob-meter", "GET", "Observation?patient=patient-bob"); !strings.Contains(out, "403") {
		t.Errorf("the meter searching: %s; want 403", out)
	}
	run(true, "tx", "remove-device", "--key", "patient-bob", pub)
	if out := run(false, "fhir", "--key", "bob-meter", "--device-salt", salt, "POST", "Observation", reading); !strings.Contains(out, "suspended") {
		t.Errorf("the removed meter writing: %s; want its account suspended", out)
	}
}

// tourScheduling walks the README's appointments and rewards: the payer
// funds Alice and a reward program, the hospital opens slots with a
// deposit, Alice books, Bob finds the slot taken, the nurse marks Alice's
// appointment attended and attests it, and Alice's balance holds her
// deposit back and the reward.
func tourScheduling(t *testing.T, run func(bool, ...string) string) {
	t.Helper()
	// The demo's open slots and reward program.
	var demoSlots struct {
		Policy struct{ Deposit uint64 }
		Slots  []struct{ State string }
	}
	for _, sc := range []struct {
		provider, schedule string
		deposit            uint64
	}{{"mercy-hospital", "checkups", 0}, {"lakeside-clinic", "specialist", 2000}} {
		mustJSON(t, run(true, "schedule", "slots", "--key", "patient-alice", sc.provider, sc.schedule), &demoSlots)
		if len(demoSlots.Slots) == 0 || demoSlots.Slots[0].State != "free" || demoSlots.Policy.Deposit != sc.deposit {
			t.Errorf("the demo's slots of %s/%s: %+v; want free slots, a deposit of %d", sc.provider, sc.schedule, demoSlots, sc.deposit)
		}
	}
	var lists struct {
		Schedules []struct{ ID string }
		Programs  []struct{ ID string }
	}
	mustJSON(t, run(true, "schedule", "list", "--key", "patient-alice", "mercy-hospital"), &lists)
	mustJSON(t, run(true, "rewards", "list", "--key", "patient-alice"), &lists)
	if len(lists.Schedules) != 1 || lists.Schedules[0].ID != "checkups" || len(lists.Programs) != 1 || lists.Programs[0].ID != "demo-checkups" {
		t.Errorf("schedule list and rewards list: %+v; want the demo's checkups and demo-checkups", lists)
	}
	var program struct {
		Sponsor    string
		PatientCap uint64 `json:"patient_cap"`
		End        int64
		RedeemTo   []string `json:"redeem_to"`
	}
	mustJSON(t, run(true, "rewards", "program", "--key", "patient-alice", "demo-checkups"), &program)
	if program.Sponsor != "acme-health" || program.PatientCap != 3000 || program.End < time.Now().Unix() ||
		len(program.RedeemTo) != 1 || program.RedeemTo[0] != "acme-health" {
		t.Errorf("the demo's reward program: %+v; want acme-health's, capped at 3000 a patient, not ended, redeemable to acme-health", program)
	}
	alice := run(true, "keys", "show", "--address", "patient-alice")
	var demoRewarded struct{ Total, Held uint64 }
	mustJSON(t, run(true, "rewards", "rewarded", "--key", "patient-alice", "demo-checkups", alice), &demoRewarded)
	if demoRewarded.Total != 0 || demoRewarded.Held != 0 {
		t.Errorf("what demo-checkups rewarded alice: %+v; want nothing yet", demoRewarded)
	}
	run(true, "ledger", "deposit", "--key", "acme-health-admin", "acme-health", "100000")
	run(true, "ledger", "send", "--key", "acme-health-admin", "--from", "acme-health", "--to-patient", alice, "5000")
	run(true, "rewards", "create", "--key", "acme-health-admin", "acme-health", "checkups-2026", "--funding", "50000",
		"--patient-cap", "3000", "--end", fmt.Sprint(time.Now().Add(30*24*time.Hour).Unix()), "--rule", "attended:1000:provider:count < 3")
	run(true, "schedule", "publish", "--key", "admin", "mercy-hospital", "gp", "--deposit", "2000", "--cancel-before", "24h", "--late-keep-bps", "5000")
	start := time.Now().Add(6 * time.Second).Unix()
	run(true, "schedule", "open", "--key", "admin", "mercy-hospital", "gp", fmt.Sprintf("%d,%d", start, start+1800))
	run(true, "schedule", "book", "--key", "patient-alice", "mercy-hospital", "gp", fmt.Sprint(start))
	if out := run(false, "schedule", "book", "--key", "patient-bob", "mercy-hospital", "gp", fmt.Sprint(start)); !strings.Contains(out, "already_exists") {
		t.Errorf("bob booking alice's slot: %s; want already_exists", out)
	}
	var slots struct {
		Slots []struct {
			State   string
			Patient string
		}
	}
	mustJSON(t, run(true, "schedule", "slots", "--key", "patient-bob", "mercy-hospital", "gp"), &slots)
	if len(slots.Slots) != 2 || slots.Slots[0].State != "booked" || slots.Slots[0].Patient == alice {
		t.Errorf("slots as bob: %+v; want the first booked, its patient hidden", slots.Slots)
	}
	for time.Now().Unix() <= start+1 {
		time.Sleep(200 * time.Millisecond)
	}
	run(true, "schedule", "mark", "--key", "nurse-baker", "mercy-hospital", "gp", fmt.Sprint(start), "attended", "--attest", "checkups-2026")
	var bal struct{ Balance uint64 }
	mustJSON(t, run(true, "ledger", "balance", "--key", "patient-alice"), &bal)
	if bal.Balance != 6_000 {
		t.Errorf("alice's balance after an attended appointment: %d; want 6000 (her deposit back and a 1000 reward)", bal.Balance)
	}
	var search struct {
		Entry []struct {
			Resource struct{ ID, Status string }
		}
	}
	mustJSON(t, run(true, "fhir", "--key", "patient-alice", "GET", "Appointment?patient=Patient/"+alice), &search)
	if len(search.Entry) != 1 || search.Entry[0].Resource.Status != "fulfilled" {
		t.Errorf("alice's appointments: %+v; want one, fulfilled", search.Entry)
	}
	mustJSON(t, run(true, "fhir", "--key", "patient-bob", "GET", "Slot?schedule=Schedule/mercy-hospital.gp&status=free"), &search)
	if len(search.Entry) != 1 || search.Entry[0].Resource.ID != fmt.Sprintf("mercy-hospital.gp.%d", start+1800) {
		t.Errorf("the free slots: %+v; want the second", search.Entry)
	}

	// A program whose rewards go only against co-pays at the payer.
	run(true, "rewards", "create", "--key", "acme-health-admin", "acme-health", "copays-2026", "--funding", "5000",
		"--patient-cap", "1000", "--end", fmt.Sprint(time.Now().Add(30*24*time.Hour).Unix()), "--rule", "attended:500:provider", "--redeem-to", "acme-health")
	run(true, "rewards", "attest", "--key", "nurse-baker", "copays-2026", alice, "attended", "--ref", fmt.Sprint("visit ", start))
	if out := run(false, "rewards", "redeem", "--key", "patient-alice", "copays-2026", alice, "mercy-hospital", "500"); !strings.Contains(out, "invalid") {
		t.Errorf("redeeming to the hospital: %s; want invalid", out)
	}
	var got struct{ Total, Held uint64 }
	mustJSON(t, run(true, "rewards", "rewarded", "--key", "patient-alice", "copays-2026", alice), &got)
	if got.Total != 500 || got.Held != 500 {
		t.Errorf("what copays-2026 gave alice: %+v; want 500, held", got)
	}
	run(true, "rewards", "redeem", "--key", "patient-alice", "copays-2026", alice, "acme-health", "500")
	mustJSON(t, run(true, "ledger", "balance", "--key", "patient-alice"), &bal)
	if bal.Balance != 6_000 {
		t.Errorf("alice's balance after a redeemed reward: %d; want 6000, the reward went to the payer", bal.Balance)
	}
}

func startNodeArgs(t *testing.T, args ...string) *process {
	t.Helper()
	return startProcess(t, binary, args...)
}

// tourSupply walks the README's drug supply chain: a package's journey
// through the demo's manufacturer and wholesaler to the pharmacy, its
// verification, a subscription to recalls and a recall.
func tourSupply(t *testing.T, run func(bool, ...string) string, env []string) {
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
	// The demo's manufacturer holds its GLN in the chain's party directory:
	// claiming it again changes nothing, and the pharmacy cannot claim it.
	run(true, "supply", "claim-parties", "--key", "acme-pharma-admin", "acme-pharma", "0614141000005")
	if out := run(false, "supply", "claim-parties", "--key", "corner-pharmacy-admin", "corner-pharmacy", "0614141000005"); !strings.Contains(out, "already_exists") {
		t.Errorf("supply claim-parties of the manufacturer's GLN by the pharmacy: %s; want already_exists", out)
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
	// A stream of the same query, by WebSocket, hears of the recall too.
	streamed := startStream(t, binary, env, "supply", "subscribe", "--stream", "--key", "pharmacist", "SupplyRecallsOfMyStock")
	run(true, "supply", "recall", "--key", "acme-pharma-admin", "09521234543213", "DEMO-LOT1")
	select {
	case line := <-streamed:
		if !strings.Contains(line, `"supply.recall_notice"`) || !strings.Contains(line, `"corner-pharmacy"`) {
			t.Errorf("the pharmacy's recall stream got %s; want its recall notice", line)
		}
	case <-time.After(20 * time.Second):
		t.Errorf("no recall streamed to the pharmacy in 20 s")
	}
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
	// The recall lookup lists the lot's holders and units.
	var lot v1.Lot
	mustJSON(t, run(true, "supply", "lot", "--key", "pharmacist", "09521234543213", "DEMO-LOT1"), &lot)
	if !lot.Recalled || len(lot.Units) < 6 || !slices.Contains(lot.Holders, v1.LotHolder{Org: "corner-pharmacy", Items: 4}) {
		t.Errorf("supply lot after the recall: recalled %v, %d units, holders %v; want recalled, six units or more, corner-pharmacy holding 4", lot.Recalled, len(lot.Units), lot.Holders)
	}

	// Claims and payments: the payer funds its account and publishes a
	// policy version from CSV; its balance and history read back, to its
	// members only; a clearinghouse's 837P becomes FHIR Claims.
	root := filepath.Join("..", "..")
	type account struct {
		Balance uint64 `json:"balance"`
		Entries uint64 `json:"entries"`
	}
	var before, acct account
	mustJSON(t, run(true, "claims", "balance", "--key", "claims-agent", "acme-health"), &before)
	run(true, "claims", "deposit", "--key", "acme-health-admin", "--payer", "acme-health", "5000000")
	// The demo published version 1 of the payer's policy; this is 2.
	run(true, "claims", "policy", "load", "--key", "acme-health-admin", "--payer", "acme-health", "--version", "2",
		"--effective", "20060101", filepath.Join(root, "contract", "claims", "testdata", "policy.csv"))
	mustJSON(t, run(true, "claims", "balance", "--key", "claims-agent", "acme-health"), &acct)
	if acct.Balance != before.Balance+5_000_000 || acct.Entries != before.Entries+1 {
		t.Errorf("claims balance acme-health = %+v after depositing 5000000 to %+v; want it 5000000 more, in one more entry", acct, before)
	}
	var hist []struct{ Kind string }
	mustJSON(t, run(true, "claims", "history", "--key", "claims-agent", "acme-health"), &hist)
	if len(hist) == 0 || hist[0].Kind != "deposit" {
		t.Errorf("claims history acme-health = %+v; want the deposit first (newest first)", hist)
	}
	if out := run(false, "claims", "balance", "--key", "pharmacist", "acme-health"); !strings.Contains(out, "unauthorized") {
		t.Errorf("claims balance of the payer as a pharmacist: %s; want unauthorized", out)
	}
	claimsTour(t, run, root)
}

// claimsTour is the clearinghouse flow of the README's tour: X12's 837P
// example becomes a FHIR Claim, is submitted for a covered demo patient
// and adjudicated (two lines the fee schedule lacks are denied), one denial
// is appealed and overturned and paid, and the payment goes back as an 835.
func claimsTour(t *testing.T, run func(bool, ...string) string, root string) {
	t.Helper()
	claimFile := filepath.Join(t.TempDir(), "claim.json")
	imported := run(true, "claims", "x12", "import-837", filepath.Join(root, "x12", "testdata", "837p-x12-example-01-commercial.edi"))
	var fhirClaims []struct{ ResourceType string }
	mustJSON(t, imported, &fhirClaims)
	if len(fhirClaims) != 1 || fhirClaims[0].ResourceType != "Claim" {
		t.Fatalf("claims x12 import-837 = %+v; want one FHIR Claim", fhirClaims)
	}
	if err := os.WriteFile(claimFile, []byte(imported), 0o600); err != nil {
		t.Fatal(err)
	}
	alice := run(true, "keys", "show", "--address", "patient-alice")
	run(true, "claims", "plan", "--key", "acme-health-admin", "--payer", "acme-health", "basic")
	run(true, "claims", "coverage", "--key", "acme-health-admin", "--payer", "acme-health", "--plan", "basic", "--patient", alice, "--start", "20060101", "cov-alice")
	// billing is the demo's claims agent at mercy-hospital.
	var sub []struct{ Claim string }
	mustJSON(t, run(true, "claims", "submit", "--key", "billing", "--provider", "mercy-hospital", "--payer", "acme-health",
		"--coverage", "cov-alice", "--patient", alice, "--age", "33", claimFile), &sub)
	if len(sub) != 1 {
		t.Fatalf("claims submit = %+v; want one claim", sub)
	}
	id := sub[0].Claim
	type shown struct {
		Outcome string
		Settled uint64
		Lines   []struct{ Edits []string }
		Appeals []struct{ State string }
	}
	var before shown
	mustJSON(t, run(true, "claims", "show", "--key", "claims-agent", id), &before)
	if before.Outcome != "partial" || before.Settled != 7_500 || len(before.Lines) != 4 || !slices.Equal(before.Lines[1].Edits, []string{"fee_schedule"}) {
		t.Fatalf("claims show = %+v; want partial, 75.00 paid, line 2 denied by the fee schedule", before)
	}
	run(true, "claims", "appeal", "--key", "billing", id, "--lines", "1", "--reason", "coding-corrected")
	var queue struct {
		Claims []struct{ Claim, Status string }
	}
	mustJSON(t, run(true, "claims", "list", "--key", "claims-agent", "--status", "appealed", "acme-health"), &queue)
	if len(queue.Claims) != 1 || queue.Claims[0].Claim != id {
		t.Errorf("claims list --status appealed = %+v; want the appealed claim alone", queue)
	}
	run(true, "claims", "decide-appeal", "--key", "claims-agent", id, "--overturn", "--reason", "reviewed")
	var policies []struct {
		Version  uint64
		Complete bool
	}
	mustJSON(t, run(true, "claims", "policies", "--key", "billing", "acme-health"), &policies)
	if len(policies) != 2 || !policies[1].Complete || policies[1].Version != 2 {
		t.Errorf("claims policies acme-health = %+v; want the demo's version 1 and the tour's 2, both complete", policies)
	}
	var after shown
	mustJSON(t, run(true, "claims", "show", "--key", "billing", id), &after)
	if after.Settled != 9_000 || len(after.Appeals) != 1 || after.Appeals[0].State != "overturned" {
		t.Errorf("claims show after the overturn = %+v; want 90.00 paid, the appeal overturned", after)
	}
	remit := run(true, "claims", "x12", "835", "--key", "claims-agent", "--claim", id+"="+claimFile, "--payer-name", "ACME HEALTH",
		"--payer-id", "ACME01", "--payee-name", "MERCY GENERAL", "--payee-npi", "1234567893")
	ic, err := x12.Parse([]byte(remit))
	if err != nil {
		t.Fatalf("claims x12 835 printed no interchange: %v\n%s", err, remit)
	}
	if bpr := ic.Groups[0].Sets[0].Segments[0]; bpr.ID != "BPR" || bpr.Element(2) != "90" {
		t.Errorf("835 BPR = %+v; want 90 paid", bpr)
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

// startStream runs a careledger command that streams lines (supply
// subscribe --stream) until the test ends, and returns its output's lines
// once it says on stderr that it is subscribed.
func startStream(t *testing.T, binary string, env []string, args ...string) <-chan string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	said := bufio.NewScanner(stderr)
	if !said.Scan() || !strings.Contains(said.Text(), "subscribed") {
		t.Fatalf("careledger %s: %q; want it subscribed", strings.Join(args, " "), said.Text())
	}
	go io.Copy(io.Discard, stderr)
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return lines
}
