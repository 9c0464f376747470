package rewards_test

import (
	"bytes"
	"maps"
	"testing"
	"time"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/contracttest"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/tx"
)

type mapStore = contracttest.Store

// The test network.
const (
	clinic   = "city-clinic"
	rival    = "rival-clinic"
	payer    = "acme-health"
	pharmacy = "corner-pharmacy"

	clinicAdmin = "clinic-admin"
	clinicNode  = "clinic-node"
	rivalAdmin  = "rival-admin"
	payerAdmin  = "payer-admin"
	nurse       = "nurse"
	alice       = "alice"
	bob         = "bob"
	carer       = "carer" // alice's delegate
	pharmacist  = "pharmacist"
)

var signerKeys = map[string]byte{clinicAdmin: 1, clinicNode: 2, rivalAdmin: 3, payerAdmin: 4, nurse: 5, alice: 6, bob: 7, carer: 8, pharmacist: 9}

func key(name string) tx.PubKey {
	if b, ok := signerKeys[name]; ok {
		return bytes.Repeat([]byte{b}, tx.PubKeySize)
	}
	k := make([]byte, tx.PubKeySize)
	copy(k, name)
	return k
}

func addr(name string) tx.Address { return tx.AddressOf(key(name)) }

// t0 is the block time the tests start at; slots open from it on.
var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// at returns t0 plus hours.
func at(hours float64) int64 { return t0.Add(time.Duration(hours * float64(time.Hour))).Unix() }

// chain drives contracts over one state, one message at a time, each
// applied whole or not at all, at a block time the test sets.
type chain struct {
	t      testing.TB
	s      mapStore
	c      contract.Contract
	now    time.Time
	height int64
	events []contract.Event
	err    error
}

func newChain(t testing.TB, c contract.Contract) *chain {
	t.Helper()
	ch := &chain{t: t, s: mapStore{}, c: c, now: t0, height: 1}
	g := identity.Genesis{Organizations: []identity.GenesisOrg{
		{ID: clinic, Name: "City Clinic", Type: identity.Provider, Admins: []tx.PubKey{key(clinicAdmin)}, Nodes: []tx.PubKey{key(clinicNode)}},
		{ID: rival, Name: "Rival Clinic", Type: identity.Provider, Admins: []tx.PubKey{key(rivalAdmin)}},
		{ID: payer, Name: "Acme Health", Type: identity.Payer, Admins: []tx.PubKey{key(payerAdmin)}},
		{ID: pharmacy, Name: "Corner Pharmacy", Type: identity.Pharma, Admins: []tx.PubKey{key(pharmacist)}},
	}}
	if err := identity.InitGenesis(&contract.Context{Height: 1, Store: ch.s}, g); err != nil {
		t.Fatal(err)
	}
	id := identity.Describe()
	ch.runOK(&id, clinicAdmin, identity.RegisterMember{Org: clinic, PubKey: key(nurse), Roles: []identity.Role{identity.Nurse}})
	for _, p := range []string{alice, bob, carer} {
		ch.runOK(&id, p, identity.RegisterPatient{})
	}
	ch.runOK(&id, alice, identity.SetDelegate{Delegate: addr(carer), Relation: identity.Caregiver})
	return ch
}

func (ch *chain) run(c *contract.Contract, signer string, m contract.Msg) tx.Code {
	ch.t.Helper()
	ch.height++
	ctx := &contract.Context{ChainID: "test", Height: ch.height, Time: ch.now, Store: ch.s, Signer: addr(signer), SignerKey: key(signer)}
	b := ctx.Branch()
	err := c.Execute(b.Context, contract.Encode(m))
	ch.err = err
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

func (ch *chain) runOK(c *contract.Contract, signer string, m contract.Msg) {
	ch.t.Helper()
	if code := ch.run(c, signer, m); code != tx.CodeOK {
		ch.t.Fatalf("%T by %s = %v (%v); want ok", m, signer, code, ch.err)
	}
}

// exec executes a message of the chain's contract and returns its code.
func (ch *chain) exec(signer string, m contract.Msg) tx.Code {
	ch.t.Helper()
	return ch.run(&ch.c, signer, m)
}

func (ch *chain) must(signer string, m contract.Msg) {
	ch.t.Helper()
	ch.runOK(&ch.c, signer, m)
}

// refuse executes m and fails the test unless it is refused with want and
// leaves the state as it was.
func (ch *chain) refuse(signer string, m contract.Msg, want tx.Code) {
	ch.t.Helper()
	before := maps.Clone(ch.s)
	if code := ch.exec(signer, m); code != want {
		ch.t.Fatalf("%T by %s = %v (%v); want %v", m, signer, code, ch.err, want)
	}
	if !maps.EqualFunc(before, ch.s, bytes.Equal) {
		ch.t.Fatalf("%T by %s was refused but changed the state", m, signer)
	}
}

func (ch *chain) balance(account string) uint64 {
	ch.t.Helper()
	v, err := ledger.Balance(ch.s, account)
	if err != nil {
		ch.t.Fatal(err)
	}
	return v
}

func (ch *chain) fund(patient string, amount uint64) {
	ch.t.Helper()
	if err := ledger.Credit(ch.s, ledger.Patient(addr(patient)), amount, ledger.Memo{}); err != nil {
		ch.t.Fatal(err)
	}
}

func identityContract() *contract.Contract { c := identity.Describe(); return &c }

func registerPatient() contract.Msg { return identity.RegisterPatient{} }
