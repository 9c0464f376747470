// Package claims is the claims contract: payers' plans and patients'
// coverages, coverage policy as versioned data (fee schedule, code-pair
// edits, unit limits, CEL rules), and claims and preauthorizations
// adjudicated deterministically in the block that carries them, with the
// benefit settled from payer to provider on the payment ledger (package
// ledger) in the same block.
//
// The chain holds what adjudication needs: a claim's commitment, its
// pseudonymous patient, provider, payer, coverage and lines. The claim's
// body stays at the provider. Dates are integers YYYYMMDD, amounts integers
// in minor units of the network's one currency; nothing reads the clock.
//
// claims imports contract, condition, identity, ledger, tx and wire.
package claims

import (
	"slices"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/condition"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/tx"
)

// Contract executes claims messages.
type Contract struct {
	// Engine evaluates policy rules.
	Engine *condition.Engine
}

// New returns the contract, evaluating policy rules with engine.
func New(engine *condition.Engine) *Contract { return &Contract{Engine: engine} }

// Describe returns the claims contract's description.
func (c *Contract) Describe() contract.Contract {
	return contract.Contract{
		Name: "claims",
		Msgs: []contract.MsgSpec{
			contract.Message("claims/deposit", readDeposit, Deposit.validate, deposit),
			contract.Message("claims/register_plan", readRegisterPlan, RegisterPlan.validate, registerPlan),
			contract.Message("claims/register_coverage", readRegisterCoverage, RegisterCoverage.validate, registerCoverage),
			contract.Message("claims/policy_load", readPolicyLoad, c.validateLoad, policyLoad),
			contract.Message("claims/policy_publish", readPolicyPublish, PolicyPublish.validate, policyPublish),
			contract.Message("claims/submit", readSubmit, Submit.validate, c.submit),
			contract.Message("claims/authorize", readAuthorize, Authorize.validate, authorize),
			contract.Message("claims/appeal", readAppeal, Appeal.validate, appeal),
			contract.Message("claims/decide_appeal", readDecideAppeal, DecideAppeal.validate, decideAppeal),
			contract.Message("claims/read", readRead, Read.validate, readClaims),
		},
		Events: eventSpecs(),
	}
}

// requirePayer checks that the signer is a member of payer, an
// organization of type payer, holding one of roles.
func requirePayer(ctx *contract.Context, payer string, roles ...identity.Role) error {
	return requireOrg(ctx, payer, identity.Payer, roles...)
}

func requireOrg(ctx *contract.Context, org string, typ identity.OrgType, roles ...identity.Role) error {
	if _, err := identity.RequireRole(ctx, org, roles...); err != nil {
		return err
	}
	o, err := identity.LoadOrg(ctx.Store, org)
	if err != nil {
		return err
	}
	if o.Type != typ {
		return tx.Rejectf(tx.CodeUnauthorized, "%s is an organization of type %s, not %s", org, o.Type, typ)
	}
	return nil
}

func deposit(ctx *contract.Context, m Deposit) error {
	if err := requirePayer(ctx, m.Payer, identity.Admin, identity.Service, identity.ClaimsAgent); err != nil {
		return err
	}
	if err := ledger.Credit(ctx.Store, m.Payer, m.Amount, ledger.Memo{Height: ctx.Height}); err != nil {
		return err
	}
	bal, err := ledger.Balance(ctx.Store, m.Payer)
	if err != nil {
		return err
	}
	ctx.Emit(contract.Event{
		Type:     EventDeposit,
		Attrs:    []contract.Attr{attr("payer", m.Payer), uattr("amount", m.Amount), uattr("balance", bal)},
		Accounts: []tx.Address{ctx.Signer},
	})
	return payQueued(ctx, m.Payer)
}

func registerPlan(ctx *contract.Context, m RegisterPlan) error {
	if err := requirePayer(ctx, m.Payer, identity.Admin, identity.Service); err != nil {
		return err
	}
	p := &Plan{Deductible: m.Deductible, Coinsurance: m.Coinsurance, Copay: m.Copay, OOPMax: m.OOPMax, YearStart: m.YearStart}
	if err := savePlan(ctx.Store, m.Payer, m.Plan, p); err != nil {
		return err
	}
	ctx.Emit(contract.Event{Type: EventPlan, Attrs: []contract.Attr{attr("payer", m.Payer), attr("plan", m.Plan)}, Accounts: []tx.Address{ctx.Signer}})
	return nil
}

func registerCoverage(ctx *contract.Context, m RegisterCoverage) error {
	if err := requirePayer(ctx, m.Payer, identity.Admin, identity.Service, identity.ClaimsAgent); err != nil {
		return err
	}
	if p, err := LoadPlan(ctx.Store, m.Payer, m.Plan); err != nil {
		return err
	} else if p == nil {
		return tx.Rejectf(tx.CodeNotFound, "plan %s of %s is not registered", m.Plan, m.Payer)
	}
	if err := requirePatient(ctx.Store, m.Patient); err != nil {
		return err
	}
	old, err := LoadCoverage(ctx.Store, m.Payer, m.Coverage)
	if err != nil {
		return err
	}
	if old != nil && old.Patient != m.Patient {
		return tx.Rejectf(tx.CodeAlreadyExists, "the coverage ID is taken by another patient's coverage with %s", m.Payer)
	}
	cov := &Coverage{Plan: m.Plan, Patient: m.Patient, Start: m.Start, End: m.End}
	if err := saveCoverage(ctx.Store, m.Payer, m.Coverage, cov); err != nil {
		return err
	}
	ctx.Emit(contract.Event{
		Type:     EventCoverage,
		Attrs:    []contract.Attr{attr("payer", m.Payer), attr("coverage", m.Coverage)},
		Accounts: []tx.Address{ctx.Signer, m.Patient},
	})
	return nil
}

func requirePatient(s identity.Reader, a tx.Address) error {
	acct, err := identity.LoadAccount(s, a)
	if err != nil {
		return err
	}
	if acct == nil || acct.Kind != identity.Patient {
		return tx.Rejectf(tx.CodeNotFound, "patient %s is not registered", a)
	}
	return nil
}

// Eligible reports whether payer's coverage cov is in force on date for
// patient, and under which plan: the read a CoverageEligibilityResponse
// answers from.
func Eligible(s identity.Reader, payer, cov string, patient tx.Address, date uint32) (bool, *Coverage, error) {
	c, err := LoadCoverage(s, payer, cov)
	if err != nil || c == nil {
		return false, nil, err
	}
	return c.Patient == patient && c.Covers(date), c, nil
}

func authorize(ctx *contract.Context, m Authorize) error {
	d, err := LoadDecision(ctx.Store, m.Claim)
	if err != nil {
		return err
	}
	if d == nil || d.Use != UsePreauth {
		return tx.Rejectf(tx.CodeNotFound, "no preauthorization %x", m.Claim)
	}
	if err := requirePayer(ctx, d.Payer, identity.ClaimsAgent); err != nil {
		return err
	}
	ls, err := LoadAuthLines(ctx.Store, m.Claim)
	if err != nil {
		return err
	}
	for _, i := range m.Lines {
		if i >= uint64(len(ls)) {
			return invalid("line %d does not exist", i)
		}
		if ls[i].State != NotAuthorized {
			return tx.Rejectf(tx.CodeAlreadyExists, "line %d is already authorized", i)
		}
		ls[i].State = Authorized
	}
	if err := saveAuthLines(ctx.Store, m.Claim, ls); err != nil {
		return err
	}
	ctx.Emit(contract.Event{
		Type:     EventAuthorized,
		Attrs:    []contract.Attr{idattr(m.Claim), attr("payer", d.Payer), attr("provider", d.Provider), uattr("lines", uint64(len(m.Lines)))},
		Accounts: []tx.Address{ctx.Signer, d.Patient},
	})
	return nil
}

// payQueued pays payer's waiting claims in order while its balance covers
// the next one.
func payQueued(ctx *contract.Context, payer string) error {
	q, err := loadQueue(ctx.Store, payer)
	if err != nil || len(q) == 0 {
		return err
	}
	paid := 0
	for _, id := range q {
		d, err := LoadDecision(ctx.Store, id)
		if err != nil {
			return err
		}
		ok, err := ledger.CanPay(ctx.Store, payer, d.Due())
		if err != nil || !ok {
			break
		}
		if err := settle(ctx, d); err != nil {
			return err
		}
		paid++
	}
	return saveQueue(ctx.Store, payer, slices.Delete(q, 0, paid))
}

// settle moves what a decision's benefit still owes from payer to provider
// and marks it paid.
func settle(ctx *contract.Context, d *Decision) error {
	due := d.Due()
	if err := ledger.Transfer(ctx.Store, d.Payer, d.Provider, due, ledger.Memo{Height: ctx.Height, Ref: d.Claim}); err != nil {
		return err
	}
	d.Paid, d.Settled = true, d.Benefit
	if err := saveDecision(ctx.Store, d); err != nil {
		return err
	}
	ctx.Emit(contract.Event{
		Type:     EventPaid,
		Attrs:    []contract.Attr{idattr(d.Claim), attr("payer", d.Payer), attr("provider", d.Provider), uattr("amount", due)},
		Accounts: []tx.Address{ctx.Signer},
	})
	return nil
}
