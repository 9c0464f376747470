package v1

import (
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/tx"
)

// SubmitRequest is the body of POST /v1/txs.
type SubmitRequest struct {
	// Tx is the encoded, signed transaction in standard base64.
	Tx string `json:"tx"`
	// Wait is "commit" to answer once the transaction is final (committed,
	// or dropped), or "" to answer once the mempool accepted it.
	Wait string `json:"wait,omitempty"`
	// TimeoutMS bounds the wait. Default 10000, at most 60000.
	TimeoutMS int `json:"timeout_ms,omitempty"`
}

// BatchRequest is the body of POST /v1/txs/batch.
type BatchRequest struct {
	// Txs are encoded, signed transactions in standard base64, submitted
	// in this order.
	Txs []string `json:"txs"`
	// Wait is "commit" to answer once every accepted transaction is final,
	// or "" to answer once the mempool took them.
	Wait string `json:"wait,omitempty"`
	// TimeoutMS bounds the wait for all of them. Default 10000, at most
	// 60000; those still pending then are answered pending.
	TimeoutMS int `json:"timeout_ms,omitempty"`
}

// BatchAnswer is the answer of POST /v1/txs/batch: one answer for each
// transaction, in the order submitted.
type BatchAnswer struct {
	Results []TxAnswer `json:"results"`
}

// TxAnswer is the answer of POST /v1/txs and GET /v1/txs/{hash}: what the
// node's tracker knows of the transaction, and its full result once
// committed.
type TxAnswer struct {
	Hash tx.Hash `json:"hash"`
	// Status is "unknown" (never seen by this node, or seen before it
	// restarted), "rejected" (refused before entering the mempool),
	// "pending" (in the mempool), "committed" (in a block; Code says
	// whether it applied) or "dropped" (left the mempool without
	// committing and cannot commit).
	Status   string    `json:"status"`
	Code     tx.Code   `json:"code"`
	Log      string    `json:"log,omitempty"`
	Height   int64     `json:"height,omitempty"`
	Index    int       `json:"index,omitempty"`
	CodeName string    `json:"code_name"`
	Detail   *TxResult `json:"result,omitempty"` // for committed transactions
}

// TxResult is the outcome of one transaction in a block, as the node's
// app.TxResult encodes it (api converts one into the other, so their
// fields stay the same).
type TxResult struct {
	Hash     tx.Hash          `json:"hash"`
	Height   int64            `json:"height"`
	Index    int              `json:"index"`
	Signer   tx.Address       `json:"signer"` // zero when the transaction did not decode
	Sequence uint64           `json:"sequence"`
	Msgs     []string         `json:"messages"` // message names
	Code     tx.Code          `json:"code"`
	Log      string           `json:"log,omitempty"` // the rejection message; never health data
	Events   []contract.Event `json:"events,omitempty"`
}
