package snapshot_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/careledger/careledger/snapshot"
)

// records collects a snapshot's records as text.
type records []string

func (r *records) State(k, v []byte) error { *r = append(*r, fmt.Sprintf("s %s=%s", k, v)); return nil }
func (r *records) Leaf(l []byte) error     { *r = append(*r, fmt.Sprintf("l %s", l)); return nil }

// write creates a snapshot at height of n entries and n leaves.
func write(t *testing.T, s *snapshot.Store, height uint64, n int) (snapshot.Info, records) {
	t.Helper()
	var want records
	info, err := s.Create(height, func(w *snapshot.Writer) error {
		for i := range n {
			k, v := fmt.Sprintf("key/%04d", i), fmt.Sprintf("value-%d-%d", height, i)
			want.State([]byte(k), []byte(v))
			if err := w.State([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		for i := range n {
			l := fmt.Sprintf("leaf-%d", i)
			want.Leaf([]byte(l))
			if err := w.Leaf([]byte(l)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Create(%d) = %v", height, err)
	}
	return info, want
}

// TestStore checks that a snapshot reads back record for record, that its
// chunks match its metadata, and that only the newest are kept.
func TestStore(t *testing.T) {
	dir := t.TempDir()
	s, err := snapshot.Open(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	s.ChunkSize = 1000
	info, want := write(t, s, 10, 200)
	hashes, err := snapshot.ChunkHashes(info.Metadata, info.Hash, info.Chunks)
	if err != nil || info.Chunks < 5 {
		t.Fatalf("ChunkHashes() = %v for %d chunks; want several chunks and nil", err, info.Chunks)
	}
	var got records
	for i := range info.Chunks {
		chunk, err := s.Chunk(10, snapshot.Format, i)
		if err != nil {
			t.Fatalf("Chunk(%d) = %v", i, err)
		}
		if sum := sha256.Sum256(chunk); !bytes.Equal(sum[:], hashes[i]) {
			t.Fatalf("chunk %d does not match the metadata", i)
		}
		if len(chunk) > s.ChunkSize+100 {
			t.Errorf("chunk %d is %d bytes; want about %d", i, len(chunk), s.ChunkSize)
		}
		if err := snapshot.Decode(chunk, &got); err != nil {
			t.Fatalf("Decode(chunk %d) = %v", i, err)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("read back %d records; want the %d written, in order", len(got), len(want))
	}

	write(t, s, 20, 3)
	write(t, s, 30, 3)
	list, err := s.List()
	if err != nil || len(list) != 2 || list[0].Height != 30 || list[1].Height != 20 {
		t.Fatalf("List() = %+v, %v; want the snapshots at 30 and 20", list, err)
	}
	if _, err := s.Chunk(10, snapshot.Format, 0); err == nil {
		t.Error("Chunk() of a pruned snapshot = nil error")
	}
	if _, err := snapshot.ChunkHashes(info.Metadata, info.Hash, info.Chunks+1); err == nil {
		t.Error("ChunkHashes() with the wrong chunk count = nil error")
	}
	if _, err := snapshot.ChunkHashes(info.Metadata, make([]byte, 32), info.Chunks); err == nil {
		t.Error("ChunkHashes() with a hash not of the metadata = nil error")
	}
}

// TestStoreUnfinished checks that a snapshot a crash left half written is
// never listed and is removed when the store opens.
func TestStoreUnfinished(t *testing.T) {
	dir := t.TempDir()
	s, err := snapshot.Open(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(5, func(w *snapshot.Writer) error {
		w.State([]byte("k"), []byte("v"))
		return fmt.Errorf("disk full")
	}); err == nil {
		t.Fatal("Create() whose fill failed = nil error")
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp-7"), 0o700); err != nil { // as a crash leaves it
		t.Fatal(err)
	}
	if list, err := s.List(); err != nil || len(list) != 0 {
		t.Fatalf("List() = %+v, %v; want none", list, err)
	}
	if _, err := snapshot.Open(dir, 1); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("Open() left %d entries of unfinished snapshots", len(entries))
	}
}

// TestDecodeMalformed checks that Decode refuses what no Writer writes.
func TestDecodeMalformed(t *testing.T) {
	for name, chunk := range map[string][]byte{
		"unknown kind":     {3, 1, 'k'},
		"truncated value":  {1, 1, 'k', 5, 'v'},
		"truncated length": {2, 0x80},
		"missing value":    {1, 1, 'k'},
	} {
		var got records
		if err := snapshot.Decode(chunk, &got); err == nil {
			t.Errorf("Decode(%s) = nil; want an error", name)
		}
	}
}
