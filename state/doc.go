// Package state is CareLedger's authenticated, persistent key-value state.
//
// Committed state lives in an IAVL tree (cosmos/iavl) over an embedded
// LevelDB in the data directory. The tree's root hash is the app hash that
// CometBFT puts in the next block header, so validators that applied the same
// blocks agree byte for byte and a divergent one is detected at once. A block
// costs O(writes × log(state size)): only the paths to changed keys are
// rehashed and stored.
//
// Contracts never see the tree. They write to an Overlay, which buffers a
// transaction's writes so that a rejected transaction leaves no trace; at the
// end of a block the buffered writes are applied to the tree in sorted key
// order (IAVL's shape depends on insertion order, so the order is part of
// consensus).
//
// state imports cosmos/iavl, cosmos/cosmos-db and the standard library.
package state
