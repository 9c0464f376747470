package v1

import (
	"time"

	"github.com/careledger/careledger/tx"
)

// BlockAnswer describes a committed block.
type BlockAnswer struct {
	Height   int64     `json:"height"`
	Hash     string    `json:"hash"`
	Time     time.Time `json:"time"`
	Proposer string    `json:"proposer"`
	// AppHash is the app hash after the previous block, which this block's
	// header certifies.
	AppHash    string        `json:"app_hash"`
	Txs        []BlockTx     `json:"txs"`
	Signatures []BlockSigner `json:"signatures"`
}

// BlockTx is a transaction in a block.
type BlockTx struct {
	Hash     tx.Hash  `json:"hash"`
	Code     tx.Code  `json:"code"`
	Messages []string `json:"messages,omitempty"`
}

// BlockSigner is a validator's commit signature on the block.
type BlockSigner struct {
	Validator string    `json:"validator"`
	Time      time.Time `json:"time"`
}
