package rewards_test

import (
	"testing"

	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/contract/rewards"
)

// BenchmarkAttest measures attestations executed in process, each paying
// a reward: with the rule's CEL condition evaluated, and beside it the
// same program with no condition (the baseline: everything else an
// attestation does).
func BenchmarkAttest(b *testing.B) {
	for _, bc := range []struct{ name, expr string }{
		{"baseline", ""},
		{"cel", `attester_type == "pharma" && count < 1000000 && time > 0`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ch := newRewards(b)
			if err := ledger.Credit(ch.s, payer, 1_000_000, ledger.Memo{}); err != nil {
				b.Fatal(err)
			}
			prog := checkups
			prog.Program, prog.Funding, prog.PatientCap = "bench", 1_000_000, 1_000_000
			prog.Rules = []rewards.Rule{{Event: "dispensed", Amount: 1, Attesters: []string{"pharma"}, Expr: bc.expr}}
			ch.must(payerAdmin, prog)
			msgs := make([]rewards.Attest, b.N)
			for i := range msgs {
				msgs[i] = attest(bob, "dispensed")
				msgs[i].Program = "bench"
			}
			b.ResetTimer()
			for i := range b.N {
				ch.must(pharmacist, msgs[i])
			}
		})
	}
}
