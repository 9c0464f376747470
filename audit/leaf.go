package audit

import (
	"fmt"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// Event is one leaf of the log: a contract event with where it happened.
// Like the events, it names only pseudonyms, organizations and codes.
type Event struct {
	Height  int64          `json:"height"`
	Time    time.Time      `json:"time"` // the block time
	Tx      tx.Hash        `json:"tx"`
	TxIndex int            `json:"tx_index"`
	Index   int            `json:"event_index"` // among the transaction's events
	Event   contract.Event `json:"event"`
}

const leafDomain = "careledger/audit-event/v1\n"

// Encode returns the leaf's canonical bytes, which the log hashes.
func (e Event) Encode() []byte {
	w := wire.NewWriter(128)
	w.Raw([]byte(leafDomain))
	w.Uint(uint64(e.Height))
	w.Uint(uint64(e.Time.UnixNano()))
	w.Raw(e.Tx[:])
	w.Uint(uint64(e.TxIndex))
	w.Uint(uint64(e.Index))
	w.String(e.Event.Type)
	w.Uint(uint64(len(e.Event.Attrs)))
	for _, a := range e.Event.Attrs {
		w.String(a.Key)
		w.String(a.Value)
	}
	w.Uint(uint64(len(e.Event.Accounts)))
	for _, a := range e.Event.Accounts {
		w.Raw(a[:])
	}
	return w.Bytes()
}

// Limits of a decoded leaf.
const (
	maxAttrs    = 256
	maxAccounts = 64
	maxText     = 4096
)

// DecodeEvent parses a leaf's canonical bytes.
func DecodeEvent(b []byte) (*Event, error) {
	r := wire.NewReader(b)
	if string(r.Raw(len(leafDomain))) != leafDomain {
		return nil, fmt.Errorf("decode audit event: not a CareLedger audit leaf")
	}
	e := &Event{Height: int64(r.Uint())}
	e.Time = time.Unix(0, int64(r.Uint())).UTC()
	copy(e.Tx[:], r.Raw(tx.HashSize))
	e.TxIndex, e.Index = int(r.Uint()), int(r.Uint())
	e.Event.Type = r.String(maxText)
	if n := r.Count(maxAttrs); n > 0 {
		e.Event.Attrs = make([]contract.Attr, n)
		for i := range e.Event.Attrs {
			e.Event.Attrs[i] = contract.Attr{Key: r.String(maxText), Value: r.String(maxText)}
		}
	}
	if n := r.Count(maxAccounts); n > 0 {
		e.Event.Accounts = make([]tx.Address, n)
		for i := range e.Event.Accounts {
			copy(e.Event.Accounts[i][:], r.Raw(tx.AddressSize))
		}
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode audit event: %w", err)
	}
	return e, nil
}

// LeafHash returns the RFC 6962 hash of a leaf's bytes.
func LeafHash(leaf []byte) []byte { return rfc6962.DefaultHasher.HashLeaf(leaf) }

var rangeFactory = compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}

// Log is the log's compact state: its size and the hashes of the perfect
// subtrees that make it up (at most 64). The state machine keeps it in
// state, appends each block's leaves, and commits size and root.
type Log struct{ r *compact.Range }

// NewLog returns an empty log.
func NewLog() *Log { return &Log{rangeFactory.NewEmptyRange(0)} }

// Size returns the number of leaves.
func (l *Log) Size() uint64 { return l.r.End() }

// Append adds a leaf hash; visit, if not nil, receives every tree node the
// append completes (level, index, hash), for the node store.
func (l *Log) Append(leafHash []byte, visit func(level uint, index uint64, hash []byte)) error {
	var v compact.VisitFn
	if visit != nil {
		v = func(id compact.NodeID, h []byte) { visit(id.Level, id.Index, h) }
	}
	return l.r.Append(leafHash, v)
}

// Root returns the log's RFC 6962 root (the empty tree's for no leaves).
func (l *Log) Root() ([]byte, error) {
	if l.Size() == 0 {
		return rfc6962.DefaultHasher.EmptyRoot(), nil
	}
	return l.r.GetRootHash(nil)
}

// Encode returns the compact state's bytes.
func (l *Log) Encode() []byte {
	hs := l.r.Hashes()
	w := wire.NewWriter(10 + 32*len(hs))
	w.Uint(l.Size())
	w.Uint(uint64(len(hs)))
	for _, h := range hs {
		w.Raw(h)
	}
	return w.Bytes()
}

// DecodeLog parses a compact state.
func DecodeLog(b []byte) (*Log, error) {
	r := wire.NewReader(b)
	size := r.Uint()
	hs := make([][]byte, r.Count(64))
	for i := range hs {
		hs[i] = r.Raw(32)
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode audit log state: %w", err)
	}
	cr, err := rangeFactory.NewRange(0, size, hs)
	if err != nil {
		return nil, fmt.Errorf("decode audit log state: %w", err)
	}
	return &Log{cr}, nil
}
