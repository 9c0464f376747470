package state

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
)

// bucketBits sets the number of buckets, 2^bucketBits. It is part of the
// state's hash, so of consensus: changing it is a new AppVersion. At a
// million buckets, a bucket holds a handful of keys up to tens of millions
// of keys, so a write costs the same whatever the size of the state.
const (
	bucketBits = 20
	numBuckets = 1 << bucketBits
)

// Domain separation of the hashes, so that an entry, a bucket and an inner
// node can never be taken for one another.
const (
	entryTag  = 0
	bucketTag = 1
	nodeTag   = 2
)

// bucketOf returns the bucket of key: the first bucketBits bits of its
// SHA-256, so that keys spread evenly whatever their shape.
func bucketOf(key []byte) uint32 {
	h := sha256.Sum256(key)
	return binary.BigEndian.Uint32(h[:4]) >> (32 - bucketBits)
}

// entryHash commits to one key and its value.
func entryHash(key, value []byte) Hash {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(key)+len(value))
	b = append(b, entryTag)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(append(b, key...), value...)
	return sha256.Sum256(b)
}

// bucket is a bucket's entries in key order.
type bucket []entry

type entry struct {
	key  string
	hash Hash // entryHash of the key and its value
}

// set returns b with key set to value, or removed if value is nil.
func (b bucket) set(key string, value []byte) bucket {
	i, found := slices.BinarySearchFunc(b, key, func(e entry, k string) int { return strings.Compare(e.key, k) })
	switch {
	case value == nil && found:
		return slices.Delete(b, i, i+1)
	case value == nil:
		return b
	case found:
		b[i].hash = entryHash([]byte(key), value)
		return b
	default:
		return slices.Insert(b, i, entry{key, entryHash([]byte(key), value)})
	}
}

// hash commits to the bucket's entries in key order. An empty bucket's hash
// is all zeros.
func (b bucket) hash() Hash {
	if len(b) == 0 {
		return Hash{}
	}
	h := sha256.New()
	h.Write([]byte{bucketTag})
	for _, e := range b {
		h.Write(e.hash[:])
	}
	return Hash(h.Sum(nil))
}

// encode writes the bucket as its stored record: for each entry, the key's
// length (uvarint), the key and the entry hash.
func (b bucket) encode() []byte {
	size := 0
	for _, e := range b {
		size += binary.MaxVarintLen16 + len(e.key) + len(e.hash)
	}
	out := make([]byte, 0, size)
	for _, e := range b {
		out = binary.AppendUvarint(out, uint64(len(e.key)))
		out = append(append(out, e.key...), e.hash[:]...)
	}
	return out
}

func decodeBucket(rec []byte) (bucket, error) {
	var b bucket
	for len(rec) > 0 {
		n, size := binary.Uvarint(rec)
		if size <= 0 || n > uint64(len(rec)-size) || uint64(len(rec)-size)-n < sha256.Size {
			return nil, errors.New("truncated bucket entry")
		}
		if size != len(binary.AppendUvarint(nil, n)) {
			return nil, errors.New("bucket entry length is not minimally encoded")
		}
		rec = rec[size:]
		e := entry{key: string(rec[:n])}
		copy(e.hash[:], rec[n:])
		rec = rec[int(n)+sha256.Size:]
		if len(b) > 0 && b[len(b)-1].key >= e.key {
			return nil, errors.New("bucket entries out of order")
		}
		b = append(b, e)
	}
	return b, nil
}

// hashNode commits to two children. A node over two empty subtrees is empty
// (all zeros), so that an empty part of the tree costs nothing to hash.
func hashNode(l, r Hash) Hash {
	if l == (Hash{}) && r == (Hash{}) {
		return Hash{}
	}
	var b [1 + 2*sha256.Size]byte
	b[0] = nodeTag
	copy(b[1:], l[:])
	copy(b[1+sha256.Size:], r[:])
	return sha256.Sum256(b[:])
}

// tree is the complete binary Merkle tree over the bucket hashes, held in
// memory: levels[0] are the buckets, levels[bucketBits] the root.
type tree struct {
	levels [][]Hash
	dirty  []uint32 // buckets changed since the last rehash
}

func newTree() *tree {
	t := &tree{levels: make([][]Hash, bucketBits+1)}
	for i := range t.levels {
		t.levels[i] = make([]Hash, numBuckets>>i)
	}
	return t
}

func (t *tree) setLeaf(b uint32, h Hash) {
	if t.levels[0][b] != h {
		t.levels[0][b] = h
		t.dirty = append(t.dirty, b)
	}
}

func (t *tree) root() Hash { return t.levels[bucketBits][0] }

// rehash recomputes the paths from the changed buckets to the root: a block
// costs its writes times the tree's height, not the size of the state.
func (t *tree) rehash() Hash {
	idx := t.dirty
	for level := 1; level <= bucketBits; level++ {
		slices.Sort(idx)
		idx = slices.Compact(idx)
		below, here := t.levels[level-1], t.levels[level]
		for i, b := range idx {
			p := b >> 1
			here[p] = hashNode(below[2*p], below[2*p+1])
			idx[i] = p
		}
	}
	t.dirty = t.dirty[:0]
	return t.root()
}
