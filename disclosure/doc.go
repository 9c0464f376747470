// Package disclosure compiles a patient's accounting of disclosures (45 CFR
// 164.528) from the audit log, and writes it as JSON (the signed,
// verifiable report), CSV or a printable HTML page.
//
// An accounting of disclosures lists, for one patient and a period, every
// disclosure of their records: every permitted read that the consent
// contract decided, with its date, recipient, what was disclosed and why.
// Each entry carries the log leaves it rests on (the consent.access event
// and its decisions) with their inclusion proofs; the report carries the
// checkpoint they are proven against and the signed header certifying it,
// and the node that compiled it signs the whole, so that an entry removed
// or added breaks the signature and an entry altered breaks its proof.
//
// disclosure imports audit (the pure log), contract, contract/identity, tx,
// CometBFT's types and ed25519 (to sign and verify), encoding/csv and
// html/template. It reads a node's copy of the log through the Log
// interface (auditdb.Store satisfies it) and imports no storage; the state
// machine does not import it.
package disclosure
