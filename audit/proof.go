package audit

import (
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// VerifyInclusion checks a leaf's inclusion proof against a root.
func VerifyInclusion(leaf []byte, index, size uint64, p [][]byte, root []byte) error {
	return proof.VerifyInclusion(rfc6962.DefaultHasher, index, size, LeafHash(leaf), p, root)
}

// VerifyConsistency checks that root1 of size1 leaves is a prefix of root2.
func VerifyConsistency(size1, size2 uint64, p [][]byte, root1, root2 []byte) error {
	return proof.VerifyConsistency(rfc6962.DefaultHasher, size1, size2, p, root1, root2)
}
