// Package api serves CareLedger's JSON API over HTTP: transaction submission
// and status, accounts, organizations, members, blocks, a Server-Sent Events
// stream of committed events, status, health, the OpenAPI description, and
// bearer-token authentication by signed challenge. Its Prometheus metrics
// have their own handler, which the node serves on a listener of its own.
//
// Each route's access rule is beside it in the route table (server.go) and
// is enforced by one guard (access.go) before the handler: open, any
// registered account, or the patient, account or organization a parameter
// names.
//
// Every error is a JSON object {"error":{"code","name","message"}} whose code
// is a stable tx.Code; tx's one table maps codes to HTTP statuses (and a
// busy node's answer to a Retry-After).
// Bodies are size-limited. Error messages never carry health data.
//
// The request and answer types are in api/v1, which the Go client shares.
//
// api imports api/v1, app, tracker, index, the identity contract, tx and
// CometBFT's block types; the node package wires it to a running node.
package api
