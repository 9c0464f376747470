package epcisapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/epcis"
	"github.com/careledger/careledger/epcisapi"
)

// benchDocEvents is the size of the benchmark's documents.
const benchDocEvents = 100

var benchSerial atomic.Int64

// benchDocs returns n documents of 100 commissioning events, each of a
// new serial.
func benchDocs(n int) []string {
	docs := make([]string, n)
	for i := range docs {
		events := make([]string, benchDocEvents)
		for k := range events {
			s := benchSerial.Add(1)
			events[k] = commission("2025-01-01T08:00:00Z", "B1", fmt.Sprintf("urn:epc:id:sgtin:0614141.107346.%d", s))
		}
		docs[i] = doc(events...)
	}
	return docs
}

// BenchmarkCapture measures events captured per second end to end (HTTP,
// parse, hash, convert, seal, one transaction per document through
// CometBFT and the supply contract, the job polled to success) in
// documents of 100 events, 32 documents in flight, beside the baseline of
// the same documents parsed and hashed with no ledger.
func BenchmarkCapture(b *testing.B) {
	b.Run("baseline_parse_hash", func(b *testing.B) {
		docs := benchDocs(b.N)
		b.ResetTimer()
		for i := range b.N {
			d, err := epcis.ParseJSON([]byte(docs[i]))
			if err != nil {
				b.Fatal(err)
			}
			for _, e := range d.Events {
				_ = e.HashID()
			}
		}
		b.ReportMetric(float64(b.N*benchDocEvents)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("end_to_end", func(b *testing.B) {
		n, tok := single(b)
		send(b, n, n.Admin, supply.RegisterProduct{Owner: "local", GTIN: gtinOf(b, "urn:epc:id:sgtin:0614141.107346.1")})
		docs := benchDocs(b.N)
		h0, err := n.Client.Height(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		var wg sync.WaitGroup
		work := make(chan string)
		var failed atomic.Int64
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for d := range work {
					if !captureQuiet(n.URL, tok, d) {
						failed.Add(1)
					}
				}
			}()
		}
		for _, d := range docs {
			work <- d
		}
		close(work)
		wg.Wait()
		b.ReportMetric(float64(b.N*benchDocEvents)/b.Elapsed().Seconds(), "events/s")
		if h1, err := n.Client.Height(context.Background()); err == nil {
			b.ReportMetric(float64(h1-h0)/b.Elapsed().Seconds(), "blocks/s") // how the wait divides between blocks and their size
		}
		if failed.Load() > 0 {
			b.Fatalf("%d documents failed", failed.Load())
		}
	})
}

// captureQuiet posts a document and polls its job until it ends, without
// failing the benchmark from another goroutine.
func captureQuiet(base, token, doc string) bool {
	req, _ := http.NewRequest("POST", base+"/epcis/capture", strings.NewReader(doc))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/ld+json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	res.Body.Close()
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusAccepted {
		return false
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		req, _ := http.NewRequest("GET", base+loc, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		var j epcisapi.Job
		err = json.NewDecoder(res.Body).Decode(&j)
		res.Body.Close()
		if err != nil {
			return false
		}
		if !j.Running {
			return j.Success
		}
	}
	return false
}
