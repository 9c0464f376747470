package dataset

import (
	"bytes"
	"testing"

	"github.com/transparency-dev/merkle/rfc6962"
)

// TestTreeHasherMatchesRFC6962: leaf hashes of rows of every length around
// SHA-256's block boundaries and the short-row limit, and inner nodes, are
// rfc6962's.
func TestTreeHasherMatchesRFC6962(t *testing.T) {
	th := newTreeHasher()
	row := make([]byte, 2*smallRow)
	for i := range row {
		row[i] = byte(i*31 + 7)
	}
	for n := 0; n <= len(row); n += 1 + n/50 {
		var got [32]byte
		th.hashLeaf(got[:], row[:n])
		if want := rfc6962.DefaultHasher.HashLeaf(row[:n]); !bytes.Equal(got[:], want) {
			t.Fatalf("leaf of %d bytes = %x; want %x", n, got, want)
		}
	}
	l, r := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	var got [32]byte
	th.hashChildren(got[:], l, r)
	if want := rfc6962.DefaultHasher.HashChildren(l, r); !bytes.Equal(got[:], want) {
		t.Fatalf("node = %x; want %x", got, want)
	}
}
