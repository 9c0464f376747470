package schedule_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/contract/schedule"
	"github.com/careledger/careledger/tx"
)

// TestEscrowInvariants runs random bookings, cancellations, reschedules
// and marks by patients, delegates and staff over a moving block time, and
// checks after each message, applied or refused, that the escrow holds
// exactly the deposits of the booked slots, that no money is created or
// lost, and that no slot holds two bookings (a refused message changes
// nothing: chain.run applies a message whole or not at all).
func TestEscrowInvariants(t *testing.T) {
	ch := withSlots(t)
	var starts []int64
	open := schedule.OpenSlots{Provider: clinic, Schedule: "gp"}
	for i := range 20 {
		s := at(2 + float64(i)*3)
		starts = append(starts, s)
		open.Slots = append(open.Slots, schedule.SlotSpec{Start: s, Minutes: 30})
	}
	ch.must(clinicAdmin, open)
	starts = append(starts, at(48), at(49))
	people := []string{alice, bob, carer, nurse, clinicAdmin, rivalAdmin}
	accounts := []string{ledger.Patient(addr(alice)), ledger.Patient(addr(bob)), ledger.Patient(addr(carer)), clinic, schedule.Escrow}
	total := func() (sum uint64) {
		for _, a := range accounts {
			sum += ch.balance(a)
		}
		return sum
	}
	ch.fund(alice, 50_000)
	ch.fund(bob, 50_000)
	want := total()
	rng := rand.New(rand.NewPCG(18, 2026))
	applied := map[string]int{}
	for step := range 3_000 {
		ch.now = t0.Add(time.Duration(step) * time.Minute) // 3000 steps cross every slot's start
		ref := ref(starts[rng.IntN(len(starts))])
		// Mostly the signer the message needs, sometimes anyone.
		patient := []string{alice, bob}[rng.IntN(2)]
		if sl, _ := schedule.LoadSlot(ch.s, ref); sl != nil && sl.State == schedule.Booked && rng.IntN(4) > 0 {
			patient = map[tx.Address]string{addr(alice): alice, addr(bob): bob}[sl.Patient]
		}
		signer := patient
		var m contract.Msg
		switch rng.IntN(5) {
		case 0, 1:
			m = book(patient, ref.Start)
		case 2:
			m = schedule.Cancel{SlotRef: ref}
		case 3:
			m = schedule.Reschedule{SlotRef: ref, NewStart: starts[rng.IntN(len(starts))]}
		case 4:
			m, signer = schedule.Mark{SlotRef: ref, Outcome: schedule.Outcome(1 + rng.IntN(2))}, nurse
		}
		if rng.IntN(5) == 0 {
			signer = people[rng.IntN(len(people))]
		}
		if ch.exec(signer, m) == tx.CodeOK {
			applied[fmt.Sprintf("%T", m)]++
		}
		if got := total(); got != want {
			t.Fatalf("step %d (%T by %s): money in the accounts = %d; want %d", step, m, signer, got, want)
		}
		var held uint64
		slots, err := schedule.Slots(ch.s, clinic, "gp")
		if err != nil {
			t.Fatal(err)
		}
		for _, sl := range slots {
			if sl.State == schedule.Booked {
				held += sl.Held
			} else if sl.Held != 0 {
				t.Fatalf("step %d: slot %d is %s and holds %d", step, sl.Start, sl.State, sl.Held)
			}
		}
		if e := ch.balance(schedule.Escrow); e != held {
			t.Fatalf("step %d (%T by %s): escrow = %d; booked slots hold %d", step, m, signer, e, held)
		}
	}
	for _, typ := range []string{"schedule.Book", "schedule.Cancel", "schedule.Reschedule", "schedule.Mark"} {
		if applied[typ] < 10 {
			t.Errorf("applied %v: too few %s to exercise the rules", applied, typ)
		}
	}
}
