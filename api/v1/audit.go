package v1

import (
	"encoding/json"

	"github.com/careledger/careledger/audit"
)

// EventAnswer is a leaf of the audit log.
type EventAnswer struct {
	Index uint64       `json:"index"`
	Leaf  []byte       `json:"leaf"` // the canonical bytes the log hashes
	Event *audit.Event `json:"event"`
}

// EventList is the answer of GET /v1/audit/events.
type EventList struct {
	Events []EventAnswer `json:"events"`
}

// InclusionAnswer proves a leaf is in the log of Size leaves with Root.
type InclusionAnswer struct {
	Index uint64   `json:"index"`
	Size  uint64   `json:"size"`
	Root  []byte   `json:"root"`
	Proof [][]byte `json:"proof"`
}

// ConsistencyAnswer proves the log of From leaves is a prefix of the log of
// To leaves.
type ConsistencyAnswer struct {
	From     uint64   `json:"from"`
	To       uint64   `json:"to"`
	FromRoot []byte   `json:"from_root"`
	ToRoot   []byte   `json:"to_root"`
	Proof    [][]byte `json:"proof"`
}

// CheckpointAnswer is the log after a block and, once the next block is
// committed, that block's signed header, which certifies it.
type CheckpointAnswer struct {
	audit.Checkpoint
	SignedHeader json.RawMessage `json:"signed_header,omitempty"`
}
