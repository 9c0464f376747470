package fhir

import (
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// A blind index finds records by keyed hashes of their values, so that
// it holds none of the values (names, identifiers, dates of birth are
// PHI). This file says what is hashed: a Term is one value of one
// parameter, normalized as search compares it; the custodian hashes
// Domain and Value under a key only it holds (vault.KeyedHash). The index
// gives candidates; Match on the decrypted resource decides.

// Term is one indexed value: Domain names the type, parameter and kind of
// value ("search/Patient.family" for whole values, with "^" appended for
// prefixes), Value the normalized value.
type Term struct {
	Domain, Value string
}

// MaxPrefixRunes bounds the prefixes indexed for string parameters: a
// longer search value is looked up by its first MaxPrefixRunes runes and
// the rest is checked by Match.
const MaxPrefixRunes = 12

// Years outside [minIndexYear, maxIndexYear] are not looked up for date
// ranges (gt, lt, ge, le, sa, eb); eq finds any year.
const (
	minIndexYear = 1800
	maxIndexYear = 2200
)

// blindParams are the parameters a blind index serves, per type.
var blindParams = map[string][]string{
	"Patient": {"birthdate", "family", "given", "identifier", "name"},
}

// Indexed reports whether resources of typ have blind index terms.
func Indexed(typ string) bool { return blindParams[typ] != nil }

// IndexTerms returns the terms a blind index keeps for r, each once, in a
// fixed order: for name, family and given, each part's normalized value and
// its prefixes of 1 to MaxPrefixRunes runes; for birthdate, its year, month
// and day as far as the date gives them; for identifier, system|value and
// value.
func IndexTerms(r *Resource) []Term {
	var out []Term
	add := func(t Term) {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	for _, code := range blindParams[r.typ] {
		p := paramFor(r.typ, code)
		domain := "search/" + r.typ + "." + code
		for _, path := range p.paths {
			eachValue(r.tree, path.keys, func(v any) {
				switch p.typ {
				case paramString:
					eachString(v, path.typ, func(s string) {
						n := Normalize(s)
						add(Term{domain, n})
						for _, pre := range prefixes(n) {
							add(Term{domain + "^", pre})
						}
					})
				case paramDate:
					if s, ok := v.(string); ok {
						if _, ok := parseDateRange(s); ok {
							for _, n := range []int{4, 7, 10} {
								if len(s) >= n {
									add(Term{domain, s[:n]})
								}
							}
						}
					}
				case paramToken:
					eachToken(v, path.typ, func(t token) {
						add(Term{domain, t.system + "|" + t.code})
						add(Term{domain + ":value", t.code})
					})
				}
			})
		}
	}
	return out
}

// prefixes returns the prefixes of s of 1 to MaxPrefixRunes runes.
func prefixes(s string) []string {
	var out []string
	for i, n := 0, 0; i < len(s) && n < MaxPrefixRunes; n++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		out = append(out, s[:i])
	}
	return out
}

// IndexTerms returns, for a query on an indexed type, the terms that find
// its candidates: one list per condition the index can answer, any of
// whose terms may find a match, so that every match has a term of every
// list. ok is false when no condition can be answered from the index
// (:not, :missing, :contains, ne, a system without a value, or a
// parameter the index does not keep).
func (q *Query) IndexTerms() (conds [][]Term, ok bool) {
	for _, c := range q.clauses {
		if !slices.Contains(blindParams[q.Type], c.code) {
			continue
		}
		if terms, ok := c.indexTerms(q.Type); ok {
			conds = append(conds, terms)
		}
	}
	return conds, len(conds) > 0
}

func (c *clause) indexTerms(typ string) ([]Term, bool) {
	domain := "search/" + typ + "." + c.code
	var terms []Term
	for _, v := range c.values {
		switch {
		case c.modifier == "exact":
			terms = append(terms, Term{domain, Normalize(v.str)})
		case c.param.typ == paramString && c.modifier == "":
			if pre := prefixes(v.str); len(pre) > 0 {
				terms = append(terms, Term{domain + "^", pre[len(pre)-1]})
			}
		case c.param.typ == paramToken && c.modifier == "" && !v.anyVal:
			if v.anySys {
				terms = append(terms, Term{domain + ":value", v.tok.code})
			} else {
				terms = append(terms, Term{domain, v.tok.system + "|" + v.tok.code})
			}
		case c.param.typ == paramDate && c.modifier == "":
			ts, ok := dateTerms(domain, v.prefix, v.rng)
			if !ok {
				return nil, false
			}
			terms = append(terms, ts...)
		default:
			return nil, false
		}
	}
	return terms, len(terms) > 0
}

// dateTerms returns the terms under which the dates v can match are
// indexed: for eq, the search value's own day, month or year; for the
// ranges, every year in which a match can fall.
func dateTerms(domain string, p datePrefix, s dateRange) ([]Term, bool) {
	if p == prefixNe {
		return nil, false
	}
	if p == prefixEq {
		lo := time.UnixMicro(s.lo).UTC()
		for _, f := range []string{"2006-01-02", "2006-01", "2006"} {
			if t, ok := parseDateRange(lo.Format(f)); ok && t == s {
				return []Term{{domain, lo.Format(f)}}, true
			}
		}
		// A range finer than a day contains no date: a term no date has.
		return []Term{{domain, "-"}}, true
	}
	var terms []Term
	for y := minIndexYear; y <= maxIndexYear; y++ {
		yr, _ := parseDateRange(strconv.Itoa(y))
		above := (p == prefixGt || p == prefixGe || p == prefixSa) && yr.hi > s.lo
		below := (p == prefixLt || p == prefixLe || p == prefixEb) && yr.lo < s.hi
		if above || below {
			terms = append(terms, Term{domain, strconv.Itoa(y)})
		}
	}
	return terms, true
}
