// Package consent is the consent contract: patients' grants and their
// revocation, access requests and their answers, and the decision on every
// read of a health record, including break-the-glass.
//
// Every read at a custodian is decided here, against the state and the
// block time, and the decision (permit or deny, the grant or policy it rests
// on, the purpose, the requester, the records or the search scope) is
// committed before the custodian's node releases anything. Conditions and
// the network's default policy are CEL expressions (package condition).
//
// A research read (ResearchPurposes) is also held to the trials contract:
// only enrolled participants who consented to the version in force.
//
// consent imports contract, condition, identity, records, trials, tx and
// wire.
package consent

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/condition"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

// MaxGrantsPerPatient bounds the grants in force for one patient, so that a
// decision reads a bounded number of them.
const MaxGrantsPerPatient = 64

// Contract executes consent messages.
type Contract struct {
	Decider
}

// New returns the contract, evaluating conditions with engine.
func New(engine *condition.Engine) *Contract { return &Contract{Decider{Engine: engine}} }

// initGenesis stores the network's policy, the "consent" section of the
// app_state document.
func (c *Contract) initGenesis(ctx *contract.Context, appState json.RawMessage) error {
	var g struct {
		Consent Policy `json:"consent"`
	}
	if err := json.Unmarshal(appState, &g); err != nil {
		return fmt.Errorf("consent genesis: %w", err)
	}
	return c.InitGenesis(ctx, g.Consent)
}

// InitGenesis stores the network's policy after checking it.
func (c *Contract) InitGenesis(ctx *contract.Context, p Policy) error {
	p.EnsureDefaults()
	if err := c.Engine.Check(accessEnv, p.Default, p.CostLimit); err != nil {
		return fmt.Errorf("default access policy: %w", err)
	}
	return ctx.Store.Set(policyKey, p.encode())
}

// Describe returns the consent contract's description.
func (c *Contract) Describe() contract.Contract {
	return contract.Contract{
		Name: "consent",
		Msgs: []contract.MsgSpec{
			contract.Message("consent/grant", readGrant, c.validateGrant, func(ctx *contract.Context, m Grant) error { return c.grant(ctx, m, 0) }),
			contract.Message("consent/revoke", readRevoke, nil, revoke),
			contract.Message("consent/request", readRequest, Request.validate, request),
			contract.Message("consent/answer", readAnswer, nil, c.answer),
			contract.Message("consent/access", readAccess, Access.validate, c.access),
			contract.Message("consent/review", readReview, nil, review),
			contract.Message("consent/set_team", readSetTeam, SetTeam.validate, setTeam),
		},
		Events: []contract.EventSpec{
			{Type: EventGranted, Action: "C"}, {Type: EventRevoked, Action: "U"},
			{Type: EventRequested, Action: "C"}, {Type: EventAnswered, Action: "U"},
			{Type: EventAccess, Action: "R"}, {Type: EventDecision},
			{Type: EventBreakGlass, ByType: true, Action: "R"}, // the privacy officers' review queue
			{Type: EventBreakGlassReviewed},
			{Type: EventTeam, Action: "U"},
		},
		Genesis: c.initGenesis,
	}
}

// validateGrant checks what needs no state. A condition must compile here;
// its cost is checked against the limit in state when the message executes.
func (c *Contract) validateGrant(m Grant) error { return c.checkGrant(m, math.MaxUint64) }

func (m Request) validate() error {
	if err := m.Scope.validate(); err != nil {
		return err
	}
	if err := validatePurpose(m.Purpose); err != nil {
		return err
	}
	if m.Duration == 0 || m.Duration > 10*365*24*3600 {
		return tx.Rejectf(tx.CodeInvalid, "duration must be 1 second to 10 years")
	}
	if !slices.Contains(Reasons, m.Reason) {
		return tx.Rejectf(tx.CodeInvalid, "unknown reason %q (want one of %v)", m.Reason, Reasons)
	}
	return nil
}

func (m Access) validate() error {
	if err := validatePurpose(m.Purpose); err != nil {
		return err
	}
	if err := validateGlassReason(m.BreakGlass, m.GlassReason); err != nil {
		return err
	}
	if len(m.Items) == 0 {
		return tx.Rejectf(tx.CodeInvalid, "an access names at least one item")
	}
	for _, it := range m.Items {
		if err := validateType(it.Type, false); err != nil {
			return err
		}
		if strings.Contains(it.ID, "/") {
			return tx.Rejectf(tx.CodeInvalid, "record id may not contain '/'")
		}
	}
	return nil
}

func (c *Contract) checkGrant(m Grant, costLimit uint64) error {
	if err := m.Grantee.validate(); err != nil {
		return err
	}
	if err := m.Scope.validate(); err != nil {
		return err
	}
	if len(m.Purposes) == 0 {
		return tx.Rejectf(tx.CodeInvalid, "a grant names at least one purpose of use")
	}
	for _, p := range m.Purposes {
		if err := validatePurpose(p); err != nil {
			return err
		}
	}
	if m.NotBefore < 0 || m.NotAfter < 0 || m.NotAfter != 0 && m.NotAfter <= m.NotBefore {
		return tx.Rejectf(tx.CodeInvalid, "validity window must end after it starts")
	}
	if m.Condition != "" {
		if err := c.Engine.Check(accessEnv, m.Condition, costLimit); err != nil {
			return tx.Rejectf(tx.CodeInvalid, "condition: %v", err)
		}
	}
	return nil
}

func attr(k, v string) contract.Attr           { return contract.Attr{Key: k, Value: v} }
func idAttr(k string, id uint64) contract.Attr { return attr(k, strconv.FormatUint(id, 10)) }

func (c *Contract) grant(ctx *contract.Context, m Grant, fromRequest uint64) error {
	policy, err := LoadPolicy(ctx.Store)
	if err != nil {
		return err
	}
	if err := c.checkGrant(m, policy.CostLimit); err != nil {
		return err
	}
	if _, err := identity.RequirePatient(ctx.Store, m.Patient); err != nil {
		return err
	}
	if err := identity.RequireActsFor(ctx, m.Patient); err != nil {
		return err
	}
	if err := requireGrantee(ctx.Store, m.Grantee, m.Patient); err != nil {
		return err
	}
	now := ctx.Time.Unix()
	list, err := PatientGrants(ctx.Store, m.Patient)
	if err != nil {
		return err
	}
	live := slices.DeleteFunc(list, func(g *StoredGrant) bool { // never in force again
		return g.Revoked != 0 || g.NotAfter != 0 && now >= g.NotAfter
	})
	if len(live) >= MaxGrantsPerPatient {
		return tx.Rejectf(tx.CodeInvalid, "patient %s has %d grants in force; revoke one first", m.Patient, len(live))
	}
	id, err := nextID(ctx.Store, "grant")
	if err != nil {
		return err
	}
	g := &StoredGrant{ID: id, Grant: m, By: ctx.Signer, Height: ctx.Height, Request: fromRequest}
	if err := saveGrant(ctx.Store, g, live); err != nil {
		return err
	}
	ev := contract.Event{
		Type:     EventGranted,
		Attrs:    []contract.Attr{idAttr("grant", id), attr("patient", m.Patient.String()), attr("by", ctx.Signer.String())},
		Accounts: []tx.Address{m.Patient, ctx.Signer},
	}
	ev.Attrs = append(ev.Attrs, granteeAttrs(m.Grantee)...)
	for _, p := range m.Purposes {
		ev.Attrs = append(ev.Attrs, attr("purpose", p))
	}
	if m.NotAfter != 0 {
		ev.Attrs = append(ev.Attrs, attr("not_after", strconv.FormatInt(m.NotAfter, 10)))
	}
	if m.Grantee.Member != (tx.Address{}) {
		ev.Accounts = append(ev.Accounts, m.Grantee.Member)
	}
	ctx.Emit(ev)
	return nil
}

func granteeAttrs(g Grantee) []contract.Attr {
	switch {
	case g.Member != (tx.Address{}):
		return []contract.Attr{attr("grantee_member", g.Member.String())}
	case g.Team != 0:
		return []contract.Attr{idAttr("grantee_team", g.Team)}
	}
	as := []contract.Attr{attr("grantee_org", g.Org)}
	if g.Role != "" {
		as = append(as, attr("grantee_role", string(g.Role)))
	}
	return as
}

func requireGrantee(s Reader, g Grantee, patient tx.Address) error {
	if g.Team != 0 {
		t, err := LoadTeam(s, g.Team)
		if err != nil {
			return err
		}
		if t == nil || t.Patient != patient {
			return tx.Rejectf(tx.CodeNotFound, "patient %s has no care team %d", patient, g.Team)
		}
		return nil
	}
	if g.Member != (tx.Address{}) {
		a, err := identity.LoadAccount(s, g.Member)
		if err != nil {
			return err
		}
		if a == nil || a.Kind != identity.Member {
			return tx.Rejectf(tx.CodeNotFound, "member %s does not exist", g.Member)
		}
		return nil
	}
	o, err := identity.LoadOrg(s, g.Org)
	if err != nil {
		return err
	}
	if o == nil {
		return tx.Rejectf(tx.CodeNotFound, "organization %s does not exist", g.Org)
	}
	return nil
}

func revoke(ctx *contract.Context, m Revoke) error {
	g, err := LoadGrant(ctx.Store, m.Grant)
	if err != nil {
		return err
	}
	if g == nil {
		return tx.Rejectf(tx.CodeNotFound, "grant %d does not exist", m.Grant)
	}
	if err := identity.RequireActsFor(ctx, g.Patient); err != nil {
		return err
	}
	if g.Revoked != 0 {
		return tx.Rejectf(tx.CodeAlreadyExists, "grant %d was revoked at height %d", g.ID, g.Revoked)
	}
	g.Revoked = ctx.Height
	list, err := PatientGrants(ctx.Store, g.Patient)
	if err != nil {
		return err
	}
	if err := saveGrant(ctx.Store, g, list); err != nil {
		return err
	}
	ev := contract.Event{
		Type:     EventRevoked,
		Attrs:    []contract.Attr{idAttr("grant", g.ID), attr("patient", g.Patient.String()), attr("by", ctx.Signer.String())},
		Accounts: []tx.Address{g.Patient, ctx.Signer},
	}
	if g.Grantee.Member != (tx.Address{}) {
		ev.Accounts = append(ev.Accounts, g.Grantee.Member)
	}
	ctx.Emit(ev)
	return nil
}

func request(ctx *contract.Context, m Request) error {
	a, _, err := identity.ActiveMember(ctx.Store, ctx.Signer)
	if err != nil {
		return err
	}
	if _, err := identity.RequirePatient(ctx.Store, m.Patient); err != nil {
		return err
	}
	id, err := nextID(ctx.Store, "request")
	if err != nil {
		return err
	}
	q := &StoredRequest{ID: id, Request: m, Requester: a.Address, Org: a.Org, Height: ctx.Height, Status: Pending}
	if err := ctx.Store.Set(requestKey(id), q.encode()); err != nil {
		return err
	}
	ctx.Emit(contract.Event{
		Type: EventRequested,
		Attrs: []contract.Attr{
			idAttr("request", id), attr("patient", m.Patient.String()), attr("requester", a.Address.String()),
			attr("org", a.Org), attr("purpose", m.Purpose), attr("reason", m.Reason),
			attr("duration", strconv.FormatUint(m.Duration, 10)),
		},
		Accounts: []tx.Address{m.Patient, a.Address},
	})
	return nil
}

func (c *Contract) answer(ctx *contract.Context, m Answer) error {
	q, err := LoadRequest(ctx.Store, m.Request)
	if err != nil {
		return err
	}
	if q == nil {
		return tx.Rejectf(tx.CodeNotFound, "request %d does not exist", m.Request)
	}
	if err := identity.RequireActsFor(ctx, q.Patient); err != nil {
		return err
	}
	if q.Status != Pending {
		return tx.Rejectf(tx.CodeAlreadyExists, "request %d is already %s", q.ID, q.Status)
	}
	q.Status = Denied
	if m.Approve {
		q.Status = Approved
		start := ctx.Time.Unix()
		g := Grant{
			Patient: q.Patient, Grantee: Grantee{Member: q.Requester}, Scope: q.Scope,
			Purposes: []string{q.Purpose}, NotBefore: start, NotAfter: start + int64(q.Duration),
		}
		if err := c.grant(ctx, g, q.ID); err != nil {
			return err
		}
		q.Grant, _ = grantOf(ctx.Events())
	}
	if err := ctx.Store.Set(requestKey(q.ID), q.encode()); err != nil {
		return err
	}
	ctx.Emit(contract.Event{
		Type: EventAnswered,
		Attrs: []contract.Attr{
			idAttr("request", q.ID), attr("patient", q.Patient.String()), attr("requester", q.Requester.String()),
			attr("status", string(q.Status)), idAttr("grant", q.Grant),
		},
		Accounts: []tx.Address{q.Patient, q.Requester, ctx.Signer},
	})
	return nil
}

// grantOf returns the grant ID of the last consent.granted event.
func grantOf(evs []contract.Event) (uint64, bool) {
	for i := len(evs) - 1; i >= 0; i-- {
		if id, ok := GrantedOf(evs[i]); ok {
			return id, true
		}
	}
	return 0, false
}

func (c *Contract) access(ctx *contract.Context, m Access) error {
	svc, err := identity.RequireOwnRole(ctx, identity.Service)
	if err != nil {
		return err
	}
	custodian := svc.Org
	req, err := loadRequester(ctx.Store, m.Requester)
	if err != nil {
		return err
	}
	decisions, err := c.Decide(ctx.Store, custodian, req, m, ctx.Time)
	if err != nil {
		return err
	}
	glass := m.BreakGlass && m.Purpose == "ETREAT" && req.Account.HasRole(identity.Physician)
	brokeGlass := false
	for i := range decisions {
		if d := &decisions[i]; !d.Permit && d.Basis == NoPermission && glass {
			d.Permit, d.Basis, brokeGlass = true, ByBreakGlass, true
		}
	}
	id, err := nextID(ctx.Store, "access")
	if err != nil {
		return err
	}
	accounts := []tx.Address{m.Patient, m.Requester}
	attrs := []contract.Attr{
		idAttr("access", id), attr("custodian", custodian), attr("requester", m.Requester.String()),
		attr("patient", m.Patient.String()), attr("purpose", m.Purpose),
		attr("outcome", outcome(decisions)), attr("break_glass", strconv.FormatBool(brokeGlass)),
	}
	if brokeGlass {
		attrs = append(attrs, attr("glass_reason", m.GlassReason))
	}
	ctx.Emit(contract.Event{Type: EventAccess, Attrs: attrs, Accounts: accounts})
	for _, d := range decisions {
		ctx.Emit(decisionEvent(id, d, accounts))
	}
	if brokeGlass {
		v := &PendingReview{Access: id, Patient: m.Patient, Requester: m.Requester, Purpose: m.Purpose, Reason: m.GlassReason, Height: ctx.Height}
		if err := ctx.Store.Set(reviewKey(custodian, id), v.encode()); err != nil {
			return err
		}
		ctx.Emit(contract.Event{
			Type: EventBreakGlass,
			Attrs: []contract.Attr{idAttr("access", id), attr("custodian", custodian), attr("requester", m.Requester.String()),
				attr("patient", m.Patient.String()), attr("glass_reason", m.GlassReason)},
			Accounts: accounts,
		})
	}
	return nil
}

func loadRequester(s Reader, addr tx.Address) (Requester, error) {
	a, err := identity.LoadAccount(s, addr)
	if err != nil {
		return Requester{}, err
	}
	if a == nil {
		return Requester{}, tx.Rejectf(tx.CodeNotFound, "requester %s is not registered", addr)
	}
	if a.Kind == identity.Patient {
		if a.Suspended {
			return Requester{}, tx.Rejectf(tx.CodeSuspended, "requester %s is suspended", addr)
		}
		return Requester{Account: a}, nil
	}
	a, o, err := identity.ActiveMember(s, addr)
	if err != nil {
		return Requester{}, err
	}
	return Requester{Account: a, OrgType: o.Type}, nil
}

func outcome(ds []Decision) string {
	permits := 0
	for _, d := range ds {
		if d.Permit {
			permits++
		}
	}
	switch permits {
	case 0:
		return "deny"
	case len(ds):
		return "permit"
	}
	return "partial"
}

func decisionEvent(access uint64, d Decision, accounts []tx.Address) contract.Event {
	verdict := "deny"
	if d.Permit {
		verdict = "permit"
	}
	as := []contract.Attr{idAttr("access", access), attr("item", d.Item.Ref()), attr("decision", verdict), attr("basis", string(d.Basis))}
	for _, g := range d.Grants {
		as = append(as, idAttr("grant", g))
	}
	for _, c := range d.Categories {
		as = append(as, attr("category", c))
	}
	for _, r := range d.Records {
		as = append(as, attr("record", r))
	}
	return contract.Event{Type: EventDecision, Attrs: as, Accounts: accounts}
}

// ParseDecisions reads the decisions of an access from its transaction's
// events, in the order of its items.
func ParseDecisions(evs []contract.Event) (access uint64, ds []Decision, err error) {
	for _, e := range evs {
		if e.Type != EventDecision {
			continue
		}
		id, d, ok := DecisionOf(e)
		if !ok {
			return 0, nil, errors.New("decision event does not parse")
		}
		access, ds = id, append(ds, d)
	}
	if ds == nil {
		return 0, nil, errors.New("no access decision in the events")
	}
	return access, ds, nil
}

func review(ctx *contract.Context, m Review) error {
	a, err := identity.RequireOwnRole(ctx, identity.PrivacyOfficer)
	if err != nil {
		return err
	}
	k := reviewKey(a.Org, m.Access)
	b, err := ctx.Store.Get(k)
	if err != nil {
		return err
	}
	if b == nil {
		return tx.Rejectf(tx.CodeNotFound, "no pending review of access %d at %s", m.Access, a.Org)
	}
	v, err := DecodeReview(b)
	if err != nil {
		return err
	}
	if err := ctx.Store.Delete(k); err != nil {
		return err
	}
	ctx.Emit(contract.Event{
		Type: EventBreakGlassReviewed,
		Attrs: []contract.Attr{
			idAttr("access", m.Access), attr("custodian", a.Org), attr("requester", v.Requester.String()),
			attr("patient", v.Patient.String()), attr("justified", strconv.FormatBool(m.Justified)), attr("by", a.Address.String()),
		},
		Accounts: []tx.Address{v.Patient, v.Requester, a.Address},
	})
	return nil
}

// SetPolicy changes the network's default access policy and the CEL cost
// limit (an empty policy or a zero limit keeps the current one), after
// checking that the policy compiles within the limit. Governance calls it.
func (c *Contract) SetPolicy(ctx *contract.Context, defaultPolicy string, costLimit uint64) error {
	p, err := c.policyAfter(ctx, defaultPolicy, costLimit)
	if err != nil {
		return err
	}
	return ctx.Store.Set(policyKey, p.encode())
}

// CheckPolicy returns the error SetPolicy would, changing nothing.
func (c *Contract) CheckPolicy(ctx *contract.Context, defaultPolicy string, costLimit uint64) error {
	_, err := c.policyAfter(ctx, defaultPolicy, costLimit)
	return err
}

// policyAfter returns the policy as SetPolicy would leave it.
func (c *Contract) policyAfter(ctx *contract.Context, defaultPolicy string, costLimit uint64) (Policy, error) {
	p, err := LoadPolicy(ctx.Store)
	if err != nil {
		return p, err
	}
	if defaultPolicy != "" {
		p.Default = defaultPolicy
	}
	if costLimit != 0 {
		p.CostLimit = costLimit
	}
	if err := c.Engine.Check(accessEnv, p.Default, p.CostLimit); err != nil {
		return p, tx.Rejectf(tx.CodeInvalid, "default access policy: %v", err)
	}
	return p, nil
}

// setTeam forms or changes a care team. Everyone on it before or after
// hears of the change on their event stream, so a member removed learns
// that their access ended.
func setTeam(ctx *contract.Context, m SetTeam) error {
	if _, err := identity.RequirePatient(ctx.Store, m.Patient); err != nil {
		return err
	}
	if err := identity.RequireActsFor(ctx, m.Patient); err != nil {
		return err
	}
	for _, a := range m.Members {
		acct, err := identity.LoadAccount(ctx.Store, a)
		if err != nil {
			return err
		}
		if acct == nil {
			return tx.Rejectf(tx.CodeNotFound, "account %s does not exist", a)
		}
		if acct.Kind == identity.Device {
			return tx.Rejectf(tx.CodeInvalid, "account %s is a device, which reads nothing", a)
		}
	}
	for _, o := range m.Orgs {
		if org, err := identity.LoadOrg(ctx.Store, o); err != nil {
			return err
		} else if org == nil {
			return tx.Rejectf(tx.CodeNotFound, "organization %s does not exist", o)
		}
	}
	t := &Team{ID: m.Team}
	var before []tx.Address
	if m.Team == 0 {
		ids, err := PatientTeams(ctx.Store, m.Patient)
		if err != nil {
			return err
		}
		if len(ids) >= MaxTeamsPerPatient {
			return tx.Rejectf(tx.CodeInvalid, "patient %s has %d care teams; change one instead", m.Patient, len(ids))
		}
		if t.ID, err = nextID(ctx.Store, "team"); err != nil {
			return err
		}
		if err := savePatientTeams(ctx.Store, m.Patient, append(ids, t.ID)); err != nil {
			return err
		}
	} else {
		old, err := LoadTeam(ctx.Store, m.Team)
		if err != nil {
			return err
		}
		if old == nil || old.Patient != m.Patient {
			return tx.Rejectf(tx.CodeNotFound, "patient %s has no care team %d", m.Patient, m.Team)
		}
		before = old.Members
	}
	t.SetTeam, t.SetTeam.Team, t.Height = m, t.ID, ctx.Height
	if err := saveTeam(ctx.Store, t); err != nil {
		return err
	}
	ev := contract.Event{
		Type:     EventTeam,
		Attrs:    []contract.Attr{idAttr("team", t.ID), attr("patient", m.Patient.String()), attr("by", ctx.Signer.String())},
		Accounts: []tx.Address{m.Patient, ctx.Signer},
	}
	for _, a := range m.Members {
		ev.Attrs = append(ev.Attrs, attr("member", a.String()))
		ev.Accounts = append(ev.Accounts, a)
	}
	for _, a := range before {
		if !slices.Contains(m.Members, a) {
			ev.Attrs = append(ev.Attrs, attr("removed", a.String()))
			ev.Accounts = append(ev.Accounts, a)
		}
	}
	for _, o := range m.Orgs {
		ev.Attrs = append(ev.Attrs, attr("org", o))
	}
	ctx.Emit(ev)
	return nil
}
