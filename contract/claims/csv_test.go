package claims_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/condition"
)

// TestPolicyCSVLoads loads testdata/policy.csv in several messages into
// one draft, publishes it, and adjudicates by it.
func TestPolicyCSVLoads(t *testing.T) {
	f, err := os.Open("testdata/policy.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	loads, err := claims.ReadPolicyCSV(f, payer, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(loads) < 3 {
		t.Fatalf("ReadPolicyCSV(3 rows a load) = %d loads; want several", len(loads))
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

func TestPolicyCSVErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"fee,99213,,12.345\n", "line 1"},
		{"fee,99213,,-5\n", "line 1"},
		{"fee,99213,,0\n", "line 1"},
		{"# comment\nfee,99213,,1\nfee,99 213,,1\n", "line 3"},
		{"pair,1,2,2\n", "line 1"},
		{"units,97110,0\n", "line 1"},
		{"rule,r,maybe,,true\n", "line 1"},
		{"tax,1,2\n", "line 1"},
		{"fee,\"99213\n", "line 1"},
	} {
		_, err := claims.ReadPolicyCSV(strings.NewReader(tt.in), payer, 1, 0)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ReadPolicyCSV(%q) = %v; want an error naming %s", tt.in, err, tt.want)
		}
	}
}

// FuzzPolicyCSV: any input either fails or gives loads that encode, decode
// and validate as messages (rules aside, which need the engine: they must
// only be well-formed) and hold no more rows than asked.
func FuzzPolicyCSV(f *testing.F) {
	seed, err := os.ReadFile("testdata/policy.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed, 2)
	f.Add([]byte("fee,1,,1.5\npair,1,2,1\n"), 0)
	f.Add([]byte("rule,a,deny,96,\"code == \"\"1\"\"\"\n"), 1)
	desc := claims.New(condition.NewEngine(16)).Describe()
	f.Fuzz(func(t *testing.T, in []byte, per int) {
		loads, err := claims.ReadPolicyCSV(bytes.NewReader(in), payer, 1, per)
		if err != nil {
			return
		}
		for _, l := range loads {
			rules := l.Rules
			l.Rules = nil
			if len(l.Fees)+len(l.Pairs)+len(l.Units) == 0 {
				continue
			}
			if per > 0 && per <= claims.MaxRows && len(l.Fees)+len(l.Pairs)+len(l.Units)+len(rules) > per {
				t.Fatalf("load of %d rows; asked for at most %d", len(l.Fees)+len(l.Pairs)+len(l.Units)+len(rules), per)
			}
			if _, err := desc.Decode(claims.TypePolicyLoad, contract.Encode(l).Body); err != nil {
				t.Fatalf("load from %q does not decode as a message: %v", in, err)
			}
		}
	})
}
