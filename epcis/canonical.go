package epcis

import (
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// timestampPattern is the ISO 8601 date-time the hash canonicalises (and
// the decoder accepts): a date, optionally a time with fraction, and a zone.
var timestampPattern = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$`)

// parseTimestamp parses an ISO 8601 date-time; a time without zone is
// taken as UTC. micros is the fraction truncated to microseconds, as
// Python's dateutil keeps it.
func parseTimestamp(s string) (t time.Time, micros int, ok bool) {
	m := timestampPattern.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, 0, false
	}
	num := func(x string) int { n, _ := strconv.Atoi(x); return n }
	frac := m[7]
	if len(frac) > 6 {
		frac = frac[:6]
	}
	if frac != "" {
		micros = num(frac + strings.Repeat("0", 6-len(frac)))
	}
	loc := time.UTC
	if z := m[8]; z != "" && z != "Z" && z != "z" {
		digits := strings.ReplaceAll(z[1:], ":", "")
		off := num(digits[:2]) * 3600
		if len(digits) == 4 {
			off += num(digits[2:]) * 60
		}
		if z[0] == '-' {
			off = -off
		}
		loc = time.FixedZone("", off)
	}
	year, month, day := num(m[1]), num(m[2]), num(m[3])
	hour, minute, sec := num(m[4]), num(m[5]), num(m[6])
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, 0, false
	}
	t = time.Date(year, time.Month(month), day, hour, minute, sec, micros*1000, loc)
	if t.Day() != day { // 31 February
		return time.Time{}, 0, false
	}
	return t.UTC(), micros, true
}

// canonicalTime renders a timestamp in UTC at millisecond precision,
// rounding half to even as the reference implementation (Python's round)
// does; a value that is not a timestamp is kept.
func canonicalTime(s string) string {
	t, micros, ok := parseTimestamp(s)
	if !ok {
		return s
	}
	ms, rem := micros/1000, micros%1000
	if rem > 500 || rem == 500 && ms%2 == 1 {
		ms++
	}
	// The reference fails on an event whose rounding reaches the next
	// second; here the second carries.
	t = t.Truncate(time.Second).Add(time.Duration(ms) * time.Millisecond)
	return t.Format("2006-01-02T15:04:05.000Z")
}

// pyFloatPattern is the syntax Python's float() accepts for finite
// decimal numbers (the reference canonicalises any such value).
var pyFloatPattern = regexp.MustCompile(`^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$`)

// canonicalNumber renders a number as the reference does: an integral
// value without a fraction, any other as Python's repr of the float.
// Values that are not numbers are kept.
func canonicalNumber(s string) string {
	if !pyFloatPattern.MatchString(s) {
		return s
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil || math.IsInf(f, 0) {
		return s
	}
	if f == math.Trunc(f) {
		if f == 0 {
			return "0"
		}
		return new(big.Float).SetFloat64(f).Text('f', 0)
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	if exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:]); exp < -4 {
		return e // Python's repr switches to exponent form below 1e-4
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
