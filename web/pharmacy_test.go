package web_test

import (
	"context"
	"crypto/sha256"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/demo"
	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/web"
)

// TestPharmacy is a pharmacist's day in Chromium against a node seeded as
// `careledger node --demo` seeds it: signed in with the demo's key file,
// they scan a genuine package (a GS1 Digital Link) and see it verified and
// its journey, with the CBV 2.0 hash IDs of its events and its case's
// journey; an unknown serial is refused as such; the brand owner recalls
// the lot and the same package shows recalled, and the recall lookup lists
// every unit and holder; the EPCIS search shows the chain's summaries of
// events whose bodies the pharmacy may not see.
func TestPharmacy(t *testing.T) {
	chromiumPath(t)
	n := nodetest.Start(t, demo.InitOptions(node.Config{}))
	dir := keys.Dir(filepath.Join(n.Home, "keys"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := demo.Seed(ctx, n.Client, dir); err != nil {
		t.Fatalf("seed the demo: %v", err)
	}
	shots := screens(t)
	b := newBrowser(t, n.URL)
	p := b.person("pharmacist")
	p.signInWithFile("pharmacist", dir.Path("pharmacist"), "")
	// A pharmacist lands on the pharmacy view.
	p.waitFor("the pharmacy view", `document.getElementById("main").dataset.route === "#/pharmacy"`)
	eval[bool](p, "clear the status line", `(document.getElementById("status").replaceChildren(), true)`)

	pack := "https://id.gs1.org/01/" + demo.ProductGTIN + "/21/PK0001?10=" + demo.Lot + "&17=" + demo.Expiry
	verify := func(scan string) string {
		t.Helper()
		eval[bool](p, "clear the answer", `(document.querySelector("#verify-answer").replaceChildren(), true)`)
		set(p, "#scan", scan)
		p.click("#read-scan")
		p.click("#verify-form button[type=submit]")
		p.waitFor("the answer", `document.querySelector("#verdict")`)
		return p.text("#verdict")
	}
	if got := verify(pack); !strings.HasPrefix(strings.TrimPrefix(got, "✓ "), "Verified") || !strings.Contains(got, demo.Manufacturer) {
		t.Errorf("a genuine package shows %q; want Verified, by brand owner %s", got, demo.Manufacturer)
	}
	if got := eval[string](p, "lot", `document.querySelector("#v-lot").value`); got != demo.Lot {
		t.Errorf("the scan put lot %q in the field; want %s", got, demo.Lot)
	}
	p.waitFor("the journey", `document.querySelector("#journey .journey")`)
	journey := p.text("#journey")
	for _, want := range []string{"commissioning", "packing", demo.Manufacturer, "ni:///sha-256;", "?ver=CBV2.0", demo.CaseSSCC} {
		if !strings.Contains(journey, want) {
			t.Errorf("the package's journey lacks %q:\n%s", want, journey)
		}
	}
	p.checkPage(shots, "pharmacy")
	// The case it was packed in, shipped through the wholesaler.
	p.click("#open-parent")
	p.waitFor("the case's journey", `document.querySelector("#journey .journey")?.dataset.epc === "/00/`+demo.CaseSSCC+`"`)
	if got := p.text("#journey"); !strings.Contains(got, "receiving") || !strings.Contains(got, demo.Wholesaler) || !strings.Contains(got, demo.Pharmacy) {
		t.Errorf("the case's journey shows %q; want its shipping through %s and receiving at %s", got, demo.Wholesaler, demo.Pharmacy)
	}

	// An element string with a serial nobody commissioned.
	if got := verify("(01)" + demo.ProductGTIN + "(21)PK9999(10)" + demo.Lot); !strings.Contains(got, "unknown identifier") || !strings.Contains(got, "No_match_GTIN_Serial") {
		t.Errorf("an unknown serial shows %q; want not verified, unknown identifier", got)
	}
	if got := p.text("#no-journey"); !strings.Contains(got, "no journey") {
		t.Errorf("an unknown serial's journey shows %q; want none", got)
	}
	// A lot that does not match, typed into the fields.
	eval[bool](p, "clear the answer", `(document.querySelector("#verify-answer").replaceChildren(), true)`)
	set(p, "#scan", "")
	set(p, "#v-gtin", demo.ProductGTIN)
	set(p, "#v-serial", "PK0002")
	set(p, "#v-lot", "OTHER-LOT")
	set(p, "#v-expiry", "")
	p.click("#verify-form button[type=submit]")
	p.waitFor("the answer", `document.querySelector("#verdict")`)
	if got := p.text("#verdict"); !strings.Contains(got, "lot does not match") {
		t.Errorf("a wrong lot shows %q; want the lot mismatch", got)
	}

	// The brand owner recalls the lot: the same package is recalled now.
	maker, err := dir.Load(demo.Manufacturer+"-admin", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Client.Send(ctx, maker, contract.Encode(supply.Recall{GTIN: demo.ProductGTIN, Lot: demo.Lot})); err != nil {
		t.Fatalf("recall: %v", err)
	}
	if got := verify(pack); !strings.Contains(got, "Recalled") || p.text("#verdict h4") != "⚠ Recalled" {
		t.Errorf("a recalled package shows %q; want Recalled", got)
	}
	set(p, "#r-gtin", demo.ProductGTIN)
	set(p, "#r-lot", demo.Lot)
	p.click("#recall-form button[type=submit]")
	p.waitFor("the lot", `document.querySelector("#lot-units")`)
	if got := p.text("#lot-state"); !strings.Contains(got, "Recalled at block") {
		t.Errorf("the recall lookup says %q; want recalled", got)
	}
	units := eval[[]string](p, "the units", `[...document.querySelectorAll("#lot-units tbody tr")].map((r) => r.innerText.replace(/\s+/g, " ").trim())`)
	if len(units) != 6 || !strings.Contains(units[0], "PK0001 recalled "+demo.Pharmacy) || !strings.Contains(units[5], "PK0006 recalled "+demo.Manufacturer) {
		t.Errorf("the lot's units: %q; want six, the first four at %s and the rest at %s, all recalled", units, demo.Pharmacy, demo.Manufacturer)
	}
	if got := p.text("#lot-result"); !strings.Contains(got, demo.Pharmacy+"\t4") && !strings.Contains(got, demo.Pharmacy+" 4") {
		t.Errorf("the lot's holders: %q; want %s holding 4", got, demo.Pharmacy)
	}

	// The EPCIS events naming the pack or its case: the demo records them
	// on the chain only (no node holds their bodies), so the pharmacy sees
	// their summaries, with their hash IDs.
	set(p, "#q-epc", pack)
	p.click("#events-form button[type=submit]")
	p.waitFor("the events", `document.querySelector("#events-count")`)
	if got := p.text("#events-result"); !strings.Contains(got, "6 events, 6 with the body withheld") || !strings.Contains(got, "ni:///sha-256;") || !strings.Contains(got, "Body not shown: captured by "+demo.Manufacturer) {
		t.Errorf("the EPCIS search shows %q; want the six events of the pack and its case, withheld, with their hash IDs", got)
	}
	p.checkPage(shots, "pharmacy-recall")
}

// set puts v in the field sel with a script (chromedp's SetValue finds a
// stale node after the device emulation of checkPage).
func set(p *page, sel, v string) {
	p.b.t.Helper()
	p.waitFor(sel, "document.querySelector("+jsString(sel)+")")
	eval[bool](p, "set "+sel, "(document.querySelector("+jsString(sel)+").value = "+jsString(v)+", true)")
}

// TestIdentifierParsing reads a package's identifier in each form a
// pharmacist may scan or paste, with the module the portal loads.
func TestIdentifierParsing(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	p := newBrowser(t, srv.URL).person("scanner")
	for _, c := range []struct{ in, want string }{
		{"https://id.gs1.org/01/09521234543213/21/PK0001?10=LOT1&17=281231", "09521234543213|PK0001|LOT1|281231"},
		{"https://example.com/01/09521234543213/10/LOT1/21/A%2FB", "09521234543213|A/B|LOT1|"},
		{"(01)09521234543213(17)281231(10)LOT1(21)PK0001", "09521234543213|PK0001|LOT1|281231"},
		{"]d2010952123454321317281231" + "10LOT1\x1d21PK0001", "09521234543213|PK0001|LOT1|281231"},
		{"0109521234543213 21PK0001 10LOT1", "09521234543213|PK0001|LOT1|"},
		{"urn:epc:id:sgtin:952123.0454321.PK0001", "09521234543213|PK0001||"},
		{"(01)09521234543213", "error"},
		{"99abc", "error"},
	} {
		got := eval[string](p, "parse "+c.in, `import("/portal/pharmacy.js").then((m) => { try { const r = m.parseIdentifier(`+jsString(c.in)+`); return [r.gtin, r.serial, r.lot ?? "", r.expiry ?? ""].join("|"); } catch { return "error"; } })`)
		if got != c.want {
			t.Errorf("parseIdentifier(%q) = %s; want %s", c.in, got, c.want)
		}
	}
}

// TestPharmacyEvents runs the view at the pharmacy's own node, where its
// admin records the receipt of a pack from the page (an EPCIS event
// captured through /epcis; a second receipt is refused):
// the EPCIS search shows that event's body and the summaries of the
// manufacturer's commissioning and shipment, whose bodies the
// manufacturer keeps. A member of a pharma organization with no pharmacist
// role lands on the pharmacy view by the organization's type.
func TestPharmacyEvents(t *testing.T) {
	chromiumPath(t)
	n := nodetest.Start(t, node.InitOptions{ChainID: "careledger-pharmacy",
		Org:    node.Org{ID: demo.Pharmacy, Name: "Corner Pharmacy", Type: identity.Pharma},
		Others: []node.Org{{ID: demo.Manufacturer, Name: "Acme Pharma", Type: identity.Pharma}}})
	ctx := context.Background()
	maker, err := node.KeysDir(n.Home).Load(demo.Manufacturer+"-admin", nil)
	if err != nil {
		t.Fatal(err)
	}
	pack := supply.SGTIN(demo.ProductGTIN, "P1")
	event := func(n int, step string, action supply.Action) supply.Event {
		e := supply.Event{Hash: sha256.Sum256([]byte{byte(n)}), Kind: supply.ObjectEvent, Action: action, BizStep: step, EPCs: []supply.EPC{pack}}
		if step == supply.StepShipping {
			e.Source, e.Destination = demo.Manufacturer, demo.Pharmacy
		} else {
			e.Lot, e.Expiry = "LOT7", 20301231
		}
		return e
	}
	// Each claims its GLN in the chain's party directory, so the parties
	// the page's EPCIS document names resolve to them.
	const pharmacyGLN, makerGLN = "urn:epc:id:pgln:0614143.00000", "urn:epc:id:pgln:0614141.00000"
	if _, err := n.Client.Send(ctx, n.Admin, contract.Encode(supply.ClaimParties{Org: demo.Pharmacy, GLNs: []string{demo.PharmacyGLN}})); err != nil {
		t.Fatal(err)
	}
	for _, m := range []contract.Msg{
		supply.ClaimParties{Org: demo.Manufacturer, GLNs: []string{demo.ManufacturerGLN}},
		supply.RegisterProduct{Owner: demo.Manufacturer, GTIN: demo.ProductGTIN},
		supply.Record{Events: []supply.Event{event(1, supply.StepCommissioning, supply.Add), event(2, supply.StepShipping, supply.Observe)}},
	} {
		if _, err := n.Client.Send(ctx, maker, contract.Encode(m)); err != nil {
			t.Fatalf("%T: %v", m, err)
		}
	}
	file := filepath.Join(t.TempDir(), "pharmacy-admin.key")
	if err := keys.Write(file, n.Admin, nil); err != nil {
		t.Fatal(err)
	}
	p := newBrowser(t, n.URL).person("pharmacy admin")
	p.signInWithFile("pharmacy-admin", file, "")
	p.waitFor("the pharmacy view", `document.getElementById("main").dataset.route === "#/pharmacy"`)
	// The admin records the pack's receipt from the page (an EPCIS event
	// captured at this node); receiving it again, with no shipment to
	// match, is refused, and says why.
	receive := func(step, epc string) string {
		t.Helper()
		eval[bool](p, "clear", `(document.querySelector("#move-result").replaceChildren(), true)`)
		p.do("choose the step", chromedp.SetValue(chromedp.CSS("#m-step"), step))
		set(p, "#m-epcs", epc)
		set(p, "#m-from", makerGLN)
		set(p, "#m-to", pharmacyGLN)
		p.click("#move-form button[type=submit]")
		p.waitFor("the capture", `document.querySelector("#move-ok, #move-refused")`)
		return p.text("#move-result")
	}
	if got := receive("receiving", "(01)"+demo.ProductGTIN+"(21)P1"); !strings.Contains(got, "Receipt of 1 item recorded") {
		t.Errorf("receiving the pack shows %q; want it recorded", got)
	}
	if got := receive("receiving", "https://id.gs1.org/01/"+demo.ProductGTIN+"/21/P1"); !strings.Contains(got, "Not recorded") {
		t.Errorf("receiving the pack a second time shows %q; want it refused (no shipment to match)", got)
	} else {
		t.Logf("a second receipt: %s", got)
	}
	set(p, "#q-epc", "(01)"+demo.ProductGTIN+"(21)P1")
	p.click("#events-form button[type=submit]")
	p.waitFor("the events", `document.querySelector("#events-count")`)
	if got := p.text("#events-count"); got != "3 events, 2 with the body withheld." {
		t.Errorf("the EPCIS search finds %q; want 3 events, 2 withheld", got)
	}
	body := p.text("#events-result li.event:not(.withheld)")
	if !strings.Contains(body, "receiving") || !strings.Contains(body, "https://id.gs1.org/01/"+demo.ProductGTIN+"/21/P1") || strings.Contains(body, "Body not shown") {
		t.Errorf("the pharmacy's own event shows %q; want its body: receiving, its EPC", body)
	}
	p.click("#events-result li.event:not(.withheld) summary")
	if got := p.text("#events-result li.event:not(.withheld) pre"); !strings.Contains(got, makerGLN) {
		t.Errorf("the full event shows %q; want the document's source %s", got, makerGLN)
	}
	// Only receiving: the body, not the manufacturer's events.
	set(p, "#q-step", "receiving")
	p.click("#events-form button[type=submit]")
	p.waitFor("the receiving events", `document.querySelector("#events-count")?.innerText === "1 event."`)
}
