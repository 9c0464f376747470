package claims

import (
	"fmt"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// LineStatus is a line's outcome.
type LineStatus uint8

// The line outcomes.
const (
	Approved LineStatus = 1
	Denied   LineStatus = 2
)

// Adjustment is an amount a line's payment differs from its charge by,
// with its X12 claim adjustment reason code ("45", "1", "2", "3", "18",
// "96", "97", "119", "197", "198", ...).
type Adjustment struct {
	Reason string `json:"reason"`
	Amount uint64 `json:"amount"`
}

// LineResult is one line's adjudication. Submitted is the charge; Eligible
// the allowed amount (0 when denied); Benefit what the plan pays; Patient
// what the patient owes. Edits names the edits that fired ("eligibility",
// "no_policy", "duplicate", "unit_limit", "code_pair", "rule:ID",
// "prior_auth", "prior_auth_used", "fee_schedule"); Version is the policy
// version that judged the line (0 if none was in force).
type LineResult struct {
	Status      LineStatus   `json:"status"`
	Version     uint64       `json:"version"`
	Submitted   uint64       `json:"submitted"`
	Eligible    uint64       `json:"eligible"`
	Benefit     uint64       `json:"benefit"`
	Patient     uint64       `json:"patient"`
	Adjustments []Adjustment `json:"adjustments,omitempty"`
	Edits       []string     `json:"edits,omitempty"`
}

// Decision is an adjudicated claim: what a FHIR ClaimResponse reports.
type Decision struct {
	Claim       [32]byte     `json:"claim"`
	Use         Use          `json:"use"`
	Patient     tx.Address   `json:"patient"`
	Provider    string       `json:"provider"`
	Payer       string       `json:"payer"`
	Coverage    string       `json:"coverage"`
	Height      int64        `json:"height"`
	Lines       []LineResult `json:"lines"`
	Benefit     uint64       `json:"benefit"` // the lines' benefits
	PatientOwes uint64       `json:"patient_amount"`
	// Paid reports whether the benefit has moved to the provider; a claim
	// whose payer was short waits in the payer's queue until a deposit.
	Paid bool `json:"paid"`
	// Settled is how much of the benefit has moved: all of it once Paid,
	// less while an appeal's overturn waits for its payment.
	Settled uint64 `json:"settled"`
}

// Due returns the part of the benefit not yet paid.
func (d *Decision) Due() uint64 { return d.Benefit - min(d.Settled, d.Benefit) }

// Outcome sums the decision up: "approved" (every line), "partial" or
// "denied".
func (d *Decision) Outcome() string {
	n := 0
	for _, l := range d.Lines {
		if l.Status == Approved {
			n++
		}
	}
	switch n {
	case len(d.Lines):
		return "approved"
	case 0:
		return "denied"
	}
	return "partial"
}

// LoadDecision returns the adjudicated claim id, or nil.
func LoadDecision(s identity.Reader, id [32]byte) (*Decision, error) {
	b, err := s.Get(claimKey(id))
	if err != nil || b == nil {
		return nil, err
	}
	r := wire.NewReader(b)
	d := &Decision{Claim: id, Use: Use(r.Uint())}
	copy(d.Patient[:], r.Raw(tx.AddressSize))
	d.Provider, d.Payer, d.Coverage = r.String(maxID), r.String(maxID), r.String(maxID)
	d.Height = int64(r.Uint())
	d.Lines = make([]LineResult, r.Count(MaxLines))
	for i := range d.Lines {
		l := &d.Lines[i]
		l.Status, l.Version = LineStatus(r.Uint()), r.Uint()
		l.Submitted, l.Eligible, l.Benefit, l.Patient = r.Uint(), r.Uint(), r.Uint(), r.Uint()
		l.Adjustments = make([]Adjustment, r.Count(8))
		for j := range l.Adjustments {
			l.Adjustments[j] = Adjustment{Reason: r.String(maxReason), Amount: r.Uint()}
		}
		l.Edits = r.Strings(8, maxID+5)
	}
	d.Benefit, d.PatientOwes, d.Paid, d.Settled = r.Uint(), r.Uint(), r.Bool(), r.Uint()
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode claim decision: %w", err)
	}
	return d, nil
}

func saveDecision(s contract.Store, d *Decision) error {
	w := wire.NewWriter(128 + 48*len(d.Lines))
	w.Uint(uint64(d.Use))
	w.Raw(d.Patient[:])
	w.String(d.Provider)
	w.String(d.Payer)
	w.String(d.Coverage)
	w.Uint(uint64(d.Height))
	w.Uint(uint64(len(d.Lines)))
	for _, l := range d.Lines {
		w.Uint(uint64(l.Status))
		w.Uint(l.Version)
		w.Uint(l.Submitted)
		w.Uint(l.Eligible)
		w.Uint(l.Benefit)
		w.Uint(l.Patient)
		w.Uint(uint64(len(l.Adjustments)))
		for _, a := range l.Adjustments {
			w.String(a.Reason)
			w.Uint(a.Amount)
		}
		w.Strings(l.Edits)
	}
	w.Uint(d.Benefit)
	w.Uint(d.PatientOwes)
	w.Bool(d.Paid)
	w.Uint(d.Settled)
	return s.Set(claimKey(d.Claim), w.Bytes())
}

// AuthState is the state of one line of a preauthorization.
type AuthState uint8

// The authorization states.
const (
	NotAuthorized AuthState = 0
	Authorized    AuthState = 1
	Consumed      AuthState = 2
)

// AuthLine is what a preauthorization line authorizes: Units of Code, once.
type AuthLine struct {
	Code  string    `json:"code"`
	Units uint64    `json:"units"`
	State AuthState `json:"state"`
}

// LoadAuthLines returns the lines of preauthorization id, or nil.
func LoadAuthLines(s identity.Reader, id [32]byte) ([]AuthLine, error) {
	b, err := s.Get(key('a', id[:]))
	if err != nil || b == nil {
		return nil, err
	}
	r := wire.NewReader(b)
	ls := make([]AuthLine, r.Count(MaxLines))
	for i := range ls {
		ls[i] = AuthLine{Code: r.String(maxCode), Units: r.Uint(), State: AuthState(r.Uint())}
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode authorization: %w", err)
	}
	return ls, nil
}

func saveAuthLines(s contract.Store, id [32]byte, ls []AuthLine) error {
	w := wire.NewWriter(16 * len(ls))
	w.Uint(uint64(len(ls)))
	for _, l := range ls {
		w.String(l.Code)
		w.Uint(l.Units)
		w.Uint(uint64(l.State))
	}
	return s.Set(key('a', id[:]), w.Bytes())
}
