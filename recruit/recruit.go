// Package recruit is a custodian node's side of recruitment without
// exposure: when a trial's eligibility criteria commit (or on demand), it
// evaluates the rule over the records of this organization's patients who
// opted in to be contacted about research, and only them; tells each
// matching patient privately (an invitation kept at this node and a notice
// on the patient's own event stream); and publishes on the chain only how
// many matched (trials/match_count, signed by the node's service key).
// Nothing about a patient who did not match, or did not opt in, leaves
// this node; the sponsor learns who a patient is only when the patient
// consents to the trial with their own key.
//
// recruit imports the trials contract (the rule's environment and its
// state), the vault's record type, the app's block type and tx; the node
// hands it its vault, its sender and a way to notify an account.
package recruit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/condition"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/vault"
)

// Records are the custodian's records, as recruitment reads them; a
// *vault.Vault is one.
type Records interface {
	Patients() ([]string, error)
	List(patient, typ string) ([]vault.Record, error)
}

var _ Records = (*vault.Vault)(nil)

// Sender signs and submits the node's transactions and waits for them to
// commit; a *sender.Sender is one.
type Sender interface {
	Send(ctx context.Context, msgs ...tx.Msg) (*app.TxResult, error)
}

// Options configure a Recruiter.
type Options struct {
	// Org is the organization whose records are evaluated. Required.
	Org string
	// Records are its records. Required.
	Records Records
	// State returns the committed state. Required.
	State func() identity.Reader
	// Sender publishes the counts. Required.
	Sender Sender
	// Inbox keeps the invitations. Required.
	Inbox *Inbox
	// Notify tells a patient of a new invitation on their own event
	// stream, and nobody else. Default: nothing (the inbox keeps it).
	Notify func(to tx.Address, inv Invitation)
	// LabWindow is how recent a lab result must be to count. Default one
	// year.
	LabWindow time.Duration
	// Now is the wall clock, for ages and recent labs (off the chain).
	// Default time.Now.
	Now func() time.Time
	// Log receives failures of evaluations the chain triggered. Default
	// slog.Default().
	Log *slog.Logger
}

// EventInvitation is the type of the private notice of an invitation on a
// patient's event stream: a node's notice, never a chain event.
const EventInvitation = "trials.invitation"

// Recruiter evaluates trials' eligibility rules at one custodian.
type Recruiter struct {
	opts   Options
	engine *condition.Engine
	jobs   chan string // trials whose criteria committed
}

// New returns a recruiter. Run must be running for criteria that commit to
// be evaluated.
func New(o Options) (*Recruiter, error) {
	if o.Org == "" || o.Records == nil || o.State == nil || o.Sender == nil || o.Inbox == nil {
		return nil, errors.New("recruit: org, records, state, sender and inbox are required")
	}
	if o.Notify == nil {
		o.Notify = func(tx.Address, Invitation) {}
	}
	if o.LabWindow == 0 {
		o.LabWindow = 365 * 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Recruiter{opts: o, engine: condition.NewEngine(64), jobs: make(chan string, 256)}, nil
}

// Invitations returns patient p's invitations kept at this node.
func (r *Recruiter) Invitations(p tx.Address) ([]Invitation, error) { return r.opts.Inbox.Of(p) }

// Org returns the organization whose records the recruiter evaluates.
func (r *Recruiter) Org() string { return r.opts.Org }

var _ app.Listener = (*Recruiter)(nil)

// BlockCommitted queues the trials whose criteria the block published; Run
// evaluates them. It never blocks the chain.
func (r *Recruiter) BlockCommitted(b *app.Block) {
	for _, t := range b.Txs {
		for _, e := range t.Events {
			if p, ok := trials.PublishedOf(e); ok {
				r.queue(p.Trial)
			}
		}
	}
}

// Replay queues the trial that committed event e (an EventCriteria, from
// the audit log when the node starts) if this custodian has not counted
// its current criteria revision: criteria that committed while the node
// was down are evaluated once it is up.
func (r *Recruiter) Replay(e contract.Event) {
	p, ok := trials.PublishedOf(e)
	if !ok {
		return
	}
	s := r.opts.State()
	t, err := trials.LoadTrial(s, p.Trial)
	if err != nil || t == nil || p.Revision != t.Criteria {
		return // a later revision's own event queues it
	}
	if c, err := trials.LoadCount(s, p.Trial, r.opts.Org); err != nil || c != nil && c.Revision == t.Criteria {
		return
	}
	r.queue(p.Trial)
}

func (r *Recruiter) queue(trial string) {
	select {
	case r.jobs <- trial:
	default:
		r.opts.Log.Error("recruitment queue full; evaluate with POST /v1/trials/{id}/recruit", "trial", trial)
	}
}

// Run evaluates the queued trials until ctx ends.
func (r *Recruiter) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case trial := <-r.jobs:
			if _, err := r.Recruit(ctx, trial); err != nil && !errors.Is(err, ErrNotCustodian) {
				r.opts.Log.Error("recruit", "trial", trial, "err", err)
			}
		}
	}
}

// ErrNotCustodian is Recruit's rejection at a node whose organization holds
// no records to recruit from (not a provider).
var ErrNotCustodian error = tx.Rejectf(tx.CodeInvalid, "this node's organization is not a provider: it holds no patients to recruit")

// Result is what one evaluation published.
type Result = v1.RecruitAnswer

// Recruit evaluates the trial's current criteria over the opted-in
// patients whose records this organization holds, invites the matching
// ones, and publishes their count. A rejection (*tx.Rejection) says why it
// could not: no such trial, no criteria yet.
func (r *Recruiter) Recruit(ctx context.Context, trial string) (Result, error) {
	s := r.opts.State()
	if o, err := identity.LoadOrg(s, r.opts.Org); err != nil {
		return Result{}, err
	} else if o == nil || o.Type != identity.Provider {
		return Result{}, ErrNotCustodian
	}
	t, err := trials.LoadTrial(s, trial)
	if err != nil {
		return Result{}, err
	}
	if t == nil {
		return Result{}, tx.Rejectf(tx.CodeNotFound, "trial %s is not registered", trial)
	}
	if t.Criteria == 0 {
		return Result{}, tx.Rejectf(tx.CodeNotFound, "trial %s has published no eligibility criteria", trial)
	}
	c, err := trials.LoadCriteria(s, trial, t.Criteria)
	if err != nil || c == nil {
		return Result{}, fmt.Errorf("criteria %d of trial %s: %v", t.Criteria, trial, err)
	}
	matched, err := r.match(s, c.Rule)
	if err != nil {
		return Result{}, err
	}
	// The invitations are kept before the count commits, so that a patient
	// who reads them once the count is on the chain finds theirs; they are
	// notified after it, of a recruitment the sponsor can see.
	now := r.opts.Now().UTC()
	var fresh []tx.Address
	for _, p := range matched {
		isNew, err := r.opts.Inbox.Put(p, Invitation{Trial: trial, Revision: c.Revision, Custodian: r.opts.Org, Time: now})
		if err != nil {
			return Result{}, err
		}
		if isNew {
			fresh = append(fresh, p)
		}
	}
	res, err := r.opts.Sender.Send(ctx, contract.Encode(trials.MatchCount{Trial: trial, Revision: c.Revision, Custodian: r.opts.Org, Matched: uint64(len(matched))}))
	if err != nil {
		return Result{}, fmt.Errorf("publish the count of trial %s: %w", trial, err)
	}
	for _, p := range fresh {
		r.opts.Notify(p, Invitation{Trial: trial, Revision: c.Revision, Custodian: r.opts.Org, Time: now})
	}
	return Result{Trial: trial, Custodian: r.opts.Org, Revision: c.Revision, Matched: uint64(len(matched)), Height: res.Height}, nil
}

// match returns the patients held here who opted in and whose attributes
// satisfy rule, in the vault's order.
func (r *Recruiter) match(s identity.Reader, rule string) ([]tx.Address, error) {
	patients, err := r.opts.Records.Patients()
	if err != nil {
		return nil, err
	}
	now := r.opts.Now()
	var out []tx.Address
	for _, p := range patients {
		addr, err := tx.ParseAddress(p)
		if err != nil {
			return nil, fmt.Errorf("vault pseudonym: %w", err)
		}
		if in, err := trials.OptedIn(s, addr); err != nil {
			return nil, err
		} else if !in {
			continue // never read: who did not opt in is not evaluated
		}
		recs, err := r.opts.Records.List(p, "")
		if err != nil {
			return nil, err
		}
		e := Attributes(recs, now, r.opts.LabWindow)
		ok, err := trials.Eligible(r.engine, rule, &e)
		if err != nil {
			return nil, fmt.Errorf("eligibility rule: %w", err) // it compiled on the chain: a fault
		}
		if ok {
			out = append(out, addr)
		}
	}
	return out, nil
}
