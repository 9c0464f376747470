package web_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/careledger/careledger/demo"
	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
)

// TestDemoViews opens every view as the demo's people, with the key files
// the demo made, against a node seeded as `careledger node --demo` seeds
// it: each view loads what it shows, passes the accessibility check, and
// (under -update) leaves its screenshots.
func TestDemoViews(t *testing.T) {
	chromiumPath(t)
	n := nodetest.Start(t, demo.InitOptions(node.Config{}))
	dir := keys.Dir(filepath.Join(n.Home, "keys"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	people, err := demo.Seed(ctx, n.Client, dir)
	if err != nil {
		t.Fatalf("seed the demo: %v", err)
	}
	var alice string
	for _, p := range people {
		if p.Key == "patient-alice" {
			alice = p.Address.String()
		}
	}
	b := newBrowser(t, n.URL)
	shots := screens(t)
	for _, c := range []struct{ name, key, view, ready string }{
		{"patient", "patient-alice", "#/patient", "#records-body .records"},
		{"clinician", "dr-chen", "#/clinician?patient=" + alice, "#read-denied"},
		{"officer", "privacy-officer", "#/officer", "#review-queue"},
		{"auditor", "auditor", "#/auditor", "#health dl"},
		{"explorer", "auditor", "#/explorer", "#blocks table"},
		{"pharmacy", "pharmacist", "#/pharmacy?id=https://id.gs1.org/01/" + demo.ProductGTIN + "/21/PK0001", "#verdict"},
		{"research", demo.Researcher, "#/research", "#trial-report"},
	} {
		p := b.person(c.key)
		p.signInWithFile(c.key, dir.Path(c.key), "")
		p.goTo(c.view)
		switch c.key {
		case "patient-alice":
			p.click("#load-records")
		case "dr-chen": // no grant yet: the read is refused, and says so
			p.click("#read")
		}
		p.waitFor(c.key+" "+c.view, "document.querySelector("+jsString(c.ready)+")")
		p.checkPage(shots, "demo-"+c.name)
	}
}
