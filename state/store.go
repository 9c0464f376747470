package state

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/filter"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/storage"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// Options configure a Store.
type Options struct {
	// NoSync skips fsync on commit. Only benchmarks of the store itself set
	// it. Default false.
	NoSync bool
	// BucketCache is the memory, in bytes, given to decoded buckets, which
	// spare LevelDB reads (see bucketCache). Default DefaultBucketCache;
	// negative for none.
	BucketCache int64
	// Verify checks the stored state in full as it opens, as Verify does,
	// in the same pass that loads the buckets. Default false: the buckets
	// are checked against the root only.
	Verify bool
	// ReadOnly opens the state so that nothing is written to its
	// directory, as an offline check needs: Commit fails, and a state that
	// does not exist, or whose restore was interrupted, is an error.
	// Default false.
	ReadOnly bool
}

// Hash is a state root or one of its parts.
type Hash = [sha256.Size]byte

// Store is the committed state and the block being built on it. It is safe
// for one writer (the block executor) and any number of readers of
// committed views.
type Store struct {
	db    *leveldb.DB
	opts  Options
	tree  *tree
	cache *bucketCache

	// pending holds the writes applied since the last commit, by key (a nil
	// value is a deletion), and byBucket their keys by bucket. Only the
	// block executor touches them.
	pending  map[string][]byte
	byBucket map[uint32][]string
	buckets  map[uint32]bucket // the touched buckets' new entries
	batch    *leveldb.Batch    // the writes of all the above, made by Apply

	mu        sync.RWMutex
	committed *snapshot
}

// Database key prefixes.
const (
	dataPrefix   = 'd' // d KEY → value
	bucketPrefix = 'b' // b BUCKET → the bucket's entries, for non-empty buckets
)

var (
	metaKey      = []byte("m") // version (8 bytes) and root (32 bytes)
	restoringKey = []byte("r") // present while a restore is under way
)

// Open opens or creates the state in dir, and checks that the stored
// bucket hashes give the stored root.
func Open(dir string, opts Options) (*Store, error) {
	o := dbOptions()
	o.ReadOnly, o.ErrorIfMissing = opts.ReadOnly, opts.ReadOnly
	db, err := leveldb.OpenFile(filepath.Join(dir, "state.db"), o)
	if err != nil {
		return nil, fmt.Errorf("open state db: %w", err)
	}
	s, err := open(db, opts)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// dbOptions are LevelDB's options. Most reads are of keys that do not exist
// yet (a new patient's key, an empty bucket), which a Bloom filter answers
// without reading a table. Bucket records are mostly hashes, which do not
// compress. A larger write buffer means fewer, larger compactions.
func dbOptions() *opt.Options {
	return &opt.Options{
		BlockCacheCapacity:  64 << 20,
		Filter:              filter.NewBloomFilter(10),
		Compression:         opt.NoCompression,
		WriteBuffer:         32 << 20,
		CompactionTableSize: 8 << 20,
	}
}

// OpenMemory returns a Store held in memory, for tests and replays.
func OpenMemory() *Store {
	db, err := leveldb.Open(storage.NewMemStorage(), dbOptions())
	if err != nil {
		panic(err) // an in-memory database cannot fail to open
	}
	s, err := open(db, Options{NoSync: true})
	if err != nil {
		panic(err)
	}
	return s
}

func open(db *leveldb.DB, opts Options) (*Store, error) {
	if opts.BucketCache == 0 {
		opts.BucketCache = DefaultBucketCache
	}
	s := &Store{db: db, opts: opts, tree: newTree(), cache: newBucketCache(opts.BucketCache)}
	s.resetPending()
	var version int64
	var root Hash
	meta, err := db.Get(metaKey, nil)
	switch {
	case errors.Is(err, leveldb.ErrNotFound):
		// Nothing was committed, unless the meta record was lost.
		restoring, err := uncommitted(db)
		switch {
		case err == nil && restoring && opts.ReadOnly:
			err = errors.New("open state db: a restore was interrupted; a node opening it clears it")
		case err == nil && restoring:
			err = s.clear()
		}
		if err != nil {
			return nil, err
		}
		s.cache.load(0)
		return s, s.snapshot(0, root)
	case err != nil:
		return nil, fmt.Errorf("read state meta: %w", err)
	case len(meta) != 8+len(root):
		return nil, fmt.Errorf("%w: its meta record has %d bytes", ErrCorrupt, len(meta))
	default:
		version = int64(binary.BigEndian.Uint64(meta))
		copy(root[:], meta[8:])
	}
	s.cache.load(version)
	err = loadBuckets(db, s.tree, opts.Verify, func(b uint32, entries bucket) { s.cache.set(b, version, entries) })
	if err != nil {
		return nil, err
	}
	if got := s.tree.rehash(); got != root {
		return nil, fmt.Errorf("%w: its root %x does not match the stored root %x at version %d", ErrCorrupt, got, root, version)
	}
	return s, s.snapshot(version, root)
}

// ErrCorrupt is the error of a stored state that does not verify.
var ErrCorrupt = errors.New("the state is corrupt")

// loadBuckets sets each stored bucket's hash in t and hands its entries to
// keep. With verify it first rehashes every value, with LevelDB's checksums
// verified, and requires each bucket to hold exactly its values' hashes.
func loadBuckets(db *leveldb.DB, t *tree, verify bool, keep func(b uint32, entries bucket)) error {
	var rebuilt map[uint32]bucket
	ro := &opt.ReadOptions{DontFillCache: true}
	if verify {
		ro.Strict = opt.StrictAll
		rebuilt = map[uint32]bucket{}
		it := db.NewIterator(util.BytesPrefix([]byte{dataPrefix}), ro)
		for it.Next() {
			key := it.Key()[1:]
			b := bucketOf(key)
			rebuilt[b] = append(rebuilt[b], entry{key: string(key), hash: entryHash(key, it.Value())}) // in key order
		}
		it.Release()
		if err := it.Error(); err != nil {
			return fmt.Errorf("read state values: %w", err)
		}
	}
	it := db.NewIterator(util.BytesPrefix([]byte{bucketPrefix}), ro)
	defer it.Release()
	for it.Next() {
		k := it.Key()
		if len(k) != 5 || binary.BigEndian.Uint32(k[1:]) >= numBuckets {
			return fmt.Errorf("%w: bucket record %x", ErrCorrupt, k)
		}
		b := binary.BigEndian.Uint32(k[1:])
		entries, err := decodeBucket(it.Value())
		if err != nil {
			return fmt.Errorf("%w: bucket %d: %w", ErrCorrupt, b, err)
		}
		if verify {
			if err := sameBucket(entries, rebuilt[b]); err != nil {
				return fmt.Errorf("%w: bucket %d: %w", ErrCorrupt, b, err)
			}
			delete(rebuilt, b)
		}
		t.setLeaf(b, entries.hash())
		if keep != nil {
			keep(b, entries)
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("read state buckets: %w", err)
	}
	if len(rebuilt) > 0 {
		first := slices.Min(slices.Collect(maps.Keys(rebuilt)))
		return fmt.Errorf("%w: the value of %s has no bucket record", ErrCorrupt, keyRef(rebuilt[first][0].key))
	}
	return nil
}

// snapshot makes the database's current content the committed view.
func (s *Store) snapshot(version int64, root Hash) error {
	snap, err := s.db.GetSnapshot()
	if err != nil {
		return fmt.Errorf("snapshot state: %w", err)
	}
	v := &snapshot{snap: snap, version: version, root: root, cache: s.cache}
	// A view lives as long as someone reads it; the database snapshot is
	// released when the last reader lets it go.
	runtime.AddCleanup(v, func(s *leveldb.Snapshot) { s.Release() }, snap)
	s.mu.Lock()
	s.committed = v
	s.mu.Unlock()
	return nil
}

func (s *Store) resetPending() {
	s.pending = make(map[string][]byte)
	s.byBucket = make(map[uint32][]string)
	s.buckets = make(map[uint32]bucket)
	s.batch = nil
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// Height returns the last committed version.
func (s *Store) Height() int64 { return s.Committed().Version() }

// Hash returns the last committed root.
func (s *Store) Hash() []byte { return s.Committed().Hash() }

// Committed returns a read-only view of the last committed version. The view
// stays valid and unchanged while later blocks are applied and committed.
func (s *Store) Committed() View {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return View{s.committed}
}

// Working returns a Reader of the committed state plus what Apply has
// written since. Only the block executor may use it.
func (s *Store) Working() Reader { return working{s} }

type working struct{ s *Store }

func (w working) Get(key []byte) ([]byte, error) {
	if v, ok := w.s.pending[string(key)]; ok {
		return v, nil
	}
	return w.s.Committed().Get(key)
}

// Apply adds an overlay's writes to the block being built and returns the
// root the state will have once committed: the app hash. The root does not
// depend on the order of writes.
func (s *Store) Apply(o *Overlay) ([]byte, error) {
	if len(o.writes) == 0 {
		root := s.tree.root()
		return root[:], nil
	}
	touched := make(map[uint32]bool)
	for k, v := range o.writes {
		b := bucketOf([]byte(k))
		if _, ok := s.pending[k]; !ok {
			s.byBucket[b] = append(s.byBucket[b], k)
		}
		s.pending[k] = v
		touched[b] = true
	}
	o.writes = make(map[string][]byte)
	if err := s.rehashBuckets(touched); err != nil {
		return nil, err
	}
	root := s.tree.rehash()
	s.batch = s.prepare()
	return root[:], nil
}

// prepare builds the database writes of the pending changes, ahead of
// Commit, which runs while CometBFT's mempool admits nothing.
func (s *Store) prepare() *leveldb.Batch {
	size := len(metaKey) + 8 + len(Hash{}) + 8 // Commit adds the meta record
	for k, v := range s.pending {
		size += len(k) + len(v) + batchRecord
	}
	for _, entries := range s.buckets {
		size += len(entries)*(len(Hash{})+32) + batchRecord
	}
	batch := leveldb.MakeBatch(size) // growing a batch of thousands of records copies it many times
	for k, v := range s.pending {
		if v == nil {
			batch.Delete(dataKey([]byte(k)))
		} else {
			batch.Put(dataKey([]byte(k)), v)
		}
	}
	for b, entries := range s.buckets {
		if len(entries) == 0 {
			batch.Delete(bucketKey(b))
		} else {
			batch.Put(bucketKey(b), entries.encode())
		}
	}
	return batch
}

// rehashBuckets merges the pending writes into each touched bucket and sets
// its new hash. Reading a bucket is a LevelDB lookup: the buckets are read
// and hashed by several goroutines.
func (s *Store) rehashBuckets(touched map[uint32]bool) error {
	bs := make([]uint32, 0, len(touched))
	for b := range touched {
		bs = append(bs, b)
	}
	merged := make([]bucket, len(bs))
	hashes := make([]Hash, len(bs))
	base := s.Committed()
	workers := min(runtime.GOMAXPROCS(0), 1+len(bs)/64)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(bs); i += workers {
				if merged[i], errs[w] = s.merge(base, bs[i]); errs[w] != nil {
					return
				}
				hashes[i] = merged[i].hash()
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for i, b := range bs {
		s.buckets[b] = merged[i]
		s.tree.setLeaf(b, hashes[i])
	}
	return nil
}

// merge returns bucket b's committed entries with the pending writes that
// fall in it applied.
func (s *Store) merge(base View, b uint32) (bucket, error) {
	entries, ok := s.cache.lookup(b, base.Version())
	if ok {
		entries = slices.Clone(entries) // set changes entries in place
	} else {
		var err error
		if entries, err = base.bucket(b); err != nil {
			return nil, err
		}
	}
	for _, k := range s.byBucket[b] {
		entries = entries.set(k, s.pending[k])
	}
	return entries, nil
}

// bucket reads bucket b from the database.
func (v View) bucket(b uint32) (bucket, error) {
	rec, err := v.v.snap.Get(bucketKey(b), nil)
	runtime.KeepAlive(v.v) // see Get
	if err != nil && !errors.Is(err, leveldb.ErrNotFound) {
		return nil, fmt.Errorf("read state bucket: %w", err)
	}
	entries, err := decodeBucket(rec)
	if err != nil {
		return nil, fmt.Errorf("state bucket %d is corrupt: %w", b, err)
	}
	return entries, nil
}

// Commit makes the applied writes durable as the next version, atomically,
// and returns its root and version.
func (s *Store) Commit() ([]byte, int64, error) {
	version := s.Height() + 1
	root := s.tree.root()
	batch := s.batch
	if batch == nil {
		batch = new(leveldb.Batch)
	}
	meta := binary.BigEndian.AppendUint64(nil, uint64(version))
	batch.Put(metaKey, append(meta, root[:]...))
	if err := s.db.Write(batch, &opt.WriteOptions{Sync: !s.opts.NoSync}); err != nil {
		return nil, 0, fmt.Errorf("commit state: %w", err)
	}
	for b, entries := range s.buckets {
		s.cache.set(b, version, entries)
	}
	s.resetPending()
	return root[:], version, s.snapshot(version, root)
}

// View is a read-only view of one committed version.
type View struct{ v *snapshot }

type snapshot struct {
	snap    *leveldb.Snapshot
	version int64
	root    Hash
	cache   *bucketCache
}

// Version returns the view's version (block height).
func (v View) Version() int64 { return v.v.version }

// Hash returns the view's root hash; an empty state's is all zeros.
func (v View) Hash() []byte { return slices.Clone(v.v.root[:]) }

// Get returns the value at key, or nil if there is none.
func (v View) Get(key []byte) ([]byte, error) {
	if v.v.cache.absent(key, v.v.version) {
		return nil, nil
	}
	val, err := v.v.snap.Get(dataKey(key), nil)
	// The view, not the database snapshot, carries the cleanup that
	// releases the snapshot: keep it reachable until the read is done.
	runtime.KeepAlive(v.v)
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	return val, nil
}

// Iterate calls fn for each key with the prefix, in key order, until fn
// returns false.
func (v View) Iterate(prefix []byte, fn func(key, value []byte) bool) error {
	it := v.v.snap.NewIterator(util.BytesPrefix(dataKey(prefix)), nil)
	runtime.KeepAlive(v.v) // see Get
	defer it.Release()
	for it.Next() {
		if !fn(it.Key()[1:], it.Value()) {
			break
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("iterate state: %w", err)
	}
	return nil
}

// batchRecord is what a LevelDB batch adds to a record's key and value, at
// most: a type, two lengths, and a key prefix.
const batchRecord = 1 + 2*binary.MaxVarintLen32 + 5

func dataKey(key []byte) []byte {
	return append([]byte{dataPrefix}, key...)
}

func bucketKey(b uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{bucketPrefix}, b)
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
