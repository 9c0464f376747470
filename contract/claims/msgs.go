package claims

import (
	"errors"
	"time"

	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// Message types owned by the claims contract. Numbers are append-only; the
// claims contract holds 80 to 95.
const (
	TypeDeposit          uint64 = 80
	TypeRegisterPlan     uint64 = 81
	TypeRegisterCoverage uint64 = 82
	TypePolicyLoad       uint64 = 83
	TypePolicyPublish    uint64 = 84
	TypeSubmit           uint64 = 85
	TypeAuthorize        uint64 = 86
	TypeAppeal           uint64 = 87
	TypeDecideAppeal     uint64 = 88
	TypeRead             uint64 = 89
)

// Limits on message fields.
const (
	MaxAmount    = 1_000_000_000 // minor units of one charge, allowed amount, deductible or copay
	MaxUnits     = 9_999         // units of one line
	MaxLines     = 50            // lines of one claim
	MaxDiagnoses = 12            // diagnosis codes of one claim
	MaxPointers  = 4             // diagnosis pointers of one line
	MaxModifiers = 4             // modifiers of one line
	MaxRows      = 2_000         // fee, pair and unit rows of one policy load
	MaxRules     = 64            // rules of one policy version
	MaxVersions  = 256           // published policy versions of one payer
	MaxAge       = 150
	maxCode      = 40 // a procedure, diagnosis or revenue code (Synthea's SNOMED codes reach 36)
	maxID        = 64 // plan, coverage and rule IDs
	maxReason    = 8  // an X12 claim adjustment reason code
	bpsWhole     = 10_000
)

// Deposit credits Amount minor units to the payer's ledger account: money
// the payer put behind its claims. The signer must be an admin, service or
// claims agent member of Payer, an organization of type payer.
type Deposit struct {
	Payer  string `json:"payer"`
	Amount uint64 `json:"amount"`
}

// RegisterPlan registers a payer's plan and its cost sharing, or changes
// it. Amounts are minor units; Coinsurance is the patient's share after the
// deductible in basis points (2000 is 20%); YearStart is the plan year's
// first day as MMDD (101 for January 1), over which the deductible and the
// out-of-pocket maximum accumulate.
type RegisterPlan struct {
	Payer       string `json:"payer"`
	Plan        string `json:"plan"`
	Deductible  uint64 `json:"deductible"`
	Coinsurance uint64 `json:"coinsurance_bps"`
	Copay       uint64 `json:"copay"`
	OOPMax      uint64 `json:"oop_max"`
	YearStart   uint32 `json:"year_start"`
}

// RegisterCoverage registers (or changes the period of) a patient's
// coverage under a plan: the on-chain part of a FHIR Coverage. Coverage is
// a pseudonymous ID the payer chooses, never the subscriber's member
// number (events name it). Patient is the patient's pseudonymous account; Start and End are dates as YYYYMMDD,
// both included (End 0: open).
type RegisterCoverage struct {
	Payer    string     `json:"payer"`
	Coverage string     `json:"coverage"`
	Plan     string     `json:"plan"`
	Patient  tx.Address `json:"patient"`
	Start    uint32     `json:"start"`
	End      uint32     `json:"end,omitempty"`
}

// PolicyLoad adds rows to the draft of the payer's policy Version, which
// takes effect only when published. A large table loads in several
// messages; every row of a version is judged together from its effective
// date.
type PolicyLoad struct {
	Payer   string      `json:"payer"`
	Version uint64      `json:"version"`
	Fees    []Fee       `json:"fees,omitempty"`
	Pairs   []CodePair  `json:"pairs,omitempty"`
	Units   []UnitLimit `json:"units,omitempty"`
	Rules   []Rule      `json:"rules,omitempty"`
}

// Fee is a fee schedule row: the allowed amount per unit of Code billed
// with Modifier ("" for any modifier not listed).
type Fee struct {
	Code     string `json:"code"`
	Modifier string `json:"modifier,omitempty"`
	Allowed  uint64 `json:"allowed"`
}

// CodePair is a procedure-to-procedure edit in the style of NCCI: Column2
// is not paid with Column1 on one date of service. Modifier 1 lets a
// bypass modifier (59, XE, XP, XS, XU) on the Column2 line allow it; 0
// never does.
type CodePair struct {
	Column1  string `json:"column1"`
	Column2  string `json:"column2"`
	Modifier uint8  `json:"modifier"`
}

// UnitLimit is a medically unlikely edit: at most Max units of Code per
// patient, provider and date of service on one claim.
type UnitLimit struct {
	Code string `json:"code"`
	Max  uint64 `json:"max"`
}

// RuleAction is what a rule does to a line it is true for.
type RuleAction uint8

// The rule actions.
const (
	// Deny denies the line with the rule's reason.
	Deny RuleAction = 1
	// RequireAuth requires a prior authorization for the line.
	RequireAuth RuleAction = 2
)

// Rule is a CEL condition over one line of a claim (see the environment
// in rules.go). ID names it in the edits that fired; Reason is the X12
// claim adjustment reason code a denial carries.
type Rule struct {
	ID     string     `json:"id"`
	Action RuleAction `json:"action"`
	Reason string     `json:"reason,omitempty"`
	Expr   string     `json:"expr"`
}

// PolicyPublish puts the draft Version in force from Effective (YYYYMMDD)
// on: a claim line is judged by the version with the latest effective
// date not after its date of service. Effective dates of a payer's
// versions increase.
type PolicyPublish struct {
	Payer     string `json:"payer"`
	Version   uint64 `json:"version"`
	Effective uint32 `json:"effective"`
}

// Use is what a claim asks for.
type Use uint8

// The claim uses (FHIR Claim.use).
const (
	UseClaim   Use = 1
	UsePreauth Use = 2
)

// Submit submits a claim, or a preauthorization, and adjudicates it at
// once. Claim is the commitment to the claim's body (SHA-256 of its
// canonical form), which stays off the chain at the provider; it
// identifies the claim. The signer must be a claims agent or the service
// key of Provider.
type Submit struct {
	Claim     [32]byte   `json:"claim"`
	Use       Use        `json:"use"`
	Patient   tx.Address `json:"patient"`
	Provider  string     `json:"provider"`
	Payer     string     `json:"payer"`
	Coverage  string     `json:"coverage"`
	Age       uint64     `json:"age"`   // the patient's age in years on the first date of service
	Place     string     `json:"place"` // the CMS place of service code ("11" office)
	Diagnoses []string   `json:"diagnoses,omitempty"`
	Lines     []Line     `json:"lines"`
}

// Line is one item of a claim. Date is its date of service (YYYYMMDD);
// Pointers are 1-based indexes into the claim's Diagnoses; Auth names the
// preauthorization claim whose authorization the line consumes, if any.
type Line struct {
	Code      string   `json:"code"`
	Modifiers []string `json:"modifiers,omitempty"`
	Units     uint64   `json:"units"`
	Charge    uint64   `json:"charge"`
	Date      uint32   `json:"date"`
	Pointers  []uint64 `json:"pointers,omitempty"`
	Auth      [32]byte `json:"auth,omitempty"`
}

// Authorize is a payer claims agent's approval of the lines of a
// preauthorization that its rules denied: each becomes a one-time
// authorization. Lines are 0-based indexes.
type Authorize struct {
	Claim [32]byte `json:"claim"`
	Lines []uint64 `json:"lines"`
}

func (Deposit) Type() uint64          { return TypeDeposit }
func (RegisterPlan) Type() uint64     { return TypeRegisterPlan }
func (RegisterCoverage) Type() uint64 { return TypeRegisterCoverage }
func (PolicyLoad) Type() uint64       { return TypePolicyLoad }
func (PolicyPublish) Type() uint64    { return TypePolicyPublish }
func (Submit) Type() uint64           { return TypeSubmit }
func (Authorize) Type() uint64        { return TypeAuthorize }

func (m Deposit) EncodeTo(w *wire.Writer) {
	w.String(m.Payer)
	w.Uint(m.Amount)
}

func readDeposit(r *wire.Reader) Deposit {
	return Deposit{Payer: r.String(maxID), Amount: r.Uint()}
}

func (m RegisterPlan) EncodeTo(w *wire.Writer) {
	w.String(m.Payer)
	w.String(m.Plan)
	w.Uint(m.Deductible)
	w.Uint(m.Coinsurance)
	w.Uint(m.Copay)
	w.Uint(m.OOPMax)
	w.Uint(uint64(m.YearStart))
}

func readRegisterPlan(r *wire.Reader) RegisterPlan {
	return RegisterPlan{Payer: r.String(maxID), Plan: r.String(maxID), Deductible: r.Uint(), Coinsurance: r.Uint(),
		Copay: r.Uint(), OOPMax: r.Uint(), YearStart: readDate(r)}
}

func (m RegisterCoverage) EncodeTo(w *wire.Writer) {
	w.String(m.Payer)
	w.String(m.Coverage)
	w.String(m.Plan)
	w.Raw(m.Patient[:])
	w.Uint(uint64(m.Start))
	w.Uint(uint64(m.End))
}

func readRegisterCoverage(r *wire.Reader) RegisterCoverage {
	m := RegisterCoverage{Payer: r.String(maxID), Coverage: r.String(maxID), Plan: r.String(maxID)}
	copy(m.Patient[:], r.Raw(tx.AddressSize))
	m.Start, m.End = readDate(r), readDate(r)
	return m
}

// readDate reads a date field; a value too large for one becomes 1, which
// is no date and no "none" (0), so validation refuses it.
func readDate(r *wire.Reader) uint32 {
	v := r.Uint()
	if v > 99_991_231 {
		return 1
	}
	return uint32(v)
}

func (m PolicyLoad) EncodeTo(w *wire.Writer) {
	w.String(m.Payer)
	w.Uint(m.Version)
	w.Uint(uint64(len(m.Fees)))
	for _, f := range m.Fees {
		w.String(f.Code)
		w.String(f.Modifier)
		w.Uint(f.Allowed)
	}
	w.Uint(uint64(len(m.Pairs)))
	for _, p := range m.Pairs {
		w.String(p.Column1)
		w.String(p.Column2)
		w.Uint(uint64(p.Modifier))
	}
	w.Uint(uint64(len(m.Units)))
	for _, u := range m.Units {
		w.String(u.Code)
		w.Uint(u.Max)
	}
	w.Uint(uint64(len(m.Rules)))
	for _, ru := range m.Rules {
		w.String(ru.ID)
		w.Uint(uint64(ru.Action))
		w.String(ru.Reason)
		w.String(ru.Expr)
	}
}

func readPolicyLoad(r *wire.Reader) PolicyLoad {
	m := PolicyLoad{Payer: r.String(maxID), Version: r.Uint()}
	m.Fees = make([]Fee, r.Count(MaxRows))
	for i := range m.Fees {
		m.Fees[i] = Fee{Code: r.String(maxCode), Modifier: r.String(2), Allowed: r.Uint()}
	}
	m.Pairs = make([]CodePair, r.Count(MaxRows))
	for i := range m.Pairs {
		m.Pairs[i] = CodePair{Column1: r.String(maxCode), Column2: r.String(maxCode), Modifier: uint8(min(r.Uint(), 255))}
	}
	m.Units = make([]UnitLimit, r.Count(MaxRows))
	for i := range m.Units {
		m.Units[i] = UnitLimit{Code: r.String(maxCode), Max: r.Uint()}
	}
	m.Rules = make([]Rule, r.Count(MaxRules))
	for i := range m.Rules {
		m.Rules[i] = Rule{ID: r.String(maxID), Action: RuleAction(min(r.Uint(), 255)), Reason: r.String(maxReason), Expr: r.String(exprMax)}
	}
	return m
}

func (m PolicyPublish) EncodeTo(w *wire.Writer) {
	w.String(m.Payer)
	w.Uint(m.Version)
	w.Uint(uint64(m.Effective))
}

func readPolicyPublish(r *wire.Reader) PolicyPublish {
	return PolicyPublish{Payer: r.String(maxID), Version: r.Uint(), Effective: readDate(r)}
}

func (m Submit) EncodeTo(w *wire.Writer) {
	w.Raw(m.Claim[:])
	w.Uint(uint64(m.Use))
	w.Raw(m.Patient[:])
	w.String(m.Provider)
	w.String(m.Payer)
	w.String(m.Coverage)
	w.Uint(m.Age)
	w.String(m.Place)
	w.Strings(m.Diagnoses)
	w.Uint(uint64(len(m.Lines)))
	for _, l := range m.Lines {
		w.String(l.Code)
		w.Strings(l.Modifiers)
		w.Uint(l.Units)
		w.Uint(l.Charge)
		w.Uint(uint64(l.Date))
		w.Uint(uint64(len(l.Pointers)))
		for _, p := range l.Pointers {
			w.Uint(p)
		}
		w.Raw(l.Auth[:])
	}
}

func readSubmit(r *wire.Reader) Submit {
	var m Submit
	copy(m.Claim[:], r.Raw(32))
	m.Use = Use(min(r.Uint(), 255))
	copy(m.Patient[:], r.Raw(tx.AddressSize))
	m.Provider, m.Payer, m.Coverage = r.String(maxID), r.String(maxID), r.String(maxID)
	m.Age = r.Uint()
	m.Place = r.String(2)
	m.Diagnoses = r.Strings(MaxDiagnoses, maxCode)
	m.Lines = make([]Line, r.Count(MaxLines))
	for i := range m.Lines {
		l := &m.Lines[i]
		l.Code = r.String(maxCode)
		l.Modifiers = r.Strings(MaxModifiers, 2)
		l.Units, l.Charge, l.Date = r.Uint(), r.Uint(), readDate(r)
		l.Pointers = make([]uint64, r.Count(MaxPointers))
		for j := range l.Pointers {
			l.Pointers[j] = r.Uint()
		}
		copy(l.Auth[:], r.Raw(32))
	}
	return m
}

func (m Authorize) EncodeTo(w *wire.Writer) {
	w.Raw(m.Claim[:])
	w.Uint(uint64(len(m.Lines)))
	for _, l := range m.Lines {
		w.Uint(l)
	}
}

func readAuthorize(r *wire.Reader) Authorize {
	var m Authorize
	copy(m.Claim[:], r.Raw(32))
	m.Lines = make([]uint64, r.Count(MaxLines))
	for i := range m.Lines {
		m.Lines[i] = r.Uint()
	}
	return m
}

// invalid returns a rejection for an invalid field.
func invalid(format string, args ...any) error { return tx.Rejectf(tx.CodeInvalid, format, args...) }

// validDate reports whether d is a calendar date as YYYYMMDD.
func validDate(d uint32) bool {
	y, m, day := int(d/10000), time.Month(d/100%100), int(d%100)
	t := time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
	return y >= 1900 && t.Year() == y && t.Month() == m && t.Day() == day
}

// validCode checks a procedure, diagnosis or modifier code: letters, digits
// and dots, so that no separator of a state key can appear in it.
func validCode(what, c string, maxLen int) error {
	if c == "" || len(c) > maxLen {
		return invalid("%s must be 1 to %d characters", what, maxLen)
	}
	for i := 0; i < len(c); i++ {
		b := c[i]
		if !('0' <= b && b <= '9' || 'A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' || b == '.') {
			return invalid("%s holds a character other than a letter, digit or dot", what)
		}
	}
	return nil
}

// validID checks a plan, coverage or rule ID: letters, digits, dots and
// hyphens.
func validID(what, id string) error {
	if id == "" || len(id) > maxID {
		return invalid("%s must be 1 to %d characters", what, maxID)
	}
	for i := 0; i < len(id); i++ {
		if b := id[i]; b != '-' && validCode(what, id[i:i+1], 1) != nil {
			return invalid("%s holds a character other than a letter, digit, dot or hyphen", what)
		}
	}
	return nil
}

func validAmount(what string, v uint64) error {
	if v > MaxAmount {
		return invalid("%s %d exceeds %d", what, v, MaxAmount)
	}
	return nil
}

func (m Deposit) validate() error {
	if err := identity.ValidateOrgID(m.Payer); err != nil {
		return err
	}
	if m.Amount == 0 || m.Amount > 1_000_000_000_000 {
		return invalid("a deposit is 1 to 10^12 minor units")
	}
	return nil
}

func (m RegisterPlan) validate() error {
	if err := identity.ValidateOrgID(m.Payer); err != nil {
		return err
	}
	if err := validID("plan", m.Plan); err != nil {
		return err
	}
	for _, a := range []struct {
		what string
		v    uint64
	}{{"deductible", m.Deductible}, {"copay", m.Copay}, {"out-of-pocket maximum", m.OOPMax}} {
		if err := validAmount(a.what, a.v); err != nil {
			return err
		}
	}
	if m.Coinsurance > bpsWhole {
		return invalid("co-insurance %d exceeds %d basis points", m.Coinsurance, bpsWhole)
	}
	if !validDate(2000*10000 + m.YearStart) {
		return invalid("plan year start must be a day as MMDD")
	}
	return nil
}

func (m RegisterCoverage) validate() error {
	if err := identity.ValidateOrgID(m.Payer); err != nil {
		return err
	}
	if err := validID("coverage", m.Coverage); err != nil {
		return err
	}
	if err := validID("plan", m.Plan); err != nil {
		return err
	}
	if !validDate(m.Start) || m.End != 0 && (!validDate(m.End) || m.End < m.Start) {
		return invalid("a coverage period is a start date and an end date (or 0) not before it, as YYYYMMDD")
	}
	return nil
}

func (m PolicyPublish) validate() error {
	if err := identity.ValidateOrgID(m.Payer); err != nil {
		return err
	}
	if m.Version == 0 {
		return invalid("policy versions start at 1")
	}
	if !validDate(m.Effective) {
		return invalid("effective date must be YYYYMMDD")
	}
	return nil
}

func (m Submit) validate() error {
	if m.Use != UseClaim && m.Use != UsePreauth {
		return invalid("use must be 1 (claim) or 2 (preauthorization)")
	}
	if m.Claim == [32]byte{} {
		return invalid("claim commitment is required")
	}
	for _, org := range []string{m.Provider, m.Payer} {
		if err := identity.ValidateOrgID(org); err != nil {
			return err
		}
	}
	if err := validID("coverage", m.Coverage); err != nil {
		return err
	}
	if m.Age > MaxAge {
		return invalid("age exceeds %d", MaxAge)
	}
	if len(m.Place) != 2 || m.Place[0] < '0' || m.Place[0] > '9' || m.Place[1] < '0' || m.Place[1] > '9' {
		return invalid("place of service must be two digits")
	}
	for _, d := range m.Diagnoses {
		if err := validCode("diagnosis code", d, maxCode); err != nil {
			return err
		}
	}
	if len(m.Lines) == 0 {
		return invalid("a claim has 1 to %d lines", MaxLines)
	}
	for i := range m.Lines {
		if err := m.Lines[i].validate(len(m.Diagnoses)); err != nil {
			var r *tx.Rejection
			errors.As(err, &r)
			return invalid("line %d: %s", i, r.Msg)
		}
	}
	return nil
}

func (l *Line) validate(diagnoses int) error {
	if err := validCode("procedure code", l.Code, maxCode); err != nil {
		return err
	}
	for _, mod := range l.Modifiers {
		if err := validCode("modifier", mod, 2); err != nil {
			return err
		}
	}
	if l.Units == 0 || l.Units > MaxUnits {
		return invalid("units must be 1 to %d", MaxUnits)
	}
	if l.Charge == 0 || l.Charge > MaxAmount {
		return invalid("charge must be 1 to %d minor units", MaxAmount)
	}
	if !validDate(l.Date) {
		return invalid("date of service must be YYYYMMDD")
	}
	for _, p := range l.Pointers {
		if p == 0 || p > uint64(diagnoses) {
			return invalid("diagnosis pointer %d names no diagnosis", p)
		}
	}
	return nil
}

func (m Authorize) validate() error {
	if len(m.Lines) == 0 {
		return invalid("name 1 to %d lines", MaxLines)
	}
	for _, l := range m.Lines {
		if l >= MaxLines {
			return invalid("line %d does not exist", l)
		}
	}
	return nil
}
