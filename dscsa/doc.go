// Package dscsa is the node's face for DSCSA trading partners: product
// identifier verification (GET /01/{gtin}/21/{serial}, as the GS1
// Lightweight Messaging Standard for verification uses GS1 Digital Link)
// answered at once from committed ledger state with supply.Verify, with a
// receipt of every answer recorded on the chain in batches
// (supply/verifications); and subscriptions to named queries (shipments to
// an organization, recalls of its stock) delivered by webhook as they
// commit, from a cursor kept on disk, so that a restart neither loses nor
// repeats a delivery (but for one in flight when it stopped), or by
// WebSocket (GET /epcis/queries/{queryName}/events?stream=true) for as long
// as the connection lives.
//
// dscsa imports the supply and identity contracts, app (as a listener of
// committed blocks), epcis (content negotiation), tx, api/v1 and
// gorilla/websocket; the node gives it an authenticator, its committed
// state, its committed blocks and a sender of the node's transactions.
package dscsa
