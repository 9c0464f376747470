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
)

// Verify checks a stored state in full, with no trust in its bucket
// records: it rehashes every value, rebuilds every bucket and the tree,
// and compares them with the stored buckets and root. It returns the
// committed version and root (0 and nil if none), or an error wrapping
// ErrCorrupt that names the first key, bucket or root that does not
// verify. dir is the directory Open takes; the store must not be open
// elsewhere. Open with Options.Verify checks the same as it opens.
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
		return 0, nil, fmt.Errorf("%w: its meta record is missing or corrupt: %v", ErrCorrupt, err)
	}
	version, root = int64(binary.BigEndian.Uint64(meta)), meta[8:]
	t := newTree()
	if err := loadBuckets(db, t, true, nil); err != nil {
		return version, root, err
	}
	if got := t.rehash(); !bytes.Equal(got[:], root) {
		return version, root, fmt.Errorf("%w: its root %x does not match the stored root %x at version %d", ErrCorrupt, got, root, version)
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
