package schedule_test

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/contract/schedule"
	"github.com/careledger/careledger/tx"
)

// gp is the clinic's schedule of tests: a deposit of 20.00, cancellation
// free until 24 hours before, half kept on a late cancellation, all of it
// on a no-show.
var gp = schedule.Publish{Provider: clinic, Schedule: "gp", Category: "primary-care",
	Deposit: 2_000, CancelBefore: 24 * 3600, LateCancelKeep: 5_000, NoShowKeep: 10_000}

// withSlots returns a chain where the clinic published gp and opened slots
// at 48 and 49 hours from t0, and alice and bob hold 50.00 each.
func withSlots(t *testing.T) *chain {
	t.Helper()
	ch := newChain(t, schedule.Describe())
	ch.must(clinicAdmin, gp)
	ch.must(clinicNode, schedule.OpenSlots{Provider: clinic, Schedule: "gp", Slots: []schedule.SlotSpec{{Start: at(48), Minutes: 20}, {Start: at(49), Minutes: 20}}})
	ch.fund(alice, 5_000)
	ch.fund(bob, 5_000)
	return ch
}

func book(patient string, start int64) schedule.Book {
	return schedule.Book{Patient: addr(patient), SlotRef: ref(start)}
}

// checkBalances compares the patient's, the clinic's and the escrow's
// balances with want.
func (ch *chain) checkBalances(what string, patient string, wantPatient, wantClinic, wantEscrow uint64) {
	ch.t.Helper()
	p, c, e := ch.balance(ledger.Patient(addr(patient))), ch.balance(clinic), ch.balance(schedule.Escrow)
	if p != wantPatient || c != wantClinic || e != wantEscrow {
		ch.t.Errorf("%s: patient, clinic, escrow = %d, %d, %d; want %d, %d, %d", what, p, c, e, wantPatient, wantClinic, wantEscrow)
	}
}

func TestBookingLifecycles(t *testing.T) {
	tests := []struct {
		name            string
		after           func(ch *chain) // what happens once alice booked the slot at 48h
		patient, clinic uint64
	}{
		{"attended", func(ch *chain) {
			ch.now = t0.Add(48 * time.Hour)
			ch.must(nurse, schedule.Mark{SlotRef: ref(at(48)), Outcome: schedule.Attended})
		}, 5_000, 0},
		{"no-show keeps all", func(ch *chain) {
			ch.now = t0.Add(49 * time.Hour)
			ch.must(clinicNode, schedule.Mark{SlotRef: ref(at(48)), Outcome: schedule.NoShow})
		}, 3_000, 2_000},
		{"cancelled before the deadline", func(ch *chain) {
			ch.now = t0.Add(23 * time.Hour)
			ch.must(alice, schedule.Cancel{SlotRef: ref(at(48))})
		}, 5_000, 0},
		{"cancelled by a delegate after the deadline", func(ch *chain) {
			ch.now = t0.Add(24*time.Hour + time.Second)
			ch.must(carer, schedule.Cancel{SlotRef: ref(at(48))})
		}, 4_000, 1_000},
		{"cancelled by the provider after the deadline", func(ch *chain) {
			ch.now = t0.Add(47 * time.Hour)
			ch.must(clinicAdmin, schedule.Cancel{SlotRef: ref(at(48))})
		}, 5_000, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := withSlots(t)
			ch.must(alice, book(alice, at(48)))
			ch.checkBalances("booked", alice, 3_000, 0, 2_000)
			tt.after(ch)
			ch.checkBalances(tt.name, alice, tt.patient, tt.clinic, 0)
		})
	}
}

func TestNoShowKeepsPart(t *testing.T) {
	ch := withSlots(t)
	part := gp
	part.NoShowKeep = 2_500
	ch.must(clinicAdmin, part)
	ch.must(bob, book(bob, at(49)))
	ch.must(clinicAdmin, gp) // a later change of policy does not reach the booking
	ch.now = t0.Add(50 * time.Hour)
	ch.must(nurse, schedule.Mark{SlotRef: ref(at(49)), Outcome: schedule.NoShow})
	ch.checkBalances("no-show under a 25% policy", bob, 4_500, 500, 0)
	if sl := ch.slot(at(49)); sl.State != schedule.Missed || sl.Held != 0 {
		t.Errorf("slot after a no-show = %+v; want state no_show, nothing held", sl)
	}
}

func TestOneSlotOneBooking(t *testing.T) {
	ch := withSlots(t)
	// Patients race for one slot: in block order the first wins and every
	// later booking is refused, paying nothing.
	const racers = 50
	wins := 0
	for i := range racers {
		p := fmt.Sprintf("racer-%02d", i)
		ch.runOK(identityContract(), p, registerPatient())
		ch.fund(p, 2_000)
		switch code := ch.exec(p, book(p, at(49))); code {
		case tx.CodeOK:
			wins++
		case tx.CodeAlreadyExists:
			if !errors.Is(ch.err, schedule.ErrTaken) {
				t.Errorf("losing booking = %v; want ErrTaken", ch.err)
			}
			if b := ch.balance(ledger.Patient(addr(p))); b != 2_000 {
				t.Errorf("a losing racer's balance = %d; want 2000 untouched", b)
			}
		default:
			t.Fatalf("booking by %s = %v (%v)", p, code, ch.err)
		}
	}
	if wins != 1 {
		t.Errorf("%d of %d racers booked one slot; want exactly 1", wins, racers)
	}
	if e := ch.balance(schedule.Escrow); e != 2_000 {
		t.Errorf("escrow = %d; want one deposit, 2000", e)
	}
}

func TestReschedule(t *testing.T) {
	ch := withSlots(t)
	ch.must(alice, book(alice, at(48)))
	ch.must(carer, schedule.Reschedule{SlotRef: ref(at(48)), NewStart: at(49)})
	if old, next := ch.slot(at(48)), ch.slot(at(49)); old.State != schedule.Free || next.State != schedule.Booked || next.Patient != addr(alice) || next.Held != 2_000 {
		t.Errorf("after rescheduling: old %+v, new %+v; want the booking and its deposit moved", old, next)
	}
	ch.checkBalances("rescheduled", alice, 3_000, 0, 2_000)
	ch.must(bob, book(bob, at(48)))
	ch.refuse(alice, schedule.Reschedule{SlotRef: ref(at(49)), NewStart: at(48)}, tx.CodeAlreadyExists)
	ch.now = t0.Add(26 * time.Hour) // within 24h of the slot at 49h
	ch.refuse(alice, schedule.Reschedule{SlotRef: ref(at(49)), NewStart: at(48)}, tx.CodeInvalid)
	if !errors.Is(ch.err, schedule.ErrDeadline) {
		t.Errorf("late reschedule = %v; want ErrDeadline", ch.err)
	}
}

func TestRefusals(t *testing.T) {
	ch := withSlots(t)
	poor := "poor"
	ch.runOK(identityContract(), poor, registerPatient())
	ch.fund(poor, 1_999)
	ch.must(alice, book(alice, at(48)))
	later := func(ch *chain) { ch.now = t0.Add(49 * time.Hour) }
	tests := []struct {
		name   string
		setup  func(ch *chain)
		signer string
		msg    contract.Msg
		want   tx.Code
	}{
		{"publish by another organization", nil, rivalAdmin, gp, tx.CodeWrongOrganization},
		{"publish by a nurse", nil, nurse, gp, tx.CodeUnauthorized},
		{"publish at a payer", nil, payerAdmin, schedule.Publish{Provider: payer, Schedule: "x", Category: "dental"}, tx.CodeUnauthorized},
		{"unknown category", nil, clinicAdmin, schedule.Publish{Provider: clinic, Schedule: "gp", Category: "oncology"}, tx.CodeInvalid},
		{"keep above 100%", nil, clinicAdmin, schedule.Publish{Provider: clinic, Schedule: "gp", Category: "dental", NoShowKeep: 10_001}, tx.CodeInvalid},
		{"slots of an unpublished schedule", nil, clinicAdmin, schedule.OpenSlots{Provider: clinic, Schedule: "none", Slots: []schedule.SlotSpec{{Start: at(50), Minutes: 10}}}, tx.CodeNotFound},
		{"a slot in the past", nil, clinicAdmin, schedule.OpenSlots{Provider: clinic, Schedule: "gp", Slots: []schedule.SlotSpec{{Start: at(-1), Minutes: 10}}}, tx.CodeInvalid},
		{"a slot opened twice", nil, clinicAdmin, schedule.OpenSlots{Provider: clinic, Schedule: "gp", Slots: []schedule.SlotSpec{{Start: at(50), Minutes: 10}, {Start: at(48), Minutes: 10}}}, tx.CodeAlreadyExists},
		{"a slot of no minutes", nil, clinicAdmin, schedule.OpenSlots{Provider: clinic, Schedule: "gp", Slots: []schedule.SlotSpec{{Start: at(50)}}}, tx.CodeInvalid},
		{"booking a taken slot", nil, bob, book(bob, at(48)), tx.CodeAlreadyExists},
		{"booking a slot not opened", nil, bob, book(bob, at(47)), tx.CodeNotFound},
		{"booking a past slot", later, bob, book(bob, at(49)), tx.CodeInvalid},
		{"booking for another patient", nil, bob, book(alice, at(49)), tx.CodeUnauthorized},
		{"booking by an organization member", nil, clinicAdmin, book(alice, at(49)), tx.CodeUnauthorized},
		{"a deposit the patient cannot cover", nil, poor, book(poor, at(49)), tx.CodeInvalid},
		{"cancel of another's booking", nil, bob, schedule.Cancel{SlotRef: ref(at(48))}, tx.CodeUnauthorized},
		{"cancel by another provider", nil, rivalAdmin, schedule.Cancel{SlotRef: ref(at(48))}, tx.CodeUnauthorized},
		{"cancel of a free slot", nil, alice, schedule.Cancel{SlotRef: ref(at(49))}, tx.CodeNotFound},
		{"cancel once started", later, alice, schedule.Cancel{SlotRef: ref(at(48))}, tx.CodeInvalid},
		{"mark before the start", nil, nurse, schedule.Mark{SlotRef: ref(at(48)), Outcome: schedule.Attended}, tx.CodeInvalid},
		{"mark by another provider", later, rivalAdmin, schedule.Mark{SlotRef: ref(at(48)), Outcome: schedule.Attended}, tx.CodeWrongOrganization},
		{"mark by the patient", later, alice, schedule.Mark{SlotRef: ref(at(48)), Outcome: schedule.Attended}, tx.CodeUnauthorized},
		{"mark a free slot", later, nurse, schedule.Mark{SlotRef: ref(at(49)), Outcome: schedule.Attended}, tx.CodeNotFound},
		{"mark an unknown outcome", later, nurse, schedule.Mark{SlotRef: ref(at(48)), Outcome: 3}, tx.CodeInvalid},
		{"reschedule to the same slot", nil, alice, schedule.Reschedule{SlotRef: ref(at(48)), NewStart: at(48)}, tx.CodeInvalid},
		{"reschedule to no slot", nil, alice, schedule.Reschedule{SlotRef: ref(at(48)), NewStart: at(60)}, tx.CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := ch.now
			defer func() { ch.now = now }()
			if tt.setup != nil {
				tt.setup(ch)
			}
			ch.t = t
			ch.refuse(tt.signer, tt.msg, tt.want)
		})
	}
}

func TestMarkOnce(t *testing.T) {
	ch := withSlots(t)
	ch.must(alice, book(alice, at(48)))
	ch.now = t0.Add(48 * time.Hour)
	ch.must(nurse, schedule.Mark{SlotRef: ref(at(48)), Outcome: schedule.Attended})
	ch.refuse(nurse, schedule.Mark{SlotRef: ref(at(48)), Outcome: schedule.NoShow}, tx.CodeAlreadyExists)
	ch.refuse(alice, schedule.Cancel{SlotRef: ref(at(48))}, tx.CodeAlreadyExists)
}

func TestSlotsInTimeOrder(t *testing.T) {
	ch := withSlots(t)
	ch.must(clinicAdmin, schedule.OpenSlots{Provider: clinic, Schedule: "gp", Slots: []schedule.SlotSpec{{Start: at(300), Minutes: 30}, {Start: at(47), Minutes: 30}}})
	ch.must(clinicAdmin, schedule.Publish{Provider: clinic, Schedule: "gp2", Category: "dental"})
	ch.must(clinicAdmin, schedule.OpenSlots{Provider: clinic, Schedule: "gp2", Slots: []schedule.SlotSpec{{Start: at(1), Minutes: 30}}})
	ch.must(bob, book(bob, at(49)))
	sls, err := schedule.Slots(ch.s, clinic, "gp")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, sl := range sls {
		got = append(got, fmt.Sprintf("%d:%s", sl.Start, sl.State))
	}
	want := []string{fmt.Sprintf("%d:free", at(47)), fmt.Sprintf("%d:free", at(48)), fmt.Sprintf("%d:booked", at(49)), fmt.Sprintf("%d:free", at(300))}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Slots(gp) = %v; want %v", got, want)
	}
}

// TestEventsNamePatientsOnlyByAccount checks that a booking's events carry
// the provider, schedule, time and amounts, and the patient only as an
// account.
func TestEventsNamePatientsOnlyByAccount(t *testing.T) {
	ch := withSlots(t)
	ch.must(carer, book(alice, at(48)))
	if len(ch.events) != 1 {
		t.Fatalf("booking emitted %d events; want 1", len(ch.events))
	}
	e := ch.events[0]
	if e.Type != schedule.EventBooked || e.Attr("provider") != clinic || e.Attr("start") != fmt.Sprint(at(48)) || e.Attr("deposit") != "2000" {
		t.Errorf("booked event = %+v", e)
	}
	if len(e.Accounts) != 2 || e.Accounts[0] != addr(carer) || e.Accounts[1] != addr(alice) {
		t.Errorf("booked event accounts = %v; want the delegate and the patient", e.Accounts)
	}
}

// TestSendFundsABooking: a payer funds a patient's ledger account with
// ledger/send, the patient books with it and pays the rest to the clinic.
func TestSendFundsABooking(t *testing.T) {
	ch := newChain(t, schedule.Describe())
	ch.must(clinicAdmin, gp)
	ch.must(clinicAdmin, schedule.OpenSlots{Provider: clinic, Schedule: "gp", Slots: []schedule.SlotSpec{{Start: at(48), Minutes: 20}}})
	if err := ledger.Credit(ch.s, payer, 10_000, ledger.Memo{}); err != nil {
		t.Fatal(err)
	}
	l := ledger.Describe()
	ch.runOK(&l, payerAdmin, ledger.Send{From: payer, ToPatient: addr(bob), Amount: 2_500})
	ch.must(bob, book(bob, at(48)))
	ch.runOK(&l, bob, ledger.Send{ToOrg: clinic, Amount: 500})
	ch.checkBalances("after send, book and pay", bob, 0, 500, 2_000)
	for _, r := range []struct {
		signer string
		m      ledger.Send
		want   tx.Code
	}{
		{bob, ledger.Send{ToOrg: clinic, Amount: 1}, tx.CodeInvalid},                                // nothing left
		{clinicAdmin, ledger.Send{From: payer, ToOrg: clinic, Amount: 1}, tx.CodeWrongOrganization}, // not its account
		{nurse, ledger.Send{From: clinic, ToOrg: payer, Amount: 1}, tx.CodeUnauthorized},            // not admin or claims agent
		{payerAdmin, ledger.Send{From: payer, ToPatient: addr(clinicAdmin), Amount: 1}, tx.CodeNotFound},
		{payerAdmin, ledger.Send{From: payer, ToOrg: "nobody", Amount: 1}, tx.CodeNotFound},
		{payerAdmin, ledger.Send{From: payer, ToOrg: clinic, ToPatient: addr(bob), Amount: 1}, tx.CodeInvalid},
		{payerAdmin, ledger.Send{From: payer, ToOrg: clinic}, tx.CodeInvalid},
	} {
		before := maps.Clone(ch.s)
		if code := ch.run(&l, r.signer, r.m); code != r.want {
			t.Errorf("Send %+v by %s = %v (%v); want %v", r.m, r.signer, code, ch.err, r.want)
		}
		if !maps.EqualFunc(before, ch.s, bytes.Equal) {
			t.Errorf("refused Send %+v changed the state", r.m)
		}
	}
}
