package fhir

import (
	"math"
	"time"
)

// dateRange is the span of time a FHIR date, dateTime, instant or Period
// stands for, as [lo, hi) in microseconds since the Unix epoch. A partial
// date stands for all of its precision ("2020" is the year 2020, "2020-03"
// the month); a Period without start or end is open on that side.
type dateRange struct {
	lo, hi int64
}

const (
	openStart = math.MinInt64
	openEnd   = math.MaxInt64
)

// parseDateRange parses a FHIR date, dateTime or instant, with or without
// seconds (search values may stop at minutes). A value with a time and no
// zone, which FHIR does not allow in resources but search values may have,
// and a value with no time are read in UTC.
func parseDateRange(s string) (dateRange, bool) {
	num := func(i, n int) (int, bool) {
		if i+n > len(s) {
			return 0, false
		}
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	year, ok := num(0, 4)
	if !ok || year == 0 {
		return dateRange{}, false
	}
	month, day := 1, 1
	i := 4
	step := func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }
	if i < len(s) {
		if s[i] != '-' {
			return dateRange{}, false
		}
		if month, ok = num(i+1, 2); !ok || month < 1 || month > 12 {
			return dateRange{}, false
		}
		i += 3
		step = func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }
	}
	if i < len(s) {
		if s[i] != '-' {
			return dateRange{}, false
		}
		if day, ok = num(i+1, 2); !ok || day < 1 || day > daysIn(year, month) {
			return dateRange{}, false
		}
		i += 3
		step = func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
	}
	if i == len(s) {
		lo := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
		return dateRange{lo.UnixMicro(), step(lo).UnixMicro()}, true
	}
	// A time: Thh:mm[:ss[.fff]][zone]
	if s[i] != 'T' {
		return dateRange{}, false
	}
	hour, ok1 := num(i+1, 2)
	if !ok1 || hour > 23 || i+3 >= len(s) || s[i+3] != ':' {
		return dateRange{}, false
	}
	minute, ok2 := num(i+4, 2)
	if !ok2 || minute > 59 {
		return dateRange{}, false
	}
	i += 6
	sec, nsec := 0, 0
	width := time.Minute
	if i < len(s) && s[i] == ':' {
		var ok bool
		if sec, ok = num(i+1, 2); !ok || sec > 60 {
			return dateRange{}, false
		}
		i += 3
		width = time.Second
		if i < len(s) && s[i] == '.' {
			i++
			digits := 0
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				if digits < 9 {
					nsec = nsec*10 + int(s[i]-'0')
					width /= 10
				}
				digits++
				i++
			}
			if digits == 0 {
				return dateRange{}, false
			}
			for d := digits; d < 9; d++ {
				nsec *= 10
			}
		}
	}
	loc := time.UTC
	if i < len(s) {
		switch s[i] {
		case 'Z':
			i++
		case '+', '-':
			zh, ok1 := num(i+1, 2)
			zm, ok2 := num(i+4, 2)
			if !ok1 || !ok2 || s[i+3] != ':' || zh > 14 || zm > 59 {
				return dateRange{}, false
			}
			off := zh*3600 + zm*60
			if s[i] == '-' {
				off = -off
			}
			loc = time.FixedZone("", off)
			i += 6
		default:
			return dateRange{}, false
		}
	}
	if i != len(s) {
		return dateRange{}, false
	}
	lo := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc)
	hi := lo.Add(width)
	return dateRange{floorMicro(lo), ceilMicro(hi)}, true
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func floorMicro(t time.Time) int64 { return t.UnixMicro() }

func ceilMicro(t time.Time) int64 {
	us := t.UnixMicro()
	if t.Nanosecond()%1000 != 0 {
		us++
	}
	return us
}

// datePrefix is a date search prefix.
type datePrefix uint8

const (
	prefixEq datePrefix = iota
	prefixNe
	prefixGt
	prefixLt
	prefixGe
	prefixLe
	prefixSa
	prefixEb
)

var datePrefixes = map[string]datePrefix{
	"eq": prefixEq, "ne": prefixNe, "gt": prefixGt, "lt": prefixLt,
	"ge": prefixGe, "le": prefixLe, "sa": prefixSa, "eb": prefixEb,
}

// matches applies a prefix as R4 defines it (search.html#prefix), the
// search value's range s against the target's range t:
//
//	eq  s fully contains t
//	ne  s does not fully contain t
//	gt  the range above s overlaps t
//	lt  the range below s overlaps t
//	ge  the range above s overlaps t, or s fully contains t
//	le  the range below s overlaps t, or s fully contains t
//	sa  t starts after s ends
//	eb  t ends before s starts
func (p datePrefix) matches(s, t dateRange) bool {
	contains := s.lo <= t.lo && t.hi <= s.hi
	switch p {
	case prefixEq:
		return contains
	case prefixNe:
		return !contains
	case prefixGt:
		return t.hi > s.hi
	case prefixLt:
		return t.lo < s.lo
	case prefixGe:
		return t.hi > s.hi || contains
	case prefixLe:
		return t.lo < s.lo || contains
	case prefixSa:
		return t.lo >= s.hi
	case prefixEb:
		return t.hi <= s.lo
	}
	return false
}
