package claims_test

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"testing"
	"time"

	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/tx"
)

// BenchmarkAdjudicate measures claims of five lines adjudicated and
// settled per second in process, under the policy size: 10,000
// fee-schedule codes and 100,000 code pairs, with the base rules, and the
// latency of each claim (p50 and p99, as metrics). The baseline, in the
// same run on the same state, is the payer's deposit: a claims message
// that moves money and adjudicates nothing. The state is an in-memory
// map: this is the contract's cost, not the store's. The collector runs as
// in the careledger binary (GOGC 200) unless GOGC is set.
func BenchmarkAdjudicate(b *testing.B) {
	if os.Getenv("GOGC") == "" {
		// The collector's setting of the careledger binary (cmd/careledger),
		// which runs the contracts; GOGC overrides it.
		defer debug.SetGCPercent(debug.SetGCPercent(200))
	}
	ch := newChain(b)
	mustB := ch.must
	mustB(payerAdmin, basePlan)
	code := func(i int) string { return fmt.Sprintf("C%05d", i) }
	for start := 0; start < 10_000; start += claims.MaxRows {
		load := claims.PolicyLoad{Payer: payer, Version: 1}
		for i := start; i < start+claims.MaxRows; i++ {
			load.Fees = append(load.Fees, claims.Fee{Code: code(i), Allowed: uint64(1_000 + i)})
		}
		mustB(payerAdmin, load)
	}
	for start := 0; start < 100_000; start += claims.MaxRows {
		load := claims.PolicyLoad{Payer: payer, Version: 1}
		for i := start; i < start+claims.MaxRows; i++ {
			load.Pairs = append(load.Pairs, claims.CodePair{Column1: code(i % 10_000), Column2: code((i*7 + 1) % 10_000), Modifier: uint8(i % 2)})
		}
		mustB(payerAdmin, load)
	}
	mustB(payerAdmin, claims.PolicyLoad{Payer: payer, Version: 1, Rules: basePolicy.Rules})
	mustB(payerAdmin, claims.PolicyPublish{Payer: payer, Version: 1, Effective: 20000101})
	mustB(payerAdmin, claims.RegisterCoverage{Payer: payer, Coverage: "cov-alice", Plan: "gold", Patient: addr(patientAlice), Start: 20000101})
	mustB(payerAdmin, claims.Deposit{Payer: payer, Amount: 1_000_000_000_000})

	b.Run("baseline-deposit", func(b *testing.B) {
		timed(b, "deposits/s", func(int) {
			if code := ch.exec(payerAdmin, claims.Deposit{Payer: payer, Amount: 1}); code != tx.CodeOK {
				b.Fatalf("deposit = %v (%v)", code, ch.err)
			}
		})
	})
	submitted := 0 // claim numbers stay unique across the runs of the sub-benchmark
	b.Run("claim", func(b *testing.B) {
		timed(b, "claims/s", func(int) {
			i := submitted
			submitted++
			m := ch.claim()
			m.Claim = sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(i)))
			date := uint32(20010101 + (i/28/12)%20*10000 + (i/28%12)*100 + i%28)
			for j := range 5 {
				m.Lines = append(m.Lines, claims.Line{Code: code((i*5 + j) % 10_000), Units: 1, Charge: 20_000, Date: date, Pointers: []uint64{1}})
			}
			if code := ch.exec(clinicNode, m); code != tx.CodeOK {
				b.Fatalf("claim %d = %v (%v)", i, code, ch.err)
			}
		})
	})
}

// timed runs op b.N times and reports the rate (as unit) and the p50 and
// p99 of one op in microseconds: of the wall time, and of the CPU time of
// the op's thread (on Linux), which a neighbour on a shared machine taking
// the core away in the middle of an op does not lengthen.
func timed(b *testing.B, unit string, op func(i int)) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	wall := make([]time.Duration, 0, b.N)
	cpu := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start, startCPU := time.Now(), threadCPU()
		op(i)
		cpu = append(cpu, threadCPU()-startCPU)

		wall = append(wall, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
	b.ReportMetric(quantile(wall, 0.50), "p50-µs")
	b.ReportMetric(quantile(wall, 0.99), "p99-µs")
	b.ReportMetric(quantile(cpu, 0.50), "cpu-p50-µs")
	b.ReportMetric(quantile(cpu, 0.99), "cpu-p99-µs")
}

// quantile returns the q quantile of ds in microseconds (ds is sorted).
func quantile(ds []time.Duration, q float64) float64 {
	slices.Sort(ds)
	return float64(ds[int(q*float64(len(ds)-1))]) / 1e3
}
