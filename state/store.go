package state

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	dbm "github.com/cosmos/cosmos-db"
	"github.com/cosmos/iavl"
	idb "github.com/cosmos/iavl/db"
)

// Options configure a Store.
type Options struct {
	// CacheNodes is the number of tree nodes kept in memory. Default 1,000,000.
	CacheNodes int
	// KeepVersions is how many recent versions stay readable; older ones are
	// pruned. Zero keeps every version. Default 0.
	KeepVersions int64
	// NoSync skips fsync on commit. Only benchmarks of the tree itself set it.
	NoSync bool
}

func (o *Options) ensureDefaults() {
	if o.CacheNodes == 0 {
		o.CacheNodes = 1_000_000
	}
}

// Store is the committed state. It is safe for one writer (the block being
// executed) and any number of readers of committed versions.
type Store struct {
	db   dbm.DB
	tree *iavl.MutableTree
	opts Options

	mu        sync.RWMutex
	committed *iavl.ImmutableTree
}

// Open opens or creates the state in dir.
func Open(dir string, opts Options) (*Store, error) {
	opts.ensureDefaults()
	db, err := dbm.NewGoLevelDB("state", dir, nil)
	if err != nil {
		return nil, fmt.Errorf("open state db: %w", err)
	}
	tree := iavl.NewMutableTree(idb.NewWrapper(db), opts.CacheNodes, true, iavl.NewNopLogger(),
		iavl.SyncOption(!opts.NoSync), iavl.InitialVersionOption(1))
	if _, err := tree.Load(); err != nil {
		db.Close()
		return nil, fmt.Errorf("load state tree: %w", err)
	}
	s := &Store{db: db, tree: tree, opts: opts}
	if err := s.refreshCommitted(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// OpenMemory returns a Store held in memory, for tests and replays.
func OpenMemory() *Store {
	db := dbm.NewMemDB()
	tree := iavl.NewMutableTree(idb.NewWrapper(db), 100_000, true, iavl.NewNopLogger(), iavl.InitialVersionOption(1))
	s := &Store{db: db, tree: tree}
	if err := s.refreshCommitted(); err != nil {
		panic(err) // an empty in-memory tree cannot fail to load
	}
	return s
}

func (s *Store) refreshCommitted() error {
	v := s.tree.Version()
	var ct *iavl.ImmutableTree
	if v == 0 {
		ct = iavl.NewImmutableTree(idb.NewWrapper(dbm.NewMemDB()), 0, true, iavl.NewNopLogger())
	} else {
		var err error
		if ct, err = s.tree.GetImmutable(v); err != nil {
			return fmt.Errorf("read state version %d: %w", v, err)
		}
	}
	s.mu.Lock()
	s.committed = ct
	s.mu.Unlock()
	return nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Height returns the last committed version, which is the last committed
// block height (zero before the first block).
func (s *Store) Height() int64 { return s.Committed().Version() }

// Hash returns the root hash of the last committed version.
func (s *Store) Hash() []byte { return s.Committed().Hash() }

// Committed returns a read-only view of the last committed version. The view
// stays valid and unchanged while later blocks are applied.
func (s *Store) Committed() View {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return View{s.committed}
}

// Apply writes an overlay's buffered changes into the working tree, in sorted
// key order, and returns the working root hash: the app hash the block will
// have once committed.
func (s *Store) Apply(o *Overlay) ([]byte, error) {
	keys := make([]string, 0, len(o.writes))
	for k := range o.writes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := o.writes[k]
		var err error
		if v == nil {
			_, _, err = s.tree.Remove([]byte(k))
		} else {
			_, err = s.tree.Set([]byte(k), v)
		}
		if err != nil {
			return nil, fmt.Errorf("apply write: %w", err)
		}
	}
	o.writes = make(map[string][]byte)
	return s.tree.WorkingHash(), nil
}

// Commit persists the working tree as the next version and returns its hash.
func (s *Store) Commit() ([]byte, int64, error) {
	hash, version, err := s.tree.SaveVersion()
	if err != nil {
		return nil, 0, fmt.Errorf("save state version: %w", err)
	}
	if k := s.opts.KeepVersions; k > 0 && version > k {
		if err := s.tree.DeleteVersionsTo(version - k); err != nil {
			return nil, 0, fmt.Errorf("prune state: %w", err)
		}
	}
	return hash, version, s.refreshCommitted()
}

// View is a read-only view of one committed version.
type View struct {
	tree *iavl.ImmutableTree
}

// Version returns the view's version (block height).
func (v View) Version() int64 { return v.tree.Version() }

// Hash returns the view's root hash.
func (v View) Hash() []byte { return v.tree.Hash() }

// Get returns the value at key, or nil if there is none.
func (v View) Get(key []byte) ([]byte, error) { return v.tree.Get(key) }

// Iterate calls fn for each key with the prefix, in key order, until fn
// returns false.
func (v View) Iterate(prefix []byte, fn func(key, value []byte) bool) error {
	it, err := v.tree.Iterator(prefix, prefixEnd(prefix), true)
	if err != nil {
		return fmt.Errorf("iterate state: %w", err)
	}
	defer it.Close()
	for ; it.Valid(); it.Next() {
		if !fn(it.Key(), it.Value()) {
			break
		}
	}
	return it.Error()
}

// prefixEnd returns the smallest key greater than every key with prefix.
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// Reader reads state: a View, or an Overlay over one.
type Reader interface {
	Get(key []byte) ([]byte, error)
}

// Overlay buffers writes over a Reader. A nil value marks a deletion.
type Overlay struct {
	parent Reader
	writes map[string][]byte
}

// NewOverlay returns an empty overlay over parent.
func NewOverlay(parent Reader) *Overlay {
	return &Overlay{parent: parent, writes: make(map[string][]byte)}
}

// Get returns the buffered value, or the parent's.
func (o *Overlay) Get(key []byte) ([]byte, error) {
	if v, ok := o.writes[string(key)]; ok {
		return v, nil
	}
	return o.parent.Get(key)
}

// Set buffers a write. Empty values are stored as empty, not deleted.
func (o *Overlay) Set(key, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	o.writes[string(key)] = value
	return nil
}

// Delete buffers a deletion.
func (o *Overlay) Delete(key []byte) error {
	o.writes[string(key)] = nil
	return nil
}

// Child returns an overlay over o, whose writes reach o only on Flush.
func (o *Overlay) Child() *Overlay { return NewOverlay(o) }

// Flush moves the writes of o into its parent, which must be an Overlay.
func (o *Overlay) Flush() error {
	p, ok := o.parent.(*Overlay)
	if !ok {
		return errors.New("flush overlay: parent is not an overlay")
	}
	for k, v := range o.writes {
		p.writes[k] = v
	}
	o.writes = make(map[string][]byte)
	return nil
}

// Len returns the number of buffered writes.
func (o *Overlay) Len() int { return len(o.writes) }

// Working returns a Reader of the working tree: the committed state plus
// what Apply has written since. Only the block executor may use it.
func (s *Store) Working() Reader { return s.tree }
