package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"testing"
	"unicode/utf8"
)

// stdDecode decodes with encoding/json, numbers kept exact.
func stdDecode(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("data after the value")
	}
	return v, nil
}

// checkAgainstStd checks decodeJSON against encoding/json on one input:
// what decodeJSON accepts encoding/json accepts with the same tree, and what
// it refuses is refused by encoding/json or is one of the things it refuses
// on purpose (duplicate keys, invalid UTF-8, lone surrogates, depth).
func checkAgainstStd(t *testing.T, in []byte) {
	t.Helper()
	got, err := decodeJSON(in, 100)
	want, stdErr := stdDecode(in)
	switch {
	case err == nil && stdErr != nil:
		t.Fatalf("decodeJSON(%q) accepted what encoding/json refuses: %v", in, stdErr)
	case err == nil && !reflect.DeepEqual(got, want):
		t.Fatalf("decodeJSON(%q) = %#v; encoding/json gives %#v", in, got, want)
	case err != nil && stdErr == nil:
		var se *jsonSyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("decodeJSON(%q) = %v (%T); want a *jsonSyntaxError", in, err, err)
		}
		switch se.Msg {
		case "duplicate object key", "invalid UTF-8 in a string", "unpaired surrogate in a \\u escape", "nesting deeper than 100":
		default:
			t.Fatalf("decodeJSON(%q) = %v; encoding/json accepts it", in, err)
		}
	}
	if err == nil {
		c := appendCanonical(nil, got)
		back, err := decodeJSON(c, 100)
		if err != nil || !reflect.DeepEqual(back, got) {
			t.Fatalf("decodeJSON(appendCanonical(%q)) = %#v, %v; want the same tree", in, back, err)
		}
		if !utf8.Valid(c) {
			t.Fatalf("appendCanonical(%q) is not valid UTF-8", in)
		}
	}
}

var jsonSamples = []string{
	`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `1.5e-10`, `1E+2`, `"a"`, ` {"a" : [1, 2 ,{"b":null}] } `,
	`{"a":1,"a":2}`, `{"a":{"b":1,"b":1}}`, `{"a":1,"b":{"a":1}}`,
	`"\u00e9\ud83d\ude00\/\b\f\n\r\t\"\\"`, `"\ud800"`, `"\udc00"`, `"\ud800\u0041"`, "\"\xff\"", "\"\xc3\xa9\"",
	`01`, `1.`, `.5`, `-`, `+1`, `1e`, `1e+`, `tru`, `nul`, `[1,]`, `{"a":1,}`, `{"a"}`, `{1:2}`, `"abc`, `"\x"`, "\"a\tb\"",
	`"\u12"`, `[1 2]`, `{"a":1 "b":2}`, `{} {}`, ``, ` `, `123456789012345678901234567890.000000000000001`,
}

func TestDecodeJSONAgainstStd(t *testing.T) {
	for _, s := range jsonSamples {
		checkAgainstStd(t, []byte(s))
	}
}

func TestDecodeJSONDepth(t *testing.T) {
	ok := bytes.Repeat([]byte("["), 100)
	ok = append(ok, bytes.Repeat([]byte("]"), 100)...)
	if _, err := decodeJSON(ok, 100); err != nil {
		t.Errorf("decodeJSON(100 levels, max 100) = %v", err)
	}
	deep := append([]byte("["), ok...)
	deep = append(deep, ']')
	if _, err := decodeJSON(deep, 100); err == nil {
		t.Error("decodeJSON(101 levels, max 100) = nil; want an error")
	}
}

func TestParseDateRange(t *testing.T) {
	us := func(s string) int64 {
		r, ok := parseDateRange(s)
		if !ok {
			t.Fatalf("parseDateRange(%q) failed", s)
		}
		return r.lo
	}
	tests := []struct {
		in     string
		lo, hi string // the bounds, as instants
	}{
		{"2020", "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z"},
		{"2020-02", "2020-02-01T00:00:00Z", "2020-03-01T00:00:00Z"},
		{"2020-02-29", "2020-02-29T00:00:00Z", "2020-03-01T00:00:00Z"},
		{"2020-12-31T23:59", "2020-12-31T23:59:00Z", "2021-01-01T00:00:00Z"},
		{"2012-09-10T15:29:24+00:00", "2012-09-10T15:29:24Z", "2012-09-10T15:29:25Z"},
		{"2012-09-10T15:29:24.181+02:00", "2012-09-10T13:29:24.181Z", "2012-09-10T13:29:24.182Z"},
		{"2012-09-10T15:29:24.1234567-05:30", "2012-09-10T20:59:24.123456Z", "2012-09-10T20:59:24.123457Z"},
	}
	for _, tt := range tests {
		r, ok := parseDateRange(tt.in)
		if !ok || r.lo != us(tt.lo) || r.hi != us(tt.hi) {
			t.Errorf("parseDateRange(%q) = %v, %v; want [%s, %s)", tt.in, r, ok, tt.lo, tt.hi)
		}
	}
	for _, bad := range []string{"", "20", "0000", "2020-13", "2020-02-30", "2020-1-01", "2020-01-01T", "2020-01-01T24:00", "2020-01-01T10:00:61", "2020-01-01T10:00:00.", "2020-01-01T10:00:00+15:00", "2020-01-01T10:00:00X", "2020-01-01 10:00"} {
		if r, ok := parseDateRange(bad); ok {
			t.Errorf("parseDateRange(%q) = %v; want failure", bad, r)
		}
	}
}

func TestDatePrefixes(t *testing.T) {
	rng := func(s string) dateRange {
		r, ok := parseDateRange(s)
		if !ok {
			t.Fatalf("parseDateRange(%q) failed", s)
		}
		return r
	}
	day := rng("2020-06-15")
	before, inside, after := rng("2020-06-14T12:00:00Z"), rng("2020-06-15T12:00:00Z"), rng("2020-06-16T00:00:00Z")
	straddle := dateRange{before.lo, inside.hi}
	open := dateRange{inside.lo, openEnd}
	tests := []struct {
		p      datePrefix
		target dateRange
		want   bool
	}{
		{prefixEq, inside, true}, {prefixEq, before, false}, {prefixEq, straddle, false},
		{prefixNe, inside, false}, {prefixNe, after, true},
		{prefixGt, after, true}, {prefixGt, inside, false}, {prefixGt, open, true},
		{prefixLt, before, true}, {prefixLt, inside, false}, {prefixLt, straddle, true},
		{prefixGe, inside, true}, {prefixGe, after, true}, {prefixGe, before, false},
		{prefixLe, inside, true}, {prefixLe, before, true}, {prefixLe, after, false},
		{prefixSa, after, true}, {prefixSa, open, false}, {prefixSa, inside, false},
		{prefixEb, before, true}, {prefixEb, straddle, false},
	}
	for _, tt := range tests {
		if got := tt.p.matches(day, tt.target); got != tt.want {
			t.Errorf("prefix %d on 2020-06-15 against %v = %v; want %v", tt.p, tt.target, got, tt.want)
		}
	}
}
