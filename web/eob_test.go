package web_test

import (
	"strings"
	"testing"
)

// TestPatientEOB: after a clinic's claim for Carol is adjudicated, Carol
// signs in with her key file and reads on her page what was billed, what
// her plan paid and what she owes, as the FHIR API's ExplanationOfBenefit
// says.
func TestPatientEOB(t *testing.T) {
	chromiumPath(t)
	n, dir, _ := demoWithCarolsClaim(t)
	p := newBrowser(t, n.URL).person("carol")
	p.signInWithFile("patient-carol", dir.Path("patient-carol"), "")
	p.click("#load-eobs")
	p.waitFor("the explanations of benefits", `document.querySelector("#eob-table table")`)
	rows := eval[[]string](p, "the EOBs", `[...document.querySelectorAll("#eob-table tbody tr")].map((r) => r.innerText.replace(/\s+/g, " ").trim())`)
	if len(rows) != 1 || !strings.Contains(rows[0], "mercy-hospital") || !strings.Contains(rows[0], "acme-health") || !strings.Contains(rows[0], "48.00") || !strings.Contains(rows[0], "partial") {
		t.Errorf("Carol's explanations of benefits: %q; want one from mercy-hospital, acme-health paying 48.00, partial", rows)
	}
}
