package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
)

// Restorer fills an empty store with a snapshot's entries, received in key
// order (state sync). Nothing it writes counts until Commit: a store
// reopened before then is empty again.
type Restorer struct {
	s       *Store
	batch   *leveldb.Batch
	buckets []bucket // by bucket number
	last    []byte
	root    *Hash // once computed, until the next Add
}

// Restore begins restoring into s, which must have committed nothing.
// Whatever an interrupted restore left is removed first.
func (s *Store) Restore() (*Restorer, error) {
	if s.Height() != 0 || len(s.pending) != 0 {
		return nil, errors.New("restore state: the store is not empty")
	}
	if err := s.clear(); err != nil {
		return nil, err
	}
	s.tree = newTree()
	if err := s.db.Put(restoringKey, nil, &opt.WriteOptions{Sync: !s.opts.NoSync}); err != nil {
		return nil, fmt.Errorf("restore state: %w", err)
	}
	return &Restorer{s: s, batch: new(leveldb.Batch), buckets: make([]bucket, numBuckets)}, nil
}

// uncommitted inspects a store without a version: an empty one, or one an
// interrupted restore left (restoring), which Open clears. Other records
// mean the version was lost.
func uncommitted(db *leveldb.DB) (restoring bool, err error) {
	if restoring, err = db.Has(restoringKey, nil); restoring || err != nil {
		return restoring, err
	}
	it := db.NewIterator(nil, nil)
	defer it.Release()
	if it.Next() {
		return false, fmt.Errorf("%w: it has records but no version", ErrCorrupt)
	}
	return false, it.Error()
}

// clear deletes every record of an uncommitted store.
func (s *Store) clear() error {
	it := s.db.NewIterator(nil, nil)
	defer it.Release()
	batch := new(leveldb.Batch)
	for it.Next() {
		if batch.Delete(it.Key()); batch.Len() >= restoreBatch {
			if err := s.db.Write(batch, nil); err != nil {
				return fmt.Errorf("clear state: %w", err)
			}
			batch.Reset()
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("clear state: %w", err)
	}
	return s.db.Write(batch, nil)
}

// restoreBatch is how many records a restore writes at once.
const restoreBatch = 16 << 10

// Add adds an entry, to be written by the next Flush. Keys must come in
// strictly increasing order, and no value is nil: an error from Add is the
// snapshot's, one from Flush this node's storage's.
func (r *Restorer) Add(key, value []byte) error {
	if len(key) == 0 || value == nil {
		return errors.New("restore state: empty key or missing value")
	}
	if bytes.Compare(key, r.last) <= 0 {
		return fmt.Errorf("restore state: key %s is not after %s", keyRef(string(key)), keyRef(string(r.last)))
	}
	r.last = append(r.last[:0], key...)
	r.root = nil
	b := bucketOf(key)
	r.buckets[b] = append(r.buckets[b], entry{key: string(key), hash: entryHash(key, value)})
	r.batch.Put(dataKey(key), value)
	return nil
}

// Flush writes the entries added since the last Flush.
func (r *Restorer) Flush() error {
	if err := r.s.db.Write(r.batch, nil); err != nil {
		return fmt.Errorf("restore state: %w", err)
	}
	r.batch.Reset()
	return nil
}

// Root returns the root of the entries added so far: what the state's
// root will be once committed.
func (r *Restorer) Root() []byte {
	if r.root == nil {
		for b, entries := range r.buckets {
			r.s.tree.setLeaf(uint32(b), entries.hash())
		}
		root := r.s.tree.rehash()
		r.root = &root
	}
	return r.root[:]
}

// Commit writes the buckets and the root, durably, and makes the restored
// entries the committed state at version.
func (r *Restorer) Commit(version int64) error {
	if version <= 0 {
		return fmt.Errorf("restore state: version %d", version)
	}
	root := Hash(r.Root())
	for b, entries := range r.buckets {
		if len(entries) > 0 {
			if r.batch.Put(bucketKey(uint32(b)), entries.encode()); r.batch.Len() >= restoreBatch {
				if err := r.Flush(); err != nil {
					return err
				}
			}
		}
	}
	// The version comes with the last records, and ends the restore.
	meta := binary.BigEndian.AppendUint64(nil, uint64(version))
	r.batch.Put(metaKey, append(meta, root[:]...))
	r.batch.Delete(restoringKey)
	if err := r.s.db.Write(r.batch, &opt.WriteOptions{Sync: !r.s.opts.NoSync}); err != nil {
		return fmt.Errorf("restore state: %w", err)
	}
	r.s.cache.load(version)
	for b, entries := range r.buckets {
		if len(entries) > 0 {
			r.s.cache.set(uint32(b), version, entries)
		}
	}
	r.buckets = nil
	return r.s.snapshot(version, root)
}

// Abort removes what the restore wrote: the store is empty again.
func (r *Restorer) Abort() error {
	r.buckets = nil
	r.s.tree = newTree()
	return r.s.clear()
}
