package state_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/careledger/careledger/state"
)

// TestVerify checks a stored state in full, then rewrites one value and
// one bucket behind the store's back and sees each named, by Verify and by
// Open with Options.Verify.
func TestVerify(t *testing.T) {
	stored := func() (string, []byte) {
		dir := t.TempDir()
		s, err := state.Open(dir, state.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var hash []byte
		for _, b := range testBlocks() {
			_, hash = applyBlock(t, s, b, nil)
		}
		s.Close()
		return dir, hash
	}
	dir, hash := stored()
	ver, root, err := state.Verify(dir)
	if err != nil || ver != 3 || !bytes.Equal(root, hash) {
		t.Fatalf("Verify = %d, %X, %v; want 3, %X, nil", ver, root, err, hash)
	}
	for _, tc := range []struct{ prefix, want string }{
		{"d", "does not match its hash"},
		{"b", "is corrupt"},
	} {
		dir, _ := stored()
		rewriteFirst(t, filepath.Join(dir, "state.db"), tc.prefix)
		_, _, err := state.Verify(dir)
		s, openErr := state.Open(dir, state.Options{Verify: true})
		if s != nil {
			s.Close()
		}
		for what, err := range map[string]error{"Verify": err, "Open with Verify": openErr} {
			if !errors.Is(err, state.ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s after rewriting a %q record = %v; want ErrCorrupt saying %q", what, tc.prefix, err, tc.want)
			}
			// The first record is k/000's: an error names a key by a hash, as
			// keys can hold a patient's pseudonym and a record's identifiers.
			if err != nil && strings.Contains(err.Error(), "k/000") {
				t.Errorf("%s error %q shows the key", what, err)
			}
		}
	}

	// Without Verify, Open checks the buckets against the root only: a
	// value changed behind its bucket's back goes unseen until Verify.
	dir, _ = stored()
	rewriteFirst(t, filepath.Join(dir, "state.db"), "d")
	s, err := state.Open(dir, state.Options{})
	if err != nil {
		t.Fatalf("Open without Verify after rewriting a value = %v; want nil", err)
	}
	s.Close()
}

func rewriteFirst(t *testing.T, dir, prefix string) {
	t.Helper()
	db, err := leveldb.OpenFile(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	it := db.NewIterator(util.BytesPrefix([]byte(prefix)), nil)
	if !it.Next() {
		t.Fatalf("no %q record", prefix)
	}
	k, v := bytes.Clone(it.Key()), bytes.Clone(it.Value())
	it.Release()
	v = append(v, 'x')
	if err := db.Put(k, v, nil); err != nil {
		t.Fatal(err)
	}
}
