package v1

import "github.com/careledger/careledger/tx"

// Error is the body of every error answer.
type Error struct {
	Code    tx.Code `json:"code"`
	Name    string  `json:"name"`
	Message string  `json:"message"`
}

// Status is the answer of GET /v1/status.
type Status struct {
	ChainID string `json:"chain_id"`
	// Org is the organization whose records this node holds, which a
	// delegation (DelegationSignBytes) names.
	Org         string `json:"org,omitempty"`
	Height      int64  `json:"height"`
	AppHash     string `json:"app_hash"`
	BlockTime   string `json:"block_time,omitempty"`
	Version     string `json:"version"`
	AppVersion  uint64 `json:"app_version"`
	MempoolSize int    `json:"mempool_size"`
	PendingTxs  int    `json:"pending_txs"`
}
