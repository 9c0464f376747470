package snapshot_test

import (
	"bytes"
	"testing"

	"github.com/careledger/careledger/snapshot"
)

// FuzzDecode checks that Decode never panics and that the encoding is
// canonical: the records of a chunk it accepts, written again, give the
// same bytes.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{1, 1, 'k', 1, 'v', 2, 3, 'l', 'e', 'f'})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, chunk []byte) {
		var got records
		if err := snapshot.Decode(chunk, &got); err != nil {
			return
		}
		s, err := snapshot.Open(t.TempDir(), 1)
		if err != nil {
			t.Fatal(err)
		}
		s.ChunkSize = len(chunk) + 1
		info, err := s.Create(1, func(w *snapshot.Writer) error { return snapshot.Decode(chunk, w) })
		if err != nil || info.Chunks != 1 {
			t.Fatalf("writing the records again: %v, %d chunks", err, info.Chunks)
		}
		again, _ := s.Chunk(1, snapshot.Format, 0)
		if !bytes.Equal(again, chunk) {
			t.Fatalf("records written again give %x; want %x", again, chunk)
		}
	})
}
