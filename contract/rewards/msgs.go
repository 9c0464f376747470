package rewards

import (
	"regexp"
	"slices"

	"github.com/careledger/careledger/contract/condition"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// Message types owned by the rewards contract. Numbers are append-only;
// the contract holds 120 to 126.
const (
	TypeCreate uint64 = 120
	TypeAttest uint64 = 121
	TypeClose  uint64 = 122
	TypeRedeem uint64 = 123
)

// Limits on message fields.
const (
	MaxFunding   = 1_000_000_000_000 // minor units a program is funded with
	MaxRules     = 8
	maxAttesters = 5
	// MaxRedeemTo bounds the organizations a program's rewards may be
	// redeemed to.
	MaxRedeemTo = 4
	maxID       = 64
	maxKind     = 16
	maxTime     = 1<<63 - 1
)

// Events are the coarse kinds of event a program may reward: an
// appointment attended (attested by the provider), a prescription
// dispensed (by the pharmacy), a lab result in range (by the lab), a
// screening done. Nothing finer reaches the chain.
var Events = []string{"attended", "dispensed", "in_range", "screening"}

// Create creates a reward program funded with Funding minor units, moved
// from the sponsor's ledger account into the program's pool. The signer
// must be an admin or claims agent member of Sponsor, of any type (a
// payer, an employer, a public health program). A patient receives at
// most PatientCap in all; attestations are accepted until End (Unix
// seconds of block time).
//
// RedeemTo says where the rewards may go. Empty, each reward is paid into
// the patient's ledger account, theirs to spend like any balance, and the
// program has nothing to redeem. Otherwise the rewards are held for the
// patient in the program's pool and leave it only by Redeem, to one of
// these organizations' accounts (a payer, against a co-pay, say), even
// after the program has closed.
type Create struct {
	Sponsor    string   `json:"sponsor"`
	Program    string   `json:"program"`
	Funding    uint64   `json:"funding"`
	PatientCap uint64   `json:"patient_cap"`
	End        int64    `json:"end"`
	Rules      []Rule   `json:"rules"`
	RedeemTo   []string `json:"redeem_to,omitempty"`
}

// Rule rewards one kind of event with Amount, when attested by a member of
// an organization of one of the Attesters types and Expr (a CEL condition
// over the environment of rules.go; "" for always) is true.
type Rule struct {
	Event     string   `json:"event"`
	Amount    uint64   `json:"amount"`
	Attesters []string `json:"attesters"`
	Expr      string   `json:"expr,omitempty"`
}

// Attest attests that Event happened for Patient, and pays the program's
// reward in the same block. Ref is the attester's commitment to the event
// (a hash of its own record of it), which the program accepts once.
type Attest struct {
	Program string     `json:"program"`
	Patient tx.Address `json:"patient"`
	Event   string     `json:"event"`
	Ref     [32]byte   `json:"ref"`
}

// Redeem moves Amount of the rewards program Program holds for Patient to
// the ledger account of To, one of the program's RedeemTo organizations.
// The patient or a delegate signs it.
type Redeem struct {
	Program string     `json:"program"`
	Patient tx.Address `json:"patient"`
	To      string     `json:"to"`
	Amount  uint64     `json:"amount"`
}

// Close returns what is left of a program's pool to its sponsor, once the
// program has ended.
type Close struct {
	Program string `json:"program"`
}

func (Create) Type() uint64 { return TypeCreate }
func (Attest) Type() uint64 { return TypeAttest }
func (Close) Type() uint64  { return TypeClose }
func (Redeem) Type() uint64 { return TypeRedeem }

func (m Create) EncodeTo(w *wire.Writer) {
	w.String(m.Sponsor)
	w.String(m.Program)
	w.Uint(m.Funding)
	w.Uint(m.PatientCap)
	w.Uint(uint64(m.End))
	w.Uint(uint64(len(m.Rules)))
	for _, r := range m.Rules {
		w.String(r.Event)
		w.Uint(r.Amount)
		w.Strings(r.Attesters)
		w.String(r.Expr)
	}
	w.Strings(m.RedeemTo)
}

func readCreate(r *wire.Reader) Create {
	m := Create{Sponsor: r.String(maxID), Program: r.String(maxID), Funding: r.Uint(), PatientCap: r.Uint()}
	m.End = readTime(r)
	m.Rules = make([]Rule, r.Count(MaxRules))
	for i := range m.Rules {
		m.Rules[i] = Rule{Event: r.String(maxKind), Amount: r.Uint(), Attesters: r.Strings(maxAttesters, maxKind), Expr: r.String(condition.MaxLength)}
	}
	m.RedeemTo = r.Strings(MaxRedeemTo, maxID)
	return m
}

// readTime reads a time below 2^63; a larger value becomes -1, which
// validation refuses.
func readTime(r *wire.Reader) int64 {
	if v := r.Uint(); v <= maxTime {
		return int64(v)
	}
	return -1
}

func (m Attest) EncodeTo(w *wire.Writer) {
	w.String(m.Program)
	w.Raw(m.Patient[:])
	w.String(m.Event)
	w.Raw(m.Ref[:])
}

func readAttest(r *wire.Reader) Attest {
	m := Attest{Program: r.String(maxID)}
	copy(m.Patient[:], r.Raw(tx.AddressSize))
	m.Event = r.String(maxKind)
	copy(m.Ref[:], r.Raw(32))
	return m
}

func (m Close) EncodeTo(w *wire.Writer) { w.String(m.Program) }

func (m Redeem) EncodeTo(w *wire.Writer) {
	w.String(m.Program)
	w.Raw(m.Patient[:])
	w.String(m.To)
	w.Uint(m.Amount)
}

func readRedeem(r *wire.Reader) Redeem {
	m := Redeem{Program: r.String(maxID)}
	copy(m.Patient[:], r.Raw(tx.AddressSize))
	m.To, m.Amount = r.String(maxID), r.Uint()
	return m
}

func readClose(r *wire.Reader) Close { return Close{Program: r.String(maxID)} }

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$`)

func invalid(format string, args ...any) error { return tx.Rejectf(tx.CodeInvalid, format, args...) }

func validProgram(id string) error {
	if !idPattern.MatchString(id) {
		return invalid("program id must be 1 to 64 letters, digits, '.' and '-'")
	}
	return nil
}

// validate checks what of a program needs no state nor engine: caps that
// no single reward can overdraw, one rule per known event, known attester
// types.
func (m Create) validate() error {
	if err := identity.ValidateOrgID(m.Sponsor); err != nil {
		return err
	}
	if err := validProgram(m.Program); err != nil {
		return err
	}
	switch {
	case m.Funding == 0 || m.Funding > MaxFunding:
		return invalid("funding must be 1 to %d", uint64(MaxFunding))
	case m.PatientCap == 0 || m.PatientCap > m.Funding:
		return invalid("the per-patient cap must be 1 to the funding")
	case m.End <= 0:
		return invalid("end must be a time in Unix seconds below 2^63")
	case len(m.Rules) == 0:
		return invalid("a program has 1 to %d rules", MaxRules)
	}
	seen := map[string]bool{}
	for _, r := range m.Rules {
		if !slices.Contains(Events, r.Event) {
			return invalid("event must be one of %v", Events)
		}
		if seen[r.Event] {
			return invalid("one rule per event: %s has two", r.Event)
		}
		seen[r.Event] = true
		if r.Amount == 0 || r.Amount > m.PatientCap {
			return invalid("the reward for %s must be 1 to the per-patient cap", r.Event)
		}
		if len(r.Attesters) == 0 {
			return invalid("the rule for %s names no attesting organization type", r.Event)
		}
		for _, a := range r.Attesters {
			if _, err := identity.ParseOrgType(a); err != nil {
				return invalid("rule for %s: unknown organization type %q", r.Event, a)
			}
		}
	}
	for i, org := range m.RedeemTo {
		if err := identity.ValidateOrgID(org); err != nil {
			return err
		}
		if slices.Contains(m.RedeemTo[:i], org) {
			return invalid("redeem_to names %s twice", org)
		}
	}
	return nil
}

func (m Attest) validate() error {
	if err := validProgram(m.Program); err != nil {
		return err
	}
	if !slices.Contains(Events, m.Event) {
		return invalid("event must be one of %v", Events)
	}
	if m.Patient == (tx.Address{}) {
		return invalid("name the patient")
	}
	return nil
}

func (m Close) validate() error { return validProgram(m.Program) }

func (m Redeem) validate() error {
	if err := validProgram(m.Program); err != nil {
		return err
	}
	if m.Patient == (tx.Address{}) {
		return invalid("name the patient")
	}
	if err := identity.ValidateOrgID(m.To); err != nil {
		return err
	}
	if m.Amount == 0 || m.Amount > MaxFunding {
		return invalid("amount must be 1 to %d", uint64(MaxFunding))
	}
	return nil
}
