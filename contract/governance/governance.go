// Package governance is the governance contract: the validator
// organizations propose and vote, and a proposal passes when organizations
// holding more than two thirds of the validator power vote for it before its
// deadline (in blocks). Proposals admit an organization (with its type,
// admins, node keys and, optionally, a validator), suspend, reinstate or
// remove one, change an organization's validator power, or change the
// network's parameters.
//
// A passed proposal takes effect in the block of the deciding vote. Changes
// that CometBFT must apply (validator power, block size) and the app's own
// parameters are events ("governance.validator", "governance.params") that
// the application turns into FinalizeBlock's updates.
//
// governance imports contract, identity, tx and wire; the access policy
// is changed through a PolicySetter (the consent contract).
package governance

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// Message types owned by the governance contract. Numbers are append-only.
const (
	TypePropose uint64 = 48
	TypeVote    uint64 = 49
)

// Kind is what a proposal does.
type Kind string

// The proposal kinds.
const (
	AdmitOrg     Kind = "admit_org"
	SuspendOrg   Kind = "suspend_org"
	ReinstateOrg Kind = "reinstate_org"
	RemoveOrg    Kind = "remove_org" // suspended for good, with no validator power; never reinstated
	SetPower     Kind = "set_power"
	SetParams    Kind = "set_params"
)

// Params are the network parameters a proposal may change; a zero field is
// left as it is.
type Params struct {
	MaxTxBytes    uint64 `json:"max_tx_bytes,omitempty"`
	MaxBlockBytes uint64 `json:"max_block_bytes,omitempty"`
	CELCostLimit  uint64 `json:"cel_cost_limit,omitempty"`
	DefaultPolicy string `json:"default_policy,omitempty"`
}

// Propose opens a proposal. Org carries the organization (all of it for
// admit_org; its ID, and Power for set_power, otherwise). Deadline is the
// number of blocks votes are taken for. The signer must be an admin of a
// validator organization, whose vote the proposal counts as yes.
type Propose struct {
	Kind     Kind                `json:"kind"`
	Org      identity.GenesisOrg `json:"org"`
	Params   Params              `json:"params"`
	Deadline uint64              `json:"deadline"`
}

// Vote casts the signer's organization's vote. The signer must be an admin
// of a validator organization; an organization votes once.
type Vote struct {
	Proposal uint64 `json:"proposal"`
	Yes      bool   `json:"yes"`
}

// MaxDeadline bounds a proposal's voting period, in blocks.
const MaxDeadline = 1_000_000

func (Propose) Type() uint64 { return TypePropose }
func (Vote) Type() uint64    { return TypeVote }

func writeKeys(w *wire.Writer, ks []tx.PubKey) {
	w.Uint(uint64(len(ks)))
	for _, k := range ks {
		w.Raw(k)
	}
}

func readKeys(r *wire.Reader) []tx.PubKey {
	ks := make([]tx.PubKey, r.Count(16))
	for i := range ks {
		ks[i] = tx.PubKey(append([]byte(nil), r.Raw(tx.PubKeySize)...))
	}
	if len(ks) == 0 {
		return nil
	}
	return ks
}

func (m Propose) EncodeTo(w *wire.Writer) {
	w.String(string(m.Kind))
	o := m.Org
	w.String(o.ID)
	w.String(o.Name)
	w.String(string(o.Type))
	w.Blob(o.ValidatorKey)
	w.Uint(uint64(o.Power))
	writeKeys(w, o.Admins)
	writeKeys(w, o.Nodes)
	w.Uint(m.Params.MaxTxBytes)
	w.Uint(m.Params.MaxBlockBytes)
	w.Uint(m.Params.CELCostLimit)
	w.String(m.Params.DefaultPolicy)
	w.Uint(m.Deadline)
}

func readPropose(r *wire.Reader) Propose {
	m := Propose{Kind: Kind(r.String(32))}
	m.Org = identity.GenesisOrg{ID: r.String(64), Name: r.String(100), Type: identity.OrgType(r.String(16))}
	if k := r.Blob(tx.PubKeySize); len(k) > 0 {
		m.Org.ValidatorKey = append(tx.PubKey(nil), k...)
	}
	m.Org.Power = int64(r.Uint())
	m.Org.Admins, m.Org.Nodes = readKeys(r), readKeys(r)
	m.Params = Params{MaxTxBytes: r.Uint(), MaxBlockBytes: r.Uint(), CELCostLimit: r.Uint(), DefaultPolicy: r.String(4096)}
	m.Deadline = r.Uint()
	return m
}

func (m Vote) EncodeTo(w *wire.Writer) {
	w.Uint(m.Proposal)
	w.Bool(m.Yes)
}

func readVote(r *wire.Reader) Vote { return Vote{Proposal: r.Uint(), Yes: r.Bool()} }

// validate checks what needs no state.
func (p Propose) validate() error {
	if p.Deadline == 0 || p.Deadline > MaxDeadline {
		return tx.Rejectf(tx.CodeInvalid, "deadline must be 1 to %d blocks", MaxDeadline)
	}
	switch p.Kind {
	case AdmitOrg:
		if err := (&identity.Genesis{Organizations: []identity.GenesisOrg{p.Org}}).Validate(); err != nil {
			return tx.Rejectf(tx.CodeInvalid, "%v", err)
		}
	case SuspendOrg, ReinstateOrg, RemoveOrg, SetPower:
		if err := identity.ValidateOrgID(p.Org.ID); err != nil {
			return err
		}
		if p.Kind == SetPower && p.Org.Power < 0 {
			return tx.Rejectf(tx.CodeInvalid, "power must not be negative")
		}
	case SetParams:
		if p.Params == (Params{}) {
			return tx.Rejectf(tx.CodeInvalid, "set_params changes nothing")
		}
		if p.Params.MaxTxBytes != 0 && (p.Params.MaxTxBytes < 1024 || p.Params.MaxTxBytes > tx.MaxTxBytesCeiling) {
			return tx.Rejectf(tx.CodeInvalid, "max_tx_bytes must be 1024 to %d", tx.MaxTxBytesCeiling)
		}
		if p.Params.MaxBlockBytes != 0 && (p.Params.MaxBlockBytes < 1<<16 || p.Params.MaxBlockBytes > 100<<20) {
			return tx.Rejectf(tx.CodeInvalid, "max_block_bytes must be 65536 to 104857600")
		}
	default:
		return tx.Rejectf(tx.CodeInvalid, "unknown proposal kind %q", p.Kind)
	}
	return nil
}

// Status is where a proposal stands.
type Status string

// The proposal statuses.
const (
	Open     Status = "open"
	Passed   Status = "passed"
	Rejected Status = "rejected" // a third of the power or more voted no
	Expired  Status = "expired"  // the deadline passed first
	Failed   Status = "failed"   // passed, but could no longer be carried out; nothing changed
)

// Proposal is a proposal as the state keeps it.
type Proposal struct {
	ID       uint64     `json:"id"`
	Propose  Propose    `json:"proposal"`
	Proposer tx.Address `json:"proposer"`
	Height   int64      `json:"height"`
	Ends     int64      `json:"ends"` // the last height votes count at
	Status   Status     `json:"status"`
	Yes      []string   `json:"yes"` // the organizations that voted yes
	No       []string   `json:"no"`
}

func proposalKey(id uint64) []byte { return binary.BigEndian.AppendUint64([]byte("y/"), id) }

func (p *Proposal) encode() []byte {
	w := wire.NewWriter(256)
	w.Uint(p.ID)
	p.Propose.EncodeTo(w)
	w.Raw(p.Proposer[:])
	w.Uint(uint64(p.Height))
	w.Uint(uint64(p.Ends))
	w.String(string(p.Status))
	w.Strings(p.Yes)
	w.Strings(p.No)
	return w.Bytes()
}

// StatusAt returns where the proposal stands for a vote at height: an open
// proposal past its deadline is expired, a status no vote stores.
func (p *Proposal) StatusAt(height int64) Status {
	if p.Status == Open && height > p.Ends {
		return Expired
	}
	return p.Status
}

// LoadProposal returns proposal id, or nil.
func LoadProposal(s identity.Reader, id uint64) (*Proposal, error) {
	b, err := s.Get(proposalKey(id))
	if err != nil || b == nil {
		return nil, err
	}
	r := wire.NewReader(b)
	p := &Proposal{ID: r.Uint(), Propose: readPropose(r)}
	copy(p.Proposer[:], r.Raw(tx.AddressSize))
	p.Height, p.Ends = int64(r.Uint()), int64(r.Uint())
	p.Status = Status(r.String(16))
	p.Yes, p.No = r.Strings(1024, 64), r.Strings(1024, 64)
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode proposal %d: %w", id, err)
	}
	return p, nil
}

// PolicySetter changes the network's access policy and CEL cost limit, or
// says whether it would; the consent contract is one.
type PolicySetter interface {
	SetPolicy(ctx *contract.Context, defaultPolicy string, costLimit uint64) error
	CheckPolicy(ctx *contract.Context, defaultPolicy string, costLimit uint64) error
}

// Contract executes governance messages.
type Contract struct {
	Policy PolicySetter
}

// Describe returns the governance contract's description.
func (c *Contract) Describe() contract.Contract {
	return contract.Contract{
		Name: "governance",
		Msgs: []contract.MsgSpec{
			contract.Message("governance/propose", readPropose, Propose.validate, c.propose),
			contract.Message("governance/vote", readVote, nil, c.vote),
		},
		Events: []contract.EventSpec{
			{Type: EventProposed}, {Type: EventVoted},
			{Type: "governance." + string(Passed)}, {Type: "governance." + string(Rejected)},
			{Type: "governance." + string(Expired)}, {Type: "governance." + string(Failed)},
			{Type: EventOrgAdmitted}, {Type: EventOrgSuspended}, {Type: EventOrgReinstated}, {Type: EventOrgRemoved},
			{Type: EventValidator}, {Type: EventParams},
		},
	}
}

// voter returns the signer's organization if the signer may vote for it:
// an admin of an active validator organization.
func voter(ctx *contract.Context) (*identity.Account, error) {
	a, err := identity.RequireOwnRole(ctx, identity.Admin)
	if err != nil {
		return nil, err
	}
	vs, err := identity.Validators(ctx.Store)
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		if v.Org == a.Org {
			return a, nil
		}
	}
	return nil, tx.Rejectf(tx.CodeUnauthorized, "organization %s holds no validator power", a.Org)
}

func (c *Contract) propose(ctx *contract.Context, m Propose) error {
	a, err := voter(ctx)
	if err != nil {
		return err
	}
	if err := c.feasible(ctx, m); err != nil {
		return err
	}
	id, err := nextID(ctx.Store)
	if err != nil {
		return err
	}
	p := &Proposal{ID: id, Propose: m, Proposer: a.Address, Height: ctx.Height, Ends: ctx.Height + int64(m.Deadline), Status: Open}
	ctx.Emit(contract.Event{
		Type:     EventProposed,
		Attrs:    []contract.Attr{{Key: "proposal", Value: strconv.FormatUint(id, 10)}, {Key: "kind", Value: string(m.Kind)}, {Key: "org", Value: a.Org}, {Key: "by", Value: a.Address.String()}},
		Accounts: []tx.Address{a.Address},
	})
	return c.cast(ctx, p, a, true)
}

func (c *Contract) vote(ctx *contract.Context, m Vote) error {
	a, err := voter(ctx)
	if err != nil {
		return err
	}
	p, err := LoadProposal(ctx.Store, m.Proposal)
	if err != nil {
		return err
	}
	if p == nil {
		return tx.Rejectf(tx.CodeNotFound, "proposal %d does not exist", m.Proposal)
	}
	if p.Status = p.StatusAt(ctx.Height); p.Status != Open {
		return tx.Rejectf(tx.CodeInvalid, "proposal %d is %s", p.ID, p.Status)
	}
	for _, org := range slices.Concat(p.Yes, p.No) {
		if org == a.Org {
			return tx.Rejectf(tx.CodeAlreadyExists, "%s has voted on proposal %d", a.Org, p.ID)
		}
	}
	return c.cast(ctx, p, a, m.Yes)
}

// cast records a's organization's vote on p, tallies, and carries p out if
// it passed.
func (c *Contract) cast(ctx *contract.Context, p *Proposal, a *identity.Account, yes bool) error {
	if yes {
		p.Yes = append(p.Yes, a.Org)
	} else {
		p.No = append(p.No, a.Org)
	}
	ctx.Emit(contract.Event{
		Type: EventVoted,
		Attrs: []contract.Attr{{Key: "proposal", Value: strconv.FormatUint(p.ID, 10)}, {Key: "org", Value: a.Org},
			{Key: "yes", Value: strconv.FormatBool(yes)}, {Key: "by", Value: a.Address.String()}},
		Accounts: []tx.Address{a.Address},
	})
	vs, err := identity.Validators(ctx.Store)
	if err != nil {
		return err
	}
	var total, yesPower, noPower int64
	for _, v := range vs {
		o, err := identity.LoadOrg(ctx.Store, v.Org)
		if err != nil {
			return err
		}
		if o == nil || o.Suspended {
			continue
		}
		total += v.Power
		for _, org := range p.Yes {
			if org == v.Org {
				yesPower += v.Power
			}
		}
		for _, org := range p.No {
			if org == v.Org {
				noPower += v.Power
			}
		}
	}
	switch {
	case 3*yesPower > 2*total:
		p.Status = Passed
	case 3*noPower >= total:
		p.Status = Rejected
	}
	// A passed proposal is carried out on a branch: one that can no longer
	// be (what was feasible when proposed may not be now) ends failed, with
	// the reason, changing nothing, rather than refusing its deciding vote.
	var carried *contract.Branch
	var failure *tx.Rejection
	if p.Status == Passed {
		carried = ctx.Branch()
		err := c.feasible(carried.Context, p.Propose)
		if err == nil {
			err = c.execute(carried.Context, p.Propose)
		}
		if errors.As(err, &failure) {
			p.Status, carried = Failed, nil
		} else if err != nil {
			return err
		}
	}
	if err := ctx.Store.Set(proposalKey(p.ID), p.encode()); err != nil {
		return err
	}
	if p.Status != Open {
		attrs := []contract.Attr{
			{Key: "proposal", Value: strconv.FormatUint(p.ID, 10)}, {Key: "kind", Value: string(p.Propose.Kind)},
			{Key: "yes_power", Value: strconv.FormatInt(yesPower, 10)}, {Key: "total_power", Value: strconv.FormatInt(total, 10)},
		}
		if failure != nil {
			attrs = append(attrs, contract.Attr{Key: "reason", Value: failure.Msg})
		}
		ctx.Emit(contract.Event{Type: "governance." + string(p.Status), Attrs: attrs})
	}
	if carried != nil {
		return carried.Commit()
	}
	return nil
}

func nextID(s contract.Store) (uint64, error) {
	k := []byte("y/next")
	b, err := s.Get(k)
	if err != nil {
		return 0, err
	}
	var n uint64
	if b != nil {
		n = binary.BigEndian.Uint64(b)
	}
	n++
	return n, s.Set(k, binary.BigEndian.AppendUint64(nil, n))
}

// execute carries out a passed proposal.
func (c *Contract) execute(ctx *contract.Context, m Propose) error {
	o := m.Org
	switch m.Kind {
	case AdmitOrg:
		if err := identity.AdmitOrg(ctx, o); err != nil {
			return err
		}
		emitOrg(ctx, EventOrgAdmitted, o.ID)
		if o.Power > 0 {
			emitValidator(ctx, o.ID, o.ValidatorKey, o.Power)
		}
	case SuspendOrg, ReinstateOrg, RemoveOrg, SetPower:
		return changeOrg(ctx, m)
	case SetParams:
		return c.setParams(ctx, m.Params)
	}
	return nil
}

// feasible refuses a proposal that could not be carried out as things
// stand: admitting an organization whose ID or validator key is taken,
// changing one that is missing or removed, giving power to one with no
// validator key, or an access policy that does not compile. It is checked
// when proposed and again, before it is carried out, when passed.
func (c *Contract) feasible(ctx *contract.Context, m Propose) error {
	switch m.Kind {
	case SetParams:
		if m.Params.DefaultPolicy == "" && m.Params.CELCostLimit == 0 {
			return nil
		}
		return c.Policy.CheckPolicy(ctx, m.Params.DefaultPolicy, m.Params.CELCostLimit)
	case AdmitOrg:
		if o, err := identity.LoadOrg(ctx.Store, m.Org.ID); err != nil {
			return err
		} else if o != nil {
			return tx.Rejectf(tx.CodeAlreadyExists, "organization %s exists", m.Org.ID)
		}
		if len(m.Org.ValidatorKey) == 0 {
			return nil
		}
		return identity.FreeValidatorKey(ctx.Store, m.Org.ValidatorKey)
	case SuspendOrg, ReinstateOrg, RemoveOrg, SetPower:
	default:
		return nil
	}
	o, err := identity.LoadChangeableOrg(ctx.Store, m.Org.ID)
	if err != nil {
		return err
	}
	if m.Kind == SetPower && m.Org.Power > 0 && len(o.ValidatorKey) == 0 {
		return tx.Rejectf(tx.CodeInvalid, "organization %s has no validator key", o.ID)
	}
	return nil
}

// changeOrg suspends, reinstates or removes an organization or changes its
// power, and announces what changes in the validator set: the power that
// the organization's validator holds before and after.
func changeOrg(ctx *contract.Context, m Propose) error {
	before, err := identity.LoadChangeableOrg(ctx.Store, m.Org.ID)
	if err != nil {
		return err
	}
	var after *identity.Organization
	switch m.Kind {
	case SuspendOrg, ReinstateOrg:
		after, err = identity.SetOrgStatus(ctx, m.Org.ID, m.Kind == SuspendOrg)
	case RemoveOrg:
		after, err = identity.RemoveOrg(ctx, m.Org.ID)
	case SetPower:
		after, err = identity.SetPower(ctx, m.Org.ID, m.Org.Power)
	}
	if err != nil {
		return err
	}
	switch m.Kind {
	case SuspendOrg:
		emitOrg(ctx, EventOrgSuspended, m.Org.ID)
	case ReinstateOrg:
		emitOrg(ctx, EventOrgReinstated, m.Org.ID)
	case RemoveOrg:
		emitOrg(ctx, EventOrgRemoved, m.Org.ID)
	}
	if p := after.ValidatorPower(); p != before.ValidatorPower() {
		emitValidator(ctx, m.Org.ID, after.ValidatorKey, p)
	}
	return nil
}

func emitOrg(ctx *contract.Context, typ, id string) {
	ctx.Emit(contract.Event{Type: typ, Attrs: []contract.Attr{{Key: "org", Value: id}}})
}

// emitValidator announces a validator change, which the application passes
// to CometBFT.
func emitValidator(ctx *contract.Context, org string, key tx.PubKey, power int64) {
	ctx.Emit(contract.Event{Type: EventValidator, Attrs: []contract.Attr{
		{Key: "org", Value: org}, {Key: "pub_key", Value: key.String()}, {Key: "power", Value: strconv.FormatInt(power, 10)},
	}})
}

func (c *Contract) setParams(ctx *contract.Context, p Params) error {
	if p.CELCostLimit != 0 || p.DefaultPolicy != "" {
		if err := c.Policy.SetPolicy(ctx, p.DefaultPolicy, p.CELCostLimit); err != nil {
			return err
		}
	}
	var attrs []contract.Attr
	for _, kv := range []struct {
		k string
		v uint64
	}{{"max_tx_bytes", p.MaxTxBytes}, {"max_block_bytes", p.MaxBlockBytes}, {"cel_cost_limit", p.CELCostLimit}} {
		if kv.v != 0 {
			attrs = append(attrs, contract.Attr{Key: kv.k, Value: strconv.FormatUint(kv.v, 10)})
		}
	}
	ctx.Emit(contract.Event{Type: EventParams, Attrs: attrs})
	return nil
}
