package state

import (
	"bytes"
	"testing"
)

// FuzzDecodeBucket feeds arbitrary bytes to the bucket record decoder,
// which reads what is on disk: it must never panic, and a record it accepts
// must encode back to the same bytes (one encoding per bucket, so that a
// bucket's hash cannot hide an altered record).
func FuzzDecodeBucket(f *testing.F) {
	var b bucket
	b = b.set("a/key", []byte("value"))
	b = b.set("k/other", []byte("v2"))
	f.Add(b.encode())
	f.Add([]byte{})
	f.Add([]byte{0x05, 'a'})
	f.Add(bytes.Repeat([]byte{0xff}, 40))
	f.Fuzz(func(t *testing.T, rec []byte) {
		got, err := decodeBucket(rec)
		if err != nil {
			return
		}
		if enc := got.encode(); !bytes.Equal(enc, rec) {
			t.Fatalf("decodeBucket(%x) re-encodes as %x", rec, enc)
		}
	})
}
