package records

import (
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/careledger/careledger/wire"
)

// Leaf is what an anchor commits to for one record version: the record's
// type, ID and version and the salted commitment of its content. It holds
// no content: the commitment is SHA-256 over a secret salt and the bytes.
type Leaf struct {
	Type       string
	ID         string
	Version    uint64
	Commitment [32]byte
}

const leafDomain = "careledger/record-leaf/v1\n"

// Bytes returns the leaf's canonical encoding.
func (l Leaf) Bytes() []byte {
	w := wire.NewWriter(len(leafDomain) + len(l.Type) + len(l.ID) + 48)
	w.Raw([]byte(leafDomain))
	w.String(l.Type)
	w.String(l.ID)
	w.Uint(l.Version)
	w.Raw(l.Commitment[:])
	return w.Bytes()
}

// Hash returns the leaf's RFC 6962 leaf hash.
func (l Leaf) Hash() []byte { return rfc6962.DefaultHasher.HashLeaf(l.Bytes()) }

// Root returns the RFC 6962 Merkle root over the leaves, in order: what an
// Anchor message carries. The root of one leaf is that leaf's hash.
func Root(leaves []Leaf) ([32]byte, error) {
	var root [32]byte
	if len(leaves) == 0 {
		return root, fmt.Errorf("no leaves to anchor")
	}
	r, err := treeHash(leaves)
	copy(root[:], r)
	return root, err
}

// treeHash returns the RFC 6962 hash of the tree of leaves.
func treeHash(leaves []Leaf) ([]byte, error) {
	rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	cr := rf.NewEmptyRange(0)
	for _, l := range leaves {
		if err := cr.Append(l.Hash(), nil); err != nil {
			return nil, err
		}
	}
	return cr.GetRootHash(nil)
}

// Prove returns the inclusion proof of leaves[i] in the tree of all leaves.
func Prove(leaves []Leaf, i int) ([][]byte, error) {
	n := uint64(len(leaves))
	nodes, err := proof.Inclusion(uint64(i), n)
	if err != nil {
		return nil, err
	}
	// Every node a proof names is a perfect subtree, whose hash is that of
	// the tree of its leaves alone.
	hashes := make([][]byte, len(nodes.IDs))
	for j, id := range nodes.IDs {
		begin, end := id.Coverage()
		if hashes[j], err = treeHash(leaves[begin:end]); err != nil {
			return nil, err
		}
	}
	return nodes.Rehash(hashes, rfc6962.DefaultHasher.HashChildren)
}

// VerifyInclusion checks that leaf is at index i of the count leaves that
// root commits to.
func VerifyInclusion(leaf Leaf, i, count uint64, proofHashes [][]byte, root [32]byte) error {
	return proof.VerifyInclusion(rfc6962.DefaultHasher, i, count, leaf.Hash(), proofHashes, root[:])
}

// ProveAll returns the inclusion proof of every leaf, in order, as Prove
// gives each: it hashes each perfect subtree once, where a Prove per leaf
// hashes the whole batch again for every leaf.
func ProveAll(leaves []Leaf) ([][][]byte, error) {
	n := uint64(len(leaves))
	// levels[k][j] is the hash of the perfect subtree of leaves
	// [j<<k, (j+1)<<k): every node an inclusion proof names.
	levels := [][][]byte{make([][]byte, n)}
	for i, l := range leaves {
		levels[0][i] = l.Hash()
	}
	for prev := levels[0]; len(prev) > 1; prev = levels[len(levels)-1] {
		next := make([][]byte, len(prev)/2)
		for j := range next {
			next[j] = rfc6962.DefaultHasher.HashChildren(prev[2*j], prev[2*j+1])
		}
		levels = append(levels, next)
	}
	out := make([][][]byte, n)
	for i := range leaves {
		nodes, err := proof.Inclusion(uint64(i), n)
		if err != nil {
			return nil, err
		}
		hashes := make([][]byte, len(nodes.IDs))
		for j, id := range nodes.IDs {
			hashes[j] = levels[id.Level][id.Index]
		}
		if out[i], err = nodes.Rehash(hashes, rfc6962.DefaultHasher.HashChildren); err != nil {
			return nil, err
		}
	}
	return out, nil
}
