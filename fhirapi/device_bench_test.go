package fhirapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
)

// BenchmarkDeviceIngest measures device readings ingested end to end:
// several devices, each of its own patient, post at once a Bundle of N
// Observations (heart rate) to the custodian's node, which checks each
// reading against the device's authorization, validates it, stores it
// encrypted in one synced vault batch and anchors it on the chain before
// answering. The baseline posts the same Bundles as the hospital's admin
// (a plain FHIR transaction), in the same run and on the same node. Both
// report readings/s.
//
//	go test ./fhirapi -run '^$' -bench DeviceIngest -benchtime 5x
func BenchmarkDeviceIngest(b *testing.B) {
	const devices = 8
	s := benchNode(b)
	type feed struct {
		device ed25519.PrivKey
		pid    string
	}
	feeds := make([]feed, devices)
	s.drA = s.n.Admin // who s.patientRecord writes as
	for i := range feeds {
		patient := ed25519.GenPrivKey()
		s.send(patient, contract.Encode(identity.RegisterPatient{}))
		feeds[i] = feed{device: ed25519.GenPrivKey(), pid: s.patientRecord(patient)}
		s.setDevice(patient, feeds[i].device, "bench-hospital", "8867-4")
		s.token(feeds[i].device)
	}
	s.token(s.n.Admin)
	for _, n := range []int{100, 500} {
		bundles := make([][]byte, devices)
		for i, f := range feeds {
			rs := make([]map[string]any, n)
			for j := range rs {
				rs[j] = reading(f.pid, "8867-4", float64(60+j%40))
			}
			bundles[i], _ = json.Marshal(readingsBundle("transaction", rs...))
		}
		post := func(b *testing.B, who func(i int) ed25519.PrivKey) {
			var wg sync.WaitGroup
			errs := make([]error, devices)
			for i := range bundles {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if status, body := s.post(who(i), bundles[i]); status != http.StatusOK {
						errs[i] = fmt.Errorf("%d %.300s", status, body)
					}
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					b.Fatal(err)
				}
			}
		}
		b.Run(fmt.Sprintf("devices=%d/bundle=%d/device", devices, n), func(b *testing.B) {
			for b.Loop() {
				post(b, func(i int) ed25519.PrivKey { return feeds[i].device })
			}
			b.ReportMetric(float64(devices*n*b.N)/b.Elapsed().Seconds(), "readings/s")
		})
		b.Run(fmt.Sprintf("devices=%d/bundle=%d/clinician-create", devices, n), func(b *testing.B) {
			for b.Loop() {
				post(b, func(int) ed25519.PrivKey { return s.n.Admin })
			}
			b.ReportMetric(float64(devices*n*b.N)/b.Elapsed().Seconds(), "readings/s")
		})
	}
}
