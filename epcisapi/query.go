package epcisapi

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/tx"
)

// Paging of GET /epcis/events.
const (
	defaultPerPage = 30
	maxPerPage     = 1000
)

// careledgerNS is the namespace of what a withheld event's summary adds.
const careledgerNS = "https://careledger.org/epcis/"

// filter is a parsed SimpleEventQuery: each list is a set of values any of
// which matches (the binding's "|"); times are bounds.
type filter struct {
	eventTypes, actions, bizSteps, dispositions []string
	readPoints, bizLocations, lots, expiries    []string
	epcs, anyEPCs                               []string
	geEventTime, ltEventTime, geRecordTime      time.Time
	perPage, offset                             int
}

// bodyOnly reports whether the filter tests fields only bodies hold, so
// that an event known only by its chain summary cannot match.
func (f *filter) bodyOnly() bool {
	return len(f.readPoints)+len(f.bizLocations)+len(f.lots)+len(f.expiries) > 0 ||
		!f.geEventTime.IsZero() || !f.ltEventTime.IsZero() || !f.geRecordTime.IsZero()
}

func split(v string) []string { return strings.Split(v, "|") }

// parseFilter reads the query parameters, refusing unknown ones.
func parseFilter(q url.Values) (*filter, error) {
	f := &filter{perPage: defaultPerPage}
	for name, vals := range q {
		v := vals[len(vals)-1]
		var err error
		switch name {
		case "eventType":
			f.eventTypes = split(v)
		case "EQ_action":
			f.actions = split(v)
		case "EQ_bizStep":
			f.bizSteps = expandAll(split(v), bizStepPrefix)
		case "EQ_disposition":
			f.dispositions = expandAll(split(v), dispositionPrefix)
		case "EQ_readPoint":
			f.readPoints = split(v)
		case "EQ_bizLocation":
			f.bizLocations = split(v)
		case "MATCH_epc":
			f.epcs = split(v)
		case "MATCH_anyEPC":
			f.anyEPCs = split(v)
		case "GE_eventTime":
			f.geEventTime, err = queryTime(name, v)
		case "LT_eventTime":
			f.ltEventTime, err = queryTime(name, v)
		case "GE_recordTime":
			f.geRecordTime, err = queryTime(name, v)
		case "perPage":
			f.perPage, err = strconv.Atoi(v)
			if err != nil || f.perPage < 1 || f.perPage > maxPerPage {
				err = tx.Rejectf(tx.CodeInvalid, "perPage is 1 to %d", maxPerPage)
			}
		case "nextPageToken":
			f.offset, err = parseToken(v)
		default:
			switch {
			case strings.HasPrefix(name, "EQ_ILMD_") && strings.HasSuffix(name, "lotNumber"):
				f.lots = split(v)
			case strings.HasPrefix(name, "EQ_ILMD_") && strings.HasSuffix(name, "itemExpirationDate"):
				f.expiries = split(v)
			default:
				err = tx.Rejectf(tx.CodeInvalid, "query parameter %q is not supported", truncate(name, 64))
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return f, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// expandAll turns bare CBV names ("shipping") into the web URIs the index
// holds.
func expandAll(vs []string, prefix string) []string {
	for i, v := range vs {
		if !strings.Contains(v, ":") {
			vs[i] = prefix + v
		} else if name, ok := strings.CutPrefix(v, "urn:epcglobal:cbv:bizstep:"); ok {
			vs[i] = bizStepPrefix + name
		} else if name, ok := strings.CutPrefix(v, "urn:epcglobal:cbv:disp:"); ok {
			vs[i] = dispositionPrefix + name
		}
	}
	return vs
}

func queryTime(name, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return t, tx.Rejectf(tx.CodeInvalid, "%s is a date-time such as 2024-01-31T10:00:00Z", name)
	}
	return t, nil
}

func parseToken(v string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(v)
	n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "o"))
	if err != nil || err2 != nil || n < 0 || !strings.HasPrefix(string(b), "o") {
		return 0, tx.Rejectf(tx.CodeInvalid, "nextPageToken is not one this node gave")
	}
	return n, nil
}

func pageToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o" + strconv.Itoa(offset)))
}

// epcMatches reports whether any of the event's EPCs is one of want,
// comparing the chain's form where both convert (a URN and a Digital Link
// of the same item match).
func epcMatches(have, want []string) bool {
	for _, w := range want {
		wc, wok := chainEPC(w)
		for _, h := range have {
			if h == w {
				return true
			}
			if hc, ok := chainEPC(h); ok && wok && hc == wc {
				return true
			}
		}
	}
	return false
}

func anyOf(v string, set []string) bool { return len(set) == 0 || slices.Contains(set, v) }

// matches tests a held entry.
func (f *filter) matches(e *entry) bool {
	return anyOf(e.Type, f.eventTypes) && anyOf(e.Action, f.actions) &&
		anyOf(e.BizStep, f.bizSteps) && anyOf(e.Disposition, f.dispositions) &&
		anyOf(e.ReadPoint, f.readPoints) && anyOf(e.BizLocation, f.bizLocations) &&
		anyOf(e.Lot, f.lots) && anyOf(e.Expiry, f.expiries) &&
		(len(f.epcs) == 0 || epcMatches(e.EPCs, f.epcs)) &&
		(len(f.anyEPCs) == 0 || epcMatches(append(append([]string(nil), e.EPCs...), e.AnyEPCs...), f.anyEPCs)) &&
		(f.geEventTime.IsZero() || !e.EventTime.Before(f.geEventTime)) &&
		(f.ltEventTime.IsZero() || e.EventTime.Before(f.ltEventTime)) &&
		(f.geRecordTime.IsZero() || !e.RecordTime.Before(f.geRecordTime))
}

// matchesSummary tests an event known only by its chain record.
func (f *filter) matchesSummary(r *supply.EventRecord) bool {
	if f.bodyOnly() {
		return false
	}
	return anyOf(r.Kind.String(), f.eventTypes) && anyOf(actionName(r.Action), f.actions) &&
		anyOf(expand(r.BizStep, bizStepPrefix), f.bizSteps) && anyOf(expand(r.Disposition, dispositionPrefix), f.dispositions)
}

func actionName(a supply.Action) string {
	if a == supply.NoAction {
		return ""
	}
	return a.String()
}

func expand(name, prefix string) string {
	if name == "" {
		return ""
	}
	return prefix + name
}

// viewer is who asks, whether their organization is a regulator, and the
// committed state that says which GLNs it owns.
type viewer struct {
	acct      *identity.Account
	regulator bool
	state     identity.Reader
}

// mayRead reports whether v may see e's body: a member of the capturer,
// of an owning party the event names (as resolved at capture, or as the
// chain's party directory names the owner of its GLN now), or of a
// regulator.
func (v viewer) mayRead(e *entry) bool {
	if v.regulator || v.acct.Org == e.Capturer || slices.Contains(e.Parties, v.acct.Org) {
		return true
	}
	for _, gln := range e.PartyGLNs {
		if org, err := supply.PartyOwner(v.state, gln); err == nil && org == v.acct.Org {
			return true
		}
	}
	return false
}

// reader authenticates a query: any active member of an organization.
func (s *Server) reader(r *http.Request) (viewer, error) {
	acct, err := s.opts.Auth.Authenticate(r)
	if err != nil {
		return viewer{}, err
	}
	if acct.Kind != identity.Member {
		return viewer{}, tx.Rejectf(tx.CodeUnauthorized, "EPCIS queries are for members of organizations")
	}
	state := s.opts.State()
	org, err := identity.LoadOrg(state, acct.Org)
	if err != nil {
		return viewer{}, err
	}
	return viewer{acct: acct, regulator: org != nil && org.Type == identity.Regulator, state: state}, nil
}

// result is one event of an answer: a body, or a summary.
type result = json.RawMessage

func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	v, err := s.reader(r)
	if err != nil {
		s.problem(w, err)
		return
	}
	form, err := negotiate(r.Header.Get("Accept"))
	if err != nil {
		s.problem(w, err)
		return
	}
	f, err := parseFilter(r.URL.Query())
	if err != nil {
		s.problem(w, err)
		return
	}
	all, err := s.find(r.Context(), f, v)
	if err != nil {
		s.problem(w, err)
		return
	}
	page := all[min(f.offset, len(all)):]
	if len(page) > f.perPage {
		page = page[:f.perPage]
		q := r.URL.Query()
		q.Set("nextPageToken", pageToken(f.offset+f.perPage))
		w.Header().Set("Link", "<"+r.URL.Path+"?"+q.Encode()+`>; rel="next"`)
	}
	s.writeEvents(w, form, page, false)
}

// find answers f: the events this node holds, in capture order, then
// those the chain's journeys of the EPCs asked about name and this node
// does not hold.
func (s *Server) find(ctx context.Context, f *filter, v viewer) ([]result, error) {
	var out []result
	s.mu.RLock()
	held := make([]*entry, 0, len(s.entries))
	for _, e := range s.entries {
		if f.matches(e) {
			held = append(held, e)
		}
	}
	s.mu.RUnlock()
	for _, e := range held {
		out = append(out, s.shown(e, v))
	}
	chain, err := s.chainOnly(f)
	if err != nil {
		return nil, err
	}
	for _, rec := range chain {
		out = append(out, s.remote(ctx, rec, v))
	}
	return out, nil
}

// remote is an event another organization captured: its body from that
// organization's node when v is a member of this node's organization and
// the capturer's node shows it to this organization, else its summary.
func (s *Server) remote(ctx context.Context, rec *supply.EventRecord, v viewer) result {
	id := hashID(rec.Hash)
	if v.acct.Org == s.opts.Org && rec.Org != s.opts.Org {
		if b, ok := s.opts.Peers.body(ctx, rec.Org, id); ok {
			return b
		}
	}
	return summary(rec.Kind.String(), actionName(rec.Action), expand(rec.BizStep, bizStepPrefix), expand(rec.Disposition, dispositionPrefix), id, rec.Org, rec.Height)
}

// chainOnly returns the recorded events that name the EPCs f asks about
// and that this node does not hold, in journey order.
func (s *Server) chainOnly(f *filter) ([]*supply.EventRecord, error) {
	var epcs []supply.EPC
	for _, x := range append(append([]string(nil), f.epcs...), f.anyEPCs...) {
		if e, ok := chainEPC(x); ok && !slices.Contains(epcs, e) {
			epcs = append(epcs, e)
		}
	}
	if len(epcs) == 0 {
		return nil, nil
	}
	view := s.opts.State()
	seen := map[[32]byte]bool{}
	var out []*supply.EventRecord
	for _, e := range epcs {
		hs, err := supply.Journey(view, e)
		if err != nil {
			return nil, err
		}
		for _, h := range hs {
			s.mu.RLock()
			_, held := s.byHash[h]
			s.mu.RUnlock()
			if held || seen[h] {
				continue
			}
			seen[h] = true
			rec, err := supply.LoadEvent(view, h)
			if err != nil {
				return nil, err
			}
			if rec != nil && f.matchesSummary(rec) {
				out = append(out, rec)
			}
		}
	}
	return out, nil
}

func hashID(h tx.Hash) string { return hashIDPrefix + hex.EncodeToString(h[:]) + "?ver=CBV2.0" }

// shown is e's body if v may read it, else its summary: only what the
// chain holds of it.
func (s *Server) shown(e *entry, v viewer) result {
	if v.mayRead(e) {
		return e.Body
	}
	return summary(e.Type, e.Action, e.BizStep, e.Disposition, e.HashID, e.Capturer, 0)
}

// summary is a withheld event: its type, action, business step and
// disposition, its hash as its eventID, and who captured it.
func summary(typ, action, bizStep, disposition, id, capturer string, height int64) result {
	var o obj
	o.set("@context", []any{epcisContext, obj{{"careledger", careledgerNS}}})
	o.set("type", typ)
	o.set("eventID", id)
	o.str("action", action)
	o.str("bizStep", bizStep)
	o.str("disposition", disposition)
	o.set("careledger:capturedBy", capturer)
	if height > 0 {
		o.set("careledger:height", strconv.FormatInt(height, 10))
	}
	o.set("careledger:bodyWithheld", "true")
	b, _ := json.Marshal(o)
	return b
}

// queryDocument wraps events in an EPCISQueryDocument.
func queryDocument(events []result, now time.Time) obj {
	if events == nil {
		events = []result{}
	}
	var doc obj
	doc.set("@context", []any{epcisContext})
	doc.set("type", "EPCISQueryDocument")
	doc.set("schemaVersion", "2.0")
	doc.set("creationDate", now.UTC().Format(time.RFC3339Nano))
	doc.set("epcisBody", obj{{"queryResults", obj{
		{"queryName", "SimpleEventQuery"},
		{"resultsBody", obj{{"eventList", events}}},
	}}})
	return doc
}

// event answers GET /epcis/events/{eventID}: by hash ID (or its hex), or
// by the eventID the client sent.
func (s *Server) event(w http.ResponseWriter, r *http.Request) {
	v, err := s.reader(r)
	if err != nil {
		s.problem(w, err)
		return
	}
	form, err := negotiate(r.Header.Get("Accept"))
	if err != nil {
		s.problem(w, err)
		return
	}
	id := r.PathValue("eventID")
	if u, err := url.PathUnescape(id); err == nil {
		id = u
	}
	h, isHash := parseHashID(id)
	s.mu.RLock()
	e := s.byEventID[id]
	if isHash && e == nil {
		e = s.byHash[h]
	}
	s.mu.RUnlock()
	if e != nil {
		s.writeEvents(w, form, []result{s.shown(e, v)}, true)
		return
	}
	if isHash {
		rec, err := supply.LoadEvent(s.opts.State(), h)
		if err != nil {
			s.problem(w, err)
			return
		}
		if rec != nil {
			s.writeEvents(w, form, []result{s.remote(r.Context(), rec, v)}, true)
			return
		}
	}
	s.problem(w, tx.Rejectf(tx.CodeNotFound, "no event with this eventID is known here"))
}
