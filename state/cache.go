package state

import (
	"slices"
	"strings"
	"sync/atomic"
)

// DefaultBucketCache is the memory Open gives to decoded buckets unless
// Options say otherwise: enough for the buckets of a state of about two
// million keys.
const DefaultBucketCache = 256 << 20

// bucketCache holds decoded buckets in memory. Most reads are of keys that
// do not exist yet (a new patient's key, a new record), and a block rewrites
// the buckets its writes fall in: with the bucket at hand, neither needs a
// LevelDB read. Buckets fall in the cache as the state is opened and as
// blocks commit, until its memory budget is spent; buckets are spread
// evenly by hash, so which ones it keeps does not matter.
//
// Readers of any committed version use it without locks: a slot holds an
// immutable cachedBucket, valid for views at or after the version that last
// changed the bucket. Only the store's writer changes slots, before it
// publishes the version that changed them.
type bucketCache struct {
	slots  []atomic.Pointer[cachedBucket] // by bucket number
	budget int64
	used   int64 // only the writer reads and writes it
}

type cachedBucket struct {
	since   int64  // the version that last changed the bucket, or was opened
	entries bucket // never modified once cached
}

func newBucketCache(budget int64) *bucketCache {
	return &bucketCache{slots: make([]atomic.Pointer[cachedBucket], numBuckets), budget: budget}
}

// lookup returns bucket b as a view at version v sees it, if cached.
func (c *bucketCache) lookup(b uint32, v int64) (bucket, bool) {
	cb := c.slots[b].Load()
	if cb == nil || cb.since > v {
		return nil, false
	}
	return cb.entries, true
}

// absent reports whether the cache knows that key has no value at version
// v.
func (c *bucketCache) absent(key []byte, v int64) bool {
	entries, ok := c.lookup(bucketOf(key), v)
	return ok && !entries.has(string(key))
}

// set records bucket b's entries as of version v, the version being
// committed, or forgets the bucket if the budget has no room for it. Either
// way no reader of version v or later sees what it held before.
func (c *bucketCache) set(b uint32, v int64, entries bucket) {
	old := c.slots[b].Load()
	c.used -= old.size()
	cb := &cachedBucket{since: v, entries: entries}
	if c.used+cb.size() > c.budget {
		c.slots[b].Store(nil)
		return
	}
	c.used += cb.size()
	c.slots[b].Store(cb)
}

// load starts the cache over at version v with every bucket empty; the
// caller then sets the buckets that are not. Versions before v are never
// read again: they were committed before the store was opened or restored.
func (c *bucketCache) load(v int64) {
	empty := &cachedBucket{since: v}
	if c.budget < 0 {
		empty = nil
	}
	for i := range c.slots {
		c.slots[i].Store(empty)
	}
	c.used = 0
}

// size approximates the memory a cached bucket holds. Empty buckets count
// for nothing: load shares one among them all.
func (cb *cachedBucket) size() int64 {
	if cb == nil || len(cb.entries) == 0 {
		return 0
	}
	n := int64(48) // the struct and the slice header
	for _, e := range cb.entries {
		n += int64(len(e.key)) + 16 + int64(len(e.hash))
	}
	return n
}

// has reports whether the bucket holds key.
func (b bucket) has(key string) bool {
	_, found := slices.BinarySearchFunc(b, key, func(e entry, k string) int { return strings.Compare(e.key, k) })
	return found
}
