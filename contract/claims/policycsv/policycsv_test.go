package policycsv_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/claims/policycsv"
	"github.com/careledger/careledger/contract/condition"
)

const payer = "acme-health"

// seedPath is the claims contract's sample policy table.
const seedPath = "../testdata/policy.csv"

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
		_, err := policycsv.Read(strings.NewReader(tt.in), payer, 1, 0)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Read(%q) = %v; want an error naming %s", tt.in, err, tt.want)
		}
	}
}

// FuzzPolicyCSV: any input either fails or gives loads that encode, decode
// and validate as messages (rules aside, which need the engine: they must
// only be well-formed) and hold no more rows than asked.
func FuzzPolicyCSV(f *testing.F) {
	seed, err := os.ReadFile(seedPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed, 2)
	f.Add([]byte("fee,1,,1.5\npair,1,2,1\n"), 0)
	f.Add([]byte("rule,a,deny,96,\"code == \"\"1\"\"\"\n"), 1)
	desc := claims.New(condition.NewEngine(16)).Describe()
	f.Fuzz(func(t *testing.T, in []byte, per int) {
		loads, err := policycsv.Read(bytes.NewReader(in), payer, 1, per)
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
