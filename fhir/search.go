package fhir

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Paging defaults and bounds.
const (
	DefaultCount = 50   // page size when a search gives no _count
	MaxCount     = 1000 // a larger _count is lowered to this
	MaxOffset    = 1_000_000
)

// Query is a parsed search on one resource type: the conjunction of its
// parameters (each repeated parameter is one more condition), each the
// disjunction of its comma-separated values. Count and Offset select the
// page.
type Query struct {
	Type   string
	Count  int
	Offset int

	// Result parameters (result.go): _sort, _total, _summary, _elements,
	// _include and _revinclude.
	Results ResultParams

	clauses []clause
	raw     url.Values // the filtering and result parameters as given, for links
}

type clause struct {
	code     string
	modifier string // "", "not", "missing", or a resource type for references
	param    *searchParam
	missing  bool // with modifier "missing": the value
	values   []queryValue
}

type queryValue struct {
	tok    token
	anySys bool // a token without "|": any system
	anyVal bool // "system|": any code in the system
	ref    ref  // reference: typ "" when not given
	prefix datePrefix
	rng    dateRange
	str    string // string: normalized, or as given with :exact
}

// ParseQuery parses the search parameters of a search on typ. It supports,
// where the type defines them, _id, _lastUpdated, patient, subject, code,
// date, category, identifier, status, name, family, given and birthdate;
// the modifiers :not (tokens), :exact and :contains (strings), :missing,
// and :[type] (references); _count and _offset for paging; and the result
// parameters _sort, _total, _summary, _elements, _include and _revinclude
// (result.go). _format and _pretty are accepted and left to the HTTP
// layer. Any other parameter is an error that names it.
func ParseQuery(typ string, q url.Values) (*Query, error) {
	if !IsResourceType(typ) {
		return nil, errorAt(ErrUnknownType, "not-supported", "", "not an R4 resource type")
	}
	if searchParams[typ] == nil {
		return nil, errorAt(ErrUnsupported, "not-supported", "", "search on %s is not supported", typ)
	}
	query := &Query{Type: typ, Count: DefaultCount, raw: url.Values{}}
	var unknown []string
	var issues []Issue
	bad := func(name, format string, args ...any) {
		issues = append(issues, Issue{Code: "value", Diagnostics: "parameter " + paramName(name) + ": " + fmt.Sprintf(format, args...)})
	}
	for _, name := range sortedKeys(q) {
		vals := q[name]
		switch name {
		case "_count", "_offset":
			if len(vals) != 1 {
				bad(name, "give it once")
				continue
			}
			n, err := strconv.Atoi(vals[0])
			if err != nil || n < 0 {
				bad(name, "must be a non-negative integer")
				continue
			}
			if name == "_count" {
				query.Count = min(n, MaxCount)
			} else if n > MaxOffset {
				bad(name, "must be at most %d", MaxOffset)
			} else {
				query.Offset = n
			}
			continue
		case "_format", "_pretty":
			continue
		}
		if handled, err := query.Results.parse(typ, name, vals); handled {
			if err != "" {
				bad(name, "%s", err)
			} else {
				query.raw[name] = vals
			}
			continue
		}
		code, modifier, _ := strings.Cut(name, ":")
		p := paramFor(typ, code)
		if p == nil {
			unknown = append(unknown, paramName(name))
			continue
		}
		switch {
		case modifier == "" || modifier == "missing":
		case modifier == "not" && p.typ == paramToken:
		case (modifier == "exact" || modifier == "contains") && p.typ == paramString:
		case p.typ == paramReference && IsResourceType(modifier) && (len(p.targets) == 0 || slices.Contains(p.targets, modifier)):
		default:
			bad(name, "modifier not supported")
			continue
		}
		for _, v := range vals {
			c, err := parseClause(p, code, modifier, v)
			if err != "" {
				bad(name, "%s", err)
				continue
			}
			query.clauses = append(query.clauses, c)
			query.raw[name] = append(query.raw[name], v)
		}
	}
	if len(unknown) > 0 {
		issues = append(issues, Issue{Code: "not-supported", Diagnostics: "unknown search parameters for " + typ + ": " + strings.Join(unknown, ", ")})
	}
	if err := query.Results.check(); err != "" {
		issues = append(issues, Issue{Code: "value", Diagnostics: err})
	}
	if len(issues) > 0 {
		kind := ErrInvalid
		if len(unknown) > 0 {
			kind = ErrUnsupported
		}
		return nil, &Error{Kind: kind, Issues: issues}
	}
	return query, nil
}

// paramName returns a parameter name fit for a message: a client's unknown
// parameter is named only if it looks like one.
func paramName(s string) string {
	if len(s) == 0 || len(s) > 64 {
		return "?"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == ':' || c == '.') {
			return "?"
		}
	}
	return s
}

// parseClause parses one occurrence of a parameter. The error is a
// message without the value.
func parseClause(p *searchParam, code, modifier, v string) (clause, string) {
	c := clause{code: code, modifier: modifier, param: p}
	if modifier == "missing" {
		switch v {
		case "true":
			c.missing = true
		case "false":
		default:
			return c, "the :missing modifier takes true or false"
		}
		return c, ""
	}
	for _, s := range splitEscaped(v, ',') {
		var qv queryValue
		switch p.typ {
		case paramToken:
			parts := splitEscaped(s, '|')
			switch len(parts) {
			case 1:
				qv.tok.code, qv.anySys = unescape(parts[0]), true
			case 2:
				qv.tok.system, qv.tok.code = unescape(parts[0]), unescape(parts[1])
				qv.anyVal = parts[1] == ""
			default:
				return c, "a token is [system|]code"
			}
			if qv.tok.code == "" && !qv.anyVal {
				return c, "empty code"
			}
		case paramReference:
			s = unescape(s)
			if rf, ok := parseRef(s); ok {
				qv.ref = rf
			} else if ValidID(s) {
				qv.ref.id = s
			} else {
				return c, "a reference is [Type/]id"
			}
			if modifier != "" {
				if qv.ref.typ != "" && qv.ref.typ != modifier {
					return c, "the reference's type differs from the modifier"
				}
				qv.ref.typ = modifier
			}
		case paramDate:
			s = unescape(s)
			prefix := prefixEq
			if len(s) >= 2 && s[0] >= 'a' && s[0] <= 'z' {
				pr, ok := datePrefixes[s[:2]]
				if !ok {
					return c, "prefix not supported"
				}
				prefix, s = pr, s[2:]
			}
			rng, ok := parseDateRange(s)
			if !ok {
				return c, "not a date"
			}
			qv.prefix, qv.rng = prefix, rng
		case paramString:
			qv.str = unescape(s)
			if modifier != "exact" {
				qv.str = Normalize(qv.str)
			}
			if qv.str == "" {
				return c, "empty string"
			}
		}
		c.values = append(c.values, qv)
	}
	if len(c.values) == 0 {
		return c, "no value"
	}
	return c, ""
}

// splitEscaped splits s at each sep not preceded by a backslash; the parts
// keep their escapes.
func splitEscaped(s string, sep byte) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// unescape removes the search escapes \, \| \$ and \\.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Match reports whether r is of the query's type and meets every condition.
func (q *Query) Match(r *Resource) bool {
	if r.typ != q.Type {
		return false
	}
	for i := range q.clauses {
		if !q.clauses[i].match(r) {
			return false
		}
	}
	return true
}

func (c *clause) match(r *Resource) bool {
	p := c.param
	present, found := false, false
	for _, path := range p.paths {
		eachValue(r.tree, path.keys, func(v any) {
			switch p.typ {
			case paramToken:
				eachToken(v, path.typ, func(t token) {
					present = true
					found = found || slices.ContainsFunc(c.values, func(qv queryValue) bool { return qv.matchToken(t) })
				})
			case paramReference:
				eachRef(v, func(rf ref) {
					if path.refType != "" && rf.typ != path.refType {
						return
					}
					present = true
					found = found || slices.ContainsFunc(c.values, func(qv queryValue) bool {
						return qv.ref.id == rf.id && (qv.ref.typ == "" || qv.ref.typ == rf.typ)
					})
				})
			case paramDate:
				eachRange(v, path.typ, func(t dateRange) {
					present = true
					found = found || slices.ContainsFunc(c.values, func(qv queryValue) bool { return qv.prefix.matches(qv.rng, t) })
				})
			case paramString:
				eachString(v, path.typ, func(s string) {
					present = true
					found = found || slices.ContainsFunc(c.values, func(qv queryValue) bool { return matchString(c.modifier, qv.str, s) })
				})
			}
		})
	}
	switch c.modifier {
	case "missing":
		return !present == c.missing
	case "not":
		return !found
	}
	return found
}

// indexable returns the code and the value codes of the query's first
// token condition that an index on codes can answer: no modifier, and every
// value names a code.
func (q *Query) indexable() (code string, values []string, ok bool) {
	for _, c := range q.clauses {
		if c.param.typ != paramToken || c.modifier != "" || slices.ContainsFunc(c.values, func(v queryValue) bool { return v.anyVal }) {
			continue
		}
		for _, v := range c.values {
			values = append(values, v.tok.code)
		}
		return c.code, values, true
	}
	return "", nil, false
}

func (qv *queryValue) matchToken(t token) bool {
	switch {
	case qv.anySys:
		return t.code == qv.tok.code
	case qv.anyVal:
		return t.system == qv.tok.system
	default:
		return t == qv.tok
	}
}

// Patient returns the id of the patient the query is confined to, or "" if
// it names none or several. A query is confined to patient P when one of its
// conditions admits only resources of P: patient=P (or Patient/P),
// subject=Patient/P, subject:Patient=P, or for searches on Patient itself
// _id=P, each with a single value and no :not or :missing. Conditions that
// name different patients confine the query to none (it matches nothing).
func (q *Query) Patient() string {
	found := ""
	for _, c := range q.clauses {
		if len(c.values) != 1 || c.modifier == "not" || c.modifier == "missing" {
			continue
		}
		v := c.values[0]
		var id string
		switch {
		case q.Type == "Patient" && c.code == "_id":
			id = v.tok.code
		case c.param.typ == paramReference && (v.ref.typ == "Patient" || c.code == "patient" && v.ref.typ == ""):
			if !onlyPatientRefs(c.param) && v.ref.typ != "Patient" {
				continue
			}
			id = v.ref.id
		default:
			continue
		}
		if found != "" && found != id {
			return ""
		}
		found = id
	}
	return found
}

// onlyPatientRefs reports whether every element p reads can only be a
// reference to a Patient.
func onlyPatientRefs(p *searchParam) bool {
	for _, path := range p.paths {
		if path.refType != "Patient" {
			return false
		}
	}
	return true
}

// Encode returns the query's filtering parameters and _count as a query
// string in a fixed order (without _offset), for paging links.
func (q *Query) Encode() string {
	v := url.Values{}
	for k, vs := range q.raw {
		v[k] = vs
	}
	v.Set("_count", strconv.Itoa(q.Count))
	return v.Encode()
}

// Link is a Bundle link.
type Link struct {
	Relation string // self, first, previous, next or last
	URL      string
}

// Links returns the paging links of the query's page among total matches,
// for a search at base (such as "https://node.example/fhir/Observation").
func (q *Query) Links(base string, total int) []Link {
	enc := q.Encode()
	at := func(offset int) string {
		if offset == 0 {
			return base + "?" + enc
		}
		return base + "?" + enc + "&_offset=" + strconv.Itoa(offset)
	}
	links := []Link{{"self", at(q.Offset)}, {"first", at(0)}}
	if q.Count == 0 {
		return links
	}
	if q.Offset > 0 {
		links = append(links, Link{"previous", at(max(0, q.Offset-q.Count))})
	}
	if q.Offset+q.Count < total {
		links = append(links, Link{"next", at(q.Offset + q.Count)})
	}
	last := 0
	if total > 0 {
		last = (total - 1) / q.Count * q.Count
	}
	return append(links, Link{"last", at(last)})
}

// Page returns the part of matches on the query's page: from Offset, at most
// Count.
func (q *Query) Page(matches []*Resource) []*Resource {
	if q.Offset >= len(matches) {
		return nil
	}
	return matches[q.Offset:min(len(matches), q.Offset+q.Count)]
}

// SearchSet returns a searchset Bundle holding the page of matches
// (already cut by the caller, or by Page) and then the resources that
// _include and _revinclude brought (search.mode "include"), total, and the
// paging links. baseURL is the server's FHIR base (such as
// "https://node.example/fhir"); each entry's fullUrl is baseURL/Type/id.
// The query's _total=none leaves total out, _summary=count leaves the
// entries out, and _summary and _elements subset the resources.
func SearchSet(q *Query, baseURL string, total int, page []*Resource, included ...*Resource) *Resource {
	links := q.Links(baseURL+"/"+q.Type, total)
	ls := make([]any, len(links))
	for i, l := range links {
		ls[i] = map[string]any{"relation": l.Relation, "url": l.URL}
	}
	var entries []any
	add := func(rs []*Resource, mode string) {
		for _, r := range rs {
			entries = append(entries, map[string]any{
				"fullUrl":  baseURL + "/" + r.typ + "/" + r.id,
				"resource": q.Results.Shape(q.Type, r).tree,
				"search":   map[string]any{"mode": mode},
			})
		}
	}
	if q.Results.Summary != "count" {
		add(page, "match")
		add(included, "include")
	}
	b := map[string]any{
		"resourceType": "Bundle",
		"type":         "searchset",
		"link":         ls,
	}
	if q.Results.Total != "none" {
		b["total"] = jsonInt(total)
	}
	if len(entries) > 0 {
		b["entry"] = entries
	}
	return &Resource{typ: "Bundle", tree: b}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func jsonInt(n int) json.Number { return json.Number(strconv.Itoa(n)) }
