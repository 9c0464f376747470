// Package trials is the clinical trials contract: trials registered with
// the commitments of their study, protocol and statistical analysis plan
// and their pre-specified outcomes; protocol versions that an ethics board
// approves before they are in force; participants' consent per protocol
// version, enrollment and withdrawal; commitments of captured datasets (RFC
// 6962 roots); and results reports naming outcome IDs.
//
// The documents stay at the sponsor's node; the chain holds their SHA-256
// commitments (of the canonical JSON, fhir.Resource.Canonical) and the
// outcome IDs, so that nobody can change what a trial said it would measure,
// or the data it measured, unnoticed. Switched rebuilds a trial's history
// from its events and finds switched outcomes.
//
// An ethics board is an organization of type research, provider or
// regulator other than the sponsor (the identity contract has no type of
// its own for boards: a board sits at a university or hospital, or stands
// alone as a research organization, and is never a payer or a
// manufacturer). Its admins and auditors approve protocol versions.
//
// A participant consents with their own key, as a registered patient. A
// participant who wants their trial kept apart from their records may
// register a key for this trial alone: registering a patient is open.
//
// Recruitment (recruit.go) publishes eligibility rules, which custodians
// evaluate off the chain (eligibility.go), patients' answers to being
// contacted, and counts of matching patients per custodian.
//
// trials imports contract, condition, identity, tx and wire.
package trials

import (
	"slices"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/condition"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

// Contract is the trials contract.
type Contract struct {
	// Engine checks eligibility rules (and evaluates them, at custodians).
	Engine *condition.Engine
}

// New returns the contract, checking eligibility rules with engine.
func New(engine *condition.Engine) *Contract { return &Contract{Engine: engine} }

// Describe returns the trials contract's description.
func (c *Contract) Describe() contract.Contract {
	return contract.Contract{
		Name: "trials",
		Msgs: []contract.MsgSpec{
			contract.Message("trials/register", readRegister, Register.validate, register),
			contract.Message("trials/amend", readAmend, Amend.validate, amend),
			contract.Message("trials/approve", readApprove, Approve.validate, approve),
			contract.Message("trials/consent", readConsent, Consent.validate, consent),
			contract.Message("trials/enroll", readEnroll, Enroll.validate, enroll),
			contract.Message("trials/withdraw", readWithdraw, Withdraw.validate, withdraw),
			contract.Message("trials/commit_data", readCommitData, CommitData.validate, commitData),
			contract.Message("trials/report", readReport, Report.validate, report),
			contract.Message("trials/criteria", readCriteria, c.validateCriteria, publishCriteria),
			contract.Message("trials/contact", readContact, nil, contact),
			contract.Message("trials/match_count", readMatchCount, MatchCount.validate, matchCount),
		},
		Events: append(eventSpecs(), recruitEventSpecs()...),
	}
}

// boardTypes are the organization types an ethics board may have.
var boardTypes = []identity.OrgType{identity.Research, identity.Provider, identity.Regulator}

// requireSponsor checks that the signer is an active member of the trial's
// sponsor holding one of roles.
func requireSponsor(ctx *contract.Context, t *Trial, roles ...identity.Role) error {
	_, err := identity.RequireRole(ctx, t.Sponsor, roles...)
	return err
}

// requireSponsorInForce returns trial id for a message that a member of
// its sponsor with one of roles sends while a protocol version is in
// force (data, results, enrollment, recruitment).
func requireSponsorInForce(ctx *contract.Context, id string, roles ...identity.Role) (*Trial, error) {
	t, err := requireTrial(ctx.Store, id)
	if err == nil {
		err = requireSponsor(ctx, t, roles...)
	}
	if err == nil {
		_, err = requireInForce(t)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

func register(ctx *contract.Context, m Register) error {
	if _, err := identity.RequireRole(ctx, m.Sponsor, identity.Researcher, identity.Admin); err != nil {
		return err
	}
	if o, err := identity.LoadOrg(ctx.Store, m.Sponsor); err != nil {
		return err
	} else if o.Type != identity.Research {
		return tx.Rejectf(tx.CodeUnauthorized, "%s is an organization of type %s, not research", m.Sponsor, o.Type)
	}
	board, err := identity.LoadOrg(ctx.Store, m.Board)
	if err != nil {
		return err
	}
	if board == nil {
		return tx.Rejectf(tx.CodeNotFound, "ethics board %s is not an organization", m.Board)
	}
	if board.Suspended || !slices.Contains(boardTypes, board.Type) {
		return tx.Rejectf(tx.CodeInvalid, "ethics board %s must be an active organization of type research, provider or regulator", m.Board)
	}
	if old, err := LoadTrial(ctx.Store, m.Trial); err != nil {
		return err
	} else if old != nil {
		return tx.Rejectf(tx.CodeAlreadyExists, "trial %s is already registered", m.Trial)
	}
	t := &Trial{ID: m.Trial, Sponsor: m.Sponsor, Board: m.Board, Study: m.Study, Versions: 1, Height: ctx.Height, Time: ctx.Time.UTC()}
	v := &Version{Number: 1, Protocol: m.Protocol, SAP: m.SAP, Primary: m.Primary, Secondary: m.Secondary, ProposedHeight: ctx.Height}
	if err := save(ctx.Store, trialKey(t.ID), t); err != nil {
		return err
	}
	if err := save(ctx.Store, versionKey(t.ID, 1), v); err != nil {
		return err
	}
	ctx.Emit(registeredEvent(t, v))
	return nil
}

func amend(ctx *contract.Context, m Amend) error {
	t, err := requireTrial(ctx.Store, m.Trial)
	if err != nil {
		return err
	}
	if err := requireSponsor(ctx, t, identity.Researcher, identity.Admin); err != nil {
		return err
	}
	last, err := LoadVersion(ctx.Store, t.ID, t.Versions)
	if err != nil {
		return err
	}
	if last.Pending() {
		return tx.Rejectf(tx.CodeAlreadyExists, "version %d of trial %s is still pending approval", last.Number, t.ID)
	}
	if t.Versions >= MaxVersions {
		return tx.Rejectf(tx.CodeInvalid, "trial %s has %d versions, the most it may", t.ID, MaxVersions)
	}
	t.Versions++
	v := &Version{Number: t.Versions, Protocol: m.Protocol, SAP: m.SAP, Primary: m.Primary, Secondary: m.Secondary, ProposedHeight: ctx.Height}
	if err := save(ctx.Store, trialKey(t.ID), t); err != nil {
		return err
	}
	if err := save(ctx.Store, versionKey(t.ID, v.Number), v); err != nil {
		return err
	}
	ctx.Emit(amendedEvent(t, v))
	return nil
}

func approve(ctx *contract.Context, m Approve) error {
	t, err := requireTrial(ctx.Store, m.Trial)
	if err != nil {
		return err
	}
	if _, err := identity.RequireRole(ctx, t.Board, identity.Admin, identity.Auditor); err != nil {
		return err
	}
	v, err := LoadVersion(ctx.Store, t.ID, m.Version)
	if err != nil {
		return err
	}
	if v == nil {
		return tx.Rejectf(tx.CodeNotFound, "trial %s has no version %d", t.ID, m.Version)
	}
	if !v.Pending() {
		return tx.Rejectf(tx.CodeAlreadyExists, "version %d of trial %s was approved at height %d", v.Number, t.ID, v.ApprovedHeight)
	}
	v.ApprovedHeight, v.ApprovedTime, v.Approver = ctx.Height, ctx.Time.UTC(), ctx.Signer
	t.InForce = v.Number
	if err := save(ctx.Store, versionKey(t.ID, v.Number), v); err != nil {
		return err
	}
	if err := save(ctx.Store, trialKey(t.ID), t); err != nil {
		return err
	}
	ctx.Emit(event(EventApproved, t, uattr("version", v.Number), attr("board", t.Board), attr("by", ctx.Signer.String())))
	return nil
}

func consent(ctx *contract.Context, m Consent) error {
	if _, err := identity.RequirePatient(ctx.Store, ctx.Signer); err != nil {
		return tx.Rejectf(tx.CodeUnauthorized, "only a participant, with their own patient key, consents: %v", err)
	}
	t, err := requireTrial(ctx.Store, m.Trial)
	if err != nil {
		return err
	}
	inForce, err := requireInForce(t)
	if err != nil {
		return err
	}
	if m.Version != inForce {
		return tx.Rejectf(tx.CodeInvalid, "version %d is not the version in force of trial %s (%d)", m.Version, t.ID, inForce)
	}
	p, err := LoadParticipant(ctx.Store, t.ID, ctx.Signer)
	if err != nil {
		return err
	}
	if p == nil {
		p = &Participant{}
	}
	if p.WithdrawnHeight != 0 {
		return tx.Rejectf(tx.CodeInvalid, "participant %s withdrew from trial %s", ctx.Signer, t.ID)
	}
	if p.Consented == inForce {
		return tx.Rejectf(tx.CodeAlreadyExists, "participant %s already consented to version %d", ctx.Signer, inForce)
	}
	p.Consented, p.ConsentedHeight = inForce, ctx.Height
	if err := save(ctx.Store, participantKey(t.ID, ctx.Signer), p); err != nil {
		return err
	}
	ctx.Emit(participantEvent(EventConsented, t, ctx.Signer, uattr("version", inForce)))
	return nil
}

// requireConsented rejects a participant who withdrew or has not consented
// to the version in force.
func requireConsented(t *Trial, addr tx.Address, p *Participant) error {
	if p != nil && p.WithdrawnHeight != 0 {
		return tx.Rejectf(tx.CodeUnauthorized, "participant %s withdrew from trial %s at height %d", addr, t.ID, p.WithdrawnHeight)
	}
	if p == nil || p.Consented != t.InForce {
		return tx.Rejectf(tx.CodeUnauthorized, "participant %s has not consented to version %d, in force in trial %s", addr, t.InForce, t.ID)
	}
	return nil
}

func enroll(ctx *contract.Context, m Enroll) error {
	t, err := requireSponsorInForce(ctx, m.Trial, identity.Researcher, identity.Admin, identity.Service)
	if err != nil {
		return err
	}
	p, err := LoadParticipant(ctx.Store, t.ID, m.Participant)
	if err != nil {
		return err
	}
	if err := requireConsented(t, m.Participant, p); err != nil {
		return err
	}
	if p.EnrolledHeight != 0 {
		return tx.Rejectf(tx.CodeAlreadyExists, "participant %s is enrolled in trial %s", m.Participant, t.ID)
	}
	p.EnrolledHeight = ctx.Height
	if err := save(ctx.Store, participantKey(t.ID, m.Participant), p); err != nil {
		return err
	}
	if err := indexEnrollment(ctx.Store, t, m.Participant); err != nil {
		return err
	}
	ctx.Emit(participantEvent(EventEnrolled, t, m.Participant, uattr("version", t.InForce)))
	return nil
}

func withdraw(ctx *contract.Context, m Withdraw) error {
	t, err := requireTrial(ctx.Store, m.Trial)
	if err != nil {
		return err
	}
	if ctx.Signer != m.Participant {
		if err := requireSponsor(ctx, t, identity.Researcher, identity.Admin); err != nil {
			return tx.Rejectf(tx.CodeUnauthorized, "only the participant or a researcher or admin of %s may withdraw them", t.Sponsor)
		}
	}
	p, err := LoadParticipant(ctx.Store, t.ID, m.Participant)
	if err != nil {
		return err
	}
	if p == nil {
		return tx.Rejectf(tx.CodeNotFound, "%s is not a participant of trial %s", m.Participant, t.ID)
	}
	if p.WithdrawnHeight != 0 {
		return tx.Rejectf(tx.CodeAlreadyExists, "participant %s withdrew at height %d", m.Participant, p.WithdrawnHeight)
	}
	p.WithdrawnHeight = ctx.Height
	if err := save(ctx.Store, participantKey(t.ID, m.Participant), p); err != nil {
		return err
	}
	ctx.Emit(participantEvent(EventWithdrawn, t, m.Participant, attr("by", ctx.Signer.String())))
	return nil
}

func commitData(ctx *contract.Context, m CommitData) error {
	t, err := requireSponsorInForce(ctx, m.Trial, identity.Researcher, identity.Admin, identity.Service)
	if err != nil {
		return err
	}
	if m.Version != t.InForce {
		return tx.Rejectf(tx.CodeInvalid, "data is captured under version %d, in force in trial %s, not %d", t.InForce, t.ID, m.Version)
	}
	if old, err := LoadDataset(ctx.Store, t.ID, m.Dataset); err != nil {
		return err
	} else if old != nil {
		return tx.Rejectf(tx.CodeAlreadyExists, "dataset %s of trial %s was committed at height %d", m.Dataset, t.ID, old.Height)
	}
	for _, addr := range m.Participants {
		p, err := LoadParticipant(ctx.Store, t.ID, addr)
		if err != nil {
			return err
		}
		if err := requireConsented(t, addr, p); err != nil {
			return err
		}
		if p.EnrolledHeight == 0 {
			return tx.Rejectf(tx.CodeUnauthorized, "participant %s is not enrolled in trial %s", addr, t.ID)
		}
	}
	d := &Dataset{Root: m.Root, Rows: m.Rows, Version: m.Version, Participants: uint64(len(m.Participants)), Height: ctx.Height}
	if err := save(ctx.Store, datasetKey(t.ID, m.Dataset), d); err != nil {
		return err
	}
	t.Datasets++
	if t.CaptureHeight == 0 {
		t.CaptureHeight = ctx.Height
	}
	if err := save(ctx.Store, trialKey(t.ID), t); err != nil {
		return err
	}
	ctx.Emit(dataEvent(t, m))
	return nil
}

func report(ctx *contract.Context, m Report) error {
	t, err := requireSponsorInForce(ctx, m.Trial, identity.Researcher, identity.Admin)
	if err != nil {
		return err
	}
	if t.Results >= MaxResults {
		return tx.Rejectf(tx.CodeInvalid, "trial %s has %d results reports, the most it may", t.ID, MaxResults)
	}
	if err := requireKnownOutcomes(ctx, t, m.Outcomes); err != nil {
		return err
	}
	t.Results++
	r := &Result{Result: m.Result, Outcomes: m.Outcomes, Version: t.InForce, Height: ctx.Height}
	if err := save(ctx.Store, resultKey(t.ID, t.Results), r); err != nil {
		return err
	}
	if err := save(ctx.Store, trialKey(t.ID), t); err != nil {
		return err
	}
	ctx.Emit(resultsEvent(t, r))
	return nil
}

// requireKnownOutcomes rejects an outcome that no approved protocol version
// of the trial names: a results report may name an outcome added by an
// amendment (the outcome-switching report shows it), never one the board
// did not see.
func requireKnownOutcomes(ctx *contract.Context, t *Trial, outcomes []string) error {
	known := make([]bool, len(outcomes))
	for n := uint64(1); n <= t.Versions; n++ {
		v, err := LoadVersion(ctx.Store, t.ID, n)
		if err != nil {
			return err
		}
		if v.Pending() {
			continue
		}
		for i, id := range outcomes {
			known[i] = known[i] || v.Names(id)
		}
	}
	for i, id := range outcomes {
		if !known[i] {
			return tx.Rejectf(tx.CodeNotFound, "outcome %q is named by no approved protocol version of trial %s", id, t.ID)
		}
	}
	return nil
}
