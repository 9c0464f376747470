// Package x12 sits at the edge of the claims network, where clearinghouses
// speak ASC X12: it reads and writes X12 interchanges (ISA/GS/ST
// envelopes, separators taken from the ISA segment), turns an 837P
// professional claim (005010X222) into FHIR R4 Claims, and writes a claim
// payment/advice 835 (005010X221) from the chain's claim decisions.
//
// No Go X12 library was found that is kept up and serves both directions
// (the candidates had no release for years or cover other transaction
// sets), so the segment reader and writer are written here, small and
// strict: a malformed envelope, a count or control number that does not
// match, or an input past the limits is an error naming the segment's
// position and ID, never an element's value (an 837 carries health data).
//
// x12 imports contract/claims (the decisions it remits, the submit message
// it builds) and tx; it does no I/O.
package x12
