package dataset_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/careledger/careledger/dataset"
)

// benchFile is a dataset of 1,000,000 CSV rows of about 40 bytes.
func benchFile(b *testing.B) []byte {
	b.Helper()
	var f bytes.Buffer
	for i := range 1_000_000 {
		fmt.Fprintf(&f, "P-%06d,visit-%d,%d.%d,%d\n", i%5000, i%12, 5+i%5, i%10, 50+i%70)
	}
	return f.Bytes()
}

func reportRows(b *testing.B, rows int) {
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkSHA256 is the baseline: one SHA-256 pass over the same bytes.
func BenchmarkSHA256(b *testing.B) {
	f := benchFile(b)
	b.SetBytes(int64(len(f)))
	for b.Loop() {
		sha256.Sum256(f)
	}
	reportRows(b, 1_000_000)
}

// BenchmarkCommit is what a sponsor runs to commit a dataset: its root.
func BenchmarkCommit(b *testing.B) {
	f := benchFile(b)
	b.SetBytes(int64(len(f)))
	for b.Loop() {
		if _, _, err := dataset.Root(bytes.NewReader(f)); err != nil {
			b.Fatal(err)
		}
	}
	reportRows(b, 1_000_000)
}

// BenchmarkVerify is what careledger verify dataset runs on a file that
// matches: its leaf hashes, then their root against the committed one.
func BenchmarkVerify(b *testing.B) {
	f := benchFile(b)
	root, rows, _ := dataset.Root(bytes.NewReader(f))
	b.SetBytes(int64(len(f)))
	for b.Loop() {
		hs, err := dataset.LeafHashes(bytes.NewReader(f))
		if err != nil {
			b.Fatal(err)
		}
		if res, err := dataset.Compare(hs, root, rows, nil); err != nil || !res.Match {
			b.Fatal("no match")
		}
	}
	reportRows(b, 1_000_000)
}
