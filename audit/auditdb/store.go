package auditdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/filter"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/util"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/careledger/careledger/audit"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// Store keeps a node's copy of the log: every leaf, every tree node, and
// the log's size and root after each block, in one LevelDB. It is written in
// FinalizeBlock, before the block's state commits; a block applied again
// after a crash writes the same bytes.
type Store struct {
	db    *leveldb.DB
	types []string // Options.IndexedTypes

	// upper caches the nodes of level upperLevel and above that proofs have
	// read: a 2^upperLevel-th of the tree, which every proof climbs through.
	mu    sync.RWMutex
	upper map[compact.NodeID][]byte
}

// rangeFactory builds compact ranges from stored nodes, hashing as the
// log does.
var rangeFactory = compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}

// upperLevel is the lowest level whose nodes stay in memory once read: a
// log of ten million events has forty thousand of them (about 3 MB).
const upperLevel = 8

// ErrNotFound reports an index or height beyond the log.
var ErrNotFound = errors.New("not in the log")

// Options configure a Store.
type Options struct {
	// IndexedTypes are the event types that TypeEvents finds: the rare
	// ones a node looks for (a node passes erasures, which it carries out
	// again when it starts, and break-the-glass accesses). Indexing every
	// type would cost a write per event. There is no default: nil indexes
	// no type, and TypeEvents then finds nothing. Events already written
	// are not indexed again when the set changes; a rebuild (or a restore
	// from a snapshot) indexes the whole log with the set it is given.
	IndexedTypes []string
	// ReadOnly opens the store so that nothing is written to its
	// directory, as an offline check needs: Write fails, and a store that
	// does not exist is an error. Default false.
	ReadOnly bool
}

// Validate reports an indexed type that is empty or holds a NUL byte,
// which ends a type in the index's keys.
func (o Options) Validate() error {
	for _, t := range o.IndexedTypes {
		if t == "" || strings.IndexByte(t, 0) >= 0 {
			return fmt.Errorf("audit log options: indexed event type %q: empty or with a NUL byte", t)
		}
	}
	return nil
}

// Open opens the store at path.
func Open(path string, o Options) (*Store, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	// A log of millions of events is a thousand table files: keep them
	// open, and the upper tree nodes that every proof reads in cache. The
	// account index spreads each block's writes over the whole key range,
	// so every flush from memory overlaps all of level 1, which LevelDB
	// rewrites: a large write buffer makes that rarer (with the default
	// 4 MiB, a loaded node spent a core for a second on it every few
	// seconds).
	db, err := leveldb.OpenFile(path, &opt.Options{
		Filter:                 filter.NewBloomFilter(10),
		OpenFilesCacheCapacity: 4096,
		BlockCacheCapacity:     64 << 20,
		WriteBuffer:            32 << 20,
		CompactionTableSize:    8 << 20,
		ReadOnly:               o.ReadOnly,
		ErrorIfMissing:         o.ReadOnly,
	})
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	return &Store{db: db, types: slices.Clone(o.IndexedTypes), upper: map[compact.NodeID][]byte{}}, nil
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

func leafKey(i uint64) []byte { return binary.BigEndian.AppendUint64([]byte("l"), i) }
func nodeKey(level uint, i uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{'n', byte(level)}, i)
}
func accountKey(a tx.Address, i uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte("a"), a[:]...), i)
}
func orgKey(org string, i uint64) []byte {
	return binary.BigEndian.AppendUint64(append(append([]byte("o"), org...), 0), i)
}

func typeKey(typ string, i uint64) []byte {
	return binary.BigEndian.AppendUint64(append(append([]byte("k"), typ...), 0), i)
}
func timeKey(t time.Time, height int64) []byte {
	k := binary.BigEndian.AppendUint64([]byte("t"), uint64(t.UnixNano()))
	return binary.BigEndian.AppendUint64(k, uint64(height))
}
func checkpointKey(height int64) []byte {
	return binary.BigEndian.AppendUint64([]byte("h"), uint64(height))
}

// Write stores a block's leaves, nodes and checkpoint, and indexes each
// event by the accounts it concerns, in one batch.
func (s *Store) Write(b *audit.Block) error {
	// Growing a batch of thousands of records copies it many times.
	size := 128 + 64*len(b.Nodes)
	for _, leaf := range b.Leaves {
		size += 256 + len(leaf)
	}
	batch := leveldb.MakeBatch(size)
	for i := range b.Events {
		e := &b.Events[i]
		var leaf []byte
		if i < len(b.Leaves) {
			leaf = b.Leaves[i]
		} else {
			leaf = e.Encode()
		}
		s.putEvent(batch, b.First+uint64(i), e, leaf, i == 0)
	}
	for _, n := range b.Nodes {
		putNode(batch, n.Level, n.Index, n.Hash)
	}
	putCheckpoint(batch, b.Height, b.Size, b.Root, b.StateRoot)
	return s.db.Write(batch, nil)
}

func putCheckpoint(batch *leveldb.Batch, height int64, size uint64, root, stateRoot []byte) {
	w := wire.NewWriter(80)
	w.Uint(size)
	w.Raw(root)
	w.Blob(stateRoot)
	batch.Put(checkpointKey(height), w.Bytes())
}

// putEvent stores leaf idx and indexes its event by the accounts and
// organizations it names, its type if one of s.types, and, if it is its
// block's first, its block time.
func (s *Store) putEvent(batch *leveldb.Batch, idx uint64, e *audit.Event, leaf []byte, first bool) {
	batch.Put(leafKey(idx), leaf)
	for _, a := range e.Event.Accounts {
		batch.Put(accountKey(a, idx), nil)
	}
	for _, a := range e.Event.Attrs {
		if a.Key == "custodian" || a.Key == "org" {
			batch.Put(orgKey(a.Value, idx), nil)
		}
	}
	if slices.Contains(s.types, e.Event.Type) {
		batch.Put(typeKey(e.Event.Type, idx), nil)
	}
	if first {
		batch.Put(timeKey(e.Time, e.Height), binary.BigEndian.AppendUint64(nil, idx))
	}
}

// putNode stores a tree node above the leaves (a leaf's hash is the hash
// of the stored leaf).
func putNode(batch *leveldb.Batch, level uint, index uint64, hash []byte) {
	if level > 0 {
		batch.Put(nodeKey(level, index), hash)
	}
}

// Leaf returns the leaf at index i.
func (s *Store) Leaf(i uint64) ([]byte, error) {
	b, err := s.db.Get(leafKey(i), nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil, ErrNotFound
	}
	return b, err
}

// Leaves calls fn with each leaf from index from up to, not including, to,
// in order: one pass over the records, which a snapshot's export of
// millions of leaves needs, without filling the block cache that proofs
// use.
func (s *Store) Leaves(from, to uint64, fn func(leaf []byte) error) error {
	it := s.db.NewIterator(&util.Range{Start: leafKey(from), Limit: leafKey(to)}, &opt.ReadOptions{DontFillCache: true})
	defer it.Release()
	next := from
	for ; it.Next(); next++ {
		if i := binary.BigEndian.Uint64(it.Key()[1:]); i != next {
			return fmt.Errorf("audit leaf %d: %w", next, ErrNotFound)
		}
		if err := fn(it.Value()); err != nil {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("read audit leaves: %w", err)
	}
	if next < to {
		return fmt.Errorf("audit leaf %d: %w", next, ErrNotFound)
	}
	return nil
}

// AccountEvents returns the indexes of the events that concern account a,
// in log order, from index from on, at most limit of them.
func (s *Store) AccountEvents(a tx.Address, from uint64, limit int) ([]uint64, error) {
	return s.indexed(append([]byte("a"), a[:]...), from, limit)
}

// OrgEvents returns the indexes of the events that name organization org
// (as custodian or member's organization), in log order, from index from.
func (s *Store) OrgEvents(org string, from uint64, limit int) ([]uint64, error) {
	return s.indexed(append(append([]byte("o"), org...), 0), from, limit)
}

// TypeEvents returns the indexes of the events of type typ, one of
// Options.IndexedTypes, in log order, from index from.
func (s *Store) TypeEvents(typ string, from uint64, limit int) ([]uint64, error) {
	return s.indexed(append(append([]byte("k"), typ...), 0), from, limit)
}

// FirstAt returns the index of the first event at or after time t (the log
// size if there is none; t must be after 1970): events are in block order,
// and block times only grow.
func (s *Store) FirstAt(t time.Time) (uint64, error) {
	it := s.db.NewIterator(&util.Range{Start: timeKey(t, 0), Limit: []byte("u")}, nil)
	defer it.Release()
	if it.Next() {
		return binary.BigEndian.Uint64(it.Value()), nil
	}
	if err := it.Error(); err != nil {
		return 0, err
	}
	return s.size()
}

// size returns the log's size after the last checkpoint.
func (s *Store) size() (uint64, error) {
	it := s.db.NewIterator(util.BytesPrefix([]byte("h")), nil)
	defer it.Release()
	if !it.Last() {
		return 0, it.Error()
	}
	return wire.NewReader(it.Value()).Uint(), nil
}

func (s *Store) indexed(prefix []byte, from uint64, limit int) ([]uint64, error) {
	it := s.db.NewIterator(&util.Range{Start: binary.BigEndian.AppendUint64(bytes.Clone(prefix), from), Limit: util.BytesPrefix(prefix).Limit}, nil)
	defer it.Release()
	var out []uint64
	for it.Next() && len(out) < limit {
		out = append(out, binary.BigEndian.Uint64(it.Key()[len(prefix):]))
	}
	return out, it.Error()
}

// Checkpoint returns the log's checkpoint after block height.
func (s *Store) Checkpoint(height int64) (*audit.Checkpoint, error) {
	b, err := s.db.Get(checkpointKey(height), nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	r := wire.NewReader(b)
	c := &audit.Checkpoint{Height: height, Size: r.Uint(), Root: r.Raw(32), StateRoot: r.Blob(64)}
	return c, r.Done()
}

func (s *Store) node(id compact.NodeID) ([]byte, error) {
	if id.Level == 0 {
		leaf, err := s.Leaf(id.Index)
		if err != nil {
			return nil, fmt.Errorf("audit log leaf %d: %w", id.Index, err)
		}
		return audit.LeafHash(leaf), nil
	}
	if id.Level >= upperLevel {
		s.mu.RLock()
		h, ok := s.upper[id]
		s.mu.RUnlock()
		if ok {
			return h, nil
		}
	}
	h, err := s.db.Get(nodeKey(id.Level, id.Index), nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil, fmt.Errorf("audit log node %d/%d: %w", id.Level, id.Index, ErrNotFound)
	}
	if err == nil && id.Level >= upperLevel {
		s.mu.Lock()
		s.upper[id] = h // a stored node never changes
		s.mu.Unlock()
	}
	return h, err
}

// nodeCache keeps the tree nodes one task reads: the inclusion proofs of
// neighbouring leaves share all but their lowest nodes.
type nodeCache map[compact.NodeID][]byte

func (s *Store) nodes(ids []compact.NodeID, cache nodeCache) ([][]byte, error) {
	hs := make([][]byte, len(ids))
	for i, id := range ids {
		if h, ok := cache[id]; ok {
			hs[i] = h
			continue
		}
		var err error
		if hs[i], err = s.node(id); err != nil {
			return nil, err
		}
		if cache != nil {
			cache[id] = hs[i]
		}
	}
	return hs, nil
}

// Node returns a stored tree node above the leaves: the hash of the
// 2^level leaves from index<<level.
func (s *Store) Node(level uint, index uint64) ([]byte, error) {
	if level == 0 {
		return nil, errors.New("leaves' hashes are not stored: hash the leaf")
	}
	return s.node(compact.NewNodeID(level, index))
}

// Root returns the root of the log's first size leaves.
func (s *Store) Root(size uint64) ([]byte, error) {
	if size == 0 {
		return rfc6962.DefaultHasher.EmptyRoot(), nil
	}
	hs, err := s.nodes(compact.RangeNodes(0, size, nil), nil)
	if err != nil {
		return nil, err
	}
	r, err := rangeFactory.NewRange(0, size, hs)
	if err != nil {
		return nil, err
	}
	return r.GetRootHash(nil)
}

// InclusionProof returns the proof that leaf index is in the log of size
// leaves.
func (s *Store) InclusionProof(index, size uint64) ([][]byte, error) {
	return s.inclusionProof(index, size, nil)
}

func (s *Store) inclusionProof(index, size uint64, cache nodeCache) ([][]byte, error) {
	if index >= size {
		return nil, fmt.Errorf("leaf %d is not in a log of %d: %w", index, size, ErrNotFound)
	}
	n, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, err
	}
	hs, err := s.nodes(n.IDs, cache)
	if err != nil {
		return nil, err
	}
	return n.Rehash(hs, rfc6962.DefaultHasher.HashChildren)
}

// Cached is a view of the store for one task that reads many proofs, such
// as a disclosure report: its InclusionProof keeps the tree nodes it reads,
// since the inclusion proofs of neighbouring leaves share all but their
// lowest nodes. It is not safe for concurrent use; drop it when the task
// is done.
type Cached struct {
	*Store
	cache nodeCache
}

// Cached returns a view of s for one task.
func (s *Store) Cached() *Cached { return &Cached{s, nodeCache{}} }

// InclusionProof returns the proof that leaf index is in the log of size
// leaves, reading the nodes that earlier proofs read from the view's cache.
func (c *Cached) InclusionProof(index, size uint64) ([][]byte, error) {
	return c.Store.inclusionProof(index, size, c.cache)
}

// ConsistencyProof returns the proof that the log of size1 leaves is a
// prefix of the log of size2.
func (s *Store) ConsistencyProof(size1, size2 uint64) ([][]byte, error) {
	n, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, err
	}
	hs, err := s.nodes(n.IDs, nil)
	if err != nil {
		return nil, err
	}
	return n.Rehash(hs, rfc6962.DefaultHasher.HashChildren)
}
