package dscsa_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/careledger/careledger/contract/supply"
)

// BenchmarkVerification measures verifications per second against a real
// node holding 1,000 commissioned items: "state" is the baseline, the same
// lookups (supply.Verify) straight from committed state with no HTTP;
// "handler" the node's HTTP handler in process (token check, parse,
// Verify, JSON, receipt queued); "http" the same over TCP with keep-alive
// connections. Each HTTP run's time includes recording every receipt on
// the chain (in batches, while answering, and the rest after the last
// answer), so its rate is one the node sustains; a busy answer fails it.
func BenchmarkVerification(b *testing.B) {
	sn := startSupply(b)
	const items = 1000
	epcs := make([]supply.EPC, items)
	for i := range epcs {
		epcs[i] = supply.SGTIN(gtin, fmt.Sprintf("B%05d", i))
	}
	sn.record(maker, supply.StepCommissioning, supply.Add, "", "", epcs...)
	path := func(i int64) string {
		return fmt.Sprintf("/01/%s/21/B%05d?10=%s&17=301231", gtin, i%items, lot)
	}
	tok := sn.token(pharmacy)

	b.Run("state", func(b *testing.B) {
		view := sn.App().State()
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := n.Add(1)
				v, err := supply.Verify(view, gtin, fmt.Sprintf("B%05d", i%items), lot, expiry)
				if err != nil || !v.Verified {
					b.Errorf("Verify = %+v, %v", v, err)
					return
				}
			}
		})
		report(b)
	})
	b.Run("handler", func(b *testing.B) {
		h := sn.Handler()
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req := httptest.NewRequest(http.MethodGet, path(n.Add(1)), nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Errorf("GET %s = %d %s", req.URL, w.Code, w.Body)
					return
				}
			}
		})
		drained(b, sn)
		report(b)
	})
	b.Run("http", func(b *testing.B) {
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		var n atomic.Int64
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest(http.MethodGet, sn.URL+path(n.Add(1)), nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				res, err := hc.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Errorf("GET = %d", res.StatusCode)
					return
				}
			}
		})
		drained(b, sn)
		report(b)
	})
}

// drained waits until every receipt answered so far is recorded, and fails
// if any was dropped.
func drained(b *testing.B, sn *supplyNode) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for st := sn.Supply().Stats(); st.Recorded+st.Dropped < st.Answered; st = sn.Supply().Stats() {
		select {
		case <-ctx.Done():
			b.Fatalf("receipts %+v a minute after the last answer; want every one recorded", st)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if st := sn.Supply().Stats(); st.Dropped > 0 {
		b.Errorf("receipts %+v; want none dropped", st)
	}
}

func report(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
}
