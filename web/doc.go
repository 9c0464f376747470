// Package web is the portal: one web application, its files embedded in the
// binary, that the node serves at /. It has no build step and asks no other
// host for anything: plain ES modules and CSS, whose Content-Security-Policy
// allows the node's own origin only.
//
// Keys stay in the browser. A patient's key is made there (Web Crypto
// Ed25519) and kept in IndexedDB; transactions are built and signed there
// with the reference code of docs/TRANSACTIONS.md (assets/tx.js, which a
// test keeps equal to the document's), and sign-in is the signed challenge
// of the JSON API. The portal is a client of /v1 and /fhir like any other.
//
// web imports only the standard library; node mounts it.
package web
