// Package v1 holds the JSON types of the /v1 API, shared by the server
// (package api) and the Go client (package client): request bodies,
// answers, the event stream's messages, the error body
// {"error":{"code","name","message"}}, and how a key logs in (Login).
// A field changed here changes the wire for both sides at once.
//
// v1 imports only pure packages: wire, tx, contract, the contracts' plain
// types, audit's log types and CometBFT's Ed25519 keys. It must never import the node's services
// (app, state, tracker, index) or CometBFT's node, so that a client
// built on it stays free of them.
package v1
