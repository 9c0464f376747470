package custodian

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/vault"
)

// Bounds of a search by the blind index: the candidates it decrypts to
// check, and the patients whose release it has the contract decide (each
// one an Access message of the search's transaction).
const (
	MaxCandidates     = 2000
	MaxPatientMatches = 100
)

// indexRecords replaces the blind index tokens of the stored versions that
// have any (Patient names, birth dates, identifiers): keyed hashes of the
// normalized values, under the vault's name key. A deletion indexes
// nothing. A failure is logged, without the record's name, and does not
// fail the write: the record stays readable, and its next version indexes
// it again.
func (c *Custodian) indexRecords(recs []vault.Record) {
	for _, rec := range recs {
		if !fhir.Indexed(rec.Type) {
			continue
		}
		var tokens [][vault.TokenSize]byte
		if !rec.Deleted {
			r, err := fhir.Parse(rec.Content)
			if err != nil {
				c.opts.Log.Error("blind index: stored resource does not parse", "type", rec.Type)
				continue
			}
			tokens = c.tokens(fhir.IndexTerms(r))
		}
		if err := c.opts.Vault.Index(rec.Type, rec.ID, tokens); err != nil && !errors.Is(err, vault.ErrErased) {
			c.opts.Log.Error("blind index write failed", "type", rec.Type)
		}
	}
}

func (c *Custodian) tokens(terms []fhir.Term) [][vault.TokenSize]byte {
	out := make([][vault.TokenSize]byte, len(terms))
	for i, t := range terms {
		out[i] = c.opts.Vault.KeyedHash(t.Domain, []byte(t.Value))
	}
	return out
}

// searchIndexed answers a search of an indexed type (Patient) that names no
// single patient: the consent contract decides the release of each match
// (indexedMatches) for who, one Access per patient (decideEach), committed
// before anything is returned. A denied patient is left out, as one that
// does not match.
func (c *Custodian) searchIndexed(ctx context.Context, who Requester, q *fhir.Query) ([]*fhir.Resource, error) {
	ms, err := c.indexedMatches(q)
	if err != nil {
		return nil, err
	}
	ds, err := c.decideEach(ctx, who, readAsks(ms))
	if err != nil {
		return nil, err
	}
	var out []*fhir.Resource
	for i, m := range ms {
		if ds[i][0].Permit {
			out = append(out, m.res)
		}
	}
	return out, nil
}

// indexedMatches returns the stored resources that q, a search of an
// indexed type, matches: the blind index gives candidates, and Match on
// each decrypted candidate decides. Nothing is decided or released.
func (c *Custodian) indexedMatches(q *fhir.Query) ([]match, error) {
	conds, ok := q.IndexTerms()
	if !ok {
		return nil, fhir.NewError(fhir.ErrUnsupported, fhir.Issue{Diagnostics: "a search of " + q.Type +
			" must give _id, or name, family or given (no :contains), birthdate (no ne) or identifier (with a value)"})
	}
	ids, err := c.candidates(q.Type, conds)
	if err != nil {
		return nil, err
	}
	if len(ids) > MaxCandidates {
		return nil, tooCostly()
	}
	var ms []match
	for _, id := range ids {
		rec, err := c.opts.Vault.Latest(q.Type, id)
		if errors.Is(err, vault.ErrNotFound) || errors.Is(err, vault.ErrErased) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if rec.Deleted {
			continue
		}
		r, err := fhir.Parse(rec.Content)
		if err != nil {
			return nil, fmt.Errorf("stored %s does not parse: %w", q.Type, err)
		}
		if q.Match(r) {
			ms = append(ms, match{rec: rec, res: r})
		}
	}
	if len(ms) > MaxPatientMatches {
		return nil, tooCostly()
	}
	return ms, nil
}

// readAsks returns the asks that decide the read of each match, one per
// match (each a patient's own record).
func readAsks(ms []match) []ask {
	asks := make([]ask, len(ms))
	for i, m := range ms {
		asks[i] = ask{patient: m.rec.Patient, items: []consent.Item{{Type: m.rec.Type, ID: m.rec.ID, Categories: fhir.Categories(m.res)}}}
	}
	return asks
}

func tooCostly() error {
	return fhir.NewError(fhir.ErrUnsupported, fhir.Issue{Code: "too-costly", Diagnostics: fmt.Sprintf(
		"more than %d patients match; give more of the name, or another parameter", MaxPatientMatches)})
}

// candidates returns the ids of the records of typ that have a term of
// every condition, in id order.
func (c *Custodian) candidates(typ string, conds [][]fhir.Term) ([]string, error) {
	var ids []string
	for i, cond := range conds {
		var set []string
		for _, tok := range c.tokens(cond) {
			found, err := c.opts.Vault.Lookup(typ, tok)
			if err != nil {
				return nil, err
			}
			set = append(set, found...)
		}
		slices.Sort(set)
		set = slices.Compact(set)
		if i == 0 {
			ids = set
		} else {
			ids = slices.DeleteFunc(ids, func(id string) bool { _, ok := slices.BinarySearch(set, id); return !ok })
		}
		if len(ids) == 0 {
			break
		}
	}
	return ids, nil
}

// ask is what one Access message asks of one patient's records.
type ask struct {
	patient string
	items   []consent.Item
}

// decideEach has the consent contract decide several patients' items, one
// Access message per ask, in as few transactions as hold them (sendAll),
// and waits for them to commit. It returns the decisions of each ask, in
// order.
func (c *Custodian) decideEach(ctx context.Context, who Requester, asks []ask) ([][]consent.Decision, error) {
	if len(asks) == 0 {
		return nil, nil
	}
	msgs := make([]tx.Msg, len(asks))
	for i, a := range asks {
		addr, err := tx.ParseAddress(a.patient)
		if err != nil {
			return nil, fmt.Errorf("vault pseudonym: %w", err)
		}
		msgs[i] = contract.Encode(consent.Access{
			Requester: who.Account.Address, Patient: addr, Purpose: who.Purpose, BreakGlass: who.BreakGlass, GlassReason: who.GlassReason, Items: a.items,
		})
	}
	results, err := c.sendAll(ctx, msgs)
	if err != nil {
		return nil, fmt.Errorf("access refused: %w", nodeFault(err))
	}
	var out [][]consent.Decision
	for _, res := range results {
		ds, err := decisionsByAccess(res.Events)
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
	}
	if len(out) != len(asks) {
		return nil, fmt.Errorf("%d accesses decided; %d asked", len(out), len(asks))
	}
	for i := range out {
		if len(out[i]) != len(asks[i].items) {
			return nil, fmt.Errorf("access %d: %d decisions for %d items", i, len(out[i]), len(asks[i].items))
		}
	}
	return out, nil
}

// Include returns the resources that the query's _include and _revinclude
// bring along with page, its matches: those the matches refer to, and
// those that refer to the matches. A resource about a patient is returned
// only if the consent contract permits who to read it (decided in one
// transaction, like any read; a denied one is left out, not an error);
// directory resources need no decision. _revinclude looks among the
// records of the matched resource's patient (for a resource about no
// patient, among the resources about no patient). A resource already on
// the page is not repeated; _summary=count includes nothing.
func (c *Custodian) Include(ctx context.Context, who Requester, q *fhir.Query, page []*fhir.Resource) ([]*fhir.Resource, error) {
	res := &q.Results
	if res.Summary == "count" || len(res.Include)+len(res.RevInclude) == 0 || len(page) == 0 {
		return nil, nil
	}
	seen := map[string]bool{}
	for _, r := range page {
		seen[r.Type()+"/"+r.ID()] = true
	}
	var found []vault.Record
	var kinds []consent.Item // per found record: the item deciding it
	add := func(rec vault.Record, item consent.Item) {
		if k := rec.Type + "/" + rec.ID; !seen[k] && !rec.Deleted {
			seen[k] = true
			found, kinds = append(found, rec), append(kinds, item)
		}
	}
	for _, inc := range res.Include {
		for _, r := range page {
			for _, ref := range inc.Refs(r) {
				typ, id := splitRef(ref)
				rec, err := c.latest(typ, id)
				if errors.Is(err, vault.ErrNotFound) || errors.Is(err, vault.ErrErased) || errors.Is(err, vault.ErrInvalid) {
					continue // not held here: references may point anywhere
				}
				if err != nil {
					return nil, err
				}
				add(rec, consent.Item{Type: typ, ID: rec.ID})
			}
		}
	}
	for _, inc := range res.RevInclude {
		for _, r := range page {
			rec, err := c.latest(r.Type(), r.ID())
			if err != nil {
				return nil, vaultError(err, r.Type(), r.ID())
			}
			recs, err := c.opts.Vault.List(rec.Patient, inc.Source)
			if err != nil {
				return nil, err
			}
			for _, cand := range recs {
				cr, err := fhir.Parse(cand.Content)
				if err != nil {
					return nil, fmt.Errorf("stored %s does not parse: %w", cand.Type, err)
				}
				if inc.RefersTo(cr, r.Type(), r.ID()) {
					add(cand, consent.Item{Type: cand.Type})
				}
			}
		}
	}
	return c.releaseAll(ctx, who, found, kinds)
}

func splitRef(ref string) (typ, id string) {
	typ, id, _ = strings.Cut(ref, "/")
	return typ, id
}

// releaseAll returns those of recs that who may read: the directory
// resources, and the patients' records that the contract permits, decided
// in one transaction (items of a type, without an id, decide a search of
// that type, whose decision may cover only some records).
func (c *Custodian) releaseAll(ctx context.Context, who Requester, recs []vault.Record, items []consent.Item) ([]*fhir.Resource, error) {
	parsed := make([]*fhir.Resource, len(recs))
	var asks []ask
	where := make([][2]int, len(recs)) // ask and item deciding each record; -1 for none
	byPatient := map[string]int{}
	for i, rec := range recs {
		r, err := fhir.Parse(rec.Content)
		if err != nil {
			return nil, fmt.Errorf("stored %s does not parse: %w", rec.Type, err)
		}
		parsed[i] = r
		if rec.Patient == "" {
			where[i] = [2]int{-1, -1}
			continue
		}
		item := items[i]
		if item.ID != "" {
			item.Categories = fhir.Categories(r)
		}
		a, ok := byPatient[rec.Patient]
		if !ok || len(asks[a].items) == consent.MaxItems {
			a = len(asks)
			asks = append(asks, ask{patient: rec.Patient})
			byPatient[rec.Patient] = a
		}
		j := slices.IndexFunc(asks[a].items, func(it consent.Item) bool { return it.ID == "" && item.ID == "" && it.Type == item.Type })
		if j < 0 {
			j = len(asks[a].items)
			asks[a].items = append(asks[a].items, item)
		}
		where[i] = [2]int{a, j}
	}
	ds, err := c.decideEach(ctx, who, asks)
	if err != nil {
		return nil, err
	}
	var out []*fhir.Resource
	for i, r := range parsed {
		if w := where[i]; w[0] < 0 || ds[w[0]][w[1]].Permit && within(&ds[w[0]][w[1]], r, c.Ref(r.Type(), r.ID())) {
			out = append(out, r)
		}
	}
	return out, nil
}
