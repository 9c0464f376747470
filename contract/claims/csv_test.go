package claims_test

import (
	"os"
	"testing"

	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/claims/policycsv"
)

// TestPolicyCSVLoads loads testdata/policy.csv in several messages into
// one draft, publishes it, and adjudicates by it.
func TestPolicyCSVLoads(t *testing.T) {
	f, err := os.Open("testdata/policy.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	loads, err := policycsv.Read(f, payer, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(loads) < 3 {
		t.Fatalf("policycsv.Read(3 rows a load) = %d loads; want several", len(loads))
	}
	ch := newPayer(t)
	for _, l := range loads {
		ch.must(payerAdmin, l)
	}
	ch.must(payerAdmin, claims.PolicyPublish{Payer: payer, Version: 2, Effective: 20250601})
	m := ch.claim(line("99213", 12_550, 20250602), line("G0438", 30_000, 20250602), line("80053", 2_000, 20250602), line("36415", 500, 20250602))
	m.Age = 70
	d := ch.decide(m)
	want := []struct {
		status   claims.LineStatus
		eligible uint64
		edit     string
	}{{claims.Approved, 12_550, ""}, {claims.Approved, 17_500, ""}, {claims.Approved, 1_100, ""}, {claims.Denied, 0, "code_pair"}}
	for i, w := range want {
		l := d.Lines[i]
		if l.Status != w.status || l.Eligible != w.eligible || w.edit != "" && (len(l.Edits) == 0 || l.Edits[0] != w.edit) {
			t.Errorf("line %d = %+v; want status %d eligible %d edit %q", i, l, w.status, w.eligible, w.edit)
		}
	}
	m = ch.claim(line("G0438", 30_000, 20250603))
	m.Age = 40
	if d := ch.decide(m); d.Lines[0].Status != claims.Denied || d.Lines[0].Edits[0] != "rule:awv-medicare-age" {
		t.Errorf("wellness visit at 40 = %+v; want denied by rule awv-medicare-age", d.Lines[0])
	}
}
