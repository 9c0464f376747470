package claims_test

import (
	"bytes"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/condition"
	"github.com/careledger/careledger/contract/contracttest"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/tx"
)

type mapStore = contracttest.Store

// The test network's organizations and signers.
const (
	payer  = "acme-health"
	clinic = "city-clinic"
	rival  = "rival-clinic"

	payerAdmin   = "payer-admin"
	payerAgent   = "payer-agent"
	clinicNode   = "clinic-node"
	clinicAdmin  = "clinic-admin"
	rivalNode    = "rival-node"
	rivalAdmin   = "rival-admin"
	patientAlice = "alice"
	patientBob   = "bob"
)

var signerKeys = map[string]byte{payerAdmin: 1, payerAgent: 2, clinicNode: 3, clinicAdmin: 4, rivalNode: 5, patientAlice: 6, patientBob: 7, rivalAdmin: 8}

func key(name string) tx.PubKey { return bytes.Repeat([]byte{signerKeys[name]}, tx.PubKeySize) }

func addr(name string) tx.Address { return tx.AddressOf(key(name)) }

// chain drives the claims contract over a state holding the test
// organizations and patients, one message at a time, each applied whole or
// not at all.
type chain struct {
	t      testing.TB
	s      mapStore
	c      contract.Contract
	height int64
	events []contract.Event // of the last message
	n      byte             // claims made so far
	err    error            // of the last message
}

func newChain(t testing.TB) *chain {
	t.Helper()
	ch := &chain{t: t, s: mapStore{}, c: claims.New(condition.NewEngine(64)).Describe(), height: 1}
	g := identity.Genesis{Organizations: []identity.GenesisOrg{
		{ID: payer, Name: "Acme Health", Type: identity.Payer, Admins: []tx.PubKey{key(payerAdmin)}},
		{ID: clinic, Name: "City Clinic", Type: identity.Provider, Admins: []tx.PubKey{key(clinicAdmin)}, Nodes: []tx.PubKey{key(clinicNode)}},
		{ID: rival, Name: "Rival Clinic", Type: identity.Provider, Admins: []tx.PubKey{key(rivalAdmin)}, Nodes: []tx.PubKey{key(rivalNode)}},
	}}
	if err := identity.InitGenesis(&contract.Context{Height: 1, Store: ch.s}, g); err != nil {
		t.Fatal(err)
	}
	id := identity.Describe()
	ch.run(&id, payerAdmin, identity.RegisterMember{Org: payer, PubKey: key(payerAgent), Roles: []identity.Role{identity.ClaimsAgent}})
	ch.run(&id, patientAlice, identity.RegisterPatient{})
	ch.run(&id, patientBob, identity.RegisterPatient{})
	return ch
}

func (ch *chain) run(c *contract.Contract, signer string, m contract.Msg) tx.Code {
	ch.t.Helper()
	ch.height++
	ctx := &contract.Context{ChainID: "test", Height: ch.height, Time: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC), Store: ch.s, Signer: addr(signer), SignerKey: key(signer)}
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

// exec executes a claims message signed by signer and returns its code.
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

// The default plan: deductible 500.00, 20% co-insurance, copay 25.00,
// out-of-pocket maximum 2,000.00, plan year from January 1.
var basePlan = claims.RegisterPlan{Payer: payer, Plan: "gold", Deductible: 50_000, Coinsurance: 2_000, Copay: 2_500, OOPMax: 200_000, YearStart: 101}

// The default policy, version 1 from 2025-01-01.
var basePolicy = claims.PolicyLoad{
	Payer: payer, Version: 1,
	Fees: []claims.Fee{
		{Code: "99213", Allowed: 10_000},
		{Code: "99214", Allowed: 15_000},
		{Code: "99214", Modifier: "25", Allowed: 16_000},
		{Code: "36415", Allowed: 1_000},
		{Code: "93000", Allowed: 3_000},
		{Code: "93010", Allowed: 1_500},
		{Code: "97110", Allowed: 4_000},
		{Code: "70553", Allowed: 200_000},
	},
	Pairs: []claims.CodePair{
		{Column1: "93000", Column2: "93010", Modifier: 0},
		{Column1: "99214", Column2: "36415", Modifier: 1},
	},
	Units: []claims.UnitLimit{{Code: "97110", Max: 4}, {Code: "36415", Max: 1}},
	Rules: []claims.Rule{
		{ID: "peds-only-99213", Action: claims.Deny, Reason: "6", Expr: `code == "99213" && age > 150`},
		{ID: "office-ecg", Action: claims.Deny, Reason: "58", Expr: `code == "93000" && place != "11"`},
		{ID: "mri-auth", Action: claims.RequireAuth, Expr: `code == "70553"`},
	},
}

// newPayer returns a chain whose payer has the base plan and policy, a
// funded account of 100,000.00, and alice covered for 2025.
func newPayer(t *testing.T) *chain {
	t.Helper()
	ch := newChain(t)
	ch.must(payerAdmin, basePlan)
	ch.must(payerAdmin, basePolicy)
	ch.must(payerAdmin, claims.PolicyPublish{Payer: payer, Version: 1, Effective: 20250101})
	ch.must(payerAdmin, claims.RegisterCoverage{Payer: payer, Coverage: "cov-alice", Plan: "gold", Patient: addr(patientAlice), Start: 20250101, End: 20251231})
	ch.must(payerAdmin, claims.Deposit{Payer: payer, Amount: 10_000_000})
	return ch
}

// claim returns a new claim of alice at the clinic with lines.
func (ch *chain) claim(lines ...claims.Line) claims.Submit {
	ch.n++
	return claims.Submit{
		Claim: sha256.Sum256([]byte{'c', ch.n}), Use: claims.UseClaim, Patient: addr(patientAlice),
		Provider: clinic, Payer: payer, Coverage: "cov-alice", Age: 40, Place: "11",
		Diagnoses: []string{"E11.9", "I10"}, Lines: lines,
	}
}

func line(code string, charge uint64, date uint32, mods ...string) claims.Line {
	return claims.Line{Code: code, Modifiers: mods, Units: 1, Charge: charge, Date: date, Pointers: []uint64{1}}
}

// decision submits m by the clinic's node and returns its decision.
func (ch *chain) decide(m claims.Submit) *claims.Decision {
	ch.t.Helper()
	ch.must(clinicNode, m)
	d, err := claims.LoadDecision(ch.s, m.Claim)
	if err != nil || d == nil {
		ch.t.Fatalf("LoadDecision = %v, %v; want the decision", d, err)
	}
	return d
}

func (ch *chain) balance(acct string) uint64 {
	ch.t.Helper()
	v, err := ledger.Balance(ch.s, acct)
	if err != nil {
		ch.t.Fatal(err)
	}
	return v
}

// event returns the last message's event of type typ.
func (ch *chain) event(typ string) *contract.Event {
	for i := range ch.events {
		if ch.events[i].Type == typ {
			return &ch.events[i]
		}
	}
	return nil
}
