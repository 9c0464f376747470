// Package rewards is the reward programs contract: a sponsor (a payer, an
// employer, a public health program) funds a program from its ledger
// account, with one rule per coarse kind of event (attended, dispensed,
// in_range, screening): the reward, the organization types allowed to
// attest it, and a CEL condition over the attestation. An attestation by
// an allowed organization pays the patient's ledger account from the
// program's pool in the block that records it, within the per-patient cap
// and what is left of the pool, until the program's end.
//
// The chain holds the sponsor, the program, the pseudonymous patient, the
// event's kind and the attester's commitment to its own record of the
// event; no clinical content, which rules cannot read either.
//
// rewards imports contract, condition, identity, ledger, tx and wire.
package rewards

import (
	"encoding/hex"
	"errors"
	"slices"
	"strconv"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/condition"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/tx"
)

// Rejections callers test for with errors.Is.
var (
	ErrEnded    = tx.Rejectf(tx.CodeInvalid, "the program has ended")
	ErrAttester = tx.Rejectf(tx.CodeUnauthorized, "the program does not accept this event from organizations of this type")
)

// Event types of the rewards contract.
const (
	EventCreated  = "rewards.created"
	EventAttested = "rewards.attested"
	EventClosed   = "rewards.closed"
	EventRedeemed = "rewards.redeemed"
)

// Contract executes rewards messages.
type Contract struct {
	// Engine evaluates reward rules.
	Engine *condition.Engine
}

// New returns the contract, evaluating rules with engine.
func New(engine *condition.Engine) *Contract { return &Contract{Engine: engine} }

// Describe returns the rewards contract's description.
func (c *Contract) Describe() contract.Contract {
	return contract.Contract{
		Name: "rewards",
		Msgs: []contract.MsgSpec{
			contract.Message("rewards/create", readCreate, c.validateCreate, create),
			contract.Message("rewards/attest", readAttest, Attest.validate, c.attest),
			contract.Message("rewards/close", readClose, Close.validate, closeProgram),
			contract.Message("rewards/redeem", readRedeem, Redeem.validate, redeem),
		},
		Events: []contract.EventSpec{
			{Type: EventCreated, Action: "C"},
			{Type: EventAttested, Action: "U"},
			{Type: EventClosed, ByType: true, Action: "U"},
			{Type: EventRedeemed, Action: "U"},
		},
	}
}

// validateCreate checks a program and that each rule compiles in the event
// environment within RuleCostLimit.
func (c *Contract) validateCreate(m Create) error {
	if err := m.validate(); err != nil {
		return err
	}
	for _, r := range m.Rules {
		if r.Expr == "" {
			continue
		}
		if err := c.Engine.Check(eventEnv, r.Expr, RuleCostLimit); err != nil {
			return invalid("rule for %s: %v", r.Event, err)
		}
	}
	return nil
}

func attr(k, v string) contract.Attr         { return contract.Attr{Key: k, Value: v} }
func uattr(k string, v uint64) contract.Attr { return attr(k, strconv.FormatUint(v, 10)) }

func create(ctx *contract.Context, m Create) error {
	if _, err := identity.RequireRole(ctx, m.Sponsor, identity.Admin, identity.ClaimsAgent); err != nil {
		return err
	}
	if m.End <= ctx.Time.Unix() {
		return ErrEnded
	}
	for _, org := range m.RedeemTo {
		if err := requireOrg(ctx, org); err != nil {
			return err
		}
	}
	if old, err := LoadProgram(ctx.Store, m.Program); err != nil {
		return err
	} else if old != nil {
		return tx.Rejectf(tx.CodeAlreadyExists, "program %s exists", m.Program)
	}
	if err := ledger.Transfer(ctx.Store, m.Sponsor, Pool(m.Program), m.Funding, ledger.Memo{Height: ctx.Height}); err != nil {
		if errors.Is(err, ledger.ErrShort) {
			return invalid("the sponsor's balance does not cover the funding of %d", m.Funding)
		}
		return err
	}
	p := &Program{Sponsor: m.Sponsor, Funding: m.Funding, PatientCap: m.PatientCap, End: m.End, Rules: m.Rules, RedeemTo: m.RedeemTo}
	if err := saveProgram(ctx.Store, m.Program, p); err != nil {
		return err
	}
	ctx.Emit(contract.Event{
		Type:     EventCreated,
		Attrs:    []contract.Attr{attr("program", m.Program), attr("sponsor", m.Sponsor), uattr("funding", m.Funding)},
		Accounts: []tx.Address{ctx.Signer},
	})
	return nil
}

// openProgram returns program id if it accepts attestations now.
func openProgram(ctx *contract.Context, id string) (*Program, error) {
	p, err := LoadProgram(ctx.Store, id)
	switch {
	case err != nil:
		return nil, err
	case p == nil:
		return nil, tx.Rejectf(tx.CodeNotFound, "no program %s", id)
	case p.Closed || ctx.Time.Unix() >= p.End:
		return nil, ErrEnded
	}
	return p, nil
}

// Attesters are the roles that may attest an event for their
// organization: those who see it happen, and the node's own key.
var Attesters = []identity.Role{identity.Physician, identity.Nurse, identity.Pharmacist, identity.Admin, identity.Service}

func (c *Contract) attest(ctx *contract.Context, m Attest) error {
	_, org, err := identity.ActiveMember(ctx.Store, ctx.Signer)
	if err != nil {
		return err
	}
	if _, err := identity.RequireOwnRole(ctx, Attesters...); err != nil {
		return err
	}
	p, err := openProgram(ctx, m.Program)
	if err != nil {
		return err
	}
	r := p.rule(m.Event)
	if r == nil {
		return invalid("program %s rewards no %s event", m.Program, m.Event)
	}
	if !slices.Contains(r.Attesters, string(org.Type)) {
		return ErrAttester
	}
	if _, err := identity.RequirePatient(ctx.Store, m.Patient); err != nil {
		return err
	}
	if seen, err := ctx.Store.Get(refKey(m.Program, m.Ref)); err != nil {
		return err
	} else if seen != nil {
		return tx.Rejectf(tx.CodeAlreadyExists, "the event was already attested to program %s", m.Program)
	}
	got, err := LoadReceived(ctx.Store, m.Program, m.Patient)
	if err != nil {
		return err
	}
	pay, err := c.reward(ctx, p, r, org, got)
	if err != nil {
		return err
	}
	if err := ctx.Store.Set(refKey(m.Program, m.Ref), []byte{1}); err != nil {
		return err
	}
	if err := payPatient(ctx, m, p, got, pay); err != nil {
		return err
	}
	ctx.Emit(contract.Event{
		Type: EventAttested,
		Attrs: []contract.Attr{attr("program", m.Program), attr("event", m.Event), attr("attester", org.ID),
			attr("ref", hex.EncodeToString(m.Ref[:])), uattr("paid", pay), attr("to", payee(p))},
		Accounts: []tx.Address{ctx.Signer, m.Patient},
	})
	return nil
}

// reward returns what an attestation pays: the rule's amount if its
// condition holds, within what the patient's cap and the pool leave.
func (c *Contract) reward(ctx *contract.Context, p *Program, r *Rule, org *identity.Organization, got Received) (uint64, error) {
	if r.Expr != "" {
		vars := &eventVars{event: r.Event, attester: org.ID, attesterType: string(org.Type), got: got, time: ctx.Time.Unix()}
		ok, err := c.Engine.Eval(eventEnv, r.Expr, RuleCostLimit, vars)
		if err != nil {
			return 0, invalid("rule for %s: %v", r.Event, err)
		}
		if !ok {
			return 0, nil
		}
	}
	return min(r.Amount, p.PatientCap-got.Total, p.Funding-p.Paid), nil
}

// payee says where a program's rewards go: "balance" (the patient's
// ledger account) or "held" (for the patient to redeem).
func payee(p *Program) string {
	if len(p.RedeemTo) == 0 {
		return "balance"
	}
	return "held"
}

// payPatient rewards the patient with pay, paid from the program's pool
// to the patient's account or held in it for them, and records it.
func payPatient(ctx *contract.Context, m Attest, p *Program, got Received, pay uint64) error {
	if pay == 0 {
		return nil
	}
	got.Total, got.Count = got.Total+pay, got.Count+1
	if payee(p) == "held" {
		got.Held += pay
	} else if err := ledger.Transfer(ctx.Store, Pool(m.Program), ledger.Patient(m.Patient), pay, ledger.Memo{Height: ctx.Height}); err != nil {
		return err
	}
	p.Paid += pay
	if err := saveProgram(ctx.Store, m.Program, p); err != nil {
		return err
	}
	return saveReceived(ctx.Store, m.Program, m.Patient, got)
}

// requireOrg checks that org is a member of the network.
func requireOrg(ctx *contract.Context, org string) error {
	o, err := identity.LoadOrg(ctx.Store, org)
	if err != nil {
		return err
	}
	if o == nil || o.Removed {
		return tx.Rejectf(tx.CodeNotFound, "organization %s is not a member of the network", org)
	}
	return nil
}

// redeem moves rewards the program holds for the patient to one of the
// organizations it allows. A program that pays to balances allows none.
func redeem(ctx *contract.Context, m Redeem) error {
	if err := identity.RequireActsFor(ctx, m.Patient); err != nil {
		return err
	}
	p, err := LoadProgram(ctx.Store, m.Program)
	if err != nil {
		return err
	}
	switch {
	case p == nil:
		return tx.Rejectf(tx.CodeNotFound, "no program %s", m.Program)
	case len(p.RedeemTo) == 0:
		return invalid("program %s pays its rewards to the patient's balance; it has nothing to redeem", m.Program)
	case !slices.Contains(p.RedeemTo, m.To):
		return invalid("program %s redeems only to %v", m.Program, p.RedeemTo)
	}
	if err := requireOrg(ctx, m.To); err != nil {
		return err
	}
	got, err := LoadReceived(ctx.Store, m.Program, m.Patient)
	if err != nil {
		return err
	}
	if got.Held < m.Amount {
		return invalid("program %s holds %d for the patient, less than %d", m.Program, got.Held, m.Amount)
	}
	if err := ledger.Transfer(ctx.Store, Pool(m.Program), m.To, m.Amount, ledger.Memo{Height: ctx.Height}); err != nil {
		return err
	}
	got.Held -= m.Amount
	if err := saveReceived(ctx.Store, m.Program, m.Patient, got); err != nil {
		return err
	}
	ctx.Emit(contract.Event{
		Type:     EventRedeemed,
		Attrs:    []contract.Attr{attr("program", m.Program), attr("to", m.To), uattr("amount", m.Amount)},
		Accounts: accounts(ctx.Signer, m.Patient),
	})
	return nil
}

func accounts(signer, patient tx.Address) []tx.Address {
	if signer == patient {
		return []tx.Address{patient}
	}
	return []tx.Address{signer, patient}
}

func closeProgram(ctx *contract.Context, m Close) error {
	p, err := LoadProgram(ctx.Store, m.Program)
	if err != nil {
		return err
	}
	if p == nil {
		return tx.Rejectf(tx.CodeNotFound, "no program %s", m.Program)
	}
	if _, err := identity.RequireRole(ctx, p.Sponsor, identity.Admin, identity.ClaimsAgent); err != nil {
		return err
	}
	if p.Closed {
		return tx.Rejectf(tx.CodeAlreadyExists, "program %s is closed", m.Program)
	}
	if ctx.Time.Unix() < p.End {
		return invalid("program %s runs until %d", m.Program, p.End)
	}
	left := p.Funding - p.Paid
	if err := ledger.Transfer(ctx.Store, Pool(m.Program), p.Sponsor, left, ledger.Memo{Height: ctx.Height}); err != nil {
		return err
	}
	p.Closed = true
	if err := saveProgram(ctx.Store, m.Program, p); err != nil {
		return err
	}
	ctx.Emit(contract.Event{
		Type:     EventClosed,
		Attrs:    []contract.Attr{attr("program", m.Program), attr("sponsor", p.Sponsor), uattr("returned", left)},
		Accounts: []tx.Address{ctx.Signer},
	})
	return nil
}
