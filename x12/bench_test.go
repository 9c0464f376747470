package x12_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/careledger/careledger/x12"
)

// batch837 returns an interchange of n copies of the example's claim, as a
// clearinghouse batches them: one transaction set per claim.
func batch837(b *testing.B, n int) []byte {
	ex := readFile(b, example837)
	start, end := bytes.Index(ex, []byte("ST*")), bytes.Index(ex, []byte("GE*"))
	var buf bytes.Buffer
	buf.Write(ex[:start])
	for range n {
		buf.Write(ex[start:end])
	}
	fmt.Fprintf(&buf, "GE*%d*1~\nIEA*1*000000907~\n", n)
	return buf.Bytes()
}

// BenchmarkImport837P reads a batch of 1,000 claims (40 segments each)
// into FHIR Claims; the baseline only splits the same bytes into segments
// and elements, the least any reader does.
func BenchmarkImport837P(b *testing.B) {
	in := batch837(b, 1000)
	b.Run("baseline-split", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			n := 0
			for _, seg := range bytes.Split(in, []byte{'~'}) {
				n += len(bytes.Split(seg, []byte{'*'}))
			}
			if n == 0 {
				b.Fatal("nothing split")
			}
		}
	})
	b.Run("parse-and-import", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			ic, err := x12.Parse(in)
			if err != nil {
				b.Fatal(err)
			}
			cs, err := x12.Import837P(ic)
			if err != nil || len(cs) != 1000 {
				b.Fatalf("Import837P = %d claims, %v", len(cs), err)
			}
		}
	})
}
