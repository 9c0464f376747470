package dataset_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/careledger/careledger/dataset"
)

// benchRows is the size of the benchmarks' datasets.
const benchRows = 1_000_000

// benchFiles are datasets of a million CSV rows: narrow (about 25 bytes a
// row: a pseudonym, a visit, two values) and wide (about 200 bytes: the
// same with a timestamp, codes, units and a free-text comment, as a visit
// row of a trial's case report form often is).
var benchFiles = []struct {
	name string
	row  func(i int) string
}{
	{"narrow", func(i int) string {
		return fmt.Sprintf("P-%06d,visit-%d,%d.%d,%d\n", i%5000, i%12, 5+i%5, i%10, 50+i%70)
	}},
	{"wide", func(i int) string {
		return fmt.Sprintf("P-%06d,visit-%02d,2026-%02d-%02dT%02d:%02d:00Z,LOINC-%05d,%d.%d,mmol/L,%d,mm[Hg],site-%03d,%s\n",
			i%5000, i%12, 1+i%12, 1+i%28, i%24, i%60, 2000+i%9000, 5+i%5, i%10, 50+i%70, i%40,
			strings.Repeat("no adverse event reported ", 4))
	}},
}

func benchFile(b *testing.B, row func(int) string) []byte {
	b.Helper()
	var f bytes.Buffer
	for i := range benchRows {
		f.WriteString(row(i))
	}
	return f.Bytes()
}

// forEachFile runs fn as a sub-benchmark per dataset, reporting rows/s.
func forEachFile(b *testing.B, fn func(b *testing.B, f []byte)) {
	for _, bf := range benchFiles {
		b.Run(bf.name, func(b *testing.B) {
			f := benchFile(b, bf.row)
			b.SetBytes(int64(len(f)))
			fn(b, f)
			b.ReportMetric(float64(len(f))/benchRows, "bytes/row")
			b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkSHA256 is the baseline: one SHA-256 pass over the same bytes.
func BenchmarkSHA256(b *testing.B) {
	forEachFile(b, func(b *testing.B, f []byte) {
		for b.Loop() {
			sha256.Sum256(f)
		}
	})
}

// BenchmarkCommit is what a sponsor runs to commit a dataset: its root.
func BenchmarkCommit(b *testing.B) {
	forEachFile(b, func(b *testing.B, f []byte) {
		for b.Loop() {
			if _, _, err := dataset.Root(bytes.NewReader(f)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerify is what careledger verify dataset runs on a file that
// matches: its leaf hashes, then their root against the committed one.
func BenchmarkVerify(b *testing.B) {
	forEachFile(b, func(b *testing.B, f []byte) {
		root, rows, _ := dataset.Root(bytes.NewReader(f))
		for b.Loop() {
			hs, err := dataset.LeafHashes(bytes.NewReader(f))
			if err != nil {
				b.Fatal(err)
			}
			if res, err := dataset.Compare(hs, root, rows, nil); err != nil || !res.Match {
				b.Fatal("no match")
			}
		}
	})
}

// BenchmarkAgainstSHA256 alternates, within each iteration, the baseline
// (one SHA-256 pass over the file) with committing and with verifying it,
// so that the three see the same machine even when neighbours come and go;
// it reports each one's mean time and the ratios to the baseline.
func BenchmarkAgainstSHA256(b *testing.B) {
	for _, bf := range benchFiles {
		b.Run(bf.name, func(b *testing.B) {
			f := benchFile(b, bf.row)
			root, rows, _ := dataset.Root(bytes.NewReader(f))
			var plain, commit, verify time.Duration
			timed := func(sum *time.Duration, op func()) {
				start := time.Now()
				op()
				*sum += time.Since(start)
			}
			for b.Loop() {
				timed(&plain, func() { sha256.Sum256(f) })
				timed(&commit, func() {
					if _, _, err := dataset.Root(bytes.NewReader(f)); err != nil {
						b.Fatal(err)
					}
				})
				timed(&verify, func() {
					hs, err := dataset.LeafHashes(bytes.NewReader(f))
					if err != nil {
						b.Fatal(err)
					}
					if res, err := dataset.Compare(hs, root, rows, nil); err != nil || !res.Match {
						b.Fatal("no match")
					}
				})
			}
			n := float64(b.N)
			b.ReportMetric(plain.Seconds()*1e3/n, "sha256-ms")
			b.ReportMetric(commit.Seconds()*1e3/n, "commit-ms")
			b.ReportMetric(verify.Seconds()*1e3/n, "verify-ms")
			b.ReportMetric(commit.Seconds()/plain.Seconds(), "commit/sha256")
			b.ReportMetric(verify.Seconds()/plain.Seconds(), "verify/sha256")
			b.ReportMetric(benchRows*n/commit.Seconds(), "commit-rows/s")
			b.ReportMetric(benchRows*n/verify.Seconds(), "verify-rows/s")
		})
	}
}
