package rewards_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/condition"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/contract/rewards"
	"github.com/careledger/careledger/tx"
)

// checkups is the payer's program of tests: 10.00 for an attended
// appointment attested by a provider, 5.00 for a dispensed prescription
// attested by a pharmacy (the first three only), at most 25.00 a patient,
// funded with 40.00, for 30 days.
var checkups = rewards.Create{Sponsor: payer, Program: "checkups-2026", Funding: 4_000, PatientCap: 2_500, End: at(30 * 24),
	Rules: []rewards.Rule{
		{Event: "attended", Amount: 1_000, Attesters: []string{"provider"}},
		{Event: "dispensed", Amount: 500, Attesters: []string{"pharma"}, Expr: `count < 3`},
	}}

func newRewards(t testing.TB) *chain {
	t.Helper()
	ch := newChain(t, rewards.New(condition.NewEngine(64)).Describe())
	ch.runOK(identityContract(), clinicAdmin, identity.RegisterMember{Org: clinic, PubKey: key(researcher), Roles: []identity.Role{identity.Researcher}})
	if err := ledger.Credit(ch.s, payer, 10_000, ledger.Memo{}); err != nil {
		t.Fatal(err)
	}
	ch.must(payerAdmin, checkups)
	return ch
}

const researcher = "researcher"

var refs int

// attest returns an attestation of a new event.
func attest(patient, event string) rewards.Attest {
	refs++
	return rewards.Attest{Program: checkups.Program, Patient: addr(patient), Event: event, Ref: sha256.Sum256(fmt.Appendf(nil, "event %d", refs))}
}

func (ch *chain) patientBalance(p string) uint64 { return ch.balance(ledger.Patient(addr(p))) }

func TestRewardsPayUntilTheCap(t *testing.T) {
	ch := newRewards(t)
	if p, pool := ch.balance(payer), ch.balance(rewards.Pool(checkups.Program)); p != 6_000 || pool != 4_000 {
		t.Fatalf("payer, pool after creation = %d, %d; want 6000, 4000", p, pool)
	}
	want := []uint64{1_000, 2_000, 2_500, 2_500} // the cap of 25.00 stops the third reward at 5.00
	for i, w := range want {
		ch.must(clinicNode, attest(alice, "attended"))
		if got := ch.patientBalance(alice); got != w {
			t.Errorf("alice's balance after %d attended = %d; want %d", i+1, got, w)
		}
	}
	if paid := ch.events[0].Attr("paid"); paid != "0" {
		t.Errorf("attestation past the cap paid %s; want 0", paid)
	}
	got, err := rewards.LoadReceived(ch.s, checkups.Program, addr(alice))
	if err != nil || got != (rewards.Received{Total: 2_500, Count: 3}) {
		t.Errorf("LoadReceived(alice) = %+v, %v; want 2500 in 3 rewards", got, err)
	}
	// The pool of 40.00 runs out: bob receives the last 15.00 and no more.
	for range 3 {
		ch.must(nurse, attest(bob, "attended"))
	}
	if b, pool := ch.patientBalance(bob), ch.balance(rewards.Pool(checkups.Program)); b != 1_500 || pool != 0 {
		t.Errorf("bob, pool after the pool ran out = %d, %d; want 1500, 0", b, pool)
	}
}

func TestRuleConditions(t *testing.T) {
	ch := newRewards(t)
	for i := range 4 {
		ch.must(pharmacist, attest(bob, "dispensed"))
		want := uint64(500 * min(i+1, 3))
		if got := ch.patientBalance(bob); got != want {
			t.Errorf("bob's balance after %d dispensed = %d; want %d (count < 3)", i+1, got, want)
		}
	}
}

func TestAttestationRefusals(t *testing.T) {
	ch := newRewards(t)
	dup := attest(alice, "attended")
	ch.must(clinicNode, dup)
	tests := []struct {
		name   string
		signer string
		msg    contract.Msg
		want   tx.Code
		is     error
	}{
		{"wrong organization type", pharmacist, attest(alice, "attended"), tx.CodeUnauthorized, rewards.ErrAttester},
		{"a payer attests dispensing", payerAdmin, attest(alice, "dispensed"), tx.CodeUnauthorized, rewards.ErrAttester},
		{"a patient attests", alice, attest(alice, "attended"), tx.CodeUnauthorized, nil},
		{"a researcher attests", researcher, attest(alice, "attended"), tx.CodeUnauthorized, nil},
		{"an event the program does not reward", clinicNode, attest(alice, "screening"), tx.CodeInvalid, nil},
		{"an unknown event", clinicNode, attest(alice, "visited"), tx.CodeInvalid, nil},
		{"the same event twice", clinicNode, dup, tx.CodeAlreadyExists, nil},
		{"no such program", clinicNode, rewards.Attest{Program: "none", Patient: addr(alice), Event: "attended"}, tx.CodeNotFound, nil},
		{"not a patient", clinicNode, rewards.Attest{Program: checkups.Program, Patient: addr(nurse), Event: "attended"}, tx.CodeNotFound, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch.t = t
			ch.refuse(tt.signer, tt.msg, tt.want)
			if tt.is != nil && !errors.Is(ch.err, tt.is) {
				t.Errorf("error = %v; want %v", ch.err, tt.is)
			}
		})
	}
}

func TestProgramEnds(t *testing.T) {
	ch := newRewards(t)
	ch.must(clinicNode, attest(alice, "attended"))
	ch.refuse(payerAdmin, rewards.Close{Program: checkups.Program}, tx.CodeInvalid)
	ch.now = t0.Add(30 * 24 * time.Hour)
	ch.refuse(clinicNode, attest(alice, "attended"), tx.CodeInvalid)
	if !errors.Is(ch.err, rewards.ErrEnded) {
		t.Errorf("attestation at the end = %v; want ErrEnded", ch.err)
	}
	ch.refuse(clinicAdmin, rewards.Close{Program: checkups.Program}, tx.CodeWrongOrganization)
	ch.must(payerAdmin, rewards.Close{Program: checkups.Program})
	if p, pool := ch.balance(payer), ch.balance(rewards.Pool(checkups.Program)); p != 9_000 || pool != 0 {
		t.Errorf("payer, pool after closing = %d, %d; want 9000, 0", p, pool)
	}
	ch.refuse(payerAdmin, rewards.Close{Program: checkups.Program}, tx.CodeAlreadyExists)
}

func TestCreateRefusals(t *testing.T) {
	ch := newRewards(t)
	with := func(f func(*rewards.Create)) rewards.Create {
		c := checkups
		c.Program = "other"
		c.Rules = append([]rewards.Rule(nil), checkups.Rules...)
		f(&c)
		return c
	}
	tests := []struct {
		name   string
		signer string
		msg    rewards.Create
		want   tx.Code
	}{
		{"a rule that does not compile", payerAdmin, with(func(c *rewards.Create) { c.Rules[1].Expr = "count <" }), tx.CodeInvalid},
		{"a rule that reads record content", payerAdmin, with(func(c *rewards.Create) { c.Rules[1].Expr = `code == "E11.9"` }), tx.CodeInvalid},
		{"a rule that is not boolean", payerAdmin, with(func(c *rewards.Create) { c.Rules[1].Expr = "count + 1" }), tx.CodeInvalid},
		{"a reward above the cap", payerAdmin, with(func(c *rewards.Create) { c.Rules[0].Amount = 2_501 }), tx.CodeInvalid},
		{"a cap above the funding", payerAdmin, with(func(c *rewards.Create) { c.PatientCap = 4_001 }), tx.CodeInvalid},
		{"two rules for one event", payerAdmin, with(func(c *rewards.Create) { c.Rules[1].Event = "attended" }), tx.CodeInvalid},
		{"no attesters", payerAdmin, with(func(c *rewards.Create) { c.Rules[0].Attesters = nil }), tx.CodeInvalid},
		{"an unknown attester type", payerAdmin, with(func(c *rewards.Create) { c.Rules[0].Attesters = []string{"lab"} }), tx.CodeInvalid},
		{"an end in the past", payerAdmin, with(func(c *rewards.Create) { c.End = at(-1) }), tx.CodeInvalid},
		{"funding beyond the balance", payerAdmin, with(func(c *rewards.Create) { c.Funding, c.PatientCap = 6_001, 100 }), tx.CodeInvalid},
		{"a program ID taken", payerAdmin, with(func(c *rewards.Create) { c.Program = checkups.Program }), tx.CodeAlreadyExists},
		{"another organization's funds", clinicAdmin, with(func(*rewards.Create) {}), tx.CodeWrongOrganization},
		{"a nurse", nurse, with(func(c *rewards.Create) { c.Sponsor = clinic }), tx.CodeUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch.t = t
			ch.refuse(tt.signer, tt.msg, tt.want)
		})
	}
}
