package schedule

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// State keys. Every key of the contract starts with "A/" and a letter:
// "A/s/PROVIDER/SCHEDULE" a schedule, "A/t/PROVIDER/SCHEDULE/" and the
// start as 8 bytes big-endian a slot, so that a schedule's slots iterate
// in time order. Neither an organization ID nor a schedule ID holds "/".
func scheduleKey(provider, schedule string) []byte {
	return fmt.Appendf(nil, "A/s/%s/%s", provider, schedule)
}

func slotPrefix(provider, schedule string) []byte {
	return fmt.Appendf(nil, "A/t/%s/%s/", provider, schedule)
}

func slotKey(s SlotRef) []byte {
	return binary.BigEndian.AppendUint64(slotPrefix(s.Provider, s.Schedule), uint64(s.Start))
}

// Policy is what a schedule asks of a booking: the deposit and what is
// kept of it on a late cancellation or a no-show.
type Policy struct {
	Deposit        uint64 `json:"deposit"`
	CancelBefore   uint64 `json:"cancel_before"`
	LateCancelKeep uint64 `json:"late_cancel_keep_bps"`
	NoShowKeep     uint64 `json:"no_show_keep_bps"`
}

func (p Policy) encodeTo(w *wire.Writer) {
	w.Uint(p.Deposit)
	w.Uint(p.CancelBefore)
	w.Uint(p.LateCancelKeep)
	w.Uint(p.NoShowKeep)
}

func readPolicy(r *wire.Reader) Policy {
	return Policy{Deposit: r.Uint(), CancelBefore: r.Uint(), LateCancelKeep: r.Uint(), NoShowKeep: r.Uint()}
}

// keep returns the part of amount that bps basis points keep.
func keep(amount, bps uint64) uint64 { return amount * bps / bpsWhole }

// Schedule is a provider's published schedule.
type Schedule struct {
	Category string `json:"category"`
	Virtual  bool   `json:"virtual"`
	Policy
}

func (s *Schedule) encode() []byte {
	w := wire.NewWriter(48)
	w.String(s.Category)
	w.Bool(s.Virtual)
	s.Policy.encodeTo(w)
	return w.Bytes()
}

// LoadSchedule returns provider's schedule, or nil.
func LoadSchedule(s identity.Reader, provider, schedule string) (*Schedule, error) {
	b, err := s.Get(scheduleKey(provider, schedule))
	if err != nil || b == nil {
		return nil, err
	}
	return decodeSchedule(b)
}

func decodeSchedule(b []byte) (*Schedule, error) {
	r := wire.NewReader(b)
	sc := &Schedule{Category: r.String(maxID), Virtual: r.Bool(), Policy: readPolicy(r)}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode schedule: %w", err)
	}
	return sc, nil
}

// State is where a slot stands.
type State uint8

// The slot states.
const (
	Free     State = 0
	Booked   State = 1
	Done     State = 2 // marked attended
	Missed   State = 3 // marked a no-show
	stateEnd State = 4
)

func (s State) String() string {
	return [...]string{"free", "booked", "attended", "no_show"}[min(s, stateEnd-1)]
}

// MarshalText shows a state by name in JSON.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state by name.
func (s *State) UnmarshalText(b []byte) error {
	for v := Free; v < stateEnd; v++ {
		if v.String() == string(b) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("unknown slot state %q", b)
}

// Slot is one slot of a schedule and its booking, if any: the patient's
// pseudonymous account, the deposit in escrow and the policy the booking
// was made under.
type Slot struct {
	Start   int64      `json:"start"`
	Minutes uint64     `json:"minutes"`
	State   State      `json:"state"`
	Patient tx.Address `json:"patient"`
	Held    uint64     `json:"held"` // minor units in escrow for this booking
	Policy  Policy     `json:"policy"`
}

func (sl *Slot) encode() []byte {
	w := wire.NewWriter(64)
	w.Uint(sl.Minutes)
	w.Uint(uint64(sl.State))
	w.Raw(sl.Patient[:])
	w.Uint(sl.Held)
	sl.Policy.encodeTo(w)
	return w.Bytes()
}

func decodeSlot(start int64, b []byte) (*Slot, error) {
	r := wire.NewReader(b)
	sl := &Slot{Start: start, Minutes: r.Uint(), State: State(min(r.Uint(), uint64(stateEnd)))}
	copy(sl.Patient[:], r.Raw(tx.AddressSize))
	sl.Held = r.Uint()
	sl.Policy = readPolicy(r)
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode slot: %w", err)
	}
	if sl.State >= stateEnd {
		return nil, fmt.Errorf("decode slot: unknown state")
	}
	return sl, nil
}

// LoadSlot returns the slot ref names, or nil.
func LoadSlot(s identity.Reader, ref SlotRef) (*Slot, error) {
	b, err := s.Get(slotKey(ref))
	if err != nil || b == nil {
		return nil, err
	}
	return decodeSlot(ref.Start, b)
}

func saveSlot(s contract.Store, ref SlotRef, sl *Slot) error { return s.Set(slotKey(ref), sl.encode()) }

// Slots returns a schedule's slots in time order.
func Slots(s identity.Iterator, provider, schedule string) ([]*Slot, error) {
	prefix := slotPrefix(provider, schedule)
	var out []*Slot
	var derr error
	err := s.Iterate(prefix, func(k, v []byte) bool {
		if len(k) != len(prefix)+8 {
			return true
		}
		var sl *Slot
		if sl, derr = decodeSlot(int64(binary.BigEndian.Uint64(k[len(prefix):])), v); derr != nil {
			return false
		}
		out = append(out, sl)
		return true
	})
	if err == nil {
		err = derr
	}
	return out, err
}

// EachSchedule calls fn with every schedule of provider ("" for every
// provider's), in key order (provider, then schedule ID), until fn returns
// false or an error.
func EachSchedule(s identity.Iterator, provider string, fn func(provider, id string, sc *Schedule) (bool, error)) error {
	prefix := []byte("A/s/")
	if provider != "" {
		prefix = fmt.Appendf(nil, "A/s/%s/", provider)
	}
	var ferr error
	err := s.Iterate(prefix, func(k, v []byte) bool {
		org, id, ok := strings.Cut(string(k[len("A/s/"):]), "/")
		if !ok {
			return true
		}
		sc, err := decodeSchedule(v)
		more := false
		if err == nil {
			more, err = fn(org, id, sc)
		}
		ferr = err
		return more && err == nil
	})
	if err == nil {
		err = ferr
	}
	return err
}

// EachSlot calls fn with every slot of every schedule, in key order
// (provider, schedule, start), until fn returns false or an error.
func EachSlot(s identity.Iterator, fn func(ref SlotRef, sl *Slot) (bool, error)) error {
	var ferr error
	err := s.Iterate([]byte("A/t/"), func(k, v []byte) bool {
		rest := k[len("A/t/"):]
		if len(rest) < 8+4 {
			return true
		}
		start := int64(binary.BigEndian.Uint64(rest[len(rest)-8:]))
		org, id, ok := strings.Cut(string(rest[:len(rest)-9]), "/")
		if !ok {
			return true
		}
		sl, err := decodeSlot(start, v)
		if err == nil {
			var more bool
			more, err = fn(SlotRef{Provider: org, Schedule: id, Start: start}, sl)
			if !more && err == nil {
				return false
			}
		}
		ferr = err
		return err == nil
	})
	if err == nil {
		err = ferr
	}
	return err
}
