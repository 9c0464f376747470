package app

import (
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/governance"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/records"
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

// contractRoutes is one contract's part of the message table.
type contractRoutes struct {
	types  []uint64
	name   func(typ uint64) string
	check  func(typ uint64, body []byte) error
	handle func(ctx *contract.Context, typ uint64, body []byte) error
}

// newRoutes returns the message table: every message type of every
// contract. It is written out here, not filled by registration.
func newRoutes(c *consent.Contract, g *governance.Contract) map[uint64]route {
	r := make(map[uint64]route)
	for _, cr := range []contractRoutes{
		{identity.Types(), identity.Name, identity.Check, identity.Handle},
		{records.Types(), records.Name, records.Check, records.Handle},
		{consent.Types(), consent.Name, c.Check, c.Handle},
		{governance.Types(), governance.Name, governance.Check, g.Handle},
	} {
		for _, typ := range cr.types {
			r[typ] = route{
				name:   cr.name(typ),
				check:  func(body []byte) error { return cr.check(typ, body) },
				handle: func(ctx *contract.Context, body []byte) error { return cr.handle(ctx, typ, body) },
				open:   typ == identity.TypeRegisterPatient,
			}
		}
	}
	return r
}

// MsgName returns the stable name of a message type, or "" if unknown.
func MsgName(typ uint64) string {
	for _, name := range []func(uint64) string{identity.Name, records.Name, consent.Name, governance.Name} {
		if n := name(typ); n != "" {
			return n
		}
	}
	return ""
}

// checkMsgs validates every message of t statelessly and reports whether
// all of them may come from an unregistered key.
func (a *App) checkMsgs(t *tx.Tx) (open bool, err error) {
	open = true
	for i, m := range t.Msgs {
		rt, ok := a.routes[m.Type]
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
