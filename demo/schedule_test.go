package demo_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/rewards"
	"github.com/careledger/careledger/contract/schedule"
	"github.com/careledger/careledger/demo"
	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/tx"
)

// TestDemoAppointments seeds a node as `careledger node --demo` does and
// checks what the README's tour relies on: every demo schedule with its
// policy and free slots in the coming days, the payer's reward program
// with its caps and end, funded from the payer's account, redeemable only
// to the payer; seeding again changes nothing; and an attended appointment
// on a demo schedule, attested by a demo physician, rewards the patient
// with the program's reward, held in the program for her to redeem to the
// payer (and not paid into her balance).
func TestDemoAppointments(t *testing.T) {
	n := nodetest.Start(t, demo.InitOptions(node.Config{}))
	dir := keys.Dir(filepath.Join(n.Home, "keys"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	seeded := time.Now()
	people, err := demo.Seed(ctx, n.Client, dir)
	if err != nil {
		t.Fatalf("seed the demo: %v", err)
	}
	key := func(name string) tx.Address {
		for _, p := range people {
			if p.Key == name {
				return p.Address
			}
		}
		t.Fatalf("no demo account %s", name)
		return tx.Address{}
	}
	alice := key("patient-alice")
	aliceKey, err := dir.Load("patient-alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	tok := n.Token(t, aliceKey)

	check := func(when string) {
		t.Helper()
		for _, p := range demo.Schedules {
			list, err := n.Client.Slots(ctx, tok, p.Provider, p.Schedule)
			if err != nil {
				t.Fatalf("%s: slots of %s/%s: %v", when, p.Provider, p.Schedule, err)
			}
			if list.Category != p.Category || list.Policy.Deposit != p.Deposit || list.Policy.NoShowKeep != p.NoShowKeep {
				t.Errorf("%s: schedule %s/%s = %s %+v; want %s %+v", when, p.Provider, p.Schedule, list.Category, list.Policy, p.Category, p)
			}
			if want := demo.SlotDays * len(demo.SlotHours); len(list.Slots) != want {
				t.Fatalf("%s: %s/%s has %d slots; want %d", when, p.Provider, p.Schedule, len(list.Slots), want)
			}
			for _, sl := range list.Slots {
				if sl.State != schedule.Free || sl.Start <= seeded.Unix() || sl.Start > seeded.Add((demo.SlotDays+1)*24*time.Hour).Unix() {
					t.Errorf("%s: slot %+v of %s/%s; want free, in the %d days after seeding", when, sl, p.Provider, p.Schedule, demo.SlotDays)
				}
			}
		}
		prog, err := n.Client.Program(ctx, tok, demo.RewardProgram)
		if err != nil {
			t.Fatalf("%s: the reward program: %v", when, err)
		}
		if prog.Sponsor != demo.Payer || prog.Funding != demo.RewardFunding || prog.PatientCap != demo.RewardPatientCap ||
			prog.End < seeded.Add(364*24*time.Hour).Unix() || len(prog.Rules) != 1 || prog.Rules[0].Event != "attended" || prog.Paid != 0 ||
			!slices.Equal(prog.RedeemTo, []string{demo.Payer}) {
			t.Errorf("%s: the reward program = %+v; want %s's, funded %d, capped %d a patient, for a year, paying attended appointments, redeemable to %[3]s alone",
				when, prog, demo.Payer, demo.RewardFunding, demo.RewardPatientCap)
		}
		payer, err := dir.Load("acme-health-admin", nil)
		if err != nil {
			t.Fatal(err)
		}
		if acct, err := n.Client.LedgerAccount(ctx, n.Token(t, payer), demo.Payer); err != nil || acct.Balance != demo.PayerFunds-demo.RewardFunding {
			t.Errorf("%s: the payer's account = %+v, %v; want %d (its deposit less the program's funding)", when, acct, err, demo.PayerFunds-demo.RewardFunding)
		}
	}
	check("after seeding")
	if _, err := demo.Seed(ctx, n.Client, dir); err != nil {
		t.Fatalf("seed again: %v", err)
	}
	check("after seeding again")

	// A check-up at Mercy starting in a few seconds: Alice books it, and
	// once it has started Dr Adams marks it attended and attests it to the
	// program in one transaction, as the portal does.
	mercy := demo.Schedules[0]
	admin, err := dir.Load("admin", nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(4 * time.Second).Unix()
	ref := schedule.SlotRef{Provider: mercy.Provider, Schedule: mercy.Schedule, Start: start}
	if _, err := n.Client.Send(ctx, admin, contract.Encode(schedule.OpenSlots{Provider: ref.Provider, Schedule: ref.Schedule,
		Slots: []schedule.SlotSpec{{Start: start, Minutes: demo.SlotMinutes}}})); err != nil {
		t.Fatalf("open a slot: %v", err)
	}
	if _, err := n.Client.Send(ctx, aliceKey, contract.Encode(schedule.Book{Patient: alice, SlotRef: ref})); err != nil {
		t.Fatalf("alice books: %v", err)
	}
	time.Sleep(time.Until(time.Unix(start+1, 0)))
	adams, err := dir.Load("dr-adams", nil)
	if err != nil {
		t.Fatal(err)
	}
	attest := rewards.Attest{Program: demo.RewardProgram, Patient: alice, Event: "attended",
		Ref: sha256.Sum256(fmt.Appendf(nil, "%s/%s/%d", ref.Provider, ref.Schedule, ref.Start))}
	if _, err := n.Client.Send(ctx, adams, contract.Encode(schedule.Mark{SlotRef: ref, Outcome: schedule.Attended}), contract.Encode(attest)); err != nil {
		t.Fatalf("dr-adams marks the appointment attended and attests it: %v", err)
	}
	if got, err := n.Client.Rewarded(ctx, tok, demo.RewardProgram, alice); err != nil || got.Total != demo.RewardAmount || got.Held != demo.RewardAmount {
		t.Errorf("what the program rewarded alice after an attended check-up = %+v, %v; want the reward, %d, all held to redeem", got, err, demo.RewardAmount)
	}
	if bal, err := n.Client.Balance(ctx, tok, alice); err != nil || bal.Balance != 0 {
		t.Errorf("alice's balance after an attended check-up = %+v, %v; want 0 (the reward is held in the program)", bal, err)
	}
}
