package fhir

import (
	"cmp"
	"slices"
)

// sortValue is a resource's value for one sort key. R4 sorts a resource
// with several values by its lowest value ascending and by its highest
// descending; a resource with none comes last either way.
type sortValue struct {
	present bool
	s       string // token code or normalized string
	t       int64  // date: range start (ascending) or end (descending)
}

// Sort orders rs by the query's _sort keys, then by id, so that the order
// (and so each page) is the same on every request. Without _sort it orders
// by id only.
func (q *Query) Sort(rs []*Resource) {
	keys := q.Results.Sort
	vals := make(map[*Resource][]sortValue, len(rs))
	for _, r := range rs {
		vs := make([]sortValue, len(keys))
		for i, k := range keys {
			vs[i] = k.value(r)
		}
		vals[r] = vs
	}
	slices.SortStableFunc(rs, func(a, b *Resource) int {
		va, vb := vals[a], vals[b]
		for i, k := range keys {
			if c := k.compare(va[i], vb[i]); c != 0 {
				return c
			}
		}
		return cmp.Compare(a.id, b.id)
	})
}

// value extracts r's value for the key: its lowest for an ascending key,
// its highest for a descending one.
func (k SortKey) value(r *Resource) sortValue {
	var v sortValue
	better := func(s string, t int64) {
		if !v.present || (k.Desc && (s > v.s || t > v.t)) || (!k.Desc && (s < v.s || t < v.t)) {
			v = sortValue{present: true, s: s, t: t}
		}
	}
	for _, path := range k.param.paths {
		eachValue(r.tree, path.keys, func(e any) {
			switch k.param.typ {
			case paramToken:
				eachToken(e, path.typ, func(t token) { better(t.code, 0) })
			case paramString:
				eachString(e, path.typ, func(s string) { better(Normalize(s), 0) })
			case paramDate:
				eachRange(e, path.typ, func(d dateRange) {
					if k.Desc {
						better("", d.hi)
					} else {
						better("", d.lo)
					}
				})
			}
		})
	}
	return v
}

// compare orders two values of the key; missing values last.
func (k SortKey) compare(a, b sortValue) int {
	switch {
	case !a.present && !b.present:
		return 0
	case !a.present:
		return 1
	case !b.present:
		return -1
	}
	c := cmp.Or(cmp.Compare(a.s, b.s), cmp.Compare(a.t, b.t))
	if k.Desc {
		return -c
	}
	return c
}
