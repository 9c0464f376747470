package bench

import (
	"context"
	"testing"
	"time"
)

// TestRun runs the whole benchmark briefly, so that CI keeps it working: both
// systems commit transactions, every CareLedger transaction applies, and
// none is lost. It asserts no rate or time.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two nodes")
	}
	r, err := Run(context.Background(), Options{Duration: time.Second, Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	for _, s := range []Result{r.Baseline, r.CareLedger} {
		if s.PeakTxPerSec <= 0 || s.HalfTxPerSec <= 0 {
			t.Errorf("%s committed nothing: %+v", s.System, s)
		}
	}
	if c := r.CareLedger; c.Failed != 0 || c.Lost != 0 {
		t.Errorf("CareLedger failed %d and lost %d transactions; want none", c.Failed, c.Lost)
	}
	if r.Ratio <= 0 {
		t.Errorf("Ratio = %v; want a positive ratio", r.Ratio)
	}
}
