package app

import (
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

// route tells how one message type is checked and executed.
type route struct {
	name string
	// check decodes and validates the body without state (for CheckTx).
	check func(body []byte) error
	// handle executes the message.
	handle contract.Handler
	// open marks messages that a key not yet registered may send: the
	// transaction that registers it.
	open bool
}

// routeTable is the message table: every message type of every contract. It
// is written out here, not filled by registration, and never changes.
var routeTable = buildRoutes()

func buildRoutes() map[uint64]route {
	r := make(map[uint64]route)
	for _, typ := range identity.Types() {
		typ := typ
		r[typ] = route{
			name:   identity.Name(typ),
			check:  func(body []byte) error { return identity.Check(typ, body) },
			handle: func(ctx *contract.Context, body []byte) error { return identity.Handle(ctx, typ, body) },
			open:   typ == identity.TypeRegisterPatient,
		}
	}
	return r
}

// MsgName returns the stable name of a message type, or "" if unknown.
func MsgName(typ uint64) string { return routeTable[typ].name }

// checkMsgs validates every message of t statelessly and reports whether
// all of them may come from an unregistered key.
func checkMsgs(t *tx.Tx) (open bool, err error) {
	open = true
	for i, m := range t.Msgs {
		rt, ok := routeTable[m.Type]
		if !ok {
			return false, tx.Rejectf(tx.CodeUnknownMessage, "message %d has unknown type %d", i, m.Type)
		}
		if err := rt.check(m.Body); err != nil {
			return false, err
		}
		open = open && rt.open
	}
	return open, nil
}
