package state_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/careledger/careledger/state"
)

// restoreAll adds every entry of v to a restore into dst.
func restoreAll(t *testing.T, v state.View, dst *state.Store) *state.Restorer {
	t.Helper()
	r, err := dst.Restore()
	if err != nil {
		t.Fatalf("Restore() = %v; want nil", err)
	}
	var addErr error
	if err := v.Iterate(nil, func(k, val []byte) bool {
		addErr = r.Add(k, val)
		return addErr == nil
	}); err != nil || addErr != nil {
		t.Fatalf("copying entries: %v, %v", err, addErr)
	}
	return r
}

// TestRestore checks that a store restored from another's entries has its
// root and content, and survives reopening.
func TestRestore(t *testing.T) {
	src := state.OpenMemory()
	for _, b := range testBlocks() {
		applyBlock(t, src, b, nil)
	}
	dir := t.TempDir()
	dst, err := state.Open(dir, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := restoreAll(t, src.Committed(), dst)
	if got := r.Root(); !bytes.Equal(got, src.Hash()) {
		t.Fatalf("Root() = %X; want the source's %X", got, src.Hash())
	}
	if err := r.Commit(src.Height()); err != nil {
		t.Fatalf("Commit() = %v; want nil", err)
	}
	if dst.Height() != src.Height() || !bytes.Equal(dst.Hash(), src.Hash()) {
		t.Fatalf("restored store at %d, %X; want %d, %X", dst.Height(), dst.Hash(), src.Height(), src.Hash())
	}
	// The restored store takes the next block like the source.
	next := []write{{[]byte("k/500"), []byte("after")}, {[]byte("k/000"), nil}}
	_, want := applyBlock(t, src, next, nil)
	if _, got := applyBlock(t, dst, next, nil); !bytes.Equal(got, want) {
		t.Fatalf("next block on the restored store: %X; want %X", got, want)
	}
	dst.Close()
	if ver, root, err := state.Verify(dir); err != nil || ver != src.Height() || !bytes.Equal(root, want) {
		t.Fatalf("Verify(restored) = %d, %X, %v; want %d, %X, nil", ver, root, err, src.Height(), want)
	}
}

// TestRestoreInterrupted checks that a restore not committed leaves a store
// that opens empty and can be restored again, and that entries out of order
// are refused.
func TestRestoreInterrupted(t *testing.T) {
	src := state.OpenMemory()
	applyBlock(t, src, testBlocks()[0], nil)
	dir := t.TempDir()
	dst, err := state.Open(dir, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	restoreAll(t, src.Committed(), dst) // and never committed
	dst.Close()
	if ver, _, err := state.Verify(dir); err != nil || ver != 0 {
		t.Fatalf("Verify(interrupted restore) = %d, %v; want 0, nil", ver, err)
	}
	dst, err = state.Open(dir, state.Options{})
	if err != nil || dst.Height() != 0 {
		t.Fatalf("Open(interrupted restore) = height %v, %v; want 0, nil", dst, err)
	}
	if got, _ := dst.Committed().Get([]byte("k/000")); got != nil {
		t.Fatalf("an interrupted restore's value is readable: %q", got)
	}
	r := restoreAll(t, src.Committed(), dst)
	if err := r.Add([]byte("k/000"), []byte("again")); err == nil || !strings.Contains(err.Error(), "not after") {
		t.Errorf("Add(a key out of order) = %v; want an error", err)
	}
	if err := r.Commit(1); err != nil || !bytes.Equal(dst.Hash(), src.Hash()) {
		t.Fatalf("second restore: %v, root %X; want nil, %X", err, dst.Hash(), src.Hash())
	}
	if _, err := dst.Restore(); err == nil {
		t.Error("Restore() of a store with a committed version = nil; want an error")
	}
	dst.Close()
}
