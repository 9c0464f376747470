package web_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/tx"
)

// The hospital runs the node and holds the records; the clinician who asks
// for them works at the clinic (a hospital's own physicians read its
// records under its default policy, with no grant).
const (
	hospital = "mercy-hospital"
	clinic   = "lakeside-clinic"
)

// staff are the hospital's members the test registers, with the key files
// they import into the portal (the officer's sealed with a passphrase, as
// `careledger keys new` seals it when asked).
type staff struct {
	key        ed25519.PrivKey
	file, pass string
}

func newStaff(t *testing.T, n *nodetest.Node, dir string) map[string]staff {
	t.Helper()
	clinicAdmin, err := keys.Dir(filepath.Join(n.Home, "keys")).Load(clinic+"-admin", nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]staff{}
	for _, m := range []struct {
		name, org string
		role      identity.Role
		admin     ed25519.PrivKey
	}{
		{"records-author", hospital, identity.Physician, n.Admin},
		{"clinician", clinic, identity.Physician, clinicAdmin},
		{"officer", hospital, identity.PrivacyOfficer, n.Admin},
		{"auditor", hospital, identity.Auditor, n.Admin},
	} {
		s := staff{key: ed25519.GenPrivKey(), file: filepath.Join(dir, m.name+".key")}
		if m.role == identity.PrivacyOfficer {
			s.pass = "officer's passphrase"
		}
		if err := keys.Write(s.file, s.key, []byte(s.pass)); err != nil {
			t.Fatal(err)
		}
		out[m.name] = s
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := n.Client.Send(ctx, m.admin, contract.Encode(identity.RegisterMember{Org: m.org, PubKey: s.key.PubKey().Bytes(), Roles: []identity.Role{m.role}}))
		cancel()
		if err != nil {
			t.Fatalf("register %s: %v", m.name, err)
		}
	}
	return out
}

// recordPatient has the physician record the patient and a glucose result
// at the hospital, as its EHR would through FHIR.
func recordPatient(t *testing.T, n *nodetest.Node, dr ed25519.PrivKey, patient string) {
	t.Helper()
	ctx := context.Background()
	tok := n.Token(t, dr)
	post := func(typ string, res map[string]any) string {
		body, _ := json.Marshal(res)
		status, out, err := n.Client.FHIR(ctx, client.FHIRRequest{Method: "POST", Path: typ, Body: body, Token: tok})
		if err != nil || status != 201 {
			t.Fatalf("POST %s = %d, %v: %s", typ, status, err, out)
		}
		var created struct{ ID string }
		json.Unmarshal(out, &created)
		return created.ID
	}
	id := post("Patient", map[string]any{"resourceType": "Patient", "gender": "female", "birthDate": "1980-04-02",
		"identifier": []any{map[string]any{"system": "urn:careledger:patient", "value": patient}}})
	post("Observation", map[string]any{"resourceType": "Observation", "status": "final", "effectiveDateTime": "2026-11-02T09:30:00Z",
		"category":      []any{map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}}}},
		"code":          map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "2339-0", "display": "Glucose"}}},
		"subject":       map[string]any{"reference": "Patient/" + id},
		"valueQuantity": map[string]any{"value": 6.3, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"}})
}

// screens is where the tests save screenshots: testdata/screens with
// -update (the README shows two), else a temporary directory.
func screens(t *testing.T) string {
	if *update {
		dir := filepath.Join("testdata", "screens")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

// signInWithFile imports a key file on the sign-in page.
func (p *page) signInWithFile(name, file, pass string) {
	p.b.t.Helper()
	p.fill("#import-name", name)
	p.do("choose the key file", chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{file}))
	if pass != "" {
		p.fill("#import-pass", pass)
	}
	p.click("#import button[type=submit]")
	p.waitFor("signed in as "+name, `document.querySelector("#my-address")`)
}

// downloaded waits for a file with suffix in the tab's downloads.
func (p *page) downloaded(suffix string) []byte {
	p.b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(p.files, "*"+suffix))
		if len(files) == 1 {
			b, err := os.ReadFile(files[0])
			if err == nil && len(b) > 0 {
				return b
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.b.t.Fatalf("%s: no %s file downloaded", p.name, suffix)
	return nil
}

// upload puts a file in an input of type file.
func (p *page) upload(sel string, data []byte) {
	p.b.t.Helper()
	f := filepath.Join(p.b.t.TempDir(), "upload.json")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		p.b.t.Fatal(err)
	}
	p.do("upload to "+sel, chromedp.SetUploadFiles(chromedp.CSS(sel), []string{f}))
}

// TestPortal is the portal's story in Chromium against a real node: a
// patient makes a key in the browser, approves a clinician's request as it
// arrives, revokes it, sees an emergency read in a timeline the browser
// verifies, and downloads the accounting of disclosures, which an auditor
// verifies by upload; the privacy officer reviews the emergency read.
func TestPortal(t *testing.T) {
	chromiumPath(t) // before starting a node
	n := nodetest.Start(t, node.InitOptions{ChainID: "careledger-portal", Org: node.Org{ID: hospital, Name: "Mercy General Hospital", Type: identity.Provider},
		Others: []node.Org{{ID: clinic, Name: "Lakeside Clinic", Type: identity.Provider}}})
	people := newStaff(t, n, t.TempDir())
	shots := screens(t)
	// The portal takes / and /portal/ only: other paths stay the API's.
	res, err := http.Get(n.URL + "/no-such-page")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Errorf("GET /no-such-page = %d %s; want the API's JSON 404", res.StatusCode, res.Header.Get("Content-Type"))
	}
	b := newBrowser(t, n.URL)

	// The patient makes a key, registers and signs in, all in the browser.
	alice := b.person("patient")
	alice.checkPage(shots, "signin")
	alice.fill("#new-name", "alice")
	alice.fill("#new-pass", "alice's backup passphrase")
	alice.click("#create button[type=submit]")
	// The backup the browser offers is a key file the CLI opens.
	alice.click("#backup-link")
	backup := alice.downloaded(".key")
	alice.click("#continue")
	patient := alice.text("#patient-address")
	if _, err := tx.ParseAddress(patient); err != nil {
		t.Fatalf("patient address %q: %v", patient, err)
	}
	bf := filepath.Join(t.TempDir(), "alice.key")
	os.WriteFile(bf, backup, 0o600)
	if k, err := keys.Read(bf, []byte("alice's backup passphrase")); err != nil || tx.AddressOf(k.PubKey().Bytes()).String() != patient {
		t.Errorf("keys.Read(the browser's backup) = %v; want the key of %s", err, patient)
	}
	// The link the patient shows, as its QR code says it, opens the
	// clinician's view of the patient.
	link := alice.qrOf("#account")
	if want := n.URL + "/#/clinician?patient=" + patient; link != want || alice.text("#patient-link") != want {
		t.Errorf("the patient's QR code reads %q; want the link %s, as the page shows it", link, want)
	}
	recordPatient(t, n, people["records-author"].key, patient)
	alice.click("#load-records")
	alice.waitFor("the patient's records", `document.querySelector("#records-body .records")`)
	if got := alice.text("#records-body"); !strings.Contains(got, "Observation (1)") || !strings.Contains(got, "Glucose") {
		t.Errorf("the patient's records show %q; want the glucose result under Observation", got)
	}

	// The clinician, with a key file of `careledger keys new`, follows the
	// patient's link and asks for access.
	dr := b.person("clinician")
	dr.signInWithFile("dr-chen", people["clinician"].file, "")
	dr.goTo(strings.TrimPrefix(link, n.URL+"/"))
	dr.click("#ask button[type=submit]")
	dr.text("#request-sent")

	// The request reaches the patient's open page live; the patient approves.
	alice.click("button.approve")
	alice.waitFor("the request answered", `!document.querySelector("button.approve")`)
	alice.waitFor("the grant listed", `document.querySelector("button.revoke")`)
	// The grant covers observations and conditions, not the Patient record:
	// finding it is refused, and reads go by pseudonym.
	dr.click("#find-button")
	dr.text("#not-found")
	dr.click("#read")
	dr.waitFor("the read answered", `document.querySelector("#read-ok, #read-denied")`)
	if got := dr.text("#read-result"); !strings.Contains(got, "Read allowed") || !strings.Contains(got, "Glucose") {
		t.Errorf("clinician's read under the grant shows %q; want the glucose result", got)
	}
	dr.checkPage(shots, "clinician")

	// The patient revokes; the same read is refused.
	alice.click("button.revoke")
	alice.waitFor("the grant revoked", `!document.querySelector("button.revoke")`)
	dr.click("#read")
	dr.waitFor("the read refused", `document.querySelector("#read-denied")`)
	if got := dr.text("#read-result"); strings.Contains(got, "Glucose") {
		t.Errorf("clinician's read after revocation shows %q; want nothing", got)
	}

	// Break the glass, with a coded reason: allowed, and flagged in the
	// patient's timeline with the reason the browser finds in the proven
	// event.
	dr.click("#glass-confirm")
	dr.do("choose the reason", chromedp.SetValue(chromedp.CSS("#glass-reason"), "unconscious"))
	dr.click("#glass-form button[type=submit]")
	dr.waitFor("the emergency read", `document.querySelector("#read-ok")?.innerText.includes("break the glass")`)
	alice.click("#refresh-timeline")
	alice.waitFor("the emergency read in the timeline", `document.querySelector("#timeline-body li.glass .glass-reason")`)
	if got := alice.text("#timeline-body li.glass .glass-reason"); got != "The patient is unconscious" {
		t.Errorf("the timeline gives the emergency read's reason as %q; want The patient is unconscious", got)
	}
	entries := eval[int](alice, "count entries", `document.querySelectorAll("#timeline-body li").length`)
	verified := eval[int](alice, "count verified", `document.querySelectorAll("#timeline-body .proof .ok").length`)
	// Disclosures are the permitted reads: the patient's own (one
	// $everything by identifier), the one under the grant, and the emergency
	// one (the refused reads disclosed nothing).
	if entries != 3 || verified != entries {
		t.Errorf("timeline: %d of %d entries verified in the browser; want all of 3 (the patient's, under the grant, the emergency read)", verified, entries)
	}
	// A caregiver named from the page, then listed.
	caregiver := tx.AddressOf(people["auditor"].key.PubKey().Bytes()).String()
	alice.click("#delegates summary")
	alice.fill("#delegates input[name=address]", caregiver)
	alice.click("#delegates button[type=submit]")
	alice.waitFor("the delegate listed", `document.querySelector("#delegate-table")?.innerText.includes(`+jsString(caregiver)+`)`)
	alice.checkPage(shots, "patient")

	// The accounting of disclosures, downloaded and verified by an auditor's
	// browser from the file alone; an altered copy fails.
	alice.click("#download-json")
	report := alice.downloaded(".json")
	auditor := b.person("auditor")
	auditor.signInWithFile("auditor", people["auditor"].file, "")
	auditor.upload("#verify-file", report)
	auditor.click("#verify button[type=submit]")
	if got := auditor.text("#verify-summary"); !strings.HasPrefix(strings.TrimPrefix(got, "✓ "), "All ") {
		t.Errorf("auditor's check of the downloaded report: %q; want all verified", got)
	}
	for _, c := range []struct {
		what            string
		report, genesis []byte
		ok              bool
	}{
		{"against the trusted genesis", report, genesisOf(t, n, nil), true},
		{"with an altered leaf", tamperLeaf(t, report), nil, false},
		{"with an altered validator signature", tamperSignature(t, report), nil, false},
		{"against another network's genesis", report, genesisOf(t, n, ed25519.GenPrivKey().PubKey().Bytes()), false},
	} {
		eval[bool](auditor, "reset the form", `(document.querySelector("#verify form").reset(), document.querySelector("#verify-result").replaceChildren(), true)`)
		auditor.upload("#verify-file", c.report)
		if c.genesis != nil {
			auditor.upload("#verify-genesis", c.genesis)
		}
		auditor.click("#verify button[type=submit]")
		got := auditor.text("#verify-summary")
		if ok := strings.HasPrefix(strings.TrimPrefix(got, "✓ "), "All "); ok != c.ok {
			t.Errorf("auditor's check of the report %s: %q; want verified %v", c.what, got, c.ok)
		}
	}
	auditor.checkPage(shots, "auditor")
	auditor.goTo("#/explorer")
	auditor.text("#blocks table")
	auditor.checkPage(shots, "explorer")

	// The privacy officer, with a sealed key file, finds the emergency read
	// in the review queue and reviews it.
	officer := b.person("privacy officer")
	officer.signInWithFile("privacy-officer", people["officer"].file, people["officer"].pass)
	officer.text("#review-queue button.justified")
	if got := officer.text("#review-queue .glass-reason"); got != "The patient is unconscious" {
		t.Errorf("the review queue gives the reason as %q; want The patient is unconscious", got)
	}
	officer.checkPage(shots, "officer")
	officer.click("#review-queue button.justified")
	officer.waitFor("the queue emptied", `!document.querySelector("#review-queue button.justified")`)
}

// alter returns a copy of a JSON document changed by f.
func alter(t *testing.T, doc []byte, f func(map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatalf("alter: %v", err)
	}
	f(m)
	out, _ := json.Marshal(m)
	return out
}

// tamperLeaf alters the last byte (an account's) of the first leaf of a
// disclosure report.
func tamperLeaf(t *testing.T, report []byte) []byte {
	return alter(t, report, func(rep map[string]any) {
		entries, _ := rep["entries"].([]any)
		if len(entries) == 0 {
			t.Fatal("the downloaded report has no entries")
		}
		leaf := entries[0].(map[string]any)["leaves"].([]any)[0].(map[string]any)
		b, _ := base64.StdEncoding.DecodeString(leaf["leaf"].(string))
		b[len(b)-1] ^= 1
		leaf["leaf"] = base64.StdEncoding.EncodeToString(b)
	})
}

// tamperSignature flips a bit of the first validator signature on the
// report's block header.
func tamperSignature(t *testing.T, report []byte) []byte {
	return alter(t, report, func(rep map[string]any) {
		sig := rep["signed_header"].(map[string]any)["commit"].(map[string]any)["signatures"].([]any)[0].(map[string]any)
		b, _ := base64.StdEncoding.DecodeString(sig["signature"].(string))
		b[0] ^= 1
		sig["signature"] = base64.StdEncoding.EncodeToString(b)
	})
}

// genesisOf returns the node's genesis file, with its validator's key
// replaced by key if key is not nil.
func genesisOf(t *testing.T, n *nodetest.Node, key []byte) []byte {
	t.Helper()
	g, err := os.ReadFile(filepath.Join(n.Home, "config", "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	if key == nil {
		return g
	}
	return alter(t, g, func(m map[string]any) {
		v := m["validators"].([]any)[0].(map[string]any)
		v["pub_key"].(map[string]any)["value"] = base64.StdEncoding.EncodeToString(key)
	})
}
