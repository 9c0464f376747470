package schedule

import (
	"regexp"
	"slices"

	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// Message types owned by the scheduling contract. Numbers are append-only;
// the contract holds 112 to 119.
const (
	TypePublish    uint64 = 112
	TypeOpenSlots  uint64 = 113
	TypeBook       uint64 = 114
	TypeCancel     uint64 = 115
	TypeReschedule uint64 = 116
	TypeMark       uint64 = 117
)

// Limits on message fields.
const (
	MaxDeposit      = 1_000_000_000 // minor units of one booking's deposit
	MaxCancelBefore = 30 * 24 * 3600
	MaxSlots        = 64   // slots opened by one message
	MaxMinutes      = 1440 // one slot's duration
	bpsWhole        = 10_000
	maxID           = 64
	maxStart        = 1<<63 - 1
)

// Categories are the coarse service categories a schedule may name: the
// only thing the chain says about what an appointment is for.
var Categories = []string{"primary-care", "specialist", "dental", "imaging", "laboratory", "vaccination", "screening", "therapy"}

// Publish creates a provider's schedule, or changes its policy for
// bookings made from then on (a booking keeps the policy it was made
// under). Deposit is what a booking moves from the patient's ledger
// account into escrow (0 for none); a patient cancelling less than
// CancelBefore seconds before the start loses LateCancelKeep basis points
// of the deposit to the provider, and a patient marked a no-show loses
// NoShowKeep. The signer must be an admin or service member of Provider,
// an organization of type provider.
type Publish struct {
	Provider       string `json:"provider"`
	Schedule       string `json:"schedule"`
	Category       string `json:"category"`
	Virtual        bool   `json:"virtual"`
	Deposit        uint64 `json:"deposit"`
	CancelBefore   uint64 `json:"cancel_before"`
	LateCancelKeep uint64 `json:"late_cancel_keep_bps"`
	NoShowKeep     uint64 `json:"no_show_keep_bps"`
}

// OpenSlots opens free slots on a schedule of Provider.
type OpenSlots struct {
	Provider string     `json:"provider"`
	Schedule string     `json:"schedule"`
	Slots    []SlotSpec `json:"slots"`
}

// SlotSpec is one slot to open: its start in Unix seconds (block time) and
// its length in minutes. A slot is named by its schedule and start.
type SlotSpec struct {
	Start   int64  `json:"start"`
	Minutes uint64 `json:"minutes"`
}

// SlotRef names one slot.
type SlotRef struct {
	Provider string `json:"provider"`
	Schedule string `json:"schedule"`
	Start    int64  `json:"start"`
}

// Book books a free slot for Patient, signed by the patient or a delegate.
type Book struct {
	Patient tx.Address `json:"patient"`
	SlotRef
}

// Cancel cancels a booking, signed by its patient, a delegate, or an admin
// or service member of the provider (whose cancellation refunds in full).
type Cancel struct {
	SlotRef
}

// Reschedule moves a booking to another free slot of the same schedule
// before the cancellation deadline, its deposit and policy with it.
type Reschedule struct {
	SlotRef
	NewStart int64 `json:"new_start"`
}

// Outcome is what the provider records of a booked appointment.
type Outcome uint8

// The outcomes.
const (
	Attended Outcome = 1
	NoShow   Outcome = 2
)

// Mark records an appointment's outcome, signed by a physician, nurse,
// admin or service member of the provider, once the slot has started.
type Mark struct {
	SlotRef
	Outcome Outcome `json:"outcome"`
}

func (Publish) Type() uint64    { return TypePublish }
func (OpenSlots) Type() uint64  { return TypeOpenSlots }
func (Book) Type() uint64       { return TypeBook }
func (Cancel) Type() uint64     { return TypeCancel }
func (Reschedule) Type() uint64 { return TypeReschedule }
func (Mark) Type() uint64       { return TypeMark }

func (m Publish) EncodeTo(w *wire.Writer) {
	w.String(m.Provider)
	w.String(m.Schedule)
	w.String(m.Category)
	w.Bool(m.Virtual)
	w.Uint(m.Deposit)
	w.Uint(m.CancelBefore)
	w.Uint(m.LateCancelKeep)
	w.Uint(m.NoShowKeep)
}

func readPublish(r *wire.Reader) Publish {
	return Publish{Provider: r.String(maxID), Schedule: r.String(maxID), Category: r.String(maxID), Virtual: r.Bool(),
		Deposit: r.Uint(), CancelBefore: r.Uint(), LateCancelKeep: r.Uint(), NoShowKeep: r.Uint()}
}

func (m OpenSlots) EncodeTo(w *wire.Writer) {
	w.String(m.Provider)
	w.String(m.Schedule)
	w.Uint(uint64(len(m.Slots)))
	for _, s := range m.Slots {
		w.Uint(uint64(s.Start))
		w.Uint(s.Minutes)
	}
}

func readOpenSlots(r *wire.Reader) OpenSlots {
	m := OpenSlots{Provider: r.String(maxID), Schedule: r.String(maxID)}
	m.Slots = make([]SlotSpec, r.Count(MaxSlots))
	for i := range m.Slots {
		m.Slots[i] = SlotSpec{Start: readStart(r), Minutes: r.Uint()}
	}
	return m
}

// readStart reads a time below 2^63; a larger value becomes -1, which
// validation refuses.
func readStart(r *wire.Reader) int64 {
	v := r.Uint()
	if v > maxStart {
		return -1
	}
	return int64(v)
}

func (s SlotRef) encodeTo(w *wire.Writer) {
	w.String(s.Provider)
	w.String(s.Schedule)
	w.Uint(uint64(s.Start))
}

func readSlotRef(r *wire.Reader) SlotRef {
	return SlotRef{Provider: r.String(maxID), Schedule: r.String(maxID), Start: readStart(r)}
}

func (m Book) EncodeTo(w *wire.Writer) {
	w.Raw(m.Patient[:])
	m.SlotRef.encodeTo(w)
}

func readBook(r *wire.Reader) Book {
	var m Book
	copy(m.Patient[:], r.Raw(tx.AddressSize))
	m.SlotRef = readSlotRef(r)
	return m
}

func (m Cancel) EncodeTo(w *wire.Writer) { m.SlotRef.encodeTo(w) }

func readCancel(r *wire.Reader) Cancel { return Cancel{readSlotRef(r)} }

func (m Reschedule) EncodeTo(w *wire.Writer) {
	m.SlotRef.encodeTo(w)
	w.Uint(uint64(m.NewStart))
}

func readReschedule(r *wire.Reader) Reschedule {
	return Reschedule{SlotRef: readSlotRef(r), NewStart: readStart(r)}
}

func (m Mark) EncodeTo(w *wire.Writer) {
	m.SlotRef.encodeTo(w)
	w.Uint(uint64(m.Outcome))
}

func readMark(r *wire.Reader) Mark {
	return Mark{SlotRef: readSlotRef(r), Outcome: Outcome(min(r.Uint(), 255))}
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$`)

func invalid(format string, args ...any) error { return tx.Rejectf(tx.CodeInvalid, format, args...) }

// ValidSchedule checks a provider's and a schedule's IDs as the messages
// do.
func ValidSchedule(provider, schedule string) error { return validSchedule(provider, schedule) }

func validSchedule(provider, schedule string) error {
	if err := identity.ValidateOrgID(provider); err != nil {
		return err
	}
	if !idPattern.MatchString(schedule) {
		return invalid("schedule id must be 1 to 64 letters, digits, '.' and '-'")
	}
	return nil
}

func validStart(name string, start int64) error {
	if start <= 0 {
		return invalid("%s must be a time in Unix seconds below 2^63", name)
	}
	return nil
}

func (m Publish) validate() error {
	if err := validSchedule(m.Provider, m.Schedule); err != nil {
		return err
	}
	switch {
	case !slices.Contains(Categories, m.Category):
		return invalid("category must be one of %v", Categories)
	case m.Deposit > MaxDeposit:
		return invalid("deposit must be at most %d", MaxDeposit)
	case m.CancelBefore > MaxCancelBefore:
		return invalid("cancel_before must be at most %d seconds", MaxCancelBefore)
	case m.LateCancelKeep > bpsWhole || m.NoShowKeep > bpsWhole:
		return invalid("kept shares are basis points, at most %d", bpsWhole)
	}
	return nil
}

func (m OpenSlots) validate() error {
	if err := validSchedule(m.Provider, m.Schedule); err != nil {
		return err
	}
	if len(m.Slots) == 0 {
		return invalid("open 1 to %d slots", MaxSlots)
	}
	for _, s := range m.Slots {
		if err := validStart("start", s.Start); err != nil {
			return err
		}
		if s.Minutes == 0 || s.Minutes > MaxMinutes {
			return invalid("a slot lasts 1 to %d minutes", MaxMinutes)
		}
	}
	return nil
}

func (s SlotRef) validate() error {
	if err := validSchedule(s.Provider, s.Schedule); err != nil {
		return err
	}
	return validStart("start", s.Start)
}

func (m Book) validate() error { return m.SlotRef.validate() }

func (m Cancel) validate() error { return m.SlotRef.validate() }

func (m Reschedule) validate() error {
	if err := m.SlotRef.validate(); err != nil {
		return err
	}
	if err := validStart("new_start", m.NewStart); err != nil {
		return err
	}
	if m.NewStart == m.Start {
		return invalid("new_start is the booked slot")
	}
	return nil
}

func (m Mark) validate() error {
	if m.Outcome != Attended && m.Outcome != NoShow {
		return invalid("outcome must be 1 (attended) or 2 (no-show)")
	}
	return m.SlotRef.validate()
}
