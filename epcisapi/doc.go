// Package epcisapi serves GS1 EPCIS 2.0 capture and query over HTTP at
// /epcis, following the EPCIS 2.0 REST binding: POST /epcis/capture (a
// document in JSON, JSON-LD or XML 2.0/1.2) and POST /epcis/events (one
// event) start a capture job; GET /epcis/capture/{id} reports it; GET
// /epcis/events and GET /epcis/events/{eventID} query, answering JSON-LD,
// or EPCIS 2.0 XML for Accept: application/xml (406 for what is neither;
// events withheld from the asker follow the XML EventList, in CareLedger's
// namespace).
//
// A document is captured whole or not at all: every event is parsed,
// validated, hashed (CBV 2.0) and converted before anything is sent, and
// the document's events travel as one supply/record message in one
// transaction, which the contract applies all or none. A document whose
// message would not fit one transaction is refused with 413 and the
// GS1-EPCIS-Capture-Limit header, never split.
//
// Full event bodies stay at this node, sealed in a small store of its own
// under a data key that the vault's KeyWrapper wraps (no plaintext on
// disk). A body is shown to members of the organizations the event names
// (the capturer, the source and destination owning parties) and of
// regulator organizations; everyone else gets its hash and the chain's
// summary.
//
// epcisapi imports epcis, the supply contract, identity, tx, app (result
// types) and the vault's KeyWrapper interface; the node gives it the
// sender, state and authentication.
package epcisapi
