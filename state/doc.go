// Package state is CareLedger's authenticated, persistent key-value state.
//
// Values live in an embedded LevelDB in the data directory. Every key falls
// in one of 2^20 buckets by the SHA-256 of the key; a bucket's hash commits
// to its entries (key and value hashes, in key order), and a complete binary
// Merkle tree over the bucket hashes, held in memory, gives the root: the
// app hash that CometBFT puts in the next block header. Validators that
// applied the same blocks agree byte for byte, and a divergent one is
// detected at once. A write costs one bucket rehash and one path of 20
// hashes, shared between the writes of a block: a block's cost grows with
// its writes, not with the size of the state (buckets hold a handful of keys
// up to tens of millions of keys).
//
// The root does not depend on the order of writes. Commit writes the block's
// values, the touched buckets and the version and root in one synchronous
// LevelDB batch, so a crash leaves the last committed version or the next,
// never a mix; Open recomputes the root from the stored buckets and refuses a
// state that does not match it. Committed versions are LevelDB snapshots:
// readers (the API, CheckTx) see one version while the next block is built.
//
// Decoded buckets are kept in memory up to a budget (Options.BucketCache):
// a read of a key that does not exist, and the merge of a block's writes
// into a bucket, then need no LevelDB read.
//
// Contracts never see the store. They write to an Overlay, which buffers a
// transaction's writes so that a rejected transaction leaves no trace.
//
// state imports goleveldb and the standard library.
package state
