package trials

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// Recruitment without exposure: the sponsor publishes eligibility criteria
// (Criteria); patients say, with their own key, whether custodians may
// contact them about research (Contact); each custodian evaluates the rule
// off the chain over its own patients who said yes, tells the matching ones
// privately, and publishes only how many matched (MatchCount).
const (
	TypeCriteria   uint64 = 104
	TypeContact    uint64 = 105
	TypeMatchCount uint64 = 106
)

// Criteria publishes the trial's eligibility rule, a CEL expression over
// EligibilityEnv, as its next criteria revision (from 1). The trial must
// have a protocol version in force: nobody is recruited into a protocol the
// ethics board has not approved. The signer is a researcher or admin of
// the sponsor. The rule is public, as a registry's eligibility section is.
type Criteria struct {
	Trial string `json:"trial"`
	Rule  string `json:"rule"`
}

// Contact records whether the signer, a registered patient, agrees to be
// contacted about research by the custodians holding their records (OptIn)
// or no longer does. It permits no one to read anything: custodians
// evaluate criteria over records they already hold, and only tell the
// patient.
type Contact struct {
	OptIn bool `json:"opt_in"`
}

// MatchCount publishes how many of Custodian's patients who opted in to be
// contacted match revision Revision (the current one) of the trial's
// criteria. The signer is a service or admin member of Custodian, an
// organization of type provider: its node evaluated the rule over its own
// records. Nothing else about any patient reaches the chain.
type MatchCount struct {
	Trial     string `json:"trial"`
	Revision  uint64 `json:"revision"`
	Custodian string `json:"custodian"`
	Matched   uint64 `json:"matched"`
}

func (Criteria) Type() uint64   { return TypeCriteria }
func (Contact) Type() uint64    { return TypeContact }
func (MatchCount) Type() uint64 { return TypeMatchCount }

// MaxRule bounds a rule's length, as condition.MaxLength does a condition.
const MaxRule = 2048

// MaxMatched bounds a published count: more patients than any custodian
// holds is an error, not a count.
const MaxMatched = 1 << 40

func (m Criteria) EncodeTo(w *wire.Writer) { w.String(m.Trial); w.String(m.Rule) }
func (m Contact) EncodeTo(w *wire.Writer)  { w.Bool(m.OptIn) }
func (m MatchCount) EncodeTo(w *wire.Writer) {
	w.String(m.Trial)
	w.Uint(m.Revision)
	w.String(m.Custodian)
	w.Uint(m.Matched)
}

func readCriteria(r *wire.Reader) Criteria {
	return Criteria{Trial: r.String(MaxID), Rule: r.String(MaxRule)}
}
func readContact(r *wire.Reader) Contact { return Contact{OptIn: r.Bool()} }
func readMatchCount(r *wire.Reader) MatchCount {
	return MatchCount{Trial: r.String(MaxID), Revision: r.Uint(), Custodian: r.String(MaxID), Matched: r.Uint()}
}

// validateCriteria checks the trial ID and that the rule compiles in
// EligibilityEnv within CriteriaCost: a rule no custodian could evaluate is
// refused before it reaches a block.
func (c *Contract) validateCriteria(m Criteria) error {
	if err := ValidateID("trial", m.Trial); err != nil {
		return err
	}
	if err := CheckCriteria(c.Engine, m.Rule); err != nil {
		return tx.Rejectf(tx.CodeInvalid, "eligibility rule: %v", err)
	}
	return nil
}

func (m MatchCount) validate() error {
	if err := ValidateID("trial", m.Trial); err != nil {
		return err
	}
	if err := identity.ValidateOrgID(m.Custodian); err != nil {
		return err
	}
	if m.Revision == 0 {
		return tx.Rejectf(tx.CodeInvalid, "criteria revisions start at 1")
	}
	if m.Matched > MaxMatched {
		return tx.Rejectf(tx.CodeInvalid, "a count is at most %d", uint64(MaxMatched))
	}
	return nil
}

// State of recruitment:
//
//	T/c/TRIAL \0 REV           criteria revision (REV: 8 bytes)
//	T/n/TRIAL \0 CUSTODIAN     a custodian's latest count
//	T/o/ADDRESS                a patient's answer to being contacted
func criteriaKey(trial string, rev uint64) []byte      { return key('c', trial, num(rev)...) }
func countKey(trial, custodian string) []byte          { return key('n', trial, []byte(custodian)...) }
func contactKey(p tx.Address) []byte                   { return append([]byte("T/o/"), p[:]...) }
func sponsoredKey(sponsor string, p tx.Address) []byte { return key('s', sponsor, p[:]...) }

// CriteriaRevision is one published eligibility rule.
type CriteriaRevision struct {
	Revision uint64    `json:"revision"`
	Rule     string    `json:"rule"`
	Version  uint64    `json:"version"` // the protocol version in force when published
	Height   int64     `json:"height"`
	Time     time.Time `json:"time"`
}

// Count is a custodian's latest published count of matching patients.
type Count struct {
	Custodian string    `json:"custodian"`
	Revision  uint64    `json:"revision"`
	Matched   uint64    `json:"matched"`
	Height    int64     `json:"height"`
	Time      time.Time `json:"time"`
}

// ContactAnswer is a patient's answer to being contacted about research.
type ContactAnswer struct {
	OptIn  bool  `json:"opt_in"`
	Height int64 `json:"height"`
}

// LoadCriteria returns the trial's criteria revision rev, or nil.
func LoadCriteria(s identity.Reader, trial string, rev uint64) (*CriteriaRevision, error) {
	return load[CriteriaRevision](s, criteriaKey(trial, rev), "criteria")
}

// LoadCount returns custodian's latest count for the trial, or nil.
func LoadCount(s identity.Reader, trial, custodian string) (*Count, error) {
	return load[Count](s, countKey(trial, custodian), "count")
}

// OptedIn reports whether patient p agreed to be contacted about research
// and has not taken it back.
func OptedIn(s identity.Reader, p tx.Address) (bool, error) {
	a, err := load[ContactAnswer](s, contactKey(p), "contact answer")
	return a != nil && a.OptIn, err
}

// The recruitment events. EventCriteria carries the rule: custodians'
// nodes evaluate it when it commits.
const (
	EventCriteria = "trials.criteria_published"
	EventContact  = "trials.contact"
	EventCount    = "trials.match_counted"
)

func recruitEventSpecs() []contract.EventSpec {
	return []contract.EventSpec{
		{Type: EventCriteria, ByType: true, Action: "C"}, // custodians find every rule to evaluate
		{Type: EventContact, Action: "U"},
		{Type: EventCount, Action: "C"},
	}
}

// Published is a committed EventCriteria as custodians read it.
type Published struct {
	Trial    string
	Revision uint64
	Rule     string
}

// PublishedOf returns the criteria e publishes, if e is an EventCriteria.
func PublishedOf(e contract.Event) (Published, bool) {
	if e.Type != EventCriteria {
		return Published{}, false
	}
	var p Published
	for _, a := range e.Attrs {
		switch a.Key {
		case "trial":
			p.Trial = a.Value
		case "revision":
			p.Revision, _ = strconv.ParseUint(a.Value, 10, 64)
		case "rule":
			p.Rule = a.Value
		}
	}
	return p, p.Trial != "" && p.Revision != 0
}

func publishCriteria(ctx *contract.Context, m Criteria) error {
	t, err := requireSponsorInForce(ctx, m.Trial, identity.Researcher, identity.Admin)
	if err != nil {
		return err
	}
	if t.Criteria >= MaxVersions {
		return tx.Rejectf(tx.CodeInvalid, "trial %s has %d criteria revisions, the most it may", t.ID, MaxVersions)
	}
	t.Criteria++
	c := &CriteriaRevision{Revision: t.Criteria, Rule: m.Rule, Version: t.InForce, Height: ctx.Height, Time: ctx.Time.UTC()}
	if err := save(ctx.Store, criteriaKey(t.ID, c.Revision), c); err != nil {
		return err
	}
	if err := save(ctx.Store, trialKey(t.ID), t); err != nil {
		return err
	}
	ctx.Emit(event(EventCriteria, t, uattr("revision", c.Revision), uattr("version", c.Version), attr("rule", c.Rule)))
	return nil
}

func contact(ctx *contract.Context, m Contact) error {
	if _, err := identity.RequirePatient(ctx.Store, ctx.Signer); err != nil {
		return tx.Rejectf(tx.CodeUnauthorized, "only a patient, with their own key, answers for being contacted: %v", err)
	}
	if in, err := OptedIn(ctx.Store, ctx.Signer); err != nil {
		return err
	} else if in == m.OptIn {
		return tx.Rejectf(tx.CodeAlreadyExists, "patient %s already answered %t", ctx.Signer, m.OptIn)
	}
	if err := save(ctx.Store, contactKey(ctx.Signer), &ContactAnswer{OptIn: m.OptIn, Height: ctx.Height}); err != nil {
		return err
	}
	ctx.Emit(contract.Event{Type: EventContact, Attrs: []contract.Attr{attr("patient", ctx.Signer.String()), attr("opt_in", strconv.FormatBool(m.OptIn))},
		Accounts: []tx.Address{ctx.Signer}})
	return nil
}

func matchCount(ctx *contract.Context, m MatchCount) error {
	if _, err := identity.RequireRole(ctx, m.Custodian, identity.Service, identity.Admin); err != nil {
		return err
	}
	if o, err := identity.LoadOrg(ctx.Store, m.Custodian); err != nil {
		return err
	} else if o.Type != identity.Provider {
		return tx.Rejectf(tx.CodeUnauthorized, "%s is an organization of type %s: only providers hold the records counted", m.Custodian, o.Type)
	}
	t, err := requireTrial(ctx.Store, m.Trial)
	if err != nil {
		return err
	}
	if m.Revision != t.Criteria {
		return tx.Rejectf(tx.CodeInvalid, "criteria revision %d is not trial %s's current one (%d)", m.Revision, t.ID, t.Criteria)
	}
	c := &Count{Custodian: m.Custodian, Revision: m.Revision, Matched: m.Matched, Height: ctx.Height, Time: ctx.Time.UTC()}
	if err := save(ctx.Store, countKey(t.ID, m.Custodian), c); err != nil {
		return err
	}
	ctx.Emit(event(EventCount, t, attr("custodian", m.Custodian), uattr("revision", m.Revision), uattr("matched", m.Matched)))
	return nil
}

// Counts returns every custodian's latest count for the trial, ordered by
// custodian.
func Counts(s identity.Iterator, trial string) ([]*Count, error) {
	var out []*Count
	var derr error
	err := s.Iterate(append(key('n', trial), 0), func(_, v []byte) bool {
		c := new(Count)
		if derr = json.Unmarshal(v, c); derr != nil {
			return false
		}
		out = append(out, c)
		return true
	})
	if err == nil {
		err = derr
	}
	return out, err
}

// ResearchParticipant reports whether p may be read for research by a
// member of sponsor: p is enrolled in a trial sponsored by sponsor, has not
// withdrawn, and consented to the protocol version in force. It returns
// that trial's ID. The consent contract asks it before every research read.
func ResearchParticipant(s identity.Reader, sponsor string, p tx.Address) (string, bool, error) {
	ids, err := load[[]string](s, sponsoredKey(sponsor, p), "sponsored trials")
	if err != nil || ids == nil {
		return "", false, err
	}
	for _, id := range *ids {
		t, err := LoadTrial(s, id)
		if err != nil {
			return "", false, err
		}
		part, err := LoadParticipant(s, id, p)
		if err != nil {
			return "", false, err
		}
		if t != nil && part != nil && part.EnrolledHeight != 0 && requireConsented(t, p, part) == nil {
			return id, true, nil
		}
	}
	return "", false, nil
}

// indexEnrollment adds trial to the trials of t's sponsor p is enrolled in,
// which ResearchParticipant reads.
func indexEnrollment(st contract.Store, t *Trial, p tx.Address) error {
	ids, err := load[[]string](st, sponsoredKey(t.Sponsor, p), "sponsored trials")
	if err != nil {
		return err
	}
	if ids == nil {
		ids = new([]string)
	}
	if i, found := slices.BinarySearch(*ids, t.ID); !found {
		*ids = slices.Insert(*ids, i, t.ID)
	}
	return save(st, sponsoredKey(t.Sponsor, p), *ids)
}
