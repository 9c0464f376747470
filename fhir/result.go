package fhir

import (
	"slices"
	"strings"
)

// Bounds on the result parameters, so that one request cannot ask for
// unbounded work.
const (
	maxSortKeys = 8
	maxIncludes = 16
	maxElements = 64
)

// ResultParams are how a search's matches are returned (R4 search.html#return):
// their order, whether the Bundle counts them, which elements of each it
// holds, and which other resources it brings along.
type ResultParams struct {
	Sort     []SortKey
	Total    string   // _total: "none", "estimate" or "accurate"; "" counts
	Summary  string   // _summary: "true", "text", "data", "count" or "false"; "" is "false"
	Elements []string // _elements: top-level element names

	Include    []Include // _include: resources the matches refer to
	RevInclude []Include // _revinclude: resources that refer to the matches
}

// SortKey is one key of _sort.
type SortKey struct {
	Code  string
	Desc  bool
	param *searchParam
}

// Include is one _include or _revinclude: the reference parameter Param of
// resources of type Source, optionally only where it points to Target.
type Include struct {
	Source, Param, Target string
	param                 *searchParam
}

// parse reads name if it is a result parameter. It returns whether it was,
// and a message (without the value) if the value is wrong.
func (res *ResultParams) parse(typ, name string, vals []string) (handled bool, err string) {
	once := func() (string, string) {
		if len(vals) != 1 {
			return "", "give it once"
		}
		return vals[0], ""
	}
	switch name {
	case "_sort":
		v, err := once()
		if err == "" {
			res.Sort, err = parseSort(typ, v)
		}
		return true, err
	case "_total":
		v, err := once()
		if err == "" && !slices.Contains([]string{"none", "estimate", "accurate"}, v) {
			err = "must be none, estimate or accurate"
		}
		res.Total = v
		return true, err
	case "_summary":
		v, err := once()
		if err == "" && !slices.Contains([]string{"true", "text", "data", "count", "false"}, v) {
			err = "must be true, text, data, count or false"
		}
		res.Summary = v
		return true, err
	case "_elements":
		v, err := once()
		if err == "" {
			res.Elements, err = parseElements(v)
		}
		return true, err
	case "_include", "_revinclude":
		for _, v := range vals {
			inc, err := parseInclude(typ, v, name == "_revinclude")
			if err != "" {
				return true, err
			}
			if name == "_include" {
				res.Include = append(res.Include, inc)
			} else {
				res.RevInclude = append(res.RevInclude, inc)
			}
		}
		if len(res.Include)+len(res.RevInclude) > maxIncludes {
			return true, "too many includes"
		}
		return true, ""
	case "_include:iterate", "_revinclude:iterate", "_include:recurse", "_revinclude:recurse":
		return true, "iterated includes are not supported"
	}
	return false, ""
}

// check reports a combination of result parameters that has no meaning.
func (res *ResultParams) check() string {
	if len(res.Elements) > 0 && res.Summary != "" && res.Summary != "false" {
		return "_summary and _elements cannot be combined"
	}
	return ""
}

// parseSort parses a _sort value: a comma-separated list of parameter
// codes of typ, each descending if prefixed with '-'. A key may be any
// token, date or string parameter (_id, _lastUpdated among them).
func parseSort(typ, v string) ([]SortKey, string) {
	var keys []SortKey
	for _, s := range strings.Split(v, ",") {
		k := SortKey{}
		if k.Code, k.Desc = strings.CutPrefix(s, "-"); k.Code == "" {
			return nil, "empty sort key"
		}
		k.param = paramFor(typ, k.Code)
		if k.param == nil || k.param.typ == paramReference {
			return nil, "sorts only by a token, date or string parameter of " + typ
		}
		keys = append(keys, k)
	}
	if len(keys) > maxSortKeys {
		return nil, "too many sort keys"
	}
	return keys, ""
}

// parseElements parses an _elements value: top-level element names.
func parseElements(v string) ([]string, string) {
	names := strings.Split(v, ",")
	if len(names) > maxElements {
		return nil, "too many elements"
	}
	for _, n := range names {
		if !elementName(n) {
			return nil, "element names are letters and digits, starting with a letter"
		}
	}
	return names, ""
}

func elementName(n string) bool {
	if n == "" || len(n) > 64 || !(n[0] >= 'a' && n[0] <= 'z' || n[0] >= 'A' && n[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// parseInclude parses Source:param[:Target]. For _include, Source is the
// searched type; for _revinclude, param must be able to point to it.
func parseInclude(typ, v string, rev bool) (Include, string) {
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return Include{}, "an include is Type:parameter[:targetType]"
	}
	inc := Include{Source: parts[0], Param: parts[1]}
	if len(parts) == 3 {
		inc.Target = parts[2]
		if !IsResourceType(inc.Target) {
			return Include{}, "the target is not a resource type"
		}
	}
	if !IsResourceType(inc.Source) {
		return Include{}, "the source is not a resource type"
	}
	if !rev && inc.Source != typ {
		return Include{}, "_include names the searched type"
	}
	if inc.Param == "*" {
		return Include{}, "wildcard includes are not supported"
	}
	inc.param = paramFor(inc.Source, inc.Param)
	if inc.param == nil || inc.param.typ != paramReference {
		return Include{}, "not a reference parameter of " + inc.Source
	}
	if inc.Target != "" && len(inc.param.targets) > 0 && !slices.Contains(inc.param.targets, inc.Target) {
		return Include{}, "the parameter cannot point to the target type"
	}
	if rev {
		points := inc.Target == typ || inc.Target == "" && (len(inc.param.targets) == 0 || slices.Contains(inc.param.targets, typ))
		if !points {
			return Include{}, "the parameter cannot point to " + typ
		}
	}
	return inc, ""
}

// Refs returns the resources ("Type/id") that r refers to through the
// include's parameter, in the order they appear, each once.
func (inc Include) Refs(r *Resource) []string {
	var out []string
	inc.eachRef(r, func(rf ref) {
		s := rf.typ + "/" + rf.id
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	})
	return out
}

// RefersTo reports whether r refers to typ/id through the include's
// parameter.
func (inc Include) RefersTo(r *Resource, typ, id string) bool {
	found := false
	inc.eachRef(r, func(rf ref) { found = found || rf.typ == typ && rf.id == id })
	return found
}

func (inc Include) eachRef(r *Resource, fn func(ref)) {
	if r.typ != inc.Source {
		return
	}
	for _, path := range inc.param.paths {
		eachValue(r.tree, path.keys, func(v any) {
			eachRef(v, func(rf ref) {
				if path.refType != "" && rf.typ != path.refType || inc.Target != "" && rf.typ != inc.Target {
					return
				}
				fn(rf)
			})
		})
	}
}

// Includes returns the _include and _revinclude values a search of typ
// accepts (without a target type), sorted, for the CapabilityStatement.
func Includes(typ string) (include, revinclude []string) {
	for _, src := range SearchTypes() {
		for _, code := range sortedKeys(searchParams[src]) {
			if searchParams[src][code].typ != paramReference {
				continue
			}
			spec := src + ":" + code
			if _, err := parseInclude(typ, spec, false); err == "" {
				include = append(include, spec)
			}
			if _, err := parseInclude(typ, spec, true); err == "" {
				revinclude = append(revinclude, spec)
			}
		}
	}
	return include, revinclude
}
