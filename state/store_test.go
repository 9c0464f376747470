package state_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/careledger/careledger/state"
)

// write is one buffered change; a nil value deletes.
type write struct {
	key, value []byte
}

// testBlocks returns three blocks of writes, each to distinct keys:
// inserts, then updates, deletions and inserts (of empty values), then a
// deleted key set again.
func testBlocks() [][]write {
	var b1, b2, b3 []write
	for i := range 200 {
		b1 = append(b1, write{[]byte(fmt.Sprintf("k/%03d", i)), []byte(fmt.Sprintf("v1-%d", i))})
	}
	for i := 0; i < 200; i += 3 {
		b2 = append(b2, write{[]byte(fmt.Sprintf("k/%03d", i)), []byte(fmt.Sprintf("v2-%d", i))})
	}
	for i := 1; i < 200; i += 6 { // i%3 == 1: never a key updated above
		b2 = append(b2, write{[]byte(fmt.Sprintf("k/%03d", i)), nil})
	}
	for i := range 50 {
		b2 = append(b2, write{[]byte(fmt.Sprintf("n/%03d", i)), []byte{}})
	}
	b3 = append(b3,
		write{[]byte("k/001"), []byte("back")},
		write{[]byte("k/002"), []byte("empty value")},
	)
	return [][]write{b1, b2, b3}
}

// transient is a key every block sets and then deletes, which must leave no
// trace.
var transient = []byte("t/transient")

// applyBlock buffers ws in an overlay in the given order (nil: as listed)
// and applies and commits it, returning the hash Apply announced and the
// committed one.
func applyBlock(t *testing.T, s *state.Store, ws []write, order []int) (applied, committed []byte) {
	t.Helper()
	if order == nil {
		for i := range ws {
			order = append(order, i)
		}
	}
	o := state.NewOverlay(s.Working())
	if err := o.Set(transient, []byte("x")); err != nil {
		t.Fatal(err)
	}
	for _, i := range order {
		w := ws[i]
		var err error
		if w.value == nil {
			err = o.Delete(w.key)
		} else {
			err = o.Set(w.key, w.value)
		}
		if err != nil {
			t.Fatalf("overlay write %q: %v", w.key, err)
		}
	}
	if err := o.Delete(transient); err != nil {
		t.Fatal(err)
	}
	applied, err := s.Apply(o)
	if err != nil {
		t.Fatalf("Apply() = %v; want nil", err)
	}
	committed, _, err = s.Commit()
	if err != nil {
		t.Fatalf("Commit() = %v; want nil", err)
	}
	return applied, committed
}

// TestHashIndependentOfWriteOrder applies the same blocks to stores with the
// writes of each block buffered in different orders, and requires the same
// hash at every version: Apply sorts a block's writes, so only the set of
// writes counts.
func TestHashIndependentOfWriteOrder(t *testing.T) {
	blocks := testBlocks()
	ordered := func(n int) []int {
		o := make([]int, n)
		for i := range o {
			o[i] = i
		}
		return o
	}
	orders := []struct {
		name  string
		order func(n int) []int
	}{
		{"reversed", func(n int) []int { o := ordered(n); slices.Reverse(o); return o }},
		{"shuffled", func(n int) []int {
			o := ordered(n)
			rand.New(rand.NewPCG(1, 2)).Shuffle(n, func(i, j int) { o[i], o[j] = o[j], o[i] })
			return o
		}},
	}

	var want [][]byte
	ref := state.OpenMemory()
	for _, b := range blocks {
		_, h := applyBlock(t, ref, b, nil)
		want = append(want, h)
	}
	for _, tc := range orders {
		for _, disk := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/disk=%v", tc.name, disk), func(t *testing.T) {
				s := state.OpenMemory()
				if disk {
					var err error
					if s, err = state.Open(t.TempDir(), state.Options{}); err != nil {
						t.Fatalf("Open() = %v; want nil", err)
					}
					t.Cleanup(func() { s.Close() })
				}
				for v, b := range blocks {
					applied, committed := applyBlock(t, s, b, tc.order(len(b)))
					if !bytes.Equal(applied, committed) {
						t.Errorf("version %d: Apply() hash %X, Commit() hash %X; want equal", v+1, applied, committed)
					}
					if !bytes.Equal(committed, want[v]) {
						t.Errorf("version %d with %s writes: hash %X; want %X", v+1, tc.name, committed, want[v])
					}
				}
			})
		}
	}
}

// TestCommittedView checks what a committed view reads: the values of its
// version, unchanged by later blocks, with deletions and empty values told
// apart.
func TestCommittedView(t *testing.T) {
	s := state.OpenMemory()
	blocks := testBlocks()
	applyBlock(t, s, blocks[0], []int{0, 1, 2, 3})
	v1 := s.Committed()
	var order []int // update k/000, delete k/001, set n/000 empty
	for i, w := range blocks[1] {
		if k := string(w.key); k == "k/000" || k == "k/001" || k == "n/000" {
			order = append(order, i)
		}
	}
	applyBlock(t, s, blocks[1], order)
	v2 := s.Committed()
	if v1.Version() != 1 || v2.Version() != 2 || s.Height() != 2 {
		t.Fatalf("versions = %d, %d, height %d; want 1, 2, 2", v1.Version(), v2.Version(), s.Height())
	}
	for _, tc := range []struct {
		view state.View
		key  string
		want []byte
	}{
		{v1, "k/000", []byte("v1-0")},
		{v2, "k/000", []byte("v2-0")},
		{v1, "k/001", []byte("v1-1")},
		{v2, "k/001", nil},
		{v1, "n/000", nil},
		{v2, "n/000", []byte{}},
		{v2, "k/004", nil}, // never written
		{v2, string(transient), nil},
	} {
		got, err := tc.view.Get([]byte(tc.key))
		if err != nil || !bytes.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("version %d Get(%q) = %q (nil %v), %v; want %q (nil %v)",
				tc.view.Version(), tc.key, got, got == nil, err, tc.want, tc.want == nil)
		}
	}
	var keys []string
	if err := v2.Iterate([]byte("k/"), func(k, _ []byte) bool { keys = append(keys, string(k)); return true }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"k/000", "k/002", "k/003"}; !slices.Equal(keys, want) {
		t.Errorf("version 2 Iterate(k/) = %v; want %v", keys, want)
	}
}

// TestOverlayChild checks that a child overlay's writes reach the parent
// only on Flush, as a rejected transaction's must not.
func TestOverlayChild(t *testing.T) {
	s := state.OpenMemory()
	blk := state.NewOverlay(s.Working())
	discarded, kept := blk.Child(), blk.Child()
	for _, o := range []*state.Overlay{discarded, kept} {
		if err := o.Set([]byte("a"), []byte("1")); err != nil {
			t.Fatal(err)
		}
	}
	if err := kept.Set([]byte("b"), []byte("2")); err != nil {
		t.Fatal(err)
	}
	if got, _ := blk.Get([]byte("a")); got != nil {
		t.Errorf("parent Get(a) before Flush = %q; want nil", got)
	}
	if err := kept.Flush(); err != nil {
		t.Fatalf("Flush() = %v; want nil", err)
	}
	if blk.Len() != 2 {
		t.Errorf("parent Len() after Flush = %d; want 2", blk.Len())
	}
	if err := blk.Flush(); err == nil {
		t.Errorf("Flush() of a block overlay over the tree = nil; want an error")
	}
}

// TestReopen checks that a store reopened from disk has the height, hash and
// values it committed.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := state.Open(dir, state.Options{})
	if err != nil {
		t.Fatalf("Open(%q) = %v; want nil", dir, err)
	}
	var hash []byte
	for _, b := range testBlocks() {
		_, hash = applyBlock(t, s, b, nil)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	s, err = state.Open(dir, state.Options{})
	if err != nil {
		t.Fatalf("Open(%q) again = %v; want nil", dir, err)
	}
	defer s.Close()
	if s.Height() != 3 || !bytes.Equal(s.Hash(), hash) {
		t.Errorf("reopened store at height %d, hash %X; want 3, %X", s.Height(), s.Hash(), hash)
	}
}
