package tracker

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/careledger/careledger/tx"
)

func openJournal(t *testing.T, dir string) *FileJournal {
	t.Helper()
	j, err := OpenJournal(dir)
	if err != nil {
		t.Fatalf("OpenJournal = %v", err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// journaled requires the transactions j found at open to be want, in the
// order they were saved.
func journaled(t *testing.T, j *FileJournal, want ...[]byte) {
	t.Helper()
	got, err := j.Journaled()
	if err != nil || !slices.EqualFunc(got, want, bytes.Equal) {
		t.Fatalf("Journaled() = %d transactions, %v; want %d", len(got), err, len(want))
	}
}

func segmentFiles(t *testing.T, dir string) int {
	t.Helper()
	segs, err := segments(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(segs)
}

// TestFileJournal: transactions saved come back after a restart, once
// each, until the segment holding them is deleted, which happens once
// every transaction in it settled.
func TestFileJournal(t *testing.T) {
	dir := t.TempDir()
	var raws [][]byte
	var hs []tx.Hash
	for i := range 6 {
		raw, h := testTx(t, uint64(i))
		raws, hs = append(raws, raw), append(hs, h)
	}
	j := openJournal(t, dir)
	j.segmentBytes = int64(3 * len(appendRecord(nil, raws[0])))
	for _, part := range [][2]int{{0, 2}, {1, 4}, {4, 6}} { // hs[1] twice: saved once
		if err := j.Save(hs[part[0]:part[1]], raws[part[0]:part[1]]); err != nil {
			t.Fatal(err)
		}
	}
	// The first segment filled with four transactions; the second holds two.
	if n := segmentFiles(t, dir); n != 2 {
		t.Fatalf("after 6 transactions: %d segments; want 2", n)
	}
	if err := j.Remove([]tx.Hash{hs[0], hs[4]}); err != nil {
		t.Fatal(err)
	}
	j.Close()

	// No segment had settled: all six come back, and Recover will find the
	// two settled ones committed or refused again.
	j = openJournal(t, dir)
	journaled(t, j, raws...)
	if err := j.Remove(hs[:4]); err != nil {
		t.Fatal(err)
	}
	j.Close()

	j = openJournal(t, dir)
	journaled(t, j, raws[4:]...)
	if err := j.Remove(hs[4:]); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j = openJournal(t, dir)
	journaled(t, j)
	if n := segmentFiles(t, dir); n != 1 {
		t.Fatalf("with nothing unsettled: %d segments; want 1, the new one", n)
	}
}

// TestFileJournalTornTail: a record cut short or corrupt ends the segment;
// the records before it are kept.
func TestFileJournalTornTail(t *testing.T) {
	a, _ := testTx(t, 0)
	b, _ := testTx(t, 1)
	good := appendRecord(appendRecord(nil, a), b)
	corrupt := appendRecord(nil, b)
	corrupt[len(corrupt)-1] ^= 1
	for name, tail := range map[string][]byte{
		"cut short": appendRecord(nil, b)[:20],
		"corrupt":   corrupt,
		"length":    {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "0000000000000007.journal"), slices.Concat(good, tail), 0o600); err != nil {
				t.Fatal(err)
			}
			journaled(t, openJournal(t, dir), a, b)
		})
	}
}

// FuzzReadSegment: any bytes read as a segment give records that are
// exactly a prefix of them.
func FuzzReadSegment(f *testing.F) {
	a, b := []byte("first transaction"), bytes.Repeat([]byte{7}, 300)
	f.Add(appendRecord(appendRecord(nil, a), b))
	f.Add(appendRecord(nil, a)[:10])
	f.Add([]byte{})
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		var again []byte
		for _, raw := range readSegment(data) {
			again = appendRecord(again, raw)
		}
		if !bytes.HasPrefix(data, again) {
			t.Fatalf("records re-encode to %x, not a prefix of %x", again, data)
		}
	})
}
