package consent

import (
	"slices"
	"time"

	"github.com/careledger/careledger/contract/condition"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/records"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/tx"
)

// Basis is why an item was permitted or denied.
type Basis string

// The bases of a decision.
const (
	ByPolicy     Basis = "policy"      // the network's default policy permits it
	ByGrant      Basis = "grant"       // a patient's grant permits it
	ByBreakGlass Basis = "break_glass" // an emergency access, flagged for review
	Erased       Basis = "erased"      // denied: the record was erased
	NoPermission Basis = "none"        // denied: nothing permits it
	// NotEnrolled denies a research read of a patient who is not an
	// enrolled participant, consented to the protocol version in force, of
	// a trial the requester's organization sponsors (ResearchPurposes).
	NotEnrolled Basis = "not_enrolled"
)

// ResearchPurposes are the purposes of research reads. Whatever a grant or
// the network's policy says, such a read is permitted only of a patient
// enrolled in a trial its requester's organization sponsors, who has not
// withdrawn and consented to the protocol version in force: a grant for
// research is the patient's part, the trial's consent the other. Both codes
// are held to it, since a rule on one alone is evaded by naming the other.
var ResearchPurposes = []string{"HRESCH", "CLINTRCH"}

// researchPermitted reports whether m may be decided on grants and policy
// at all: yes unless it is a research read by someone other than the
// patient, who is not a participant of a trial the requester's
// organization sponsors.
func researchPermitted(s Reader, requester Requester, m Access) (bool, error) {
	if !slices.Contains(ResearchPurposes, m.Purpose) || requester.Account.Address == m.Patient {
		return true, nil
	}
	if requester.Account.Kind != identity.Member {
		return false, nil
	}
	_, ok, err := trials.ResearchParticipant(s, requester.Account.Org, m.Patient)
	return ok, err
}

// Decision is the outcome for one item of an access.
type Decision struct {
	Item   Item     `json:"item"`
	Permit bool     `json:"permit"`
	Basis  Basis    `json:"basis"`
	Grants []uint64 `json:"grants,omitempty"` // the grants it relies on
	// For a search permitted only in part by grants: the categories and
	// records ("Type/id") it may return. Both empty means the whole type.
	Categories []string `json:"categories,omitempty"`
	Records    []string `json:"records,omitempty"`
}

// Partial reports whether a permitted search may return only some records.
func (d *Decision) Partial() bool { return len(d.Categories) > 0 || len(d.Records) > 0 }

// Requester is who asks to read.
type Requester struct {
	Account *identity.Account
	OrgType identity.OrgType // "" for a patient
}

// Decider decides accesses against state, with a condition engine.
type Decider struct {
	Engine *condition.Engine
}

// decideInput is what one access is decided on.
type decideInput struct {
	s         Reader
	policy    Policy
	custodian string
	patient   tx.Address
	purpose   string
	requester Requester
	now       time.Time
	grants    []*StoredGrant // the patient's grants in force now, once loaded
	loaded    bool
}

// activeGrants loads the patient's grants in force once, when the first
// item the policy does not permit needs them.
func (in *decideInput) activeGrants() ([]*StoredGrant, error) {
	if !in.loaded {
		gs, err := PatientGrants(in.s, in.patient)
		if err != nil {
			return nil, err
		}
		now := in.now.Unix()
		in.grants, in.loaded = slices.DeleteFunc(gs, func(g *StoredGrant) bool { return !g.Active(now) }), true
	}
	return in.grants, nil
}

// Decide returns the decision for each item of m, read at custodian on
// behalf of requester, at block time now. It does not apply break-the-glass:
// the caller does when nothing else permits.
func (d Decider) Decide(s Reader, custodian string, requester Requester, m Access, now time.Time) ([]Decision, error) {
	policy, err := LoadPolicy(s)
	if err != nil {
		return nil, err
	}
	research, err := researchPermitted(s, requester, m)
	if err != nil {
		return nil, err
	}
	in := &decideInput{s: s, policy: policy, custodian: custodian, patient: m.Patient, purpose: m.Purpose, requester: requester, now: now}
	out := make([]Decision, len(m.Items))
	for i, it := range m.Items {
		if !research {
			out[i] = Decision{Item: it, Basis: NotEnrolled}
			continue
		}
		if out[i], err = d.decideItem(in, it); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (d Decider) decideItem(in *decideInput, it Item) (Decision, error) {
	dec := Decision{Item: it, Basis: NoPermission}
	ref := it.Ref()
	if it.ID == "" {
		ref = ""
	}
	if erased, err := records.Erased(in.s, in.custodian, in.patient, ref); err != nil {
		return dec, err
	} else if erased {
		dec.Basis = Erased
		return dec, nil
	}
	cin := in.conditionInput(it)
	ok, err := d.Engine.Eval(accessEnv, in.policy.Default, in.policy.CostLimit, cin)
	if err != nil {
		return dec, err // the policy in state always compiled once: a fault
	}
	if ok {
		dec.Permit, dec.Basis = true, ByPolicy
		return dec, nil
	}
	grants, err := in.activeGrants()
	if err != nil {
		return dec, err
	}
	for _, g := range grants {
		full, cats, recs := g.covers(it)
		if !full && len(cats) == 0 && len(recs) == 0 {
			continue
		}
		if ok, err := g.permits(in.s, in.requester.Account, in.purpose); err != nil {
			return dec, err
		} else if !ok {
			continue
		}
		if g.Condition != "" {
			if ok, err := d.Engine.Eval(accessEnv, g.Condition, in.policy.CostLimit, cin); err != nil || !ok {
				continue // a condition that no longer checks permits nothing
			}
		}
		dec.Permit, dec.Basis = true, ByGrant
		dec.Grants = append(dec.Grants, g.ID)
		if full {
			dec.Categories, dec.Records = nil, nil
			dec.Grants = []uint64{g.ID}
			return dec, nil
		}
		dec.Categories = appendNew(dec.Categories, cats...)
		dec.Records = appendNew(dec.Records, recs...)
	}
	return dec, nil
}

// permits reports whether the grant's grantee and purposes admit a
// reading for purpose.
func (g *StoredGrant) permits(s Reader, a *identity.Account, purpose string) (bool, error) {
	if !slices.Contains(g.Purposes, purpose) {
		return false, nil
	}
	return g.Names(s, a)
}

// covers tells how much of item the grant's scope covers: all of it, or for
// a search, only some categories or records.
func (g *StoredGrant) covers(it Item) (full bool, cats, recs []string) {
	s := g.Scope
	if !slices.Contains(s.Types, "*") && !slices.Contains(s.Types, it.Type) {
		return false, nil, nil
	}
	if it.ID != "" { // one record: in scope or not
		inCats := len(s.Categories) == 0 || slices.ContainsFunc(it.Categories, func(c string) bool { return slices.Contains(s.Categories, c) })
		inRecs := len(s.Records) == 0 || slices.Contains(s.Records, it.Ref())
		return inCats && inRecs, nil, nil
	}
	if len(s.Records) > 0 { // a search: only the named records of this type
		prefix := it.Type + "/"
		for _, r := range s.Records {
			if len(r) > len(prefix) && r[:len(prefix)] == prefix {
				recs = append(recs, r)
			}
		}
		return false, nil, recs
	}
	if len(s.Categories) > 0 {
		return false, s.Categories, nil
	}
	return true, nil, nil
}

func appendNew(dst []string, xs ...string) []string {
	for _, x := range xs {
		if !slices.Contains(dst, x) {
			dst = append(dst, x)
		}
	}
	return dst
}
