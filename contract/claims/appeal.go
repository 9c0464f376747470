package claims

import (
	"fmt"
	"slices"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// Appeal asks the payer to reconsider the denied Lines (0-based; none: every
// denied line) of a claim. Reason is a code naming the ground
// ("medical-necessity", "coding-corrected", "auth-on-file", ...); Letter is
// the SHA-256 commitment to the appeal's letter and attachments, which stay
// off the chain at the provider like the claim's body (zero: none). The
// reason is a code of lowercase letters and hyphens, never free text. The
// signer must be a claims agent or the service key of the claim's provider.
// A claim has at most one open appeal, and at most MaxAppeals in all.
type Appeal struct {
	Claim  [32]byte `json:"claim"`
	Lines  []uint64 `json:"lines,omitempty"`
	Reason string   `json:"reason"`
	Letter [32]byte `json:"letter,omitempty"`
}

// DecideAppeal is a payer claims agent's decision on a claim's open
// appeal: Overturn re-prices the appealed lines (see overturn) and pays
// their benefit at once; otherwise the denial is upheld. Reason is a code
// naming the ground, as in Appeal.
type DecideAppeal struct {
	Claim    [32]byte `json:"claim"`
	Overturn bool     `json:"overturn"`
	Reason   string   `json:"reason"`
}

// MaxAppeals bounds the appeals of one claim (the levels of appeal a payer
// offers before review outside the network).
const MaxAppeals = 3

// AppealState is where an appeal stands.
type AppealState uint8

// The appeal states.
const (
	AppealOpen       AppealState = 1
	AppealUpheld     AppealState = 2
	AppealOverturned AppealState = 3
)

// String names the state as events and the API do.
func (s AppealState) String() string {
	switch s {
	case AppealOpen:
		return "open"
	case AppealUpheld:
		return "upheld"
	case AppealOverturned:
		return "overturned"
	}
	return "unknown"
}

// AppealRecord is one appeal of a claim as the chain keeps it. Filed and
// Decided are block heights (Decided 0 while open); Benefit is what an
// overturn added to the claim's payment.
type AppealRecord struct {
	Lines          []uint64    `json:"lines"`
	Reason         string      `json:"reason"`
	Letter         [32]byte    `json:"letter"`
	State          AppealState `json:"state"`
	Filed          int64       `json:"filed"`
	Decided        int64       `json:"decided,omitempty"`
	DecisionReason string      `json:"decision_reason,omitempty"`
	Benefit        uint64      `json:"benefit,omitempty"`
}

func (Appeal) Type() uint64       { return TypeAppeal }
func (DecideAppeal) Type() uint64 { return TypeDecideAppeal }

func (m Appeal) EncodeTo(w *wire.Writer) {
	w.Raw(m.Claim[:])
	w.Uint(uint64(len(m.Lines)))
	for _, l := range m.Lines {
		w.Uint(l)
	}
	w.String(m.Reason)
	w.Raw(m.Letter[:])
}

func readAppeal(r *wire.Reader) Appeal {
	var m Appeal
	copy(m.Claim[:], r.Raw(32))
	m.Lines = make([]uint64, r.Count(MaxLines))
	for i := range m.Lines {
		m.Lines[i] = r.Uint()
	}
	m.Reason = r.String(maxID)
	copy(m.Letter[:], r.Raw(32))
	return m
}

func (m DecideAppeal) EncodeTo(w *wire.Writer) {
	w.Raw(m.Claim[:])
	w.Bool(m.Overturn)
	w.String(m.Reason)
}

func readDecideAppeal(r *wire.Reader) DecideAppeal {
	var m DecideAppeal
	copy(m.Claim[:], r.Raw(32))
	m.Overturn = r.Bool()
	m.Reason = r.String(maxID)
	return m
}

func (m Appeal) validate() error {
	if m.Claim == ([32]byte{}) {
		return invalid("claim is required")
	}
	for i, l := range m.Lines {
		if l >= MaxLines {
			return invalid("line %d does not exist", l)
		}
		if slices.Contains(m.Lines[:i], l) {
			return invalid("line %d is named twice", l)
		}
	}
	return validReason(m.Reason)
}

func (m DecideAppeal) validate() error {
	if m.Claim == ([32]byte{}) {
		return invalid("claim is required")
	}
	return validReason(m.Reason)
}

// validReason checks a reason code: 1 to 64 lowercase letters and hyphens.
// Codes with digits or dots are refused so that no diagnosis, procedure or
// member number can pass for a reason and reach the chain and its events.
func validReason(r string) error {
	if r == "" || len(r) > maxID {
		return invalid("a reason code is 1 to %d characters", maxID)
	}
	for i := 0; i < len(r); i++ {
		if c := r[i]; !(c >= 'a' && c <= 'z' || c == '-') {
			return invalid("a reason code holds only lowercase letters and hyphens")
		}
	}
	return nil
}

func appeal(ctx *contract.Context, m Appeal) error {
	d, err := LoadDecision(ctx.Store, m.Claim)
	if err != nil {
		return err
	}
	if d == nil || d.Use != UseClaim {
		return tx.Rejectf(tx.CodeNotFound, "no claim %x", m.Claim)
	}
	if err := requireOrg(ctx, d.Provider, identity.Provider, identity.ClaimsAgent, identity.Service); err != nil {
		return err
	}
	lines, err := appealedLines(d, m.Lines)
	if err != nil {
		return err
	}
	as, err := LoadAppeals(ctx.Store, m.Claim)
	if err != nil {
		return err
	}
	if n := len(as); n > 0 && as[n-1].State == AppealOpen {
		return tx.Rejectf(tx.CodeAlreadyExists, "claim %x has an open appeal", m.Claim)
	}
	if len(as) >= MaxAppeals {
		return tx.Rejectf(tx.CodeInvalid, "claim %x was appealed %d times, the most it may be", m.Claim, MaxAppeals)
	}
	as = append(as, AppealRecord{Lines: lines, Reason: m.Reason, Letter: m.Letter, State: AppealOpen, Filed: ctx.Height})
	if err := saveAppeals(ctx.Store, m.Claim, as); err != nil {
		return err
	}
	ctx.Emit(contract.Event{
		Type: EventAppealed,
		Attrs: []contract.Attr{idattr(m.Claim), attr("payer", d.Payer), attr("provider", d.Provider),
			uattr("appeal", uint64(len(as))), uattr("lines", uint64(len(lines))), attr("reason", m.Reason)},
		Accounts: []tx.Address{ctx.Signer, d.Patient},
	})
	return nil
}

// appealedLines checks that the lines named are denied lines of d and
// returns them; none named means every denied line.
func appealedLines(d *Decision, named []uint64) ([]uint64, error) {
	if len(named) == 0 {
		for i, l := range d.Lines {
			if l.Status == Denied {
				named = append(named, uint64(i))
			}
		}
		if len(named) == 0 {
			return nil, invalid("claim %x has no denied line to appeal", d.Claim)
		}
		return named, nil
	}
	for _, i := range named {
		if i >= uint64(len(d.Lines)) {
			return nil, invalid("line %d does not exist", i)
		}
		if d.Lines[i].Status != Denied {
			return nil, invalid("line %d is not denied", i)
		}
	}
	return named, nil
}

func decideAppeal(ctx *contract.Context, m DecideAppeal) error {
	d, err := LoadDecision(ctx.Store, m.Claim)
	if err != nil {
		return err
	}
	if d == nil || d.Use != UseClaim {
		return tx.Rejectf(tx.CodeNotFound, "no claim %x", m.Claim)
	}
	if err := requirePayer(ctx, d.Payer, identity.ClaimsAgent); err != nil {
		return err
	}
	as, err := LoadAppeals(ctx.Store, m.Claim)
	if err != nil {
		return err
	}
	if len(as) == 0 {
		return tx.Rejectf(tx.CodeNotFound, "claim %x has no appeal", m.Claim)
	}
	a := &as[len(as)-1]
	if a.State != AppealOpen {
		return tx.Rejectf(tx.CodeAlreadyExists, "the appeal of claim %x is already decided", m.Claim)
	}
	a.State, a.Decided, a.DecisionReason = AppealUpheld, ctx.Height, m.Reason
	if m.Overturn {
		a.State = AppealOverturned
		if a.Benefit, err = overturn(ctx, d, a.Lines); err != nil {
			return err
		}
	}
	if err := saveAppeals(ctx.Store, m.Claim, as); err != nil {
		return err
	}
	ctx.Emit(contract.Event{
		Type: EventAppealDecided,
		Attrs: []contract.Attr{idattr(m.Claim), attr("payer", d.Payer), attr("provider", d.Provider),
			uattr("appeal", uint64(len(as))), attr("outcome", a.State.String()), attr("reason", m.Reason), uattr("benefit", a.Benefit)},
		Accounts: []tx.Address{ctx.Signer, d.Patient},
	})
	if !m.Overturn {
		return nil
	}
	return pay(ctx, d)
}

// overturn approves the denied lines of d at the indexes given and prices
// them as adjudication prices an approved line: under the policy version
// that judged the line (or, for a line denied before any version applied,
// the version in force on its date of service), the fee schedule's allowed
// amount times the units, capped by the charge, or the charge when the fee
// schedule has no row for the code; then the patient's share against the
// plan year's accumulators. The edits and rules that denied the line are
// not run again: overturning them is the point. It returns the benefit
// added, which d now carries, unpaid.
func overturn(ctx *contract.Context, d *Decision, lines []uint64) (uint64, error) {
	billed, err := loadBilledLines(ctx.Store, d.Claim)
	if err != nil {
		return 0, err
	}
	if len(billed) != len(d.Lines) {
		// A claim decided before the chain kept billed lines: it cannot be
		// priced again, which is the claim's state, not a fault.
		return 0, tx.Rejectf(tx.CodeInvalid, "claim %x keeps no billed lines to price an overturn with", d.Claim)
	}
	a, err := overturnPricing(ctx, d, billed)
	if err != nil {
		return 0, err
	}
	var added uint64
	for _, i := range lines {
		r := &d.Lines[i]
		l := &billed[i]
		if r.Version == 0 {
			r.Version = InForce(a.versions, l.Date)
		}
		allowed, ok, err := a.allowed(r.Version, l)
		if err != nil {
			return 0, err
		}
		r.Status, r.Eligible, r.Adjustments = Approved, l.Charge, nil
		if ok {
			r.Eligible = min(l.Charge, allowed*l.Units)
		}
		if l.Charge > r.Eligible {
			r.Adjustments = append(r.Adjustments, Adjustment{Reason: "45", Amount: l.Charge - r.Eligible})
		}
		if len(r.Edits) < 8 {
			r.Edits = append(r.Edits, "appeal_overturned")
		}
		if err := a.share(l, r); err != nil {
			return 0, err
		}
		if err := markBilled(ctx.Store, d, l); err != nil {
			return 0, err
		}
		added += r.Benefit
		d.Benefit += r.Benefit
		d.PatientOwes += r.Patient
	}
	if added > 0 {
		d.Paid = false
	}
	return added, saveDecision(ctx.Store, d)
}

// overturnPricing returns an adjudication of d's claim that prices lines:
// its plan, its payer's versions, and whether a copay was already taken.
func overturnPricing(ctx *contract.Context, d *Decision, billed []Line) (*adjudication, error) {
	cov, err := LoadCoverage(ctx.Store, d.Payer, d.Coverage)
	if err != nil {
		return nil, err
	}
	if cov == nil {
		return nil, fmt.Errorf("claim %x names missing coverage", d.Claim)
	}
	plan, err := LoadPlan(ctx.Store, d.Payer, cov.Plan)
	if err != nil {
		return nil, err
	}
	if plan == nil {
		return nil, fmt.Errorf("a coverage of %s names missing plan %s", d.Payer, cov.Plan)
	}
	vs, err := Versions(ctx.Store, d.Payer)
	if err != nil {
		return nil, err
	}
	copaid := slices.ContainsFunc(d.Lines, func(r LineResult) bool {
		return slices.ContainsFunc(r.Adjustments, func(a Adjustment) bool { return a.Reason == "3" })
	})
	m := &Submit{Claim: d.Claim, Use: UseClaim, Patient: d.Patient, Provider: d.Provider, Payer: d.Payer, Coverage: d.Coverage, Lines: billed}
	return &adjudication{ctx: ctx, m: m, cov: cov, plan: plan, versions: vs, copaid: copaid}, nil
}

// markBilled enters an overturned line in the duplicate index, as an
// approved line is, unless an earlier claim's line holds its place.
func markBilled(s contract.Store, d *Decision, l *Line) error {
	k := dupKey(d.Patient, d.Provider, l)
	if old, err := s.Get(k); err != nil || old != nil {
		return err
	}
	return s.Set(k, d.Claim[:])
}

// saveBilledLines keeps what pricing a claim's lines needs again (code,
// modifiers, units, charge, date), for a claim with a denied line that an
// appeal may overturn.
func saveBilledLines(s contract.Store, m *Submit, d *Decision) error {
	if m.Use != UseClaim || d.Outcome() == "approved" {
		return nil
	}
	w := wire.NewWriter(24 * len(m.Lines))
	w.Uint(uint64(len(m.Lines)))
	for _, l := range m.Lines {
		w.String(l.Code)
		w.Strings(l.Modifiers)
		w.Uint(l.Units)
		w.Uint(l.Charge)
		w.Uint(uint64(l.Date))
	}
	return s.Set(key('l', m.Claim[:]), w.Bytes())
}

func loadBilledLines(s identity.Reader, id [32]byte) ([]Line, error) {
	b, err := s.Get(key('l', id[:]))
	if err != nil || b == nil {
		return nil, err
	}
	r := wire.NewReader(b)
	ls := make([]Line, r.Count(MaxLines))
	for i := range ls {
		ls[i] = Line{Code: r.String(maxCode), Modifiers: r.Strings(MaxModifiers, 2), Units: r.Uint(), Charge: r.Uint(), Date: uint32(r.Uint())}
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode billed lines: %w", err)
	}
	return ls, nil
}

// LoadAppeals returns the appeals of claim id, oldest first.
func LoadAppeals(s identity.Reader, id [32]byte) ([]AppealRecord, error) {
	b, err := s.Get(key('o', id[:]))
	if err != nil || b == nil {
		return nil, err
	}
	r := wire.NewReader(b)
	as := make([]AppealRecord, r.Count(MaxAppeals))
	for i := range as {
		a := &as[i]
		a.Lines = make([]uint64, r.Count(MaxLines))
		for j := range a.Lines {
			a.Lines[j] = r.Uint()
		}
		a.Reason = r.String(maxID)
		copy(a.Letter[:], r.Raw(32))
		a.State = AppealState(r.Uint())
		a.Filed, a.Decided = int64(r.Uint()), int64(r.Uint())
		a.DecisionReason, a.Benefit = r.String(maxID), r.Uint()
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode appeals: %w", err)
	}
	return as, nil
}

func saveAppeals(s contract.Store, id [32]byte, as []AppealRecord) error {
	w := wire.NewWriter(96 * len(as))
	w.Uint(uint64(len(as)))
	for _, a := range as {
		w.Uint(uint64(len(a.Lines)))
		for _, l := range a.Lines {
			w.Uint(l)
		}
		w.String(a.Reason)
		w.Raw(a.Letter[:])
		w.Uint(uint64(a.State))
		w.Uint(uint64(a.Filed))
		w.Uint(uint64(a.Decided))
		w.String(a.DecisionReason)
		w.Uint(a.Benefit)
	}
	return s.Set(key('o', id[:]), w.Bytes())
}
