package web_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/demo"
	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
)

// TestPatientEOB: after a clinic's claim for Carol is adjudicated, Carol
// signs in with her key file and reads on her page what was billed, what
// her plan paid and what she owes, as the FHIR API's ExplanationOfBenefit
// says.
func TestPatientEOB(t *testing.T) {
	chromiumPath(t)
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

	p := newBrowser(t, n.URL).person("carol")
	p.signInWithFile("patient-carol", dir.Path("patient-carol"), "")
	p.click("#load-eobs")
	p.waitFor("the explanations of benefits", `document.querySelector("#eob-table table")`)
	rows := eval[[]string](p, "the EOBs", `[...document.querySelectorAll("#eob-table tbody tr")].map((r) => r.innerText.replace(/\s+/g, " ").trim())`)
	if len(rows) != 1 || !strings.Contains(rows[0], "mercy-hospital") || !strings.Contains(rows[0], "acme-health") || !strings.Contains(rows[0], "48.00") || !strings.Contains(rows[0], "partial") {
		t.Errorf("Carol's explanations of benefits: %q; want one from mercy-hospital, acme-health paying 48.00, partial", rows)
	}
}
