package v1

import (
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/tx"
)

// LedgerAccount is the answer of GET /v1/ledger/{id}: an organization's
// balance in minor units, how many entries its history holds, and the
// claims' benefits waiting for a payer's funds that it owes or is owed.
type LedgerAccount struct {
	Account string           `json:"account"`
	Balance uint64           `json:"balance"`
	Entries uint64           `json:"entries"`
	Pending []claims.Payable `json:"pending"`
	Height  int64            `json:"height"` // of the state answered from
}

// LedgerHistory is the answer of GET /v1/ledger/{id}/history: a page of
// the account's entries, newest first.
type LedgerHistory struct {
	Account string         `json:"account"`
	Entries []ledger.Entry `json:"entries"`
}

// ClaimAnswer is the answer of GET /v1/claims/{claim}: a claim's
// adjudication as the chain holds it, and its appeals. IDs are hex.
type ClaimAnswer struct {
	Claim       string              `json:"claim"`
	Use         string              `json:"use"` // "claim" or "preauthorization"
	Patient     tx.Address          `json:"patient"`
	Provider    string              `json:"provider"`
	Payer       string              `json:"payer"`
	Coverage    string              `json:"coverage"`
	Height      int64               `json:"height"`
	Outcome     string              `json:"outcome"` // "approved", "partial" or "denied"
	Lines       []claims.LineResult `json:"lines"`
	Benefit     uint64              `json:"benefit"`
	PatientOwes uint64              `json:"patient_amount"`
	Paid        bool                `json:"paid"`
	Settled     uint64              `json:"settled"`
	Appeals     []Appeal            `json:"appeals"`
}

// Appeal is one appeal of a claim (claims.AppealRecord, its letter's
// commitment in hex).
type Appeal struct {
	Lines          []uint64 `json:"lines"`
	Reason         string   `json:"reason"`
	Letter         string   `json:"letter,omitempty"`
	State          string   `json:"state"` // "open", "upheld" or "overturned"
	Filed          int64    `json:"filed"`
	Decided        int64    `json:"decided,omitempty"`
	DecisionReason string   `json:"decision_reason,omitempty"`
	Benefit        uint64   `json:"benefit,omitempty"`
}

// ClaimList is the answer of GET /v1/orgs/{id}/claims: a page of the
// claims the organization is the payer or the provider of, newest first.
// Next, when not 0, is the before of the next page.
type ClaimList struct {
	Org    string         `json:"org"`
	Claims []ClaimSummary `json:"claims"`
	Next   uint64         `json:"next,omitempty"`
	Height int64          `json:"height"` // of the state answered from
}

// ClaimSummary is one claim of a list: its decision summed up. Status is
// one of claims.Statuses; Submitted and Eligible sum the lines'; Edits are
// the edits that fired and Versions the policy versions that judged its
// lines, each once, in line order. From and To are its first and last
// dates of service (YYYYMMDD).
type ClaimSummary struct {
	Seq         uint64     `json:"seq"`
	Claim       string     `json:"claim"`
	Use         string     `json:"use"`
	Patient     tx.Address `json:"patient"`
	Provider    string     `json:"provider"`
	Payer       string     `json:"payer"`
	Height      int64      `json:"height"`
	From        uint32     `json:"from"`
	To          uint32     `json:"to"`
	Status      string     `json:"status"`
	Outcome     string     `json:"outcome"`
	Lines       int        `json:"lines"`
	Submitted   uint64     `json:"submitted"`
	Eligible    uint64     `json:"eligible"`
	Benefit     uint64     `json:"benefit"`
	PatientOwes uint64     `json:"patient_amount"`
	Settled     uint64     `json:"settled"`
	Edits       []string   `json:"edits"`
	Versions    []uint64   `json:"versions"`
	Appeals     int        `json:"appeals"`
}

// PolicyList is the answer of GET /v1/orgs/{id}/policies: a payer's
// policy versions, published ones oldest first, then drafts.
type PolicyList struct {
	Payer    string                 `json:"payer"`
	Versions []claims.PolicyVersion `json:"versions"`
}
