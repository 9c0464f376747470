package fhirapi_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkExport exports the whole Synthea population (62 bundles, about
// 19,000 resources, 5,000 of them directory data outside any patient)
// with Patient/$export as the hospital's physician for TREAT: every
// patient's release is decided by the consent contract and receipted on
// the chain, many patients per transaction, and the sealed ndjson files
// are written, then downloaded. It reports resources/s from kick-off to
// the last file read. The baseline reads the same patients' resources
// straight from the vault (decrypting each) and writes them as ndjson,
// with no decision, no chain and no HTTP.
//
//	go test ./fhirapi -run '^$' -bench Export -benchtime 5x
func BenchmarkExport(b *testing.B) {
	s := &exportStory{story: benchNode(b)}
	for _, m := range syntheaManifest(b) {
		raw, err := os.ReadFile(filepath.Join(syntheaDir, strings.TrimPrefix(m.File, "synthea/")))
		if err != nil {
			b.Fatal(err)
		}
		if status, body := s.post(s.n.Admin, raw); status != http.StatusOK {
			b.Fatalf("import %s: %d %.300s", m.File, status, body)
		}
	}
	v := s.n.Vault()
	b.Run("vault-read", func(b *testing.B) {
		resources := 0
		var out bytes.Buffer
		for b.Loop() {
			patients, err := v.Patients()
			if err != nil {
				b.Fatal(err)
			}
			resources = 0
			for _, p := range patients {
				recs, err := v.List(p, "")
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range recs {
					out.Reset()
					out.Write(r.Content)
					out.WriteByte('\n')
				}
				resources += len(recs)
			}
		}
		b.ReportMetric(float64(resources*b.N)/b.Elapsed().Seconds(), "resources/s")
	})
	b.Run("export", func(b *testing.B) {
		dr := s.physician()
		resources, patients := 0, 0
		for b.Loop() {
			status := s.kickoff(dr, "TREAT", "Patient/$export")
			m := s.wait(dr, status)
			resources = 0
			for _, f := range m.Output {
				res, body := s.get(dr, f.URL)
				if res.StatusCode != http.StatusOK || bytes.Count(body, []byte{'\n'}) != f.Count {
					b.Fatalf("GET %s: %d, %d lines; want 200 and %d", f.URL, res.StatusCode, bytes.Count(body, []byte{'\n'}), f.Count)
				}
				resources += f.Count
			}
			var left int
			patients, left, _, _, _ = m.counts()
			if left != 0 {
				b.Fatalf("%d patients left out of the physician's TREAT export; want none", left)
			}
			req, _ := http.NewRequest("DELETE", status, nil)
			s.doFull(req, dr)
		}
		b.ReportMetric(float64(resources*b.N)/b.Elapsed().Seconds(), "resources/s")
		b.ReportMetric(float64(patients), "patients")
		b.ReportMetric(float64(resources), "resources")
	})
}
