package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// Verify checks a stored state in full, with no trust in its bucket
// records: it rehashes every value, rebuilds every bucket and the tree,
// and compares them with the stored buckets and root. It returns the
// committed version and root (0 and nil if none), or an
// error naming the first key, bucket or root that does not verify. dir is
// the directory Open takes; the store must not be open elsewhere.
func Verify(dir string) (version int64, root []byte, err error) {
	db, err := leveldb.OpenFile(filepath.Join(dir, "state.db"), &opt.Options{ReadOnly: true, Strict: opt.StrictAll, ErrorIfMissing: true})
	if err != nil {
		return 0, nil, fmt.Errorf("open state: %w", err)
	}
	defer db.Close()
	meta, err := db.Get(metaKey, nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		_, err := uncommitted(db)
		return 0, nil, err
	}
	if err != nil || len(meta) != 8+sha256Size {
		return 0, nil, fmt.Errorf("state meta is missing or corrupt: %v", err)
	}
	version, root = int64(binary.BigEndian.Uint64(meta)), meta[8:]

	rebuilt := map[uint32]bucket{}
	it := db.NewIterator(util.BytesPrefix([]byte{dataPrefix}), nil)
	for it.Next() {
		key := it.Key()[1:]
		b := bucketOf(key)
		rebuilt[b] = append(rebuilt[b], entry{key: string(key), hash: entryHash(key, it.Value())}) // in key order
	}
	it.Release()
	if err := it.Error(); err != nil {
		return version, root, fmt.Errorf("read state values: %w", err)
	}
	t := newTree()
	seen := map[uint32]bool{}
	it = db.NewIterator(util.BytesPrefix([]byte{bucketPrefix}), nil)
	defer it.Release()
	for it.Next() {
		k := it.Key()
		if len(k) != 5 || binary.BigEndian.Uint32(k[1:]) >= numBuckets {
			return version, root, fmt.Errorf("state bucket record %x is corrupt", k)
		}
		n := binary.BigEndian.Uint32(k[1:])
		stored, err := decodeBucket(it.Value())
		if err != nil {
			return version, root, fmt.Errorf("state bucket %d is corrupt: %w", n, err)
		}
		if err := sameBucket(stored, rebuilt[n]); err != nil {
			return version, root, fmt.Errorf("state bucket %d: %w", n, err)
		}
		seen[n] = true
		t.setLeaf(n, stored.hash())
	}
	if err := it.Error(); err != nil {
		return version, root, fmt.Errorf("read state buckets: %w", err)
	}
	for n, b := range rebuilt {
		if !seen[n] {
			return version, root, fmt.Errorf("state value %s has no bucket record", keyRef(b[0].key))
		}
	}
	if got := t.rehash(); !bytes.Equal(got[:], root) {
		return version, root, fmt.Errorf("state root %x does not match the stored root %x at version %d", got, root, version)
	}
	return version, root, nil
}

const sha256Size = 32

// keyRef names a key in an error without its content: keys can hold a
// patient's pseudonym and a record's identifiers, and these errors reach the
// node's start-up log. The prefix says which contract's key it is; the hash
// finds it with a dump of the state.
func keyRef(key string) string {
	h := sha256.Sum256([]byte(key))
	return fmt.Sprintf("%q… (SHA-256 %x…)", key[:min(len(key), 2)], h[:8])
}

func sameBucket(stored, rebuilt bucket) error {
	for i, e := range stored {
		if i >= len(rebuilt) || rebuilt[i].key != e.key {
			return fmt.Errorf("its entry %s has no stored value", keyRef(e.key))
		}
		if rebuilt[i].hash != e.hash {
			return fmt.Errorf("the value of %s does not match its hash", keyRef(e.key))
		}
	}
	if len(rebuilt) > len(stored) {
		return fmt.Errorf("the value of %s is not in its bucket", keyRef(rebuilt[len(stored)].key))
	}
	return nil
}
