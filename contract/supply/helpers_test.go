package supply_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/condition"
	"github.com/careledger/careledger/contract/contracttest"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/tx"
)

type mapStore = contracttest.Store

// The organizations of the tests and their admins' keys.
const (
	maker      = "acme-pharma"
	rival      = "rival-pharma"
	wholesaler = "north-wholesale"
	pharmacy   = "corner-pharmacy"
)

var orgKeys = map[string]byte{maker: 1, rival: 2, wholesaler: 3, pharmacy: 4}

func key(b byte) tx.PubKey { return bytes.Repeat([]byte{b}, tx.PubKeySize) }

func addr(org string) tx.Address { return tx.AddressOf(key(orgKeys[org])) }

// withCheck appends the GS1 check digit to digits.
func withCheck(digits string) string {
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-i)%2 == 1 {
			d *= 3
		}
		sum += d
	}
	return digits + string(rune('0'+(10-sum%10)%10))
}

var (
	gtinA = withCheck("0952123454321") // a cold-chain product of maker
	gtinB = withCheck("0952123454322") // rival's product
	ssccA = withCheck("10614141234567890")
	ssccB = withCheck("10614141234567891")
)

// chain drives the supply contract over a state holding the test
// organizations, one message at a time, each applied whole or not at all.
type chain struct {
	t      *testing.T
	s      mapStore
	c      contract.Contract
	now    time.Time
	height int64
	events []contract.Event // of the last message
	n      byte             // event hashes made so far
}

func newChain(t *testing.T) *chain {
	t.Helper()
	ch := &chain{t: t, s: mapStore{}, c: supply.New(condition.NewEngine(64)).Describe(), now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC), height: 1}
	var g identity.Genesis
	for _, org := range []string{maker, rival, wholesaler, pharmacy} {
		typ := identity.Pharma
		if org == pharmacy {
			typ = identity.Provider
		}
		g.Organizations = append(g.Organizations, identity.GenesisOrg{ID: org, Name: org, Type: typ, Admins: []tx.PubKey{key(orgKeys[org])}})
	}
	if err := identity.InitGenesis(&contract.Context{Height: 1, Store: ch.s}, g); err != nil {
		t.Fatal(err)
	}
	ch.must(maker, supply.RegisterProduct{Owner: maker, GTIN: gtinA, NDC: "12345-6789-01", Excursion: `type == "Temperature" && (value < 2000 || value > 8000) || exception == "ALARM_CONDITION"`})
	ch.must(rival, supply.RegisterProduct{Owner: rival, GTIN: gtinB})
	return ch
}

// exec executes m signed by org's admin and returns its code.
func (ch *chain) exec(org string, m contract.Msg) tx.Code {
	ch.t.Helper()
	ch.height++
	ctx := &contract.Context{ChainID: "test", Height: ch.height, Time: ch.now, Store: ch.s, Signer: addr(org), SignerKey: key(orgKeys[org])}
	b := ctx.Branch()
	err := ch.c.Execute(b.Context, contract.Encode(m))
	code, ok := tx.CodeOf(err)
	if !ok {
		ch.t.Fatalf("Execute(%T) = %v; want a rejection or nil", m, err)
	}
	ch.events = nil
	if err == nil {
		if err := b.Commit(); err != nil {
			ch.t.Fatal(err)
		}
		ch.events = ctx.Events()
	}
	return code
}

func (ch *chain) must(org string, m contract.Msg) {
	ch.t.Helper()
	if code := ch.exec(org, m); code != tx.CodeOK {
		ch.t.Fatalf("Execute(%+v) by %s = %v; want ok", m, org, code)
	}
}

// ev returns a new event with a fresh hash.
func (ch *chain) ev(kind supply.Kind, action supply.Action, step string, epcs ...supply.EPC) supply.Event {
	ch.n++
	return supply.Event{Hash: sha256.Sum256([]byte{ch.n}), Kind: kind, Action: action, BizStep: step, EPCs: epcs}
}

func (ch *chain) record(org string, es ...supply.Event) tx.Code {
	ch.t.Helper()
	return ch.exec(org, supply.Record{Events: es})
}

func (ch *chain) mustRecord(org string, es ...supply.Event) {
	ch.t.Helper()
	if code := ch.record(org, es...); code != tx.CodeOK {
		ch.t.Fatalf("Record by %s = %v; want ok", org, code)
	}
}

func (ch *chain) commission(lot string, expiry uint32, epcs ...supply.EPC) {
	ch.t.Helper()
	e := ch.ev(supply.ObjectEvent, supply.Add, supply.StepCommissioning, epcs...)
	e.Lot, e.Expiry = lot, expiry
	ch.mustRecord(maker, e)
}

func (ch *chain) pack(org string, parent supply.EPC, children ...supply.EPC) {
	ch.t.Helper()
	e := ch.ev(supply.AggregationEvent, supply.Add, "packing", children...)
	e.Parent = parent
	ch.mustRecord(org, e)
}

func (ch *chain) ship(from, to string, epcs ...supply.EPC) tx.Code {
	ch.t.Helper()
	e := ch.ev(supply.ObjectEvent, supply.Observe, supply.StepShipping, epcs...)
	e.Source, e.Destination = from, to
	return ch.record(from, e)
}

func (ch *chain) step(org, step string, epcs ...supply.EPC) tx.Code {
	ch.t.Helper()
	return ch.record(org, ch.ev(supply.ObjectEvent, supply.Observe, step, epcs...))
}

// status returns the status e reports, and its holder.
func (ch *chain) status(e supply.EPC) (supply.Status, string) {
	ch.t.Helper()
	it, st, err := supply.ItemStatus(ch.s, e)
	if err != nil || it == nil {
		ch.t.Fatalf("ItemStatus(%s) = %v, %v; want the item", e, it, err)
	}
	return st, it.Holder
}

func (ch *chain) wantStatus(e supply.EPC, want supply.Status, holder string) {
	ch.t.Helper()
	if st, h := ch.status(e); st != want || h != holder {
		ch.t.Errorf("%s: status %s at %s; want %s at %s", e, st, h, want, holder)
	}
}

// eventsOf returns the last message's events of type typ.
func (ch *chain) eventsOf(typ string) []contract.Event {
	var out []contract.Event
	for _, e := range ch.events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func items(n int) []supply.EPC {
	out := make([]supply.EPC, n)
	for i := range out {
		out[i] = supply.SGTIN(gtinA, fmt.Sprintf("S%04d", i))
	}
	return out
}

func (ch *chain) ev2hash(n byte) [32]byte { return sha256.Sum256([]byte{n}) }

func hexOf(h [32]byte) string { return fmt.Sprintf("%x", h) }
