package auditdb

import (
	"fmt"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/transparency-dev/merkle/compact"

	"github.com/careledger/careledger/audit"
)

// Restorer rebuilds a node's copy of the log from its leaves, received in
// order from a snapshot (state sync): the leaves, the tree nodes and the
// indexes, all derived here from the leaves alone. The caller checks the
// log's size and root against the restored state before Finish.
type Restorer struct {
	s      *Store
	log    *audit.Log
	batch  *leveldb.Batch
	height int64 // of the last leaf added
}

// Restore empties the store and begins restoring it.
func (s *Store) Restore() (*Restorer, error) {
	if err := s.clear(); err != nil {
		return nil, err
	}
	return &Restorer{s: s, log: audit.NewLog(), batch: new(leveldb.Batch)}, nil
}

// clear deletes every record.
func (s *Store) clear() error {
	s.mu.Lock()
	s.upper = map[compact.NodeID][]byte{}
	s.mu.Unlock()
	it := s.db.NewIterator(nil, nil)
	defer it.Release()
	batch := new(leveldb.Batch)
	for it.Next() {
		if batch.Delete(it.Key()); batch.Len() >= restoreBatch {
			if err := s.db.Write(batch, nil); err != nil {
				return fmt.Errorf("clear audit log: %w", err)
			}
			batch.Reset()
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("clear audit log: %w", err)
	}
	return s.db.Write(batch, nil)
}

// restoreBatch is how many records a restore writes at once.
const restoreBatch = 16 << 10

// Add adds the next leaf, to be written by the next Flush: an error from
// Add is the snapshot's, one from Flush this node's storage's.
func (r *Restorer) Add(leaf []byte) error {
	e, err := audit.DecodeEvent(leaf)
	if err != nil {
		return fmt.Errorf("restore audit leaf %d: %w", r.log.Size(), err)
	}
	if e.Height < r.height {
		return fmt.Errorf("restore audit leaf %d: height %d after %d", r.log.Size(), e.Height, r.height)
	}
	r.s.putEvent(r.batch, r.log.Size(), e, leaf, e.Height != r.height)
	r.height = e.Height
	if err := r.log.Append(audit.LeafHash(leaf), func(level uint, index uint64, hash []byte) {
		putNode(r.batch, level, index, hash)
	}); err != nil {
		return err
	}
	return nil
}

// Flush writes the leaves added since the last Flush, with their nodes and
// indexes.
func (r *Restorer) Flush() error {
	if err := r.s.db.Write(r.batch, nil); err != nil {
		return fmt.Errorf("restore audit log: %w", err)
	}
	r.batch.Reset()
	return nil
}

// Log returns the log of the leaves added so far.
func (r *Restorer) Log() *audit.Log { return r.log }

// Finish writes the last leaves and the checkpoint after block height,
// whose state root is stateRoot.
func (r *Restorer) Finish(height int64, stateRoot []byte) error {
	root, err := r.log.Root()
	if err != nil {
		return err
	}
	putCheckpoint(r.batch, height, r.log.Size(), root, stateRoot)
	if err := r.s.db.Write(r.batch, &opt.WriteOptions{Sync: true}); err != nil {
		return fmt.Errorf("restore audit log: %w", err)
	}
	return nil
}

// Abort removes what the restore wrote.
func (r *Restorer) Abort() error { return r.s.clear() }
