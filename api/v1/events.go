package v1

import (
	"time"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/tx"
)

// StreamEvent is one message of the event stream: a contract event, or the
// "tx.committed" event that every committed transaction produces.
type StreamEvent struct {
	Height   int64           `json:"height"`
	Time     time.Time       `json:"time"`
	Tx       tx.Hash         `json:"tx"`
	Code     tx.Code         `json:"code"`
	Type     string          `json:"type"`
	Attrs    []contract.Attr `json:"attrs,omitempty"`
	Accounts []tx.Address    `json:"accounts,omitempty"`
	// ID is the event's "id:" line, not part of its data: its place in the
	// chain's stream ("HEIGHT-INDEX"), to resume after; empty for a node's
	// own notice.
	ID string `json:"-"`
}
