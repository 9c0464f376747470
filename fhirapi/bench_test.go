package fhirapi_test

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
)

// benchNode starts a node with the default block interval (100 ms) and
// the FHIR schema, for the benchmarks.
func benchNode(b *testing.B) *story {
	n := nodetest.Start(b, node.InitOptions{
		Org:    node.Org{ID: "bench-hospital", Name: "Bench Hospital", Type: identity.Provider},
		Config: node.Config{FHIRSchema: schemaPath(b), TimeoutCommit: node.Duration(100 * time.Millisecond)},
	})
	return &story{t: b, n: n, c: n.Client, tokens: map[string]string{}}
}

// BenchmarkImport imports the largest Synthea patient bundle (1,111
// resources, 3.9 MB) through POST /fhir, with validation, encryption, the
// vault's synced write and the anchor's commit, and reports resources/s.
// The baseline parses, validates and resolves the same bundle in process,
// storing nothing.
//
//	go test ./fhirapi -run '^$' -bench Import -benchtime 5x
func BenchmarkImport(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join(syntheaDir, "smart-on-fhir-generated-sample-data/Fletcher_Hyatt_fe0562b5-f517-4951-8366-32fdab088930.json"))
	if err != nil {
		b.Skipf("no Synthea test data: %v", err)
	}
	const resources = 1111
	b.Run("parse-validate-resolve", func(b *testing.B) {
		schema, err := os.ReadFile(schemaPath(b))
		if err != nil {
			b.Skip("no FHIR schema")
		}
		v, err := fhir.NewValidator(schema)
		if err != nil {
			b.Fatal(err)
		}
		next := 0
		newID := func(string) string { next++; return strconv.Itoa(next) }
		for b.Loop() {
			bundle, err := fhir.ParseBundle(raw)
			if err == nil {
				err = v.ValidateBundle(bundle)
			}
			if err == nil {
				_, err = fhir.Resolve(bundle, newID, nil)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(resources*b.N)/b.Elapsed().Seconds(), "resources/s")
	})
	b.Run("import", func(b *testing.B) {
		s := benchNode(b)
		for b.Loop() {
			if status, body := s.post(s.n.Admin, raw); status != http.StatusOK {
				b.Fatalf("import: %d %.300s", status, body)
			}
		}
		b.ReportMetric(float64(resources*b.N)/b.Elapsed().Seconds(), "resources/s")
	})
}

// BenchmarkRead measures GET /fhir/Observation/{id} by a physician: the
// access decision is committed in a block before the answer. The baseline
// reads an Organization, which needs no decision. Each reports p50 and p99.
//
//	go test ./fhirapi -run '^$' -bench Read -benchtime 100x
func BenchmarkRead(b *testing.B) {
	s := benchNode(b)
	dr := s.physician()
	status, body := s.fhir(dr, "PUT", "Patient/bench-p", obj("resourceType", "Patient", "id", "bench-p"))
	s.expect("create patient", status, http.StatusCreated, body)
	status, body = s.fhir(dr, "PUT", "Observation/bench-o", obj("resourceType", "Observation", "id", "bench-o", "status", "final",
		"code", obj("text", "glucose"), "subject", obj("reference", "Patient/bench-p")))
	s.expect("create observation", status, http.StatusCreated, body)
	status, body = s.fhir(dr, "PUT", "Organization/bench-org", obj("resourceType", "Organization", "id", "bench-org", "name", "Bench"))
	s.expect("create organization", status, http.StatusCreated, body)
	for _, tc := range []struct{ name, path string }{
		{"directory-no-decision", "Organization/bench-org"},
		{"record-with-receipt", "Observation/bench-o"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				status, body := s.fhir(dr, "GET", tc.path, nil)
				lat = append(lat, time.Since(start))
				if status != http.StatusOK {
					b.Fatalf("GET %s: %d %.200s", tc.path, status, body)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
