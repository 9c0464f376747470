package custodian

// Conditional and versioned writes (FHIR R4 http.html): If-Match on update,
// delete and patch; If-None-Exist on create; update and delete by search.
//
// A version precondition needs no lock: the vault's Put refuses a version
// that is not the record's latest + 1, so a writer that stores between the
// check and the write makes the write fail, with 412 when the client named
// a version. A search precondition is held true by c.writes, taken from the
// match to the vault's write (not through the anchor's commit, which takes a
// block): conditional writes are atomic with one another, so two identical
// conditional creates never both create.

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/vault"
)

// parseIfMatch returns the version an If-Match value names: W/"n" (or the
// strong "n"), 0 for "".
func parseIfMatch(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	q := strings.TrimPrefix(s, "W/")
	n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(q, `"`), `"`), 10, 32)
	if len(q) < 3 || q[0] != '"' || q[len(q)-1] != '"' || err != nil || n < 1 {
		return 0, fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: `If-Match must be a version ETag, W/"n"`})
	}
	return int(n), nil
}

// checkIfMatch checks an If-Match value ("" for none) against the current
// version (0 when the resource does not exist).
func checkIfMatch(ifMatch string, current int) error {
	want, err := parseIfMatch(ifMatch)
	if err != nil || want == 0 {
		return err
	}
	if want != current {
		return fhir.NewError(fhir.ErrPreconditionFailed, fhir.Issue{Diagnostics: "the resource's current version is not the one If-Match names"})
	}
	return nil
}

// precondition reports a write that lost a race with another writer as a
// failed precondition when the client named the version it expected (the
// vault refused the version; see conditional writes above).
func precondition(err error, ifMatch string) error {
	if ifMatch != "" && errors.Is(err, fhir.ErrConflict) {
		return fhir.NewError(fhir.ErrPreconditionFailed, fhir.Issue{Diagnostics: "the resource changed since the version If-Match names"})
	}
	return err
}

// UpdateIf is Update with If-Match: ifMatch ("" for none) names the version
// the client read, and the update stores only if that is still the latest,
// else an error of kind fhir.ErrPreconditionFailed (412), also when another
// writer stores in between.
func (c *Custodian) UpdateIf(ctx context.Context, who *identity.Account, r *fhir.Resource, ifMatch string) (res *fhir.Resource, created bool, err error) {
	if err := c.canWrite(who); err != nil {
		return nil, false, err
	}
	p, err := c.prepare(r, nil)
	if err != nil {
		return nil, false, err
	}
	if err := checkIfMatch(ifMatch, p.version-1); err != nil {
		return nil, false, err
	}
	return r, p.version == 1, precondition(c.store(ctx, []*pending{p}), ifMatch)
}

// DeleteIf is Delete with If-Match, as UpdateIf.
func (c *Custodian) DeleteIf(ctx context.Context, who *identity.Account, typ, id, ifMatch string) error {
	if err := c.canWrite(who); err != nil {
		return err
	}
	latest, err := c.latest(typ, id)
	if err != nil {
		return vaultError(err, typ, id)
	}
	if err := checkIfMatch(ifMatch, latest.Version); err != nil || latest.Deleted {
		return err
	}
	p, err := deletion(latest)
	if err != nil {
		return err
	}
	return precondition(c.store(ctx, []*pending{p}), ifMatch)
}

// deletion returns the deletion version that follows rec.
func deletion(rec vault.Record) (*pending, error) {
	r, err := fhir.Parse(rec.Content)
	if err != nil {
		return nil, err
	}
	return &pending{res: r, patient: rec.Patient, version: rec.Version + 1, deleted: true}, nil
}

// Patch stores, as the next version of typ/id, what edit makes of its
// latest version (a JSON Patch), with If-Match as UpdateIf. A patch reads
// the record (a JSON Patch test asks about its content, and the answer
// returns it whole), so who must be permitted to read it: the read is
// decided, and its receipt committed, before edit runs. A writer that
// stores between the read and the write makes the patch fail: 412 with
// If-Match, else 409.
func (c *Custodian) Patch(ctx context.Context, who Requester, typ, id, ifMatch string, edit func(*fhir.Resource) (*fhir.Resource, error)) (*fhir.Resource, error) {
	if err := c.canWrite(who.Account); err != nil {
		return nil, err
	}
	latest, err := c.latest(typ, id)
	if err != nil {
		return nil, vaultError(err, typ, id)
	}
	if err := checkIfMatch(ifMatch, latest.Version); err != nil {
		return nil, err
	}
	current, err := c.release(ctx, who, latest, id)
	if err != nil {
		return nil, err
	}
	next, err := edit(current)
	if err != nil {
		return nil, err
	}
	p, err := c.prepare(next, nil)
	if err != nil {
		return nil, err
	}
	if p.version != latest.Version+1 {
		return nil, precondition(vaultError(vault.ErrVersionConflict, typ, id), ifMatch)
	}
	return next, precondition(c.store(ctx, []*pending{p}), ifMatch)
}

// CreateIfNoneExist is Create with If-None-Exist: when q matches nothing it
// creates r (created true); when it matches one resource it stores nothing
// and returns that resource; when it matches several, an error of kind
// fhir.ErrMultipleMatches (412).
func (c *Custodian) CreateIfNoneExist(ctx context.Context, who Requester, r *fhir.Resource, q *fhir.Query) (res *fhir.Resource, created bool, err error) {
	if err := c.canWrite(who.Account); err != nil {
		return nil, false, err
	}
	var found *fhir.Resource
	err = c.writeWhere(ctx, who, q, "create", "", func(ms []match) ([]*pending, error) {
		if len(ms) == 1 {
			found = ms[0].res
			return nil, nil
		}
		if err := r.SetID(newID()); err != nil {
			return nil, err
		}
		p, err := c.prepare(r, nil)
		return []*pending{p}, err
	})
	if found != nil || err != nil {
		return found, false, err
	}
	return r, true, nil
}

// UpdateWhere is the conditional update: it stores r as the next version of
// the one resource q matches (whose id r must have, or no id), or, when q
// matches nothing, as Update does (a new resource under r's id, or under a
// new id when r has none). Several matches are an error of kind
// fhir.ErrMultipleMatches (412). ifMatch is as UpdateIf's.
func (c *Custodian) UpdateWhere(ctx context.Context, who Requester, r *fhir.Resource, q *fhir.Query, ifMatch string) (res *fhir.Resource, created bool, err error) {
	if err := c.canWrite(who.Account); err != nil {
		return nil, false, err
	}
	err = c.writeWhere(ctx, who, q, "update", ifMatch, func(ms []match) ([]*pending, error) {
		id := r.ID()
		switch {
		case len(ms) == 1 && id != "" && id != ms[0].res.ID():
			return nil, fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: "the resource's id differs from the one of the resource the search matches"})
		case len(ms) == 1:
			id = ms[0].res.ID()
		case id == "":
			id = newID()
		}
		if err := r.SetID(id); err != nil {
			return nil, err
		}
		p, err := c.prepare(r, nil)
		if err != nil {
			return nil, err
		}
		created = p.version == 1
		return []*pending{p}, checkIfMatch(ifMatch, p.version-1)
	})
	return r, created, err
}

// DeleteWhere is the conditional delete (single): it deletes the one
// resource q matches and reports deleted true; it does nothing when q
// matches nothing; several matches are an error of kind
// fhir.ErrMultipleMatches (412).
func (c *Custodian) DeleteWhere(ctx context.Context, who Requester, q *fhir.Query) (deleted bool, err error) {
	if err := c.canWrite(who.Account); err != nil {
		return false, err
	}
	err = c.writeWhere(ctx, who, q, "delete", "", func(ms []match) ([]*pending, error) {
		if len(ms) == 0 {
			return nil, nil
		}
		p, err := deletion(ms[0].rec)
		deleted = err == nil
		return []*pending{p}, err
	})
	return deleted, err
}

// writeWhere carries out a conditional write: it finds where q searches and
// has who's reads there decided (conditionScope), then, under c.writes,
// hands what q matches, none or one, to plan, and stores and anchors the
// versions plan returns (putExclusive). Several matches are an error of
// kind fhir.ErrMultipleMatches (412). A match that who's reads were not
// decided for (a Patient another writer stored after the decisions) is
// decided outside the lock, and the search run again.
func (c *Custodian) writeWhere(ctx context.Context, who Requester, q *fhir.Query, write, ifMatch string, plan func([]match) ([]*pending, error)) error {
	s, err := c.conditionScope(ctx, who, q, write)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		var undecided []match
		err := c.putExclusive(ctx, ifMatch, func() ([]*pending, error) {
			ms, err := c.matching(s, q)
			if err != nil {
				return nil, err
			}
			if undecided = s.undecided(ms); len(undecided) > 0 {
				return nil, nil
			}
			if len(ms) > 1 {
				return nil, fhir.NewError(fhir.ErrMultipleMatches, fhir.Issue{Diagnostics: "the conditional " + write + "'s search matches more than one resource"})
			}
			return plan(ms)
		})
		if err != nil || len(undecided) == 0 {
			return err
		}
		if attempt == maxConditionalAttempts {
			return fhir.NewError(fhir.ErrConflict, fhir.Issue{Diagnostics: "the conditional " + write + "'s matches kept changing; try again"})
		}
		if err := c.permitMatches(ctx, who, &s, undecided, write); err != nil {
			return err
		}
	}
}

// maxConditionalAttempts bounds how often a conditional write decides
// matches that appeared while it waited for a decision.
const maxConditionalAttempts = 3

// putExclusive runs plan and puts the versions it returns under c.writes,
// so that no other conditional write matches or stores in between, then
// anchors them.
func (c *Custodian) putExclusive(ctx context.Context, ifMatch string, plan func() ([]*pending, error)) error {
	c.writes.Lock()
	ps, err := plan()
	var recs []vault.Record
	if err == nil && len(ps) > 0 {
		recs, err = c.put(ps)
	}
	c.writes.Unlock()
	if err != nil || len(recs) == 0 {
		return precondition(err, ifMatch)
	}
	return c.anchor(ctx, recs)
}

// scope is where a conditional write's search looks: the records of one
// patient (a pseudonym), those about no patient, or, for a search of
// Patient that names no one patient (by identifier, name or birth date),
// the blind index. none is set when the search names a patient not held
// here, whom nothing can match.
type scope struct {
	patient string
	none    bool
	indexed bool
	// permitted holds, for an indexed search, the refs of the matches
	// who's read of was decided and permitted.
	permitted map[string]bool
}

// undecided returns the matches of an indexed search that who's read of
// was not decided.
func (s *scope) undecided(ms []match) []match {
	if !s.indexed {
		return nil // conditionScope decided the whole search
	}
	var out []match
	for _, m := range ms {
		if !s.permitted[m.rec.ID] {
			out = append(out, m)
		}
	}
	return out
}

// conditionScope returns where q searches. A conditional write's search is
// a search like any other, and who must be permitted to see everything it
// may match (the decisions and their receipts are committed first), else
// the write is refused: a match outside what who may see would answer
// differently from no match. A search of a type in the patient compartment
// names one patient, and who must be permitted to search all of that
// patient's records of the type; a search of Patient may instead go
// through the blind index (as a search does, search.go), and who must be
// permitted to read each Patient it matches.
func (c *Custodian) conditionScope(ctx context.Context, who Requester, q *fhir.Query, write string) (scope, error) {
	if !fhir.InPatientCompartment(q.Type) {
		return scope{}, nil
	}
	pid := q.Patient()
	if pid == "" && fhir.Indexed(q.Type) {
		s := scope{indexed: true, permitted: map[string]bool{}}
		ms, err := c.indexedMatches(q)
		if err == nil {
			err = c.permitMatches(ctx, who, &s, ms, write)
		}
		return s, err
	}
	if pid == "" {
		return scope{}, fhir.NewError(fhir.ErrUnsupported, fhir.Issue{Diagnostics: "a conditional " + write + " of " + q.Type + " must name one patient (patient, subject or _id)"})
	}
	rec, err := c.latest("Patient", pid)
	if errors.Is(err, vault.ErrNotFound) || errors.Is(err, vault.ErrErased) {
		return scope{none: true}, nil
	}
	if err != nil {
		return scope{}, err
	}
	ds, err := c.decide(ctx, who, rec.Patient, []consent.Item{{Type: q.Type}})
	if err != nil {
		return scope{}, err
	}
	if d := ds[0]; !d.Permit || len(d.Records) > 0 || len(d.Categories) > 0 {
		return scope{}, forbidden("a conditional %s searches the patient's %s records, all of which %s may not read for %s", write, q.Type, who.Account.Address, who.Purpose)
	}
	return scope{patient: rec.Patient}, nil
}

// permitMatches has who's read of each of ms decided (committed before the
// write goes on) and adds those permitted to s; a denied one refuses the
// write.
func (c *Custodian) permitMatches(ctx context.Context, who Requester, s *scope, ms []match, write string) error {
	ds, err := c.decideEach(ctx, who, readAsks(ms))
	if err != nil {
		return err
	}
	for i, m := range ms {
		if !ds[i][0].Permit {
			return forbidden("a conditional %s matches a %s that %s may not read for %s", write, m.rec.Type, who.Account.Address, who.Purpose)
		}
		s.permitted[m.rec.ID] = true
	}
	return nil
}

// match is a stored resource a conditional write's search matched.
type match struct {
	rec vault.Record
	res *fhir.Resource
}

// matching returns the stored resources q matches in s.
func (c *Custodian) matching(s scope, q *fhir.Query) ([]match, error) {
	if s.none {
		return nil, nil
	}
	if s.indexed {
		return c.indexedMatches(q)
	}
	recs, err := c.opts.Vault.List(s.patient, q.Type)
	if err != nil && !errors.Is(err, vault.ErrNotFound) {
		return nil, err
	}
	var ms []match
	for _, rec := range recs {
		r, err := fhir.Parse(rec.Content)
		if err != nil {
			return nil, err
		}
		if q.Match(r) {
			ms = append(ms, match{rec: rec, res: r})
		}
	}
	return ms, nil
}
