package app

import (
	"time"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/tx"
)

// Block is what a committed block did, as listeners and the index see it.
type Block struct {
	Height  int64
	Time    time.Time
	AppHash []byte
	Txs     []TxResult
	// Events are the block's own events, of no transaction: the evidence
	// of misbehaving validators.
	Events []contract.Event
}

// TxResult is the outcome of one transaction in a block.
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

// Accounts returns every account the result concerns: the signer and the
// accounts its events name, without duplicates, in order of appearance.
func (r *TxResult) Accounts() []tx.Address {
	var out []tx.Address
	add := func(a tx.Address) {
		for _, x := range out {
			if x == a {
				return
			}
		}
		out = append(out, a)
	}
	if r.Signer != (tx.Address{}) {
		add(r.Signer)
	}
	for _, e := range r.Events {
		for _, a := range e.Accounts {
			add(a)
		}
	}
	return out
}

// Listener hears about each committed block, after it is durable.
type Listener interface {
	BlockCommitted(b *Block)
}

// Indexer stores a block's results before its state is committed, so that
// the index is never behind the state after a crash (a replayed block is
// indexed again with identical results). IndexBlock runs beside the writes
// of the audit log and the state, before the block's AppHash is set, and
// must only read b.
type Indexer interface {
	IndexBlock(b *Block) error
}
