// Package contract holds what every CareLedger contract shares: the Context
// a message executes in, the Store it reads and writes, and the Events it
// emits.
//
// Contracts are CareLedger's deterministic core. They read time only from the
// block (Context.Time), never iterate a Go map to build output, use integers
// for amounts, and perform no I/O: they never import net, os, the consensus
// engine, the vault or the HTTP layer. A contract rejects a message by
// returning a *tx.Rejection; any other error is a fault that stops the node.
//
// contract imports tx, wire and the standard library.
package contract

import (
	"time"

	"github.com/careledger/careledger/tx"
)

// Store is the state a contract reads and writes during one transaction.
// Writes are buffered and discarded if the transaction is rejected.
type Store interface {
	Get(key []byte) ([]byte, error)
	Set(key, value []byte) error
	Delete(key []byte) error
}

// Context is what a message executes with.
type Context struct {
	ChainID string
	Height  int64
	Time    time.Time // the block time from the header; never the wall clock
	Store   Store

	// Signer is the transaction signer's address, and SignerKey the key that
	// signed. For a key not yet registered, Signer is tx.AddressOf(SignerKey).
	Signer    tx.Address
	SignerKey []byte

	events []Event
}

// Emit records an event. Events must name only pseudonymous identifiers.
func (c *Context) Emit(e Event) { c.events = append(c.events, e) }

// Events returns the events emitted so far.
func (c *Context) Events() []Event { return c.events }

// Event describes a change. Accounts lists the accounts it concerns, so a
// client can follow the events of one account.
type Event struct {
	Type     string       `json:"type"`
	Attrs    []Attr       `json:"attrs,omitempty"`
	Accounts []tx.Address `json:"accounts,omitempty"`
}

// Attr returns the value of the event's first attribute named key, or "".
func (e Event) Attr(key string) string {
	for _, a := range e.Attrs {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
}

// Values returns the values of every attribute named key, in order.
func (e Event) Values(key string) []string {
	var out []string
	for _, a := range e.Attrs {
		if a.Key == key {
			out = append(out, a.Value)
		}
	}
	return out
}

// Attr is one attribute of an event.
type Attr struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}
