// Package app is CareLedger's ABCI 2.0 application: the deterministic state
// machine that CometBFT drives in the same process.
//
// CheckTx admits a transaction to the mempool cheaply: it decodes the
// envelope and message bodies (with what they can be refused for without
// state), checks the chain ID, the signature (once: a verified transaction's
// hash is cached, so rechecks and FinalizeBlock skip it) and the signer's next
// sequence number, counting transactions already in the mempool. FinalizeBlock
// verifies the signatures it has not seen in parallel batches, then applies
// each transaction in order through the contract that owns each message,
// buffering a transaction's writes so that a rejected one changes nothing but
// the signer's sequence number (which is consumed so that the transaction can
// never be replayed), and hands the results to the index. Commit persists
// the state, whose root hash is the app hash, and tells the listeners.
//
// app imports the contracts, state, tx and CometBFT's ABCI types; it does no
// network I/O and reads no clock.
package app
