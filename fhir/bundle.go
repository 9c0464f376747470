package fhir

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Bundle is a parsed transaction or batch Bundle.
type Bundle struct {
	Type    string // "transaction" or "batch"
	Entries []Entry

	tree map[string]any
}

// Entry is one entry of a transaction or batch: a request and, for POST and
// PUT, a resource.
type Entry struct {
	FullURL     string     // entry.fullUrl; "" if absent
	Resource    *Resource  // POST and PUT; nil otherwise
	Method      string     // GET, POST, PUT or DELETE
	URL         string     // request.url as given
	Type        string     // the resource type the URL names
	ID          string     // the id the URL names (Type/id); "" if none
	Query       url.Values // the URL's query (search, conditional PUT or DELETE); nil if none
	IfNoneExist url.Values // request.ifNoneExist (conditional create); nil if none
	IfMatch     string     // request.ifMatch as given, such as W/"3"; "" if none

	// Err is set, in a batch only, when this entry cannot be processed; the
	// other entries go on. In a transaction any such error fails the whole
	// Bundle instead.
	Err error
}

// ParseBundle parses a transaction or batch Bundle with DefaultLimits.
func ParseBundle(b []byte) (*Bundle, error) { return DefaultLimits.ParseBundle(b) }

// ParseBundle parses a transaction or batch Bundle. It checks each entry's
// request (method, url, ifNoneExist) and resource (as Parse does, and that
// its type is the URL's). A transaction with any bad entry is refused as a
// whole, listing every issue; in a batch a bad entry gets its Err and the
// others are returned.
func (l Limits) ParseBundle(b []byte) (*Bundle, error) {
	l = l.EnsureDefaults()
	if len(b) > l.MaxBundleBytes {
		return nil, errorAt(ErrTooLarge, "", "", "Bundle of %d bytes exceeds the limit of %d", len(b), l.MaxBundleBytes)
	}
	v, err := decodeJSON(b, l.MaxDepth)
	if err != nil {
		return nil, errorAt(ErrInvalid, "structure", "", "%v", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errorAt(ErrInvalid, "structure", "", "a Bundle must be a JSON object")
	}
	if rt, _ := m["resourceType"].(string); rt != "Bundle" {
		return nil, errorAt(ErrInvalid, "structure", "resourceType", "resourceType must be Bundle")
	}
	typ, _ := m["type"].(string)
	switch typ {
	case "transaction", "batch":
	case "":
		return nil, errorAt(ErrInvalid, "required", "Bundle.type", "type must be transaction or batch")
	default:
		return nil, errorAt(ErrUnsupported, "not-supported", "Bundle.type", "only transaction and batch Bundles are processed")
	}
	bundle := &Bundle{Type: typ, tree: m}
	raw, present := m["entry"]
	if !present {
		return bundle, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, errorAt(ErrInvalid, "structure", "Bundle.entry", "entry must be an array")
	}
	if len(list) > l.MaxBundleEntries {
		return nil, errorAt(ErrTooLarge, "", "Bundle.entry", "%d entries exceed the limit of %d", len(list), l.MaxBundleEntries)
	}
	bundle.Entries = make([]Entry, len(list))
	var failed *Error // a transaction's issues
	fullURLs := make(map[string]int, len(list))
	for i, raw := range list {
		e, err := parseEntry(raw, i)
		if err == nil && e.FullURL != "" {
			if _, dup := fullURLs[e.FullURL]; dup {
				err = errorAt(ErrInvalid, "duplicate", joinKey(joinIndex("Bundle.entry", i), "fullUrl"), "another entry has the same fullUrl")
			} else {
				fullURLs[e.FullURL] = i
			}
		}
		if err != nil {
			if typ == "batch" {
				e.Err = err
			} else {
				failed = mergeError(failed, err)
			}
		}
		bundle.Entries[i] = e
	}
	if failed != nil {
		return nil, failed
	}
	return bundle, nil
}

// mergeError adds err's issues to acc; the first error decides the kind.
func mergeError(acc *Error, err error) *Error {
	if acc == nil {
		acc = &Error{}
		if k, ok := kindOf(err); ok {
			acc.Kind = kinds[k].kind
		} else {
			acc.Kind = ErrInvalid
		}
	}
	acc.Issues = append(acc.Issues, IssuesOf(err)...)
	return acc
}

func parseEntry(raw any, i int) (Entry, error) {
	at := joinIndex("Bundle.entry", i)
	var e Entry
	m, ok := raw.(map[string]any)
	if !ok {
		return e, errorAt(ErrInvalid, "structure", at, "an entry must be an object")
	}
	if v, present := m["fullUrl"]; present {
		if e.FullURL, ok = v.(string); !ok || e.FullURL == "" {
			return e, errorAt(ErrInvalid, "structure", joinKey(at, "fullUrl"), "fullUrl must be a non-empty string")
		}
	}
	req, ok := m["request"].(map[string]any)
	if !ok {
		return e, errorAt(ErrInvalid, "required", joinKey(at, "request"), "request is required in a transaction or batch")
	}
	rat := joinKey(at, "request")
	e.Method, _ = req["method"].(string)
	e.URL, _ = req["url"].(string)
	if e.URL == "" {
		return e, errorAt(ErrInvalid, "required", joinKey(rat, "url"), "url is required")
	}
	switch e.Method {
	case "GET", "POST", "PUT", "DELETE":
	case "HEAD", "PATCH":
		return e, errorAt(ErrUnsupported, "not-supported", joinKey(rat, "method"), "method is not supported")
	default:
		return e, errorAt(ErrInvalid, "value", joinKey(rat, "method"), "method must be GET, POST, PUT or DELETE")
	}
	if v, present := req["ifMatch"]; present {
		if e.IfMatch, ok = v.(string); !ok {
			return e, errorAt(ErrInvalid, "structure", joinKey(rat, "ifMatch"), "ifMatch must be a string")
		}
	}

	// The URL: Type, Type/id or Type?query, relative to the server base.
	u := strings.TrimPrefix(e.URL, "/")
	path, query, hasQuery := strings.Cut(u, "?")
	if strings.Contains(path, ":") {
		return e, errorAt(ErrUnsupported, "not-supported", joinKey(rat, "url"), "absolute request URLs are not supported")
	}
	segs := strings.Split(path, "/")
	e.Type = segs[0]
	if !IsResourceType(e.Type) {
		return e, errorAt(ErrUnsupported, "not-supported", joinKey(rat, "url"), "url does not name an R4 resource type")
	}
	switch {
	case len(segs) == 2 && ValidID(segs[1]):
		e.ID = segs[1]
	case len(segs) > 1:
		return e, errorAt(ErrUnsupported, "not-supported", joinKey(rat, "url"), "url must be Type, Type/id or Type?query")
	}
	if hasQuery {
		q, err := url.ParseQuery(query)
		if err != nil {
			return e, errorAt(ErrInvalid, "value", joinKey(rat, "url"), "url has a malformed query")
		}
		e.Query = q
	}
	urlErr := func(rule string) error {
		return errorAt(ErrInvalid, "value", joinKey(rat, "url"), "a %s entry's url must be %s", e.Method, rule)
	}
	switch e.Method {
	case "POST":
		if e.ID != "" || hasQuery {
			return e, urlErr("Type")
		}
	case "PUT", "DELETE":
		if (e.ID == "") == (e.Query == nil) {
			return e, urlErr("Type/id or Type?query")
		}
	case "GET":
		if e.ID != "" && hasQuery {
			return e, urlErr("Type, Type/id or Type?query")
		}
	}
	if v, present := req["ifNoneExist"]; present {
		s, ok := v.(string)
		if !ok || e.Method != "POST" {
			return e, errorAt(ErrInvalid, "structure", joinKey(rat, "ifNoneExist"), "ifNoneExist must be a string, in a POST")
		}
		// Written as a query ("identifier=s|v"), or with the type in front.
		s = strings.TrimPrefix(s, e.Type+"?")
		q, err := url.ParseQuery(s)
		if err != nil || len(q) == 0 {
			return e, errorAt(ErrInvalid, "value", joinKey(rat, "ifNoneExist"), "ifNoneExist must be a search query")
		}
		e.IfNoneExist = q
	}

	raw, present := m["resource"]
	wantResource := e.Method == "POST" || e.Method == "PUT"
	if present != wantResource {
		if present {
			return e, errorAt(ErrInvalid, "structure", joinKey(at, "resource"), "a %s entry has no resource", e.Method)
		}
		return e, errorAt(ErrInvalid, "required", joinKey(at, "resource"), "a %s entry needs a resource", e.Method)
	}
	if !present {
		return e, nil
	}
	rm, ok := raw.(map[string]any)
	if !ok {
		return e, errorAt(ErrInvalid, "structure", joinKey(at, "resource"), "resource must be an object")
	}
	r, err := newResource(rm, joinKey(at, "resource"))
	if err != nil {
		return e, err
	}
	if r.typ != e.Type {
		return e, errorAt(ErrInvalid, "value", joinKey(joinKey(at, "resource"), "resourceType"), "resourceType differs from the type in request.url")
	}
	if e.Method == "PUT" && e.ID != "" && r.id != e.ID {
		return e, errorAt(ErrInvalid, "value", joinKey(joinKey(at, "resource"), "id"), "a PUT resource's id must equal the id in request.url")
	}
	e.Resource = r
	return e, nil
}

// Resolver finds stored resources for conditional references, creates,
// updates and deletes. q holds search parameters in the form ParseQuery
// takes; Lookup returns the ids of the current resources of type typ that
// match. The caller implements it over its store.
type Resolver interface {
	Lookup(typ string, q url.Values) (ids []string, err error)
}

// Action is what the server does for one entry.
type Action uint8

const (
	ActionCreate Action = iota + 1 // store Resource as Type/ID, version 1; respond 201
	ActionUpdate                   // store Resource as a new version of Type/ID; respond 200
	ActionDelete                   // delete Type/ID; respond 204
	ActionRead                     // read Type/ID; respond 200 with it
	ActionSearch                   // search Type with Query; respond 200 with a searchset
	ActionNone                     // nothing: a conditional create that matched Type/ID, or a conditional delete that matched nothing; respond 200
)

func (a Action) String() string {
	switch a {
	case ActionCreate:
		return "create"
	case ActionUpdate:
		return "update"
	case ActionDelete:
		return "delete"
	case ActionRead:
		return "read"
	case ActionSearch:
		return "search"
	case ActionNone:
		return "none"
	}
	return "unknown"
}

// Op is the resolved form of one entry.
type Op struct {
	Action   Action
	Type     string
	ID       string     // the resource acted on; "" for a search
	Resource *Resource  // create and update: its id set and its references rewritten
	Query    url.Values // search
	IfMatch  string     // update and delete: the version the client expects, as given

	// Err is set, in a batch only, when the entry failed; the server
	// responds to it with Err's status and OperationOutcome.
	Err error
}

// Plan is a resolved Bundle: one Op per entry, in the Bundle's order.
type Plan struct {
	Type string // "transaction" or "batch"
	Ops  []Op
}

// Order returns the indexes of the ops in the order FHIR processes a
// transaction: deletes, then creates, then updates, then reads and searches
// (entries of one kind keep their Bundle order).
func (p *Plan) Order() []int {
	rank := func(op Op) int {
		switch op.Action {
		case ActionDelete:
			return 0
		case ActionCreate, ActionNone:
			return 1
		case ActionUpdate:
			return 2
		default:
			return 3
		}
	}
	idx := make([]int, len(p.Ops))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return rank(p.Ops[a]) - rank(p.Ops[b]) })
	return idx
}

// Resolve plans a Bundle: it gives every created resource an id from newID,
// settles conditional creates, updates and deletes through lookup, and
// rewrites every Reference.reference in the resources (contained ones
// included) that names an entry's fullUrl, or that is a conditional
// reference such as "Organization?identifier=s|v", into "Type/id". A
// conditional reference or conditional operation must match exactly one
// resource (zero or several is an error of kind ErrUnresolved or
// ErrMultipleMatches); candidates are the stored resources lookup finds and
// the resources the Bundle itself creates or updates. A urn:uuid or urn:oid
// reference that no entry defines is an error of kind ErrUnresolved.
//
// A transaction is all or nothing: on any error Resolve returns it with
// every issue found and leaves b's resources untouched. In a batch each
// failing entry's Op carries its error and the rest are planned. An error
// of lookup or newID ends Resolve for either type, returned as is. Resolve
// rewrites the resources of b in place; the Plan's resources are the same
// values.
func Resolve(b *Bundle, newID func(typ string) string, lookup Resolver) (*Plan, error) {
	rs := &resolver{
		bundle:  b,
		newID:   newID,
		lookup:  lookup,
		plan:    &Plan{Type: b.Type, Ops: make([]Op, len(b.Entries))},
		targets: map[string]ref{},
		entryOf: map[string]int{},
		cache:   map[string]lookupResult{},
		indexes: map[string]*tokenIndex{},
		failed:  make([]*Error, len(b.Entries)),
	}
	for i := range b.Entries {
		if err := b.Entries[i].Err; err != nil {
			rs.fail(i, err)
			continue
		}
		if err := rs.planEntry(i); err != nil {
			if _, known := kindOf(err); !known {
				return nil, err // the store or newID failed, not the Bundle
			}
			rs.fail(i, err)
		}
	}
	// Find the rewrites.
	edits := make([][]edit, len(b.Entries))
	for i := range b.Entries {
		op := &rs.plan.Ops[i]
		if rs.failed[i] != nil || op.Resource == nil {
			continue
		}
		es, err := rs.references(i)
		if err != nil {
			if _, known := kindOf(err); !known {
				return nil, err
			}
			rs.fail(i, err)
			continue
		}
		edits[i] = es
	}
	if b.Type == "batch" {
		rs.propagate(edits)
	}

	if b.Type == "transaction" {
		var all *Error
		for _, err := range rs.failed {
			if err != nil {
				all = mergeError(all, err)
			}
		}
		if all != nil {
			return nil, all
		}
	}
	for i := range rs.plan.Ops {
		op := &rs.plan.Ops[i]
		if rs.failed[i] != nil {
			*op = Op{Err: rs.failed[i], Type: b.Entries[i].Type}
			continue
		}
		for _, e := range edits[i] {
			e.m["reference"] = e.value
		}
		if op.Action == ActionCreate || op.Action == ActionUpdate {
			op.Resource.id = op.ID
			op.Resource.tree["id"] = op.ID
		}
	}
	return rs.plan, nil
}

type resolver struct {
	bundle  *Bundle
	newID   func(string) string
	lookup  Resolver
	plan    *Plan
	targets map[string]ref // fullUrl (and Type/id of absolute ones) -> the entry's resource
	entryOf map[string]int // Type/id -> the entry that creates or updates it
	cache   map[string]lookupResult
	indexes map[string]*tokenIndex // by type and parameter code
	failed  []*Error
}

type lookupResult struct {
	ids []string
	err error
}

// edit is one reference to rewrite: m["reference"] becomes value. target is
// the entry that creates or updates what value names, or -1.
type edit struct {
	m      map[string]any
	value  string
	at     string
	target int
}

// propagate fails, in a batch, every entry whose references name an entry
// that failed, and those that refer to them in turn: a failed entry stores
// nothing for them to refer to.
func (rs *resolver) propagate(edits [][]edit) {
	type dependent struct {
		entry int
		at    string
	}
	dependents := map[int][]dependent{} // target -> the references naming it
	for i, es := range edits {
		for _, e := range es {
			if e.target >= 0 && e.target != i {
				dependents[e.target] = append(dependents[e.target], dependent{i, e.at})
			}
		}
	}
	var queue []int
	for i, f := range rs.failed {
		if f != nil {
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		for _, d := range dependents[f] {
			if rs.failed[d.entry] == nil {
				rs.fail(d.entry, errorAt(ErrUnresolved, "not-found", d.at, "refers to an entry of the batch that failed"))
				queue = append(queue, d.entry)
			}
		}
	}
}

func (rs *resolver) fail(i int, err error) {
	rs.failed[i] = mergeError(nil, err)
	// A failed entry defines nothing that others can refer to.
	if u := rs.bundle.Entries[i].FullURL; u != "" {
		delete(rs.targets, u)
		if r, ok := parseRef(u); ok && strings.Contains(u, "://") {
			delete(rs.targets, r.typ+"/"+r.id)
		}
	}
}

// planEntry decides entry i's action and id.
func (rs *resolver) planEntry(i int) error {
	e := &rs.bundle.Entries[i]
	op := &rs.plan.Ops[i]
	op.Type, op.IfMatch = e.Type, e.IfMatch
	rat := joinKey(joinIndex("Bundle.entry", i), "request")
	switch e.Method {
	case "POST":
		op.Action, op.Resource = ActionCreate, e.Resource
		if e.IfNoneExist != nil {
			ids, err := rs.match(e.Type, e.IfNoneExist, i, joinKey(rat, "ifNoneExist"))
			if err != nil {
				return err
			}
			switch len(ids) {
			case 0:
			case 1:
				op.Action, op.ID, op.Resource = ActionNone, ids[0], nil
			default:
				return errorAt(ErrMultipleMatches, "multiple-matches", joinKey(rat, "ifNoneExist"), "the conditional create matches more than one resource")
			}
		}
		if op.Action == ActionCreate {
			id, err := rs.assign(e.Type)
			if err != nil {
				return err
			}
			op.ID = id
		}
	case "PUT":
		op.Action, op.Resource, op.ID = ActionUpdate, e.Resource, e.ID
		if e.ID == "" {
			ids, err := rs.match(e.Type, e.Query, i, joinKey(rat, "url"))
			if err != nil {
				return err
			}
			switch len(ids) {
			case 0:
				id, err := rs.assign(e.Type)
				if err != nil {
					return err
				}
				op.Action, op.ID = ActionCreate, id
			case 1:
				op.ID = ids[0]
				if e.Resource.id != "" && e.Resource.id != op.ID {
					return errorAt(ErrInvalid, "value", joinKey(joinKey(joinIndex("Bundle.entry", i), "resource"), "id"), "the resource's id differs from the resource the conditional update matches")
				}
			default:
				return errorAt(ErrMultipleMatches, "multiple-matches", joinKey(rat, "url"), "the conditional update matches more than one resource")
			}
		}
	case "DELETE":
		op.Action, op.ID = ActionDelete, e.ID
		if e.ID == "" {
			ids, err := rs.match(e.Type, e.Query, i, joinKey(rat, "url"))
			if err != nil {
				return err
			}
			switch len(ids) {
			case 0:
				op.Action = ActionNone
			case 1:
				op.ID = ids[0]
			default:
				return errorAt(ErrMultipleMatches, "multiple-matches", joinKey(rat, "url"), "the conditional delete matches more than one resource")
			}
		}
	case "GET":
		if e.ID != "" {
			op.Action, op.ID = ActionRead, e.ID
		} else {
			op.Action, op.Query = ActionSearch, e.Query
			if op.Query == nil {
				op.Query = url.Values{}
			}
		}
	}
	if op.Resource != nil {
		rs.entryOf[op.Type+"/"+op.ID] = i
	}
	if e.FullURL != "" && (op.Resource != nil || op.Action == ActionNone && op.ID != "") {
		target := ref{op.Type, op.ID}
		rs.targets[e.FullURL] = target
		// An absolute fullUrl names the entry as Type/id at some base;
		// relative references to that Type/id mean it too.
		if r, ok := parseRef(e.FullURL); ok && strings.Contains(e.FullURL, "://") && r.typ == op.Type {
			rs.targets[r.typ+"/"+r.id] = target
		}
	}
	return nil
}

func (rs *resolver) assign(typ string) (string, error) {
	id := rs.newID(typ)
	if !ValidID(id) {
		return "", fmt.Errorf("fhir: newID returned an invalid id for a %s", typ)
	}
	return id, nil
}

// match returns the ids of the resources of type typ matching q: those
// lookup finds and those the entries before entry `before` create or update
// (before < 0: all entries).
func (rs *resolver) match(typ string, q url.Values, before int, at string) ([]string, error) {
	key := typ + "?" + q.Encode()
	res, seen := rs.cache[key]
	if !seen {
		res.ids, res.err = rs.lookup.Lookup(typ, q)
		if res.err != nil {
			res.err = fmt.Errorf("look up %s: %w", at, res.err)
		}
		rs.cache[key] = res
	}
	if res.err != nil {
		return nil, res.err
	}
	ids := slices.Clone(res.ids)
	query, err := ParseQuery(typ, q)
	if err != nil {
		// Not a query this package can run: only the stored resources count.
		return ids, nil
	}
	limit := len(rs.plan.Ops)
	if before >= 0 {
		limit = before
	}
	for _, j := range rs.candidates(query, limit) {
		op := rs.plan.Ops[j]
		if rs.failed[j] != nil || op.Resource == nil || op.Type != typ {
			continue
		}
		if query.Match(op.Resource) && !slices.Contains(ids, op.ID) {
			ids = append(ids, op.ID)
		}
	}
	return ids, nil
}

// candidates returns the indexes, below limit and in order, of the entries
// that may match q: through an index on the query's first token condition
// when it has one (so that a batch of thousands of conditional creates
// stays linear), else all of them.
func (rs *resolver) candidates(q *Query, limit int) []int {
	code, values, ok := q.indexable()
	if !ok {
		all := make([]int, limit)
		for j := range all {
			all[j] = j
		}
		return all
	}
	key := q.Type + " " + code
	idx := rs.indexes[key]
	if idx == nil {
		idx = &tokenIndex{byCode: map[string][]int{}}
		rs.indexes[key] = idx
	}
	p := paramFor(q.Type, code)
	for ; idx.upto < limit; idx.upto++ {
		op := rs.plan.Ops[idx.upto]
		if op.Resource == nil || op.Type != q.Type {
			continue
		}
		for _, path := range p.paths {
			j := idx.upto
			eachValue(op.Resource.tree, path.keys, func(v any) {
				eachToken(v, path.typ, func(t token) { idx.byCode[t.code] = append(idx.byCode[t.code], j) })
			})
		}
	}
	var out []int
	for _, v := range values {
		for _, j := range idx.byCode[v] {
			if j < limit {
				out = append(out, j)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// tokenIndex maps the codes of one token parameter to the entries whose
// resources have them, for entries [0, upto).
type tokenIndex struct {
	upto   int
	byCode map[string][]int
}

// references finds the rewrites of entry i's references.
func (rs *resolver) references(i int) ([]edit, error) {
	e := &rs.bundle.Entries[i]
	base := ""
	if r, ok := parseRef(e.FullURL); ok && strings.Contains(e.FullURL, "://") {
		base = strings.TrimSuffix(e.FullURL, "/"+r.typ+"/"+r.id)
	}
	var edits []edit
	var failed *Error
	var internal error // a failure of the store, which ends the walk's use
	at := joinKey(joinIndex("Bundle.entry", i), "resource")
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				if s, ok := c.(string); ok && k == "reference" {
					value, err := rs.rewrite(s, base, joinKey(path, k))
					if _, known := kindOf(err); err != nil && !known {
						internal = err
					} else if err != nil {
						failed = mergeError(failed, err)
					} else if value != s {
						target, ok := rs.entryOf[value]
						if !ok {
							target = -1
						}
						edits = append(edits, edit{v, value, joinKey(path, k), target})
					}
					continue
				}
				walk(c, joinKey(path, k))
			}
		case []any:
			for j, c := range v {
				walk(c, joinIndex(path, j))
			}
		}
	}
	walk(e.Resource.tree, at)
	if internal != nil {
		return nil, internal
	}
	if failed != nil {
		sortIssues(failed.Issues)
		return nil, failed
	}
	return edits, nil
}

// sortIssues orders issues by expression, since map iteration found them in
// no particular order.
func sortIssues(issues []Issue) {
	slices.SortStableFunc(issues, func(a, b Issue) int {
		return strings.Compare(strings.Join(a.Expression, ","), strings.Join(b.Expression, ","))
	})
}

// rewrite returns what reference s becomes.
func (rs *resolver) rewrite(s, base, at string) (string, error) {
	if t, ok := rs.targets[s]; ok {
		return t.typ + "/" + t.id, nil
	}
	if base != "" && !strings.Contains(s, ":") && !strings.HasPrefix(s, "#") {
		if t, ok := rs.targets[base+"/"+s]; ok {
			return t.typ + "/" + t.id, nil
		}
	}
	if strings.HasPrefix(s, "urn:uuid:") || strings.HasPrefix(s, "urn:oid:") {
		return "", errorAt(ErrUnresolved, "not-found", at, "no entry of the Bundle has this fullUrl")
	}
	typ, query, conditional := strings.Cut(s, "?")
	if !conditional || !IsResourceType(typ) {
		return s, nil
	}
	q, err := url.ParseQuery(query)
	if err != nil || len(q) == 0 {
		return "", errorAt(ErrInvalid, "value", at, "conditional reference has a malformed query")
	}
	ids, err := rs.match(typ, q, -1, at)
	if err != nil {
		return "", err
	}
	switch len(ids) {
	case 1:
		return typ + "/" + ids[0], nil
	case 0:
		return "", errorAt(ErrUnresolved, "not-found", at, "conditional reference matches no %s", typ)
	default:
		return "", errorAt(ErrMultipleMatches, "multiple-matches", at, "conditional reference matches more than one %s", typ)
	}
}

// Result is the outcome of one entry as the server carried it out.
type Result struct {
	Status       int       // HTTP status, such as 201
	Location     string    // create and update: Type/id/_history/version
	ETag         string    // W/"version"
	LastModified time.Time // zero if not applicable
	Resource     *Resource // a read's resource, a search's searchset Bundle, or nil
	Err          error     // a failed batch entry; Status and the outcome come from it
}

// ResponseBundle returns the transaction-response or batch-response Bundle
// (as bundleType is "transaction" or "batch") with one entry per result, in
// the request Bundle's order.
func ResponseBundle(bundleType string, results []Result) *Resource {
	entries := make([]any, len(results))
	for i, res := range results {
		resp := map[string]any{}
		entry := map[string]any{"response": resp}
		status := res.Status
		if res.Err != nil {
			status = StatusOf(res.Err)
			resp["outcome"] = outcomeTree(IssuesOf(res.Err))
		} else if res.Resource != nil {
			entry["resource"] = res.Resource.tree
		}
		resp["status"] = fmt.Sprintf("%d %s", status, http.StatusText(status))
		if res.Location != "" {
			resp["location"] = res.Location
		}
		if res.ETag != "" {
			resp["etag"] = res.ETag
		}
		if !res.LastModified.IsZero() {
			resp["lastModified"] = res.LastModified.UTC().Format(time.RFC3339Nano)
		}
		entries[i] = entry
	}
	tree := map[string]any{"resourceType": "Bundle", "type": bundleType + "-response"}
	if len(entries) > 0 {
		tree["entry"] = entries
	}
	return &Resource{typ: "Bundle", tree: tree}
}
