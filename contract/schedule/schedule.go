// Package schedule is the scheduling contract: providers publish schedules
// and open slots, patients (or their delegates) book them with their own
// keys, and an optional deposit waits in escrow on the payment ledger
// (package ledger) until the appointment ends: refunded on a cancellation
// before the schedule's deadline, released to the patient when the
// provider marks the appointment attended, kept in full or in part as the
// schedule's policy says on a late cancellation or a no-show.
//
// A booking holds its slot in the block that carries it: the first
// booking of a free slot in block order wins, and any later one is
// refused with already_exists. The chain holds the pseudonymous patient,
// the provider organization, the slot's time and a coarse service
// category; the reason for the visit stays at the provider. Times are
// Unix seconds compared with the block time only.
//
// schedule imports contract, identity, ledger, tx and wire.
package schedule

import (
	"errors"
	"strconv"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/tx"
)

// Escrow is the ledger account holding every booking's deposit; each slot
// records its own share (Slot.Held).
var Escrow = ledger.Held("schedule")

// Rejections callers test for with errors.Is.
var (
	ErrTaken    = tx.Rejectf(tx.CodeAlreadyExists, "the slot is taken")
	ErrPast     = tx.Rejectf(tx.CodeInvalid, "the slot has started")
	ErrDeadline = tx.Rejectf(tx.CodeInvalid, "the cancellation deadline has passed")
	ErrNotYet   = tx.Rejectf(tx.CodeInvalid, "the slot has not started")
)

// Event types of the scheduling contract. They name the provider, the
// schedule, the slot's start and amounts; the patient only as an account.
const (
	EventPublished   = "schedule.published"
	EventOpened      = "schedule.slots_opened"
	EventBooked      = "schedule.booked"
	EventCancelled   = "schedule.cancelled"
	EventRescheduled = "schedule.rescheduled"
	EventAttended    = "schedule.attended"
	EventNoShow      = "schedule.no_show"
)

// Describe returns the scheduling contract's description.
func Describe() contract.Contract {
	return contract.Contract{
		Name: "schedule",
		Msgs: []contract.MsgSpec{
			contract.Message("schedule/publish", readPublish, Publish.validate, publish),
			contract.Message("schedule/open_slots", readOpenSlots, OpenSlots.validate, openSlots),
			contract.Message("schedule/book", readBook, Book.validate, book),
			contract.Message("schedule/cancel", readCancel, Cancel.validate, cancel),
			contract.Message("schedule/reschedule", readReschedule, Reschedule.validate, reschedule),
			contract.Message("schedule/mark", readMark, Mark.validate, mark),
		},
		Events: []contract.EventSpec{
			{Type: EventPublished, Action: "U"},
			{Type: EventOpened, Action: "C"},
			{Type: EventBooked, Action: "C"},
			{Type: EventCancelled, Action: "D"},
			{Type: EventRescheduled, Action: "U"},
			{Type: EventAttended, Action: "U"},
			{Type: EventNoShow, Action: "U"},
		},
	}
}

func attr(k, v string) contract.Attr         { return contract.Attr{Key: k, Value: v} }
func uattr(k string, v uint64) contract.Attr { return attr(k, strconv.FormatUint(v, 10)) }
func tattr(k string, v int64) contract.Attr  { return attr(k, strconv.FormatInt(v, 10)) }

func slotAttrs(ref SlotRef, more ...contract.Attr) []contract.Attr {
	return append([]contract.Attr{attr("provider", ref.Provider), attr("schedule", ref.Schedule), tattr("start", ref.Start)}, more...)
}

// requireProvider checks that the signer is a member of org, an
// organization of type provider, holding one of roles.
func requireProvider(ctx *contract.Context, org string, roles ...identity.Role) error {
	if _, err := identity.RequireRole(ctx, org, roles...); err != nil {
		return err
	}
	o, err := identity.LoadOrg(ctx.Store, org)
	if err != nil {
		return err
	}
	if o.Type != identity.Provider {
		return tx.Rejectf(tx.CodeUnauthorized, "%s is an organization of type %s, not provider", org, o.Type)
	}
	return nil
}

func publish(ctx *contract.Context, m Publish) error {
	if err := requireProvider(ctx, m.Provider, identity.Admin, identity.Service); err != nil {
		return err
	}
	sc := &Schedule{Category: m.Category, Virtual: m.Virtual, Policy: Policy{
		Deposit: m.Deposit, CancelBefore: m.CancelBefore, LateCancelKeep: m.LateCancelKeep, NoShowKeep: m.NoShowKeep}}
	if err := ctx.Store.Set(scheduleKey(m.Provider, m.Schedule), sc.encode()); err != nil {
		return err
	}
	ctx.Emit(contract.Event{
		Type: EventPublished,
		Attrs: []contract.Attr{attr("provider", m.Provider), attr("schedule", m.Schedule), attr("category", m.Category),
			uattr("deposit", m.Deposit)},
		Accounts: []tx.Address{ctx.Signer},
	})
	return nil
}

func requireSchedule(ctx *contract.Context, provider, schedule string) (*Schedule, error) {
	sc, err := LoadSchedule(ctx.Store, provider, schedule)
	if err == nil && sc == nil {
		err = tx.Rejectf(tx.CodeNotFound, "schedule %s of %s is not published", schedule, provider)
	}
	return sc, err
}

func openSlots(ctx *contract.Context, m OpenSlots) error {
	if err := requireProvider(ctx, m.Provider, identity.Admin, identity.Service); err != nil {
		return err
	}
	if _, err := requireSchedule(ctx, m.Provider, m.Schedule); err != nil {
		return err
	}
	for _, s := range m.Slots {
		ref := SlotRef{m.Provider, m.Schedule, s.Start}
		if s.Start <= ctx.Time.Unix() {
			return invalid("a slot opens in the future: %d is not after the block time", s.Start)
		}
		if old, err := LoadSlot(ctx.Store, ref); err != nil {
			return err
		} else if old != nil {
			return tx.Rejectf(tx.CodeAlreadyExists, "the slot at %d is already open", s.Start)
		}
		if err := saveSlot(ctx.Store, ref, &Slot{Start: s.Start, Minutes: s.Minutes}); err != nil {
			return err
		}
	}
	ctx.Emit(contract.Event{
		Type:     EventOpened,
		Attrs:    []contract.Attr{attr("provider", m.Provider), attr("schedule", m.Schedule), uattr("slots", uint64(len(m.Slots)))},
		Accounts: []tx.Address{ctx.Signer},
	})
	return nil
}

// freeSlot returns the free, future slot ref names.
func freeSlot(ctx *contract.Context, ref SlotRef) (*Slot, error) {
	sl, err := LoadSlot(ctx.Store, ref)
	switch {
	case err != nil:
		return nil, err
	case sl == nil:
		return nil, tx.Rejectf(tx.CodeNotFound, "no slot at %d on schedule %s of %s", ref.Start, ref.Schedule, ref.Provider)
	case ref.Start <= ctx.Time.Unix():
		return nil, ErrPast
	case sl.State != Free:
		return nil, ErrTaken
	}
	return sl, nil
}

func book(ctx *contract.Context, m Book) error {
	if _, err := identity.RequirePatient(ctx.Store, m.Patient); err != nil {
		return err
	}
	if err := identity.RequireActsFor(ctx, m.Patient); err != nil {
		return err
	}
	sc, err := requireSchedule(ctx, m.Provider, m.Schedule)
	if err != nil {
		return err
	}
	sl, err := freeSlot(ctx, m.SlotRef)
	if err != nil {
		return err
	}
	if err := ledger.Transfer(ctx.Store, ledger.Patient(m.Patient), Escrow, sc.Deposit, ledger.Memo{Height: ctx.Height}); err != nil {
		if errors.Is(err, ledger.ErrShort) {
			return tx.Rejectf(tx.CodeInvalid, "the patient's balance does not cover the deposit of %d", sc.Deposit)
		}
		return err
	}
	sl.State, sl.Patient, sl.Held, sl.Policy = Booked, m.Patient, sc.Deposit, sc.Policy
	if err := saveSlot(ctx.Store, m.SlotRef, sl); err != nil {
		return err
	}
	ctx.Emit(contract.Event{Type: EventBooked, Attrs: slotAttrs(m.SlotRef, uattr("deposit", sl.Held)), Accounts: accounts(ctx, m.Patient)})
	return nil
}

func accounts(ctx *contract.Context, patient tx.Address) []tx.Address {
	if ctx.Signer == patient {
		return []tx.Address{patient}
	}
	return []tx.Address{ctx.Signer, patient}
}

// bookedSlot returns the booked slot ref names.
func bookedSlot(ctx *contract.Context, ref SlotRef) (*Slot, error) {
	sl, err := LoadSlot(ctx.Store, ref)
	if err != nil {
		return nil, err
	}
	if sl == nil || sl.State == Free {
		return nil, tx.Rejectf(tx.CodeNotFound, "no booking at %d on schedule %s of %s", ref.Start, ref.Schedule, ref.Provider)
	}
	if sl.State != Booked {
		return nil, tx.Rejectf(tx.CodeAlreadyExists, "the appointment is already marked %s", sl.State)
	}
	return sl, nil
}

// settle pays a booking's escrow out: kept to the provider, the rest back
// to the patient.
func settle(ctx *contract.Context, ref SlotRef, sl *Slot, kept uint64) error {
	if err := ledger.Transfer(ctx.Store, Escrow, ref.Provider, kept, ledger.Memo{Height: ctx.Height}); err != nil {
		return err
	}
	return ledger.Transfer(ctx.Store, Escrow, ledger.Patient(sl.Patient), sl.Held-kept, ledger.Memo{Height: ctx.Height})
}

// beforeDeadline reports whether the block time is before sl's
// cancellation deadline.
func beforeDeadline(ctx *contract.Context, sl *Slot) bool {
	return ctx.Time.Unix() < sl.Start-int64(sl.Policy.CancelBefore)
}

// actor tells who may change a booking: its patient or a delegate, or (if
// provider is true) an admin or service member of the slot's provider.
func actor(ctx *contract.Context, ref SlotRef, sl *Slot) (provider bool, err error) {
	ok, err := identity.ActsFor(ctx.Store, ctx.Signer, sl.Patient)
	if err != nil || ok {
		return false, err
	}
	if err := requireProvider(ctx, ref.Provider, identity.Admin, identity.Service); err != nil {
		if code, _ := tx.CodeOf(err); code == tx.CodeWrongOrganization || code == tx.CodeUnauthorized {
			return false, tx.Rejectf(tx.CodeUnauthorized, "signer %s may not change this booking", ctx.Signer)
		}
		return false, err
	}
	return true, nil
}

func cancel(ctx *contract.Context, m Cancel) error {
	sl, err := bookedSlot(ctx, m.SlotRef)
	if err != nil {
		return err
	}
	byProvider, err := actor(ctx, m.SlotRef, sl)
	if err != nil {
		return err
	}
	if m.Start <= ctx.Time.Unix() {
		return ErrPast
	}
	var kept uint64
	if !byProvider && !beforeDeadline(ctx, sl) {
		kept = keep(sl.Held, sl.Policy.LateCancelKeep)
	}
	if err := settle(ctx, m.SlotRef, sl, kept); err != nil {
		return err
	}
	patient := sl.Patient
	if err := saveSlot(ctx.Store, m.SlotRef, &Slot{Start: sl.Start, Minutes: sl.Minutes}); err != nil {
		return err
	}
	ctx.Emit(contract.Event{
		Type:     EventCancelled,
		Attrs:    slotAttrs(m.SlotRef, uattr("refund", sl.Held-kept), uattr("kept", kept)),
		Accounts: accounts(ctx, patient),
	})
	return nil
}

func reschedule(ctx *contract.Context, m Reschedule) error {
	sl, err := bookedSlot(ctx, m.SlotRef)
	if err != nil {
		return err
	}
	if err := identity.RequireActsFor(ctx, sl.Patient); err != nil {
		return err
	}
	if m.Start <= ctx.Time.Unix() {
		return ErrPast
	}
	if !beforeDeadline(ctx, sl) {
		return ErrDeadline
	}
	to := SlotRef{m.Provider, m.Schedule, m.NewStart}
	next, err := freeSlot(ctx, to)
	if err != nil {
		return err
	}
	next.State, next.Patient, next.Held, next.Policy = Booked, sl.Patient, sl.Held, sl.Policy
	if err := saveSlot(ctx.Store, to, next); err != nil {
		return err
	}
	if err := saveSlot(ctx.Store, m.SlotRef, &Slot{Start: sl.Start, Minutes: sl.Minutes}); err != nil {
		return err
	}
	ctx.Emit(contract.Event{Type: EventRescheduled, Attrs: slotAttrs(m.SlotRef, tattr("new_start", m.NewStart)), Accounts: accounts(ctx, sl.Patient)})
	return nil
}

func mark(ctx *contract.Context, m Mark) error {
	if err := requireProvider(ctx, m.Provider, identity.Physician, identity.Nurse, identity.Admin, identity.Service); err != nil {
		return err
	}
	sl, err := bookedSlot(ctx, m.SlotRef)
	if err != nil {
		return err
	}
	if ctx.Time.Unix() < m.Start {
		return ErrNotYet
	}
	var kept uint64
	typ, state := EventAttended, Done
	if m.Outcome == NoShow {
		kept, typ, state = keep(sl.Held, sl.Policy.NoShowKeep), EventNoShow, Missed
	}
	if err := settle(ctx, m.SlotRef, sl, kept); err != nil {
		return err
	}
	refund := sl.Held - kept
	sl.State, sl.Held = state, 0
	if err := saveSlot(ctx.Store, m.SlotRef, sl); err != nil {
		return err
	}
	ctx.Emit(contract.Event{Type: typ, Attrs: slotAttrs(m.SlotRef, uattr("refund", refund), uattr("kept", kept)), Accounts: []tx.Address{ctx.Signer, sl.Patient}})
	return nil
}
