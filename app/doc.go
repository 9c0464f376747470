// Package app is CareLedger's ABCI 2.0 application: the deterministic state
// machine that CometBFT drives in the same process.
//
// The contracts are listed once (routes.go); each describes its messages,
// events and genesis as data (contract.Contract), and the router built from
// the list decodes, validates and dispatches every message.
//
// CheckTx admits a transaction to the mempool cheaply: it decodes the
// envelope and message bodies (with what they can be refused for without
// state), checks the chain ID, the signature and the signer's next sequence
// number, counting transactions already in the mempool. The decoded
// transaction is cached by hash, so rechecks and FinalizeBlock neither decode
// nor verify it again. FinalizeBlock decodes and verifies (in parallel
// batches) what the cache does not hold, then applies each transaction in
// order through the contract that owns each message,
// buffering a transaction's writes so that a rejected one changes nothing but
// the signer's sequence number (which is consumed so that the transaction can
// never be replayed), and hands the results to the index. Commit persists
// the state, whose root hash is the app hash, and tells the listeners.
//
// app imports the contracts, state, tx and CometBFT's ABCI types; it does no
// network I/O and reads no clock.
package app
