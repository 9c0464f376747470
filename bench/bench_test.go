package bench

import (
	"context"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestRun runs the whole harness, so that CI keeps it working: with one
// validator, with a network of two in this process (whose nodes it must
// stop), and without the baseline. Each phase submits a fixed number of
// transactions and waits until they commit, with a generous deadline, so
// that nothing needs to happen within a measuring window: on a busy machine
// a phase takes longer, and the test still passes. It asserts no rate or
// time, only that the report adds up: every CareLedger transaction
// committed and applied, none lost, and the figures consistent.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts several nodes")
	}
	const txs = 1000
	for _, c := range []struct {
		name         string
		validators   int
		skipBaseline bool
	}{
		{"1 validator", 1, false},
		{"2 validators", 2, false},
		{"1 validator without baseline", 1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := Options{Txs: txs, Deadline: time.Minute, Validators: c.validators, SkipBaseline: c.skipBaseline, Dir: t.TempDir(), Log: testLog{t}}
			r, err := Run(context.Background(), o)
			if err != nil {
				t.Fatalf("Run(%+v) = %v", o, err)
			}
			if r.Machine == "" || r.Txs != txs || r.Duration != 0 || r.Validators != c.validators || r.TimeoutCommit <= 0 {
				t.Errorf("Report{Machine: %q, Txs: %d, Duration: %s, Validators: %d, TimeoutCommit: %s}; want a machine, Txs %d, Duration 0, Validators %d, a timeout_commit",
					r.Machine, r.Txs, r.Duration, r.Validators, r.TimeoutCommit, txs, c.validators)
			}
			checkResult(t, r.CareLedger, "careledger", txs)
			if r.CareLedger.Failed != 0 || r.CareLedger.Lost != 0 || r.CareLedger.Committed != 2*txs {
				t.Errorf("CareLedger committed %d (%d failed), lost %d; want all %d committed and applied",
					r.CareLedger.Committed, r.CareLedger.Failed, r.CareLedger.Lost, 2*txs)
			}
			if c.skipBaseline {
				if r.Baseline != (Result{}) || r.Ratio != 0 {
					t.Errorf("without the baseline: Baseline = %+v, Ratio = %v; want none", r.Baseline, r.Ratio)
				}
				return
			}
			// The baseline's transactions are CometBFT's mempool's to
			// lose (it may drop some under saturation); that its counts
			// add up is the harness's.
			checkResult(t, r.Baseline, "kvstore", txs)
			want := r.CareLedger.PeakTxPerSec / r.Baseline.PeakTxPerSec
			if math.IsNaN(want) || math.IsInf(want, 0) || r.Ratio != want {
				t.Errorf("Ratio = %v with peaks %v (careledger) and %v (kvstore); want their ratio", r.Ratio, r.CareLedger.PeakTxPerSec, r.Baseline.PeakTxPerSec)
			}
		})
	}
}

// checkResult checks that a system's figures, from a run of txs
// transactions a phase, are present and consistent.
func checkResult(t *testing.T, s Result, system string, txs int) {
	t.Helper()
	if s.System != system {
		t.Errorf("System = %q; want %q", s.System, system)
	}
	if s.Submitted != 2*txs {
		t.Errorf("%s: Submitted = %d; want %d (two phases of %d)", system, s.Submitted, 2*txs, txs)
	}
	if s.Committed+s.Lost != s.Submitted || s.Failed > s.Committed {
		t.Errorf("%s: Committed %d + Lost %d = %d, Failed %d; want Submitted %d, and no more failed than committed",
			system, s.Committed, s.Lost, s.Committed+s.Lost, s.Failed, s.Submitted)
	}
	// Each phase's rate is its transactions over the time until its last
	// commit: positive if any committed, however slow the machine.
	if s.PeakTxPerSec <= 0 || s.HalfTxPerSec <= 0 {
		t.Errorf("%s: PeakTxPerSec = %v, HalfTxPerSec = %v; want both positive: %+v", system, s.PeakTxPerSec, s.HalfTxPerSec, s)
	}
	for _, l := range []struct {
		name     string
		p50, p99 time.Duration
	}{{"saturated", s.SaturatedP50, s.SaturatedP99}, {"at half peak", s.P50, s.P99}} {
		if l.p50 <= 0 || l.p99 < l.p50 {
			t.Errorf("%s: latency %s: p50 %s, p99 %s; want 0 < p50 <= p99", system, l.name, l.p50, l.p99)
		}
	}
	if s.HalfInterval < 0 {
		t.Errorf("%s: HalfInterval = %s; want none negative", system, s.HalfInterval)
	}
	if runtime.GOOS == "linux" && s.CPUPerTx <= 0 {
		t.Errorf("%s: CPUPerTx = %s; want it measured on Linux", system, s.CPUPerTx)
	}
}

// testLog passes the harness's progress lines to the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// TestWorkloads runs CareLedger alone with the claims and the bookings
// workloads, a fixed number of transactions a phase: every claim commits
// and applies; every booking commits, exactly one racer per slot wins
// (Run fails if a slot is booked twice or a racer is refused for another
// reason), and the others fail as racers.
func TestWorkloads(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nodes")
	}
	const txs = 800
	for _, load := range []string{Claims, Bookings} {
		t.Run(load, func(t *testing.T) {
			o := Options{Txs: txs, Deadline: time.Minute, SkipBaseline: true, Workload: load, Dir: t.TempDir(), Log: testLog{t}}
			r, err := Run(context.Background(), o)
			if err != nil {
				t.Fatalf("Run(%+v) = %v", o, err)
			}
			checkResult(t, r.CareLedger, "careledger", txs)
			s := r.CareLedger
			if s.Workload != load || s.Lost != 0 || s.Committed != 2*txs {
				t.Errorf("%s: workload %q, committed %d, lost %d; want %q, all %d committed", load, s.Workload, s.Committed, s.Lost, load, 2*txs)
			}
			switch load {
			case Claims:
				if s.Failed != 0 || s.Booked != 0 {
					t.Errorf("claims: %d failed, %d booked; want every claim applied, no booking", s.Failed, s.Booked)
				}
			case Bookings:
				slots := (2*txs + RacersPerSlot - 1) / RacersPerSlot
				if s.Booked != slots || s.Failed != 2*txs-slots {
					t.Errorf("bookings: %d booked, %d refused; want one winner for each of %d slots, %d refused", s.Booked, s.Failed, slots, 2*txs-slots)
				}
			}
		})
	}
}
