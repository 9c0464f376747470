package claims

import (
	"fmt"
	"slices"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/tx"
)

// bypassModifiers let a code pair with modifier indicator 1 be paid
// together (NCCI's distinct procedural service modifiers).
var bypassModifiers = []string{"59", "XE", "XP", "XS", "XU"}

func (c *Contract) submit(ctx *contract.Context, m Submit) error {
	if err := requireOrg(ctx, m.Provider, identity.Provider, identity.ClaimsAgent, identity.Service); err != nil {
		return err
	}
	a, err := c.begin(ctx, &m)
	if err != nil {
		return err
	}
	d := &Decision{Claim: m.Claim, Use: m.Use, Patient: m.Patient, Provider: m.Provider, Payer: m.Payer, Coverage: m.Coverage, Height: ctx.Height}
	for i := range m.Lines {
		r, err := a.line(i)
		if err != nil {
			return err
		}
		d.Lines = append(d.Lines, r)
		d.Benefit += r.Benefit
		d.PatientOwes += r.Patient
	}
	if m.Use == UsePreauth {
		if err := saveAuthorizations(ctx, &m, d); err != nil {
			return err
		}
	}
	if err := saveDecision(ctx.Store, d); err != nil {
		return err
	}
	if err := saveBilledLines(ctx.Store, &m, d); err != nil {
		return err
	}
	if err := listClaim(ctx.Store, &m); err != nil {
		return err
	}
	ctx.Emit(adjudicatedEvent(ctx, d))
	return pay(ctx, d)
}

// begin checks the claim's parties and returns the adjudication of its
// lines. A claim naming an unknown payer, coverage or patient, or a
// coverage of another patient, is refused: nothing about it is stored.
func (c *Contract) begin(ctx *contract.Context, m *Submit) (*adjudication, error) {
	if o, err := identity.LoadOrg(ctx.Store, m.Payer); err != nil {
		return nil, err
	} else if o == nil || o.Type != identity.Payer {
		return nil, tx.Rejectf(tx.CodeNotFound, "payer %s is not registered", m.Payer)
	}
	if old, err := ctx.Store.Get(claimKey(m.Claim)); err != nil {
		return nil, err
	} else if old != nil {
		return nil, tx.Rejectf(tx.CodeAlreadyExists, "claim %x was already submitted", m.Claim)
	}
	cov, err := LoadCoverage(ctx.Store, m.Payer, m.Coverage)
	if err != nil {
		return nil, err
	}
	if cov == nil || cov.Patient != m.Patient {
		return nil, tx.Rejectf(tx.CodeNotFound, "the coverage named is not a coverage of the patient by %s", m.Payer)
	}
	if err := requirePatient(ctx.Store, m.Patient); err != nil {
		return nil, err
	}
	plan, err := LoadPlan(ctx.Store, m.Payer, cov.Plan)
	if err != nil {
		return nil, err
	}
	if plan == nil {
		return nil, fmt.Errorf("a coverage of %s names missing plan %s", m.Payer, cov.Plan)
	}
	vs, err := Versions(ctx.Store, m.Payer)
	if err != nil {
		return nil, err
	}
	codes := make([]string, len(m.Lines))
	for i, l := range m.Lines {
		codes[i] = l.Code
	}
	return &adjudication{c: c, ctx: ctx, m: m, cov: cov, plan: plan, versions: vs, codes: codes}, nil
}

// adjudication judges the lines of one claim, in order.
type adjudication struct {
	c        *Contract
	ctx      *contract.Context
	m        *Submit
	cov      *Coverage
	plan     *Plan
	versions []Version
	codes    []string // every line's code, for rules
	copaid   bool     // the claim's copay has been applied
}

// line judges line i: eligibility, policy version, duplicate, unit limit,
// code pair, rules, prior authorization, fee schedule, then the patient's
// share. The first check that fails denies the line.
func (a *adjudication) line(i int) (LineResult, error) {
	l := &a.m.Lines[i]
	r := LineResult{Submitted: l.Charge}
	deny := func(reason, edit string) (LineResult, error) {
		r.Status = Denied
		r.Adjustments = []Adjustment{{Reason: reason, Amount: l.Charge}}
		r.Edits = []string{edit}
		return r, nil
	}
	switch {
	case l.Date < a.cov.Start:
		return deny("26", "eligibility") // expenses incurred before coverage
	case !a.cov.Covers(l.Date):
		return deny("27", "eligibility") // expenses incurred after coverage terminated
	}
	v := InForce(a.versions, l.Date)
	r.Version = v
	if v == 0 {
		return deny("96", "no_policy")
	}
	claim := a.m.Use == UseClaim
	for _, check := range []func(uint64, int) (string, string, error){a.duplicate, a.unitLimit, a.codePair} {
		if reason, edit, err := check(v, i); err != nil || reason != "" {
			if err != nil {
				return r, err
			}
			return deny(reason, edit)
		}
	}
	allowed, ok, err := a.allowed(v, l)
	if err != nil {
		return r, err
	}
	if !ok {
		return deny("96", "fee_schedule")
	}
	if reason, edit, err := a.rules(v, i); err != nil || reason != "" {
		if err != nil {
			return r, err
		}
		return deny(reason, edit)
	}
	r.Status = Approved
	r.Eligible = min(l.Charge, allowed*l.Units)
	if l.Charge > r.Eligible {
		r.Adjustments = append(r.Adjustments, Adjustment{Reason: "45", Amount: l.Charge - r.Eligible})
	}
	if !claim {
		return r, nil
	}
	if err := a.ctx.Store.Set(dupKey(a.m.Patient, a.m.Provider, l), a.m.Claim[:]); err != nil {
		return r, err
	}
	return r, a.share(l, &r)
}

// duplicate denies a claim line whose patient, provider, date, code and
// modifiers an earlier approved line, of this claim or another, had.
func (a *adjudication) duplicate(_ uint64, i int) (string, string, error) {
	if a.m.Use != UseClaim {
		return "", "", nil
	}
	dup, err := a.ctx.Store.Get(dupKey(a.m.Patient, a.m.Provider, &a.m.Lines[i]))
	if err != nil || dup == nil {
		return "", "", err
	}
	return "18", "duplicate", nil
}

// unitLimit denies line i if the claim bills more units of its code on its
// date than the version's limit.
func (a *adjudication) unitLimit(v uint64, i int) (string, string, error) {
	l := &a.m.Lines[i]
	limit, ok, err := getUint(a.ctx.Store, unitKey(a.m.Payer, v, l.Code))
	if err != nil || !ok {
		return "", "", err
	}
	var units uint64
	for _, o := range a.m.Lines {
		if o.Code == l.Code && o.Date == l.Date {
			units += o.Units
		}
	}
	if units > limit {
		return "119", "unit_limit", nil
	}
	return "", "", nil
}

// codePair denies line i if its code is the column 2 code of a pair whose
// column 1 code another line bills on the same date, unless the pair's
// modifier indicator is 1 and the line carries a bypass modifier.
func (a *adjudication) codePair(v uint64, i int) (string, string, error) {
	l := &a.m.Lines[i]
	for j, o := range a.m.Lines {
		if j == i || o.Date != l.Date || o.Code == l.Code {
			continue
		}
		ind, ok, err := getUint(a.ctx.Store, pairKey(a.m.Payer, v, o.Code, l.Code))
		if err != nil {
			return "", "", err
		}
		if ok && !(ind == 1 && slices.ContainsFunc(l.Modifiers, func(m string) bool { return slices.Contains(bypassModifiers, m) })) {
			return "97", "code_pair", nil
		}
	}
	return "", "", nil
}

// allowed returns the allowed amount per unit of l: the fee of its code
// with its first modifier that has one, else with none.
func (a *adjudication) allowed(v uint64, l *Line) (uint64, bool, error) {
	for _, mod := range append(slices.Clip(l.Modifiers), "") {
		fee, ok, err := getUint(a.ctx.Store, feeKey(a.m.Payer, v, l.Code, mod))
		if err != nil || ok {
			return fee, ok, err
		}
	}
	return 0, false, nil
}

// rules runs the version's rules over line i in their order: a denial
// rule that holds denies it; an authorization rule that holds requires
// (on a claim, consumes) a prior authorization.
func (a *adjudication) rules(v uint64, i int) (string, string, error) {
	rs, err := Rules(a.ctx.Store, a.m.Payer, v)
	if err != nil {
		return "", "", err
	}
	vars := &lineVars{m: a.m, i: i, codes: a.codes}
	needAuth := false
	for _, r := range rs {
		ok, err := a.c.Engine.Eval(lineEnv, r.Expr, RuleCostLimit, vars)
		if err != nil {
			return "", "", fmt.Errorf("rule %s of version %d: %w", r.ID, v, err)
		}
		if !ok {
			continue
		}
		if r.Action == Deny {
			return r.Reason, "rule:" + r.ID, nil
		}
		needAuth = true
	}
	if !needAuth || a.m.Use != UseClaim {
		return "", "", nil
	}
	return a.consumeAuth(&a.m.Lines[i])
}

// consumeAuth consumes the authorization l names: a line of a
// preauthorization of the same patient, provider and payer, for its code
// and at least its units, authorized and not yet used.
func (a *adjudication) consumeAuth(l *Line) (string, string, error) {
	if l.Auth == ([32]byte{}) {
		return "197", "prior_auth", nil
	}
	d, err := LoadDecision(a.ctx.Store, l.Auth)
	if err != nil {
		return "", "", err
	}
	if d == nil || d.Use != UsePreauth || d.Patient != a.m.Patient || d.Provider != a.m.Provider || d.Payer != a.m.Payer {
		return "197", "prior_auth", nil
	}
	ls, err := LoadAuthLines(a.ctx.Store, l.Auth)
	if err != nil {
		return "", "", err
	}
	used := false
	for j := range ls {
		if ls[j].Code != l.Code || ls[j].Units < l.Units {
			continue
		}
		switch ls[j].State {
		case Authorized:
			ls[j].State = Consumed
			return "", "", saveAuthLines(a.ctx.Store, l.Auth, ls)
		case Consumed:
			used = true
		}
	}
	if used {
		return "198", "prior_auth_used", nil
	}
	return "197", "prior_auth", nil
}

// share splits an approved line's eligible amount between plan and
// patient: the deductible's remainder first, then the claim's copay (once
// per claim), then co-insurance on the rest, all capped by what remains of
// the out-of-pocket maximum (0: none) in the line's plan year.
func (a *adjudication) share(l *Line, r *LineResult) error {
	p := a.plan
	year := PlanYear(l.Date, p.YearStart)
	acc, err := LoadAccumulators(a.ctx.Store, a.m.Payer, a.m.Coverage, year)
	if err != nil {
		return err
	}
	rest := r.Eligible
	ded := min(rest, p.Deductible-min(acc.Deductible, p.Deductible))
	rest -= ded
	var copay uint64
	if !a.copaid {
		copay = min(rest, p.Copay)
		a.copaid = copay > 0
	}
	rest -= copay
	coins := rest * p.Coinsurance / bpsWhole
	if p.OOPMax > 0 {
		excess := (ded + copay + coins) - min(ded+copay+coins, p.OOPMax-min(acc.OOP, p.OOPMax))
		for _, part := range []*uint64{&coins, &copay, &ded} {
			cut := min(excess, *part)
			*part -= cut
			excess -= cut
		}
	}
	r.Patient = ded + copay + coins
	r.Benefit = r.Eligible - r.Patient
	for _, adj := range []Adjustment{{"1", ded}, {"2", coins}, {"3", copay}} {
		if adj.Amount > 0 {
			r.Adjustments = append(r.Adjustments, adj)
		}
	}
	acc.Deductible += ded
	acc.OOP += r.Patient
	return saveAccumulators(a.ctx.Store, a.m.Payer, a.m.Coverage, year, acc)
}

// saveAuthorizations records a preauthorization's lines, its approved
// ones authorized.
func saveAuthorizations(ctx *contract.Context, m *Submit, d *Decision) error {
	ls := make([]AuthLine, len(m.Lines))
	for i, l := range m.Lines {
		ls[i] = AuthLine{Code: l.Code, Units: l.Units}
		if d.Lines[i].Status == Approved {
			ls[i].State = Authorized
		}
	}
	return saveAuthLines(ctx.Store, m.Claim, ls)
}

// pay settles what a claim's benefit still owes now, or queues it behind
// the payer's other unpaid claims when its balance is short (or others
// already wait).
func pay(ctx *contract.Context, d *Decision) error {
	if d.Use != UseClaim || d.Due() == 0 {
		return nil
	}
	q, err := loadQueue(ctx.Store, d.Payer)
	if err != nil {
		return err
	}
	if slices.Contains(q, d.Claim) {
		return nil // queued already: its settlement pays all that is due
	}
	if len(q) == 0 {
		if ok, err := ledger.CanPay(ctx.Store, d.Payer, d.Due()); err != nil || ok {
			if err != nil {
				return err
			}
			return settle(ctx, d)
		}
	}
	if len(q) >= MaxQueue {
		return tx.Rejectf(tx.CodeInvalid, "%s has %d claims waiting for funds, the most it may", d.Payer, MaxQueue)
	}
	return saveQueue(ctx.Store, d.Payer, append(q, d.Claim))
}

func adjudicatedEvent(ctx *contract.Context, d *Decision) contract.Event {
	use := "claim"
	if d.Use == UsePreauth {
		use = "preauthorization"
	}
	var submitted, eligible uint64
	var reasons, edits []string
	var versions []uint64
	for _, l := range d.Lines {
		submitted += l.Submitted
		eligible += l.Eligible
		for _, adj := range l.Adjustments {
			if !slices.Contains(reasons, adj.Reason) {
				reasons = append(reasons, adj.Reason)
			}
		}
		for _, e := range l.Edits {
			if !slices.Contains(edits, e) {
				edits = append(edits, e)
			}
		}
		if l.Version != 0 && !slices.Contains(versions, l.Version) {
			versions = append(versions, l.Version)
		}
	}
	attrs := []contract.Attr{idattr(d.Claim), attr("use", use), attr("payer", d.Payer), attr("provider", d.Provider),
		attr("outcome", d.Outcome()), uattr("submitted", submitted), uattr("eligible", eligible),
		uattr("benefit", d.Benefit), uattr("patient_amount", d.PatientOwes)}
	for _, r := range reasons {
		attrs = append(attrs, attr("reason", r))
	}
	for _, e := range edits {
		attrs = append(attrs, attr("edit", e))
	}
	for _, v := range versions {
		attrs = append(attrs, uattr("version", v))
	}
	return contract.Event{Type: EventAdjudicated, Attrs: attrs, Accounts: []tx.Address{ctx.Signer, d.Patient}}
}
