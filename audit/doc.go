// Package audit is CareLedger's verifiable audit log: every event the
// contracts emit, in block order, is a leaf of an append-only RFC 6962
// Merkle log (transparency-dev/merkle) whose size and root are part of
// every block's app hash, so that the validators' signatures on a block
// certify the log up to it.
//
// audit holds the pure parts, which the state machine and offline
// verifiers use: the leaf's canonical encoding and hash, the log's compact
// state, proof verification, self-contained proof bundles, AppHash, and
// the Block and Checkpoint types that a node's store (audit/auditdb)
// keeps. It does no I/O.
//
// audit imports the standard library, transparency-dev/merkle, contract,
// tx and wire, and CometBFT's types for a bundle's signed header. It
// imports no database, encoding/csv or html/template: the node's store is
// audit/auditdb, the accounting of disclosures package disclosure.
package audit
