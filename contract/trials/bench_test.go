package trials_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/trials"
)

// benchHistories returns the events of n trials, each registered,
// approved, capturing data, amended after capture, approved again and
// reporting results: 12 events a trial.
func benchHistories(n int) [][]trials.Entry {
	out := make([][]trials.Entry, n)
	for i := range out {
		id := fmt.Sprintf("NCT%08d", i)
		ev := func(typ string, attrs ...string) trials.Entry {
			e := contract.Event{Type: typ, Attrs: []contract.Attr{{Key: "trial", Value: id}, {Key: "org", Value: "acme-research"}}}
			for k := 0; k+1 < len(attrs); k += 2 {
				e.Attrs = append(e.Attrs, contract.Attr{Key: attrs[k], Value: attrs[k+1]})
			}
			h := int64(len(out[i]) + 1)
			return trials.Entry{Event: e, Height: h, Time: time.Unix(h, 0)}
		}
		add := func(e trials.Entry) { out[i] = append(out[i], e) }
		add(ev(trials.EventRegistered, "version", "1", "primary", "a", "primary", "b", "secondary", "c", "secondary", "d"))
		add(ev(trials.EventApproved, "version", "1"))
		for v := range 6 {
			add(ev(trials.EventData, "dataset", "visit-"+strconv.Itoa(v), "version", "1"))
		}
		add(ev(trials.EventAmended, "version", "2", "primary", "a", "primary", "e", "secondary", "b", "secondary", "c"))
		add(ev(trials.EventApproved, "version", "2"))
		add(ev(trials.EventResults, "version", "2", "outcome", "a", "outcome", "e"))
		add(ev(trials.EventResults, "version", "2", "outcome", "c"))
	}
	return out
}

// BenchmarkSwitched1000 derives the outcome-switching reports of 1,000
// trials from their events.
func BenchmarkSwitched1000(b *testing.B) {
	hs := benchHistories(1000)
	for b.Loop() {
		for i, h := range hs {
			if s := trials.Switched(h[0].Event.Attr("trial"), h); !s.Switched() {
				b.Fatalf("trial %d: no switch found", i)
			}
		}
	}
}

// BenchmarkScan1000 is the baseline: one pass over the same events that
// only reads each one's trial.
func BenchmarkScan1000(b *testing.B) {
	hs := benchHistories(1000)
	n := 0
	for b.Loop() {
		for _, h := range hs {
			for _, e := range h {
				n += len(e.Event.Attr("trial"))
			}
		}
	}
	_ = n
}
