package auditdb_test

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/careledger/careledger/audit"
	"github.com/careledger/careledger/audit/auditdb"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/tx"
)

// testOptions index the erasures that event makes.
var testOptions = auditdb.Options{IndexedTypes: []string{"records.erased"}}

// event is the i-th event of a test log: every tenth, from the fourth, an
// erasure.
func event(i int) audit.Event {
	typ := "consent.access"
	if i%10 == 3 {
		typ = "records.erased"
	}
	return audit.Event{
		Height: int64(1 + i/3), Time: time.Date(2026, 11, 21, 9, 0, i, 0, time.UTC), Tx: tx.Hash{byte(i)}, TxIndex: i % 3, Index: 0,
		Event: contract.Event{Type: typ, Attrs: []contract.Attr{{Key: "access", Value: fmt.Sprint(i)}}, Accounts: []tx.Address{{byte(i)}}},
	}
}

// refRoot is the RFC 6962 root computed from the definition.
func refRoot(leaves [][]byte) []byte {
	h := rfc6962.DefaultHasher
	switch len(leaves) {
	case 0:
		return h.EmptyRoot()
	case 1:
		return h.HashLeaf(leaves[0])
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	return h.HashChildren(refRoot(leaves[:k]), refRoot(leaves[k:]))
}

func blockTime(h int64) time.Time { return time.Date(2026, 11, 21, 9, 0, int(h), 0, time.UTC) }

// fillLog appends n events to s a few per block, as FinalizeBlock does,
// checking each block's root against RFC 6962's definition and its
// checkpoint, and returns the leaves and the log.
func fillLog(t *testing.T, s *auditdb.Store, n int) ([][]byte, *audit.Log) {
	t.Helper()
	log := audit.NewLog()
	var leaves [][]byte
	var err error
	for h := int64(1); len(leaves) < n; h++ {
		b := &audit.Block{Height: h, First: log.Size()}
		for range h % 4 { // 1, 2, 3, 0, 1, ... events per block
			ev := event(len(leaves))
			ev.Height, ev.Time = h, blockTime(h)
			leaf := ev.Encode()
			leaves = append(leaves, leaf)
			b.Events = append(b.Events, ev)
			if err := log.Append(audit.LeafHash(leaf), func(l uint, i uint64, hash []byte) {
				b.Nodes = append(b.Nodes, audit.Node{Level: l, Index: i, Hash: hash})
			}); err != nil {
				t.Fatal(err)
			}
		}
		b.Size = log.Size()
		if b.Root, err = log.Root(); err != nil {
			t.Fatal(err)
		}
		if want := refRoot(leaves); !bytes.Equal(b.Root, want) {
			t.Fatalf("root after %d leaves = %x; want %x", len(leaves), b.Root, want)
		}
		if err := s.Write(b); err != nil {
			t.Fatal(err)
		}
		if c, err := s.Checkpoint(h); err != nil || c.Size != b.Size || !bytes.Equal(c.Root, b.Root) {
			t.Fatalf("Checkpoint(%d) = %+v, %v; want %d, %x", h, c, err, b.Size, b.Root)
		}
	}
	return leaves, log
}

// TestLogAndProofs appends 40 events a few per block, as FinalizeBlock
// does, and checks every root against RFC 6962's definition, and every
// inclusion and consistency proof, and that proofs fail for other leaves.
func TestLogAndProofs(t *testing.T) {
	s, err := auditdb.Open(filepath.Join(t.TempDir(), "audit.db"), testOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	leaves, log := fillLog(t, s, 40)
	// The compact state survives its encoding.
	again, err := audit.DecodeLog(log.Encode())
	if err != nil || again.Size() != log.Size() {
		t.Fatalf("DecodeLog(Encode) = %v, %v", again, err)
	}
	for size := uint64(1); size <= uint64(len(leaves)); size++ {
		root, err := s.Root(size)
		if err != nil || !bytes.Equal(root, refRoot(leaves[:size])) {
			t.Fatalf("Root(%d) = %x, %v; want %x", size, root, err, refRoot(leaves[:size]))
		}
		for i := uint64(0); i < size; i++ {
			p, err := s.InclusionProof(i, size)
			if err != nil {
				t.Fatal(err)
			}
			if err := audit.VerifyInclusion(leaves[i], i, size, p, root); err != nil {
				t.Fatalf("inclusion of %d in %d: %v", i, size, err)
			}
			if audit.VerifyInclusion(leaves[(i+1)%size], i, size, p, root) == nil && size > 1 {
				t.Fatalf("inclusion proof of %d in %d verifies another leaf", i, size)
			}
		}
		for size1 := uint64(1); size1 <= size; size1++ {
			p, err := s.ConsistencyProof(size1, size)
			if err != nil {
				t.Fatal(err)
			}
			if err := audit.VerifyConsistency(size1, size, p, refRoot(leaves[:size1]), root); err != nil {
				t.Fatalf("consistency %d..%d: %v", size1, size, err)
			}
		}
	}
	if _, err := s.InclusionProof(40, 40); err == nil {
		t.Error("InclusionProof beyond the log = nil error")
	}
	got, err := s.Leaf(7)
	if err != nil || !bytes.Equal(got, leaves[7]) {
		t.Errorf("Leaf(7) = %x, %v", got, err)
	}
	var read [][]byte
	if err := s.Leaves(5, 40, func(leaf []byte) error { read = append(read, bytes.Clone(leaf)); return nil }); err != nil || !reflect.DeepEqual(read, leaves[5:40]) {
		t.Errorf("Leaves(5, 40) = %d leaves, %v; want leaves 5 to 39", len(read), err)
	}
	if err := s.Leaves(uint64(len(leaves)-2), uint64(len(leaves)+1), func([]byte) error { return nil }); !errors.Is(err, auditdb.ErrNotFound) {
		t.Errorf("Leaves beyond the log = %v; want ErrNotFound", err)
	}
	var erasures []uint64
	for i := range leaves {
		if i%10 == 3 {
			erasures = append(erasures, uint64(i))
		}
	}
	if idx, err := s.TypeEvents("records.erased", 0, 100); err != nil || !reflect.DeepEqual(idx, erasures) {
		t.Errorf("TypeEvents(records.erased) = %v, %v; want %v", idx, err, erasures)
	}
	// Event i concerns account {i}: the index finds it alone.
	if idx, err := s.AccountEvents(tx.Address{7}, 0, 10); err != nil || !reflect.DeepEqual(idx, []uint64{7}) {
		t.Errorf("AccountEvents({7}) = %v, %v; want [7]", idx, err)
	}
}

// TestRestore rebuilds a log from its leaves alone, flushed a few at a
// time, as state sync does, and checks that the copy answers as the
// original: the checkpoint, proofs, and every index read page by page.
func TestRestore(t *testing.T) {
	open := func() *auditdb.Store {
		s, err := auditdb.Open(filepath.Join(t.TempDir(), "audit.db"), testOptions)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	src, dst := open(), open()
	leaves, _ := fillLog(t, src, 60)
	last, err := audit.DecodeEvent(leaves[len(leaves)-1])
	if err != nil {
		t.Fatal(err)
	}
	want, err := src.Checkpoint(last.Height)
	if err != nil {
		t.Fatal(err)
	}

	r, err := dst.Restore()
	if err != nil {
		t.Fatal(err)
	}
	for i, leaf := range leaves {
		if err := r.Add(leaf); err != nil {
			t.Fatalf("Add(leaf %d) = %v", i, err)
		}
		if i%7 == 6 {
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := r.Finish(last.Height, want.StateRoot); err != nil {
		t.Fatal(err)
	}

	if got, err := dst.Checkpoint(last.Height); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("restored Checkpoint(%d) = %+v, %v; want %+v", last.Height, got, err, want)
	}
	for _, i := range []uint64{0, 17, want.Size - 1} {
		p, err := dst.InclusionProof(i, want.Size)
		if err == nil {
			err = audit.VerifyInclusion(leaves[i], i, want.Size, p, want.Root)
		}
		if err != nil {
			t.Errorf("restored inclusion of %d: %v", i, err)
		}
	}
	// Every index, read two at a time as the API pages it.
	queries := map[string]func(*auditdb.Store, uint64) ([]uint64, error){
		"TypeEvents(records.erased)": func(s *auditdb.Store, from uint64) ([]uint64, error) { return s.TypeEvents("records.erased", from, 2) },
		"AccountEvents({13})":        func(s *auditdb.Store, from uint64) ([]uint64, error) { return s.AccountEvents(tx.Address{13}, from, 2) },
	}
	for name, q := range queries {
		a, b := pages(t, src, q), pages(t, dst, q)
		if len(a) == 0 || !reflect.DeepEqual(a, b) {
			t.Errorf("restored %s = %v; the original's %v", name, b, a)
		}
	}
	for h := range last.Height + 2 { // every block's time, and after the last
		a, errA := src.FirstAt(blockTime(h))
		b, errB := dst.FirstAt(blockTime(h))
		if errA != nil || errB != nil || a != b {
			t.Errorf("restored FirstAt(block %d's time) = %d, %v; the original's %d, %v", h, b, errB, a, errA)
		}
	}
}

// TestIndexedTypes checks that TypeEvents finds the events of the types
// the store was opened with, and of no other.
func TestIndexedTypes(t *testing.T) {
	for _, c := range []struct {
		name  string
		types []string
		want  bool // whether TypeEvents(records.erased) finds the erasures
	}{
		{"nil", nil, false},
		{"erasures", []string{"records.erased"}, true},
		{"others", []string{"consent.break_glass"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := auditdb.Open(filepath.Join(t.TempDir(), "audit.db"), auditdb.Options{IndexedTypes: c.types})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			fillLog(t, s, 20)
			idx, err := s.TypeEvents("records.erased", 0, 100)
			if err != nil || (len(idx) > 0) != c.want {
				t.Errorf("IndexedTypes %q: TypeEvents(records.erased) = %v, %v; want erasures found %v", c.types, idx, err, c.want)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, c := range []struct {
		types []string
		ok    bool
	}{
		{nil, true},
		{[]string{"records.erased", "consent.break_glass"}, true},
		{[]string{""}, false},
		{[]string{"records.erased", "records\x00erased"}, false},
	} {
		o := auditdb.Options{IndexedTypes: c.types}
		if err := o.Validate(); (err == nil) != c.ok {
			t.Errorf("Options{IndexedTypes: %q}.Validate() = %v; want ok %v", c.types, err, c.ok)
		}
		s, err := auditdb.Open(filepath.Join(t.TempDir(), "audit.db"), o)
		if err == nil {
			s.Close()
		}
		if (err == nil) != c.ok {
			t.Errorf("Open(Options{IndexedTypes: %q}) = %v; want ok %v", c.types, err, c.ok)
		}
	}
}

// pages reads an index page by page to its end.
func pages(t *testing.T, s *auditdb.Store, q func(*auditdb.Store, uint64) ([]uint64, error)) []uint64 {
	t.Helper()
	var all []uint64
	for from := uint64(0); ; {
		page, err := q(s, from)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		from = page[len(page)-1] + 1
	}
}
