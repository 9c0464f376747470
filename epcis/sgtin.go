package epcis

import "strings"

// isSGTIN reports whether s matches reSGTIN (an SGTIN EPC URI: a company
// prefix of 6 to 12 digits and an indicator and item reference making 13
// digits, then a serial of 1 to 20 characters of set 82, percent-encoded
// where needed), without running the expression: every EPC of a capture
// is checked and hashed, and the SGTIN is the one most of them are.
// FuzzIsSGTIN holds it to the expression.
func isSGTIN(s string) bool {
	rest, ok := strings.CutPrefix(s, "urn:epc:id:sgtin:")
	if !ok {
		return false
	}
	dot := strings.IndexByte(rest, '.')
	if dot < 6 || dot > 12 || !allDigits(rest[:dot]) {
		return false
	}
	ref := rest[dot+1:]
	n := 13 - dot
	if len(ref) < n+1 || !allDigits(ref[:n]) || ref[n] != '.' {
		return false
	}
	return epcChars(ref[n+1:], 1, 20)
}

// epcChars reports whether s is min to max characters of epcChar.
func epcChars(s string, min, max int) bool {
	count := 0
	for i := 0; i < len(s); count++ {
		if s[i] == '%' {
			if i+2 >= len(s) || !escapeAllowed(s[i+1], s[i+2]) {
				return false
			}
			i += 3
			continue
		}
		if !plainEPCChar(s[i]) {
			return false
		}
		i++
	}
	return count >= min && count <= max
}

// escapeAllowed reports whether %hl is one of epcChar's escapes.
func escapeAllowed(h, l byte) bool {
	hexLetter := l >= 'A' && l <= 'F' || l >= 'a' && l <= 'f'
	digit := l >= '0' && l <= '9'
	switch h {
	case '2':
		return l == '1' || l == '2' || l >= '5' && l <= '9' || hexLetter
	case '3':
		return digit || hexLetter
	case '4', '6':
		return l >= '1' && l <= '9' || hexLetter
	case '5':
		return digit || l == 'A' || l == 'a' || l == 'F' || l == 'f'
	case '7':
		return digit || l == 'A' || l == 'a'
	}
	return false
}

// plainEPCChar reports whether c is one of epcChar's unescaped characters:
// [!')(*+,.0-9:;=A-Za-z_-].
func plainEPCChar(c byte) bool {
	switch {
	case c >= '0' && c <= '9', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		return true
	}
	return strings.IndexByte("!')(*+,.:;=_-", c) >= 0
}
