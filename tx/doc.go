// Package tx defines the CareLedger transaction envelope: its canonical
// encoding, its domain-separated sign bytes, its hash, its size limits, and the
// stable result codes with which a transaction is rejected, with the one table
// of how every API reports each code (HTTP status, FHIR issue type, EPCIS
// problem type).
//
// An envelope carries a chain ID, the signer's Ed25519 public key, the signer
// account's sequence number and one or more messages. Each message is a type
// number and an opaque body that the contract owning the type decodes, so this
// package knows nothing of contracts. docs/TRANSACTIONS.md specifies the bytes
// and testdata/vectors.json holds vectors to check another implementation.
//
// tx imports only wire, the standard library and CometBFT's Ed25519 (the same
// ZIP-215 verification rules that CometBFT uses for votes, so that single and
// batch verification always agree).
package tx
