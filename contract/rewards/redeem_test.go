package rewards_test

import (
	"slices"
	"testing"

	"github.com/careledger/careledger/contract/rewards"
	"github.com/careledger/careledger/tx"
)

// copays is the payer's program whose rewards are redeemable only against
// co-pays at the payer: 10.00 an attended appointment, at most 20.00 a
// patient.
var copays = rewards.Create{Sponsor: payer, Program: "copays-2026", Funding: 3_000, PatientCap: 2_000, End: at(30 * 24),
	Rules:    []rewards.Rule{{Event: "attended", Amount: 1_000, Attesters: []string{"provider"}}},
	RedeemTo: []string{payer},
}

func newCopays(t *testing.T) *chain {
	t.Helper()
	ch := newRewards(t)
	ch.must(payerAdmin, copays)
	return ch
}

func (ch *chain) received(p string) rewards.Received {
	ch.t.Helper()
	got, err := rewards.LoadReceived(ch.s, copays.Program, addr(p))
	if err != nil {
		ch.t.Fatal(err)
	}
	return got
}

// TestRedeemToThePayer: a program that names where its rewards may go
// holds them for the patient, who (or whose delegate) redeems them there
// and nowhere else, at most what is held, even after the program closed;
// a program that names none pays to the balance and has nothing to
// redeem.
func TestRedeemToThePayer(t *testing.T) {
	ch := newCopays(t)
	payerBefore := ch.balance(payer)
	for range 3 {
		ch.must(clinicNode, rewards.Attest{Program: copays.Program, Patient: addr(alice), Event: "attended", Ref: attest(alice, "x").Ref})
	}
	if to := ch.events[0].Attr("to"); to != "held" {
		t.Errorf("rewards.attested to = %q; want held", to)
	}
	if got := ch.received(alice); got != (rewards.Received{Total: 2_000, Count: 2, Held: 2_000}) {
		t.Errorf("received = %+v; want 2000 held of 2 rewards", got)
	}
	if b := ch.patientBalance(alice); b != 0 {
		t.Errorf("alice's balance = %d; want 0: the rewards are held", b)
	}
	ch.must(alice, rewards.Redeem{Program: copays.Program, Patient: addr(alice), To: payer, Amount: 1_200})
	ch.must(carer, rewards.Redeem{Program: copays.Program, Patient: addr(alice), To: payer, Amount: 300})
	if got, p := ch.received(alice).Held, ch.balance(payer); got != 500 || p != payerBefore+1_500 {
		t.Errorf("held, payer after redeeming 15.00 = %d, %d; want 500, %d", got, p, payerBefore+1_500)
	}
	if ev := ch.events[0]; ev.Type != rewards.EventRedeemed || ev.Attr("amount") != "300" || !slices.Contains(ev.Accounts, addr(alice)) {
		t.Errorf("event = %+v; want rewards.redeemed of 300 naming alice", ev)
	}

	// After the end and the close, the held 5.00 stays redeemable; the
	// sponsor got back only what nobody earned.
	ch.now = ch.now.AddDate(0, 1, 0)
	ch.must(payerAdmin, rewards.Close{Program: copays.Program})
	if pool := ch.balance(rewards.Pool(copays.Program)); pool != 500 {
		t.Errorf("the closed pool = %d; want 500 held for alice", pool)
	}
	ch.must(alice, rewards.Redeem{Program: copays.Program, Patient: addr(alice), To: payer, Amount: 500})
	if pool := ch.balance(rewards.Pool(copays.Program)); pool != 0 {
		t.Errorf("the pool after the last redemption = %d; want 0", pool)
	}
}

// TestRedeemRefusals: each bad redemption is refused with its code and
// changes nothing.
func TestRedeemRefusals(t *testing.T) {
	ch := newCopays(t)
	ch.must(clinicNode, rewards.Attest{Program: copays.Program, Patient: addr(alice), Event: "attended", Ref: attest(alice, "x").Ref})
	ch.must(clinicNode, attest(alice, "attended")) // checkups pays to the balance
	redeem := func(amount uint64) rewards.Redeem {
		return rewards.Redeem{Program: copays.Program, Patient: addr(alice), To: payer, Amount: amount}
	}
	other := redeem(100)
	other.To = clinic
	unknown := redeem(100)
	unknown.Program = "nothing"
	balance := redeem(100)
	balance.Program = checkups.Program
	for _, c := range []struct {
		what   string
		signer string
		m      rewards.Redeem
		want   tx.Code
	}{
		{"more than held", alice, redeem(1_001), tx.CodeInvalid},
		{"to an organization the program does not name", alice, other, tx.CodeInvalid},
		{"from a program that pays to balances", alice, balance, tx.CodeInvalid},
		{"from no program", alice, unknown, tx.CodeNotFound},
		{"by another patient", bob, redeem(100), tx.CodeUnauthorized},
		{"by the payer", payerAdmin, redeem(100), tx.CodeUnauthorized},
	} {
		t.Run(c.what, func(t *testing.T) { ch.refuse(c.signer, c.m, c.want) })
	}
	if b := ch.patientBalance(alice); b != 1_000 {
		t.Errorf("alice's balance = %d; want the 10.00 of checkups", b)
	}
	// Creation: an unknown organization to redeem to, or one named twice.
	bad := copays
	bad.Program, bad.RedeemTo = "bad", []string{"no-such-org"}
	ch.refuse(payerAdmin, bad, tx.CodeNotFound)
	bad.RedeemTo = []string{payer, payer}
	ch.refuse(payerAdmin, bad, tx.CodeInvalid)
	if pool := ch.balance(rewards.Pool("bad")); pool != 0 {
		t.Errorf("a refused program's pool = %d; want 0", pool)
	}
}
