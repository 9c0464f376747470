package bench

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestRun runs the whole benchmark briefly, so that CI keeps it working,
// with one validator and with a network of two in this process (whose
// nodes it must stop): both systems commit transactions, every CareLedger
// transaction applies, and none is lost. It asserts no rate or time.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts several nodes")
	}
	for _, validators := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d validators", validators), func(t *testing.T) {
			r, err := Run(context.Background(), Options{Duration: time.Duration(validators) * 2 * time.Second, Validators: validators, Dir: t.TempDir()})
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
		})
	}
}
