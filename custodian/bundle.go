package custodian

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sync"

	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/vault"
)

// Bundle carries out a transaction or batch Bundle for who and returns the
// response Bundle. Every write of the Bundle is stored in one durable vault
// batch and anchored in one transaction: a Synthea patient's thousands of
// resources become one anchor per patient, not thousands of transactions.
// A transaction stores everything or nothing.
func (c *Custodian) Bundle(ctx context.Context, who Requester, b *fhir.Bundle) (*fhir.Resource, error) {
	if c.opts.Validator != nil {
		if err := c.opts.Validator.ValidateBundle(b); err != nil {
			return nil, err
		}
	}
	writes := slices.ContainsFunc(b.Entries, func(e fhir.Entry) bool { return e.Method != http.MethodGet })
	if writes {
		if err := c.canWrite(who.Account); err != nil {
			return nil, err
		}
	}
	// Conditional entries match and store atomically with other
	// conditional writes (conditional.go); the anchor waits outside.
	unlock := c.lockIf(slices.ContainsFunc(b.Entries, conditionalEntry))
	defer unlock()
	plan, rerr := fhir.Resolve(b, func(string) string { return newID() }, &lookup{v: c.opts.Vault, cache: map[string][]*fhir.Resource{}})
	if rerr != nil {
		return nil, rerr
	}
	transaction := plan.Type == "transaction"
	var err error
	results := make([]fhir.Result, len(plan.Ops))
	pend := make([]*pending, len(plan.Ops))
	batch := map[string]string{} // Patient ids stored in this Bundle → pseudonyms
	// Patients first, so that the resources about them find their pseudonym.
	for _, pass := range []func(op fhir.Op) bool{
		func(op fhir.Op) bool { return op.Type == "Patient" },
		func(op fhir.Op) bool { return op.Type != "Patient" },
	} {
		for i, op := range plan.Ops {
			if op.Err != nil || !pass(op) {
				continue
			}
			if pend[i], err = c.prepareOp(op, batch); err != nil {
				if transaction {
					return nil, err
				}
				results[i] = fhir.Result{Err: err}
			}
			if p := pend[i]; p != nil && op.Type == "Patient" {
				batch[op.ID] = p.patient
			}
		}
	}
	var ps []*pending
	for _, p := range pend {
		if p != nil {
			ps = append(ps, p)
		}
	}
	if len(ps) > 0 {
		recs, err := c.put(ps)
		unlock()
		if err == nil {
			err = c.anchor(ctx, recs)
		}
		if err != nil {
			return nil, precondition(err, ifMatchOf(b))
		}
	}
	unlock()
	for i, op := range plan.Ops {
		switch {
		case op.Err != nil:
			results[i] = fhir.Result{Err: op.Err}
		case results[i].Err != nil:
		case pend[i] != nil:
			results[i] = written(pend[i])
		case op.Action == fhir.ActionNone:
			results[i] = fhir.Result{Status: http.StatusOK}
		case op.Action == fhir.ActionRead:
			r, err := c.Read(ctx, who, op.Type, op.ID)
			results[i] = fhir.Result{Status: http.StatusOK, Resource: r, Err: err}
		case op.Action == fhir.ActionSearch:
			results[i] = c.searchOp(ctx, who, op)
		}
	}
	// The reads and searches of a Bundle run after its writes are stored,
	// as FHIR orders them; a read that fails is reported in its entry.
	return fhir.ResponseBundle(plan.Type, results), nil
}

// conditionalEntry reports whether a Bundle entry is a conditional write:
// a create with ifNoneExist, an update or delete by search.
func conditionalEntry(e fhir.Entry) bool {
	return e.IfNoneExist != nil || (e.Method == http.MethodPut || e.Method == http.MethodDelete) && e.ID == ""
}

// ifMatchOf returns an ifMatch of b's entries, "" if none has one: a
// Bundle whose versions another writer overtook fails as a failed
// precondition when it named versions.
func ifMatchOf(b *fhir.Bundle) string {
	for _, e := range b.Entries {
		if e.IfMatch != "" {
			return e.IfMatch
		}
	}
	return ""
}

// lockIf takes c.writes if conditional and returns what releases it, once.
func (c *Custodian) lockIf(conditional bool) (unlock func()) {
	if !conditional {
		return func() {}
	}
	c.writes.Lock()
	var once sync.Once
	return func() { once.Do(c.writes.Unlock) }
}

// prepareOp returns the pending version of a write op, or nil for others.
func (c *Custodian) prepareOp(op fhir.Op, batch map[string]string) (*pending, error) {
	switch op.Action {
	case fhir.ActionCreate, fhir.ActionUpdate:
		p, err := c.prepare(op.Resource, batch)
		if err != nil {
			return nil, err
		}
		if err := checkIfMatch(op.IfMatch, p.version-1); err != nil {
			return nil, err
		}
		return p, nil
	case fhir.ActionDelete:
		latest, err := c.latest(op.Type, op.ID)
		if err != nil {
			return nil, vaultError(err, op.Type, op.ID)
		}
		if latest.Deleted {
			return nil, nil
		}
		r, err := fhir.Parse(latest.Content)
		if err != nil {
			return nil, err
		}
		return &pending{res: r, patient: latest.Patient, version: latest.Version + 1, deleted: true}, checkIfMatch(op.IfMatch, latest.Version)
	}
	return nil, nil
}

func written(p *pending) fhir.Result {
	m := p.res.Meta()
	r := fhir.Result{
		Status: http.StatusOK, ETag: `W/"` + m.VersionID + `"`, LastModified: m.LastUpdated,
		Location: p.res.Type() + "/" + p.res.ID() + "/_history/" + m.VersionID,
	}
	switch {
	case p.deleted:
		r = fhir.Result{Status: http.StatusNoContent}
	case p.version == 1:
		r.Status, r.Resource = http.StatusCreated, p.res
	default:
		r.Resource = p.res
	}
	return r
}

func (c *Custodian) searchOp(ctx context.Context, who Requester, op fhir.Op) fhir.Result {
	q, err := fhir.ParseQuery(op.Type, op.Query)
	if err != nil {
		return fhir.Result{Err: err}
	}
	matches, err := c.Search(ctx, who, q)
	if err != nil {
		return fhir.Result{Err: err}
	}
	q.Sort(matches)
	page := q.Page(matches)
	included, err := c.Include(ctx, who, q, page)
	if err != nil {
		return fhir.Result{Err: err}
	}
	return fhir.Result{Status: http.StatusOK, Resource: fhir.SearchSet(q, "", len(matches), page, included...)}
}

// lookup finds stored resources for a Bundle's conditional references. It
// answers only for resources about no patient (Organization, Practitioner,
// Location, ...), which Synthea's references name, and reads each type once
// per Bundle.
type lookup struct {
	v     *vault.Vault
	cache map[string][]*fhir.Resource
}

func (l *lookup) Lookup(typ string, q url.Values) ([]string, error) {
	if fhir.InPatientCompartment(typ) {
		return nil, fhir.NewError(fhir.ErrUnsupported, fhir.Issue{Diagnostics: "conditional references to " + typ + " are not supported"})
	}
	query, err := fhir.ParseQuery(typ, q)
	if err != nil {
		return nil, err
	}
	rs, ok := l.cache[typ]
	if !ok {
		recs, err := l.v.List("", typ)
		if err != nil && !errors.Is(err, vault.ErrNotFound) {
			return nil, err
		}
		for _, rec := range recs {
			r, err := fhir.Parse(rec.Content)
			if err != nil {
				return nil, err
			}
			rs = append(rs, r)
		}
		l.cache[typ] = rs
	}
	var ids []string
	for _, r := range rs {
		if query.Match(r) {
			ids = append(ids, r.ID())
		}
	}
	return ids, nil
}
