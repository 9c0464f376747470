// Package epcis decodes GS1 EPCIS documents and computes CBV 2.0 event
// hashes. It is pure: no I/O, no clock, no HTTP, no chain; capture and
// query handlers and the supply-chain contract build on it.
//
// ParseJSON reads EPCIS 2.0 JSON and JSON-LD (EPCISDocument,
// EPCISQueryDocument or a single event; @context prefixes, CURIEs and bare
// CBV words); ParseXML reads EPCIS 2.0 and 1.2 XML (1.2's extension
// wrappers and header master data). Both apply Limits and validate every
// event (required fields per type, EPC URI and GS1 Digital Link syntax,
// GTIN/SSCC/GLN check digits, CBV vocabularies), and fail with an *Error
// that names the event and field and maps to a tx.Code.
//
// QueryDocumentXML and EventXML write events as EPCIS 2.0 XML from the
// same data model, so that ParseXML reads them back with the same hashes
// (but where the reference hashes a JSON document's CURIEs as written:
// Event.HasJSONCURIEs).
//
// Event.HashID is the CBV 2.0 event hash (ni:///sha-256;…?ver=CBV2.0),
// computed exactly as the reference implementation
// (RalphTro/epcis-event-hash-generator) computes it, over the event in the
// XML data model that both decoders produce. Sensor values are Decimals
// (the document's text), read exactly with Decimal.Fixed.
//
// It imports only the standard library and tx (for result codes).
package epcis
