package trials_test

import (
	"bytes"
	"crypto/sha256"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/condition"
	"github.com/careledger/careledger/contract/contracttest"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/tx"
)

type mapStore = contracttest.Store

// The test network's organizations and signers.
const (
	sponsor = "acme-research"
	board   = "city-irb"
	rival   = "rival-research"
	payer   = "acme-health"
	clinic  = "city-clinic"

	sponsorAdmin = "sponsor-admin"
	sponsorNode  = "sponsor-node"
	researcher   = "researcher"
	boardAdmin   = "board-admin"
	rivalAdmin   = "rival-admin"
	payerAdmin   = "payer-admin"
	clinicNode   = "clinic-node"
	clinicAdmin  = "clinic-admin"
	alice        = "alice"
	bob          = "bob"
	carol        = "carol"

	trial = "NCT00000001"
)

var signerKeys = map[string]byte{sponsorAdmin: 1, sponsorNode: 2, researcher: 3, boardAdmin: 4, rivalAdmin: 5, payerAdmin: 6, alice: 7, bob: 8, carol: 9, clinicNode: 10, clinicAdmin: 11}

func key(name string) tx.PubKey { return bytes.Repeat([]byte{signerKeys[name]}, tx.PubKeySize) }

func addr(name string) tx.Address { return tx.AddressOf(key(name)) }

// chain drives the trials contract over a state holding the test
// organizations and patients, one message per block, each applied whole or
// not at all. It keeps every event with its block, as the audit log does.
type chain struct {
	t       testing.TB
	s       mapStore
	c       contract.Contract
	height  int64
	err     error
	history []trials.Entry
}

var genesisTime = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func newChain(t testing.TB) *chain {
	t.Helper()
	ch := &chain{t: t, s: mapStore{}, c: trials.New(condition.NewEngine(16)).Describe(), height: 1}
	g := identity.Genesis{Organizations: []identity.GenesisOrg{
		{ID: sponsor, Name: "Acme Research", Type: identity.Research, Admins: []tx.PubKey{key(sponsorAdmin)}, Nodes: []tx.PubKey{key(sponsorNode)}},
		{ID: board, Name: "City IRB", Type: identity.Research, Admins: []tx.PubKey{key(boardAdmin)}},
		{ID: rival, Name: "Rival Research", Type: identity.Research, Admins: []tx.PubKey{key(rivalAdmin)}},
		{ID: payer, Name: "Acme Health", Type: identity.Payer, Admins: []tx.PubKey{key(payerAdmin)}},
		{ID: clinic, Name: "City Clinic", Type: identity.Provider, Admins: []tx.PubKey{key(clinicAdmin)}, Nodes: []tx.PubKey{key(clinicNode)}},
	}}
	if err := identity.InitGenesis(&contract.Context{Height: 1, Store: ch.s}, g); err != nil {
		t.Fatal(err)
	}
	id := identity.Describe()
	ch.run(&id, sponsorAdmin, identity.RegisterMember{Org: sponsor, PubKey: key(researcher), Roles: []identity.Role{identity.Researcher}})
	for _, p := range []string{alice, bob, carol} {
		ch.run(&id, p, identity.RegisterPatient{})
	}
	return ch
}

func (ch *chain) run(c *contract.Contract, signer string, m contract.Msg) tx.Code {
	ch.t.Helper()
	ch.height++
	now := genesisTime.Add(time.Duration(ch.height) * time.Minute)
	ctx := &contract.Context{ChainID: "test", Height: ch.height, Time: now, Store: ch.s, Signer: addr(signer), SignerKey: key(signer)}
	b := ctx.Branch()
	err := c.Execute(b.Context, contract.Encode(m))
	ch.err = err
	code, ok := tx.CodeOf(err)
	if !ok {
		ch.t.Fatalf("Execute(%T) = %v; want a rejection or nil", m, err)
	}
	if err == nil {
		if err := b.Commit(); err != nil {
			ch.t.Fatal(err)
		}
		for _, e := range ctx.Events() {
			ch.history = append(ch.history, trials.Entry{Event: e, Height: ch.height, Time: now})
		}
	}
	return code
}

// exec executes a trials message signed by signer and returns its code.
func (ch *chain) exec(signer string, m contract.Msg) tx.Code {
	ch.t.Helper()
	return ch.run(&ch.c, signer, m)
}

// must executes m and fails the test unless it is applied.
func (ch *chain) must(signer string, m contract.Msg) {
	ch.t.Helper()
	if code := ch.exec(signer, m); code != tx.CodeOK {
		ch.t.Fatalf("%T by %s = %v (%v); want ok", m, signer, code, ch.err)
	}
}

// refuse executes m, expects code, and checks that the state did not change.
func (ch *chain) refuse(signer string, m contract.Msg, want tx.Code) {
	ch.t.Helper()
	before := maps.Clone(ch.s)
	if code := ch.exec(signer, m); code != want {
		ch.t.Fatalf("%T %+v by %s = %v (%v); want %v", m, m, signer, code, ch.err, want)
	}
	if !maps.EqualFunc(before, ch.s, bytes.Equal) {
		ch.t.Fatalf("%T by %s was refused but changed the state", m, signer)
	}
}

func (ch *chain) trial() *trials.Trial {
	ch.t.Helper()
	t, err := trials.LoadTrial(ch.s, trial)
	if err != nil || t == nil {
		ch.t.Fatalf("LoadTrial = %v, %v", t, err)
	}
	return t
}

func commitment(s string) [32]byte { return sha256.Sum256([]byte(s)) }

// registration is the test trial: two primary and one secondary outcome.
func registration() trials.Register {
	return trials.Register{
		Trial: trial, Sponsor: sponsor, Board: board,
		Study: commitment("study"), Protocol: commitment("protocol v1"), SAP: commitment("sap v1"),
		Primary: []string{"hba1c-26w", "weight-26w"}, Secondary: []string{"ae-rate"},
	}
}

// approved returns a chain whose trial's version 1 is in force.
func approved(t *testing.T) *chain {
	t.Helper()
	ch := newChain(t)
	ch.must(researcher, registration())
	ch.must(boardAdmin, trials.Approve{Trial: trial, Version: 1})
	return ch
}

// enrolled returns a chain with alice consented and enrolled.
func enrolled(t *testing.T) *chain {
	t.Helper()
	ch := approved(t)
	ch.must(alice, trials.Consent{Trial: trial, Version: 1})
	ch.must(researcher, trials.Enroll{Trial: trial, Participant: addr(alice)})
	return ch
}

func data(dataset string, version uint64, participants ...string) trials.CommitData {
	m := trials.CommitData{Trial: trial, Dataset: dataset, Root: commitment(dataset), Rows: 10, Version: version}
	for _, p := range participants {
		m.Participants = append(m.Participants, addr(p))
	}
	slices.SortFunc(m.Participants, func(a, b tx.Address) int { return bytes.Compare(a[:], b[:]) })
	return m
}
