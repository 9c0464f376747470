// Package node runs a CareLedger node: CometBFT and the application in one
// process, the state store, the transaction index and tracker, and the HTTP
// API, all under one home directory.
//
// A home holds config/careledger.json (this package's Config, the only file a
// person edits), CometBFT's genesis.json, node_key.json and
// priv_validator_key.json beside it, data/ with CometBFT's stores and the
// application's state and index, and keys/ with the keys Init generated.
//
// node is wiring: it imports everything and nothing imports it but cmd/ and
// the test harness.
package node
