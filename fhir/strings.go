package fhir

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Normalize returns s as string search compares it (R4 search.html#string:
// case- and accent-insensitive): decomposed, with combining marks removed,
// case-folded, and with runs of white space collapsed to one space and
// trimmed. "  Zoë  MÜLLER " and "zoe muller" normalize alike.
func Normalize(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s // invalid UTF-8 stays as given; it then matches only itself
	}
	return strings.Join(strings.Fields(strings.ToLower(out)), " ")
}

// eachString calls fn with the strings a string parameter reads in v, of
// element type typ: a string itself, or every part of a HumanName or an
// Address.
func eachString(v any, typ string, fn func(string)) {
	var parts []string
	switch typ {
	case "HumanName":
		parts = []string{"text", "family", "given", "prefix", "suffix"}
	case "Address":
		parts = []string{"text", "line", "city", "district", "state", "postalCode", "country"}
	default:
		if s, ok := v.(string); ok {
			fn(s)
		}
		return
	}
	m, _ := v.(map[string]any)
	for _, p := range parts {
		eachValue(m, []string{p}, func(e any) {
			if s, ok := e.(string); ok {
				fn(s)
			}
		})
	}
}

// matchString applies a string search value to a value of the resource:
// by default the normalized value starts with the normalized search value;
// :exact compares them as given; :contains looks anywhere.
func matchString(modifier, want, have string) bool {
	switch modifier {
	case "exact":
		return have == want
	case "contains":
		return strings.Contains(Normalize(have), want)
	}
	return strings.HasPrefix(Normalize(have), want)
}
