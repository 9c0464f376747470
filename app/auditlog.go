package app

import (
	"github.com/careledger/careledger/audit"
	"github.com/careledger/careledger/state"
)

// AuditLog keeps the audit log's leaves and tree nodes at the node; node
// wires an auditdb.Store to it (the app imports no storage for the log).
// Like the Indexer, it is written before the block's state commits.
type AuditLog interface {
	Write(b *audit.Block) error
	// Restore empties the store and begins restoring it from a snapshot's
	// leaves (state sync).
	Restore() (AuditRestorer, error)
}

// AuditRestorer rebuilds the node's copy of the audit log from a
// snapshot's leaves, in order; auditdb.Restorer satisfies it.
type AuditRestorer interface {
	// Add adds the next leaf, to be written by the next Flush: an error
	// from Add is the snapshot's, one from Flush this node's storage's.
	Add(leaf []byte) error
	// Flush writes the leaves added since the last Flush.
	Flush() error
	// Log returns the log of the leaves added so far.
	Log() *audit.Log
	// Finish writes the last leaves and the checkpoint after block height,
	// whose state root is stateRoot.
	Finish(height int64, stateRoot []byte) error
	// Abort removes what the restore wrote.
	Abort() error
}

// logKey holds the audit log's compact state: its size and the roots of
// the perfect subtrees that make it up.
var logKey = []byte("l/log")

func loadLog(s state.Reader) (*audit.Log, error) {
	b, err := s.Get(logKey)
	if err != nil || b == nil {
		return audit.NewLog(), err
	}
	return audit.DecodeLog(b)
}

// appendEvents adds the block's events (of the transactions that applied,
// in order) to the log held in blk, and returns what the node's store
// keeps of them.
func (a *App) appendEvents(blk *state.Overlay, b *Block) (*audit.Block, error) {
	log, err := loadLog(blk)
	if err != nil {
		return nil, err
	}
	ab := &audit.Block{Height: b.Height, First: log.Size()}
	var visit func(level uint, index uint64, hash []byte)
	if a.cfg.AuditLog != nil {
		n := len(b.Events)
		for i := range b.Txs {
			n += len(b.Txs[i].Events)
		}
		ab.Events, ab.Leaves = make([]audit.Event, 0, n), make([][]byte, 0, n)
		ab.Nodes = make([]audit.Node, 0, n) // a leaf adds one node above the leaves, on average
		visit = func(level uint, index uint64, hash []byte) {
			ab.Nodes = append(ab.Nodes, audit.Node{Level: level, Index: index, Hash: hash})
		}
	}
	add := func(ev audit.Event) error {
		leaf := ev.Encode()
		if err := log.Append(audit.LeafHash(leaf), visit); err != nil {
			return err
		}
		if visit != nil {
			ab.Events, ab.Leaves = append(ab.Events, ev), append(ab.Leaves, leaf)
		}
		return nil
	}
	for i := range b.Txs {
		r := &b.Txs[i]
		for j, e := range r.Events {
			if err := add(audit.Event{Height: b.Height, Time: b.Time, Tx: r.Hash, TxIndex: i, Index: j, Event: e}); err != nil {
				return nil, err
			}
		}
	}
	// The block's own events come after its transactions', with no
	// transaction hash and the index one past the last transaction.
	for j, e := range b.Events {
		if err := add(audit.Event{Height: b.Height, Time: b.Time, TxIndex: len(b.Txs), Index: j, Event: e}); err != nil {
			return nil, err
		}
	}
	if ab.Size = log.Size(); ab.Size > ab.First {
		if err := blk.Set(logKey, log.Encode()); err != nil {
			return nil, err
		}
	}
	if ab.Root, err = log.Root(); err != nil {
		return nil, err
	}
	return ab, nil
}

// AppHashOf returns the app hash of a committed view: what the header of
// the block after it carries.
func AppHashOf(v state.View) ([]byte, error) {
	log, err := loadLog(v)
	if err != nil {
		return nil, err
	}
	root, err := log.Root()
	if err != nil {
		return nil, err
	}
	return audit.AppHash(v.Hash(), log.Size(), root), nil
}
