package contract

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/careledger/careledger/tx"
)

// Router is the message table of a list of contracts.
type Router struct {
	contracts []Contract
	byType    map[uint64]*MsgSpec
	msgs      []*MsgSpec // by type number
	events    map[string]EventSpec
}

// NewRouter returns the table of cs. Two contracts with one name, two
// messages with one type number or name, or two event types with one name
// are refused, as is a message or event named outside its contract: each
// would silently shadow the other.
func NewRouter(cs ...Contract) (*Router, error) {
	r := &Router{contracts: cs, byType: make(map[uint64]*MsgSpec), events: make(map[string]EventSpec)}
	contracts := map[string]bool{}
	names := map[string]bool{}
	for i := range cs {
		c := &cs[i]
		if c.Name == "" || contracts[c.Name] {
			return nil, fmt.Errorf("contract name %q is empty or used twice", c.Name)
		}
		contracts[c.Name] = true
		for j := range c.Msgs {
			m := &c.Msgs[j]
			if other, ok := r.byType[m.Type]; ok {
				return nil, fmt.Errorf("message type %d is claimed by %s and %s", m.Type, other.Name, m.Name)
			}
			if names[m.Name] || !strings.HasPrefix(m.Name, c.Name+"/") {
				return nil, fmt.Errorf("message name %q is used twice or not under contract %s", m.Name, c.Name)
			}
			r.byType[m.Type], names[m.Name] = m, true
			r.msgs = append(r.msgs, m)
		}
		for _, e := range c.Events {
			if _, ok := r.events[e.Type]; ok || !strings.HasPrefix(e.Type, c.Name+".") {
				return nil, fmt.Errorf("event type %q is used twice or not under contract %s", e.Type, c.Name)
			}
			r.events[e.Type] = e
		}
	}
	slices.SortFunc(r.msgs, func(a, b *MsgSpec) int { return cmp.Compare(a.Type, b.Type) })
	return r, nil
}

// Contracts returns the contracts, in the order they were listed.
func (r *Router) Contracts() []Contract { return r.contracts }

// Msgs returns every message type, by type number.
func (r *Router) Msgs() []*MsgSpec { return r.msgs }

// Msg returns the message type typ, or nil.
func (r *Router) Msg(typ uint64) *MsgSpec { return r.byType[typ] }

// Name returns the stable name of message type typ, or "" if unknown.
func (r *Router) Name(typ uint64) string {
	if m := r.byType[typ]; m != nil {
		return m.Name
	}
	return ""
}

// Decode decodes and validates message m of a transaction. Its errors are
// *tx.Rejection values.
func (r *Router) Decode(i int, m tx.Msg) (*MsgSpec, Msg, error) {
	spec := r.byType[m.Type]
	if spec == nil {
		return nil, nil, tx.Rejectf(tx.CodeUnknownMessage, "message %d has unknown type %d", i, m.Type)
	}
	msg, err := spec.Decode(m.Body)
	return spec, msg, err
}

// Event returns the description of event type typ, and false if no
// contract declares it.
func (r *Router) Event(typ string) (EventSpec, bool) {
	e, ok := r.events[typ]
	return e, ok
}

// IndexedEvents returns the event types the contracts ask the audit log to
// index by type, in the order the contracts list them.
func (r *Router) IndexedEvents() []string {
	var out []string
	for _, c := range r.contracts {
		for _, e := range c.Events {
			if e.ByType {
				out = append(out, e.Type)
			}
		}
	}
	return out
}
