package contract

import (
	"encoding/json"

	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// Contract is a contract's description of itself: everything the
// application needs to route, check and execute its messages, initialise
// its genesis state and index its events. The application lists its
// contracts once; a Router built from that list refuses two contracts that
// claim one type number, message name or event type.
type Contract struct {
	// Name is the contract's stable name, the prefix of its message names
	// ("consent" for "consent/grant").
	Name string
	// Msgs are the contract's message types.
	Msgs []MsgSpec
	// Events are the event types the contract emits.
	Events []EventSpec
	// Genesis applies the contract's part of the genesis state. It reads
	// its own fields of the whole app_state document. Nil for a contract
	// with no genesis state.
	Genesis func(ctx *Context, appState json.RawMessage) error
}

// Msg is a decoded message body: the type it travels under and its
// canonical encoding (docs/TRANSACTIONS.md).
type Msg interface {
	Type() uint64
	EncodeTo(w *wire.Writer)
}

// Encode wraps m as a transaction message.
func Encode(m Msg) tx.Msg {
	w := wire.NewWriter(128)
	m.EncodeTo(w)
	return tx.Msg{Type: m.Type(), Body: w.Bytes()}
}

// MsgSpec describes one message type.
type MsgSpec struct {
	// Type is the message's type number: append-only, unique in the network.
	Type uint64
	// Name is its stable name, "contract/verb", as the API shows it.
	Name string
	// Open marks a message that a key not yet registered may sign: the
	// transaction that registers it.
	Open bool

	decode   func(r *wire.Reader) Msg
	validate func(Msg) error
	handle   func(*Context, Msg) error
}

// Message describes message type M, whose Type method gives its number:
// decode reads its body (the reader's errors are checked after it),
// validate checks what needs no state (nil if nothing), and handle executes
// it against the state.
func Message[M Msg](name string, decode func(r *wire.Reader) M, validate func(M) error, handle func(*Context, M) error) MsgSpec {
	var zero M
	s := MsgSpec{
		Type:   zero.Type(),
		Name:   name,
		decode: func(r *wire.Reader) Msg { return decode(r) },
		handle: func(ctx *Context, m Msg) error { return handle(ctx, m.(M)) },
	}
	if validate != nil {
		s.validate = func(m Msg) error { return validate(m.(M)) }
	}
	return s
}

// Decode parses a message body and validates what needs no state, so that
// CheckTx refuses a bad message before it reaches a block. Its errors are
// *tx.Rejection values.
func (s *MsgSpec) Decode(body []byte) (Msg, error) {
	r := wire.NewReader(body)
	m := s.decode(r)
	if err := r.Done(); err != nil {
		return nil, tx.Rejectf(tx.CodeMalformed, "decode %s: %v", s.Name, err)
	}
	if s.validate != nil {
		if err := s.validate(m); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Handle executes a message that Decode returned.
func (s *MsgSpec) Handle(ctx *Context, m Msg) error { return s.handle(ctx, m) }

// EventSpec describes one event type.
type EventSpec struct {
	// Type is the event's stable type name, "contract.what_happened".
	Type string
	// ByType asks the audit log to index the type's events, so that a node
	// finds them without a scan. Worth it for rare events a node looks for
	// (erasures it carries out again when it starts, break-the-glass
	// accesses to review); every event is indexed by the accounts it names.
	ByType bool
	// Action is what the event does to the records or grants it names, as
	// an audit trail (FHIR AuditEvent.action) tells it: C, R, U or D for
	// create, read, update or delete; "" for anything else (E, execute).
	Action string
}

// Msg returns the contract's message type typ, or nil.
func (c *Contract) Msg(typ uint64) *MsgSpec {
	for i := range c.Msgs {
		if c.Msgs[i].Type == typ {
			return &c.Msgs[i]
		}
	}
	return nil
}

// Decode decodes and validates a body of the contract's message type typ.
// Its errors are *tx.Rejection values.
func (c *Contract) Decode(typ uint64, body []byte) (Msg, error) {
	s, err := c.spec(typ)
	if err != nil {
		return nil, err
	}
	return s.Decode(body)
}

// Execute decodes, validates and executes one of the contract's messages,
// outside any transaction: for tests and tools that drive one contract.
func (c *Contract) Execute(ctx *Context, m tx.Msg) error {
	s, err := c.spec(m.Type)
	if err != nil {
		return err
	}
	msg, err := s.Decode(m.Body)
	if err != nil {
		return err
	}
	return s.Handle(ctx, msg)
}

func (c *Contract) spec(typ uint64) (*MsgSpec, error) {
	if s := c.Msg(typ); s != nil {
		return s, nil
	}
	return nil, tx.Rejectf(tx.CodeUnknownMessage, "unknown %s message type %d", c.Name, typ)
}
