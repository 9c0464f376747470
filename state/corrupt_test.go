package state_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/careledger/careledger/state"
)

// committedDir returns a directory holding a closed store with a few
// hundred keys committed in two versions.
func committedDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	s, err := state.Open(dir, state.Options{NoSync: true})
	if err != nil {
		t.Fatalf("Open(%q) = %v; want nil", dir, err)
	}
	for _, b := range testBlocks()[:2] {
		applyBlock(t, s, b, nil)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	return dir
}

// alterDB opens the store's LevelDB directly and lets alter change it.
func alterDB(t *testing.T, dir string, alter func(db *leveldb.DB) error) {
	t.Helper()
	db, err := leveldb.OpenFile(filepath.Join(dir, "state.db"), nil)
	if err != nil {
		t.Fatalf("open state db: %v", err)
	}
	defer db.Close()
	if err := alter(db); err != nil {
		t.Fatalf("alter state db: %v", err)
	}
}

// firstBucket returns the key and value of the first stored bucket record.
func firstBucket(db *leveldb.DB) (key, value []byte, err error) {
	it := db.NewIterator(util.BytesPrefix([]byte{'b'}), nil)
	defer it.Release()
	if !it.Next() {
		return nil, nil, fmt.Errorf("no bucket record: %v", it.Error())
	}
	return bytes.Clone(it.Key()), bytes.Clone(it.Value()), nil
}

// changeBucketByte returns an alteration that flips a bit in byte i of the
// first bucket record (counting from the end if i is negative).
func changeBucketByte(i int) func(db *leveldb.DB) error {
	return func(db *leveldb.DB) error {
		k, v, err := firstBucket(db)
		if err != nil {
			return err
		}
		if i < 0 {
			i += len(v)
		}
		v[i] ^= 0x01
		return db.Put(k, v, nil)
	}
}

// TestOpenCorrupt checks that Open refuses a state whose bucket records or
// meta record no longer give the stored root.
func TestOpenCorrupt(t *testing.T) {
	tests := []struct {
		name  string
		alter func(db *leveldb.DB) error
	}{
		{"bucket entry hash changed", changeBucketByte(-1)},
		{"bucket key length changed", changeBucketByte(0)},
		// A changed key byte is not detected: the bucket hash commits to the
		// entry hashes, and an entry hash can be checked against its key
		// only by reading the value, which Open does not do. The next write
		// to the key then gives a root that the other validators reject.
		{"bucket deleted", func(db *leveldb.DB) error {
			k, _, err := firstBucket(db)
			if err != nil {
				return err
			}
			return db.Delete(k, nil)
		}},
		{"bucket added", func(db *leveldb.DB) error {
			_, v, err := firstBucket(db)
			if err != nil {
				return err
			}
			// Bucket 0 holds none of the test keys.
			return db.Put([]byte{'b', 0, 0, 0, 0}, v, nil)
		}},
		{"bucket number out of range", func(db *leveldb.DB) error {
			_, v, err := firstBucket(db)
			if err != nil {
				return err
			}
			return db.Put([]byte{'b', 0xff, 0xff, 0xff, 0xff}, v, nil)
		}},
		{"root changed", func(db *leveldb.DB) error {
			m, err := db.Get([]byte("m"), nil)
			if err != nil {
				return err
			}
			m[len(m)-1] ^= 0x01
			return db.Put([]byte("m"), m, nil)
		}},
		{"meta truncated", func(db *leveldb.DB) error {
			m, err := db.Get([]byte("m"), nil)
			if err != nil {
				return err
			}
			return db.Put([]byte("m"), m[:len(m)-1], nil)
		}},
		{"meta deleted", func(db *leveldb.DB) error {
			return db.Delete([]byte("m"), nil)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := committedDir(t)
			alterDB(t, dir, tc.alter)
			s, err := state.Open(dir, state.Options{})
			if err == nil {
				s.Close()
			}
			if err == nil || !strings.Contains(err.Error(), "corrupt") {
				t.Errorf("Open() of a state with %s = %v; want an error saying corrupt", tc.name, err)
			}
		})
	}

	t.Run("unaltered", func(t *testing.T) {
		dir := committedDir(t)
		s, err := state.Open(dir, state.Options{})
		if err != nil {
			t.Fatalf("Open() of an unaltered state = %v; want nil", err)
		}
		s.Close()
	})
}

// TestViewIsolation checks that a view taken before a block keeps reading
// its version while the block is applied and after it is committed.
func TestViewIsolation(t *testing.T) {
	s := state.OpenMemory()
	blocks := testBlocks()
	applyBlock(t, s, blocks[0], nil)
	v1 := s.Committed()
	hash1 := v1.Hash()

	o := state.NewOverlay(s.Working())
	for _, w := range []write{
		{[]byte("k/000"), []byte("changed")},
		{[]byte("k/001"), nil},
		{[]byte("k/999"), []byte("new")},
	} {
		if w.value == nil {
			o.Delete(w.key)
		} else {
			o.Set(w.key, w.value)
		}
	}
	if _, err := s.Apply(o); err != nil {
		t.Fatalf("Apply() = %v; want nil", err)
	}
	if got, _ := s.Working().Get([]byte("k/000")); string(got) != "changed" {
		t.Errorf("Working().Get(k/000) after Apply = %q; want %q", got, "changed")
	}
	check := func(when string, v state.View, want map[string]string) {
		t.Helper()
		for k, w := range want {
			got, err := v.Get([]byte(k))
			if err != nil || string(got) != w || (got == nil) != (w == "") {
				t.Errorf("%s: version %d Get(%q) = %q, %v; want %q", when, v.Version(), k, got, err, w)
			}
		}
	}
	old := map[string]string{"k/000": "v1-0", "k/001": "v1-1", "k/999": ""}
	check("after Apply", v1, old)
	check("after Apply", s.Committed(), old)

	if _, _, err := s.Commit(); err != nil {
		t.Fatalf("Commit() = %v; want nil", err)
	}
	check("after Commit", v1, old)
	check("after Commit", s.Committed(), map[string]string{"k/000": "changed", "k/001": "", "k/999": "new"})
	if v1.Version() != 1 || !bytes.Equal(v1.Hash(), hash1) || bytes.Equal(s.Hash(), hash1) {
		t.Errorf("old view version %d, hash %X, store hash %X; want 1, %X and a new hash", v1.Version(), v1.Hash(), s.Hash(), hash1)
	}
	n := 0
	if err := v1.Iterate([]byte("k/"), func(_, _ []byte) bool { n++; return true }); err != nil || n != 200 {
		t.Errorf("old view Iterate(k/) saw %d keys, %v; want 200, nil", n, err)
	}
}
