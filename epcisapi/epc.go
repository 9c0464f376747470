package epcisapi

import (
	"net/url"
	"strings"

	"github.com/careledger/careledger/contract/supply"
)

// chainEPC converts an EPC as an EPCIS document writes it (an EPC URN or a
// GS1 Digital Link URI) to the chain's form, "/01/{gtin}/21/{serial}" or
// "/00/{sscc}". It reports false for what the chain does not track: class
// level identifiers, locations, returnable assets and the like.
func chainEPC(s string) (supply.EPC, bool) {
	var e supply.EPC
	switch {
	case strings.HasPrefix(s, "urn:epc:id:sgtin:"):
		e = sgtinURN(s[len("urn:epc:id:sgtin:"):])
	case strings.HasPrefix(s, "urn:epc:id:sscc:"):
		e = ssccURN(s[len("urn:epc:id:sscc:"):])
	case strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://"):
		e = digitalLink(s)
	}
	if e == "" || e.Validate() != nil {
		return "", false
	}
	return e, true
}

// sgtinURN converts "CompanyPrefix.IndicatorItemRef.Serial".
func sgtinURN(rest string) supply.EPC {
	parts := strings.SplitN(rest, ".", 3)
	if len(parts) != 3 || len(parts[0])+len(parts[1]) != 13 || parts[1] == "" {
		return ""
	}
	serial, err := url.PathUnescape(parts[2])
	if err != nil || serial == "" {
		return ""
	}
	body := parts[1][:1] + parts[0] + parts[1][1:]
	return supply.SGTIN(body+checkDigit(body), serial)
}

// ssccURN converts "CompanyPrefix.ExtensionSerialRef".
func ssccURN(rest string) supply.EPC {
	cp, ref, ok := strings.Cut(rest, ".")
	if !ok || len(cp)+len(ref) != 17 || ref == "" {
		return ""
	}
	body := ref[:1] + cp + ref[1:]
	return supply.SSCC(body + checkDigit(body))
}

// digitalLink converts a GS1 Digital Link URI's primary key path
// (/01/{gtin}/21/{serial} or /00/{sscc}); further path elements and the
// query are qualifiers the chain does not key on.
func digitalLink(s string) supply.EPC {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	seg := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	for i := 0; i+1 < len(seg); i++ {
		switch seg[i] {
		case "00":
			return supply.SSCC(seg[i+1])
		case "01":
			if i+3 >= len(seg) || seg[i+2] != "21" {
				return ""
			}
			serial, err := url.PathUnescape(seg[i+3])
			if err != nil {
				return ""
			}
			return supply.SGTIN(leftPad(seg[i+1], 14), serial)
		}
	}
	return ""
}

func leftPad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return strings.Repeat("0", n-len(s)) + s
}

// checkDigit returns the GS1 check digit of body (mod 10, weights 3 and 1
// from the right), or "" if body is not all digits.
func checkDigit(body string) string {
	sum := 0
	for i := len(body) - 1; i >= 0; i-- {
		d := int(body[i]) - '0'
		if d < 0 || d > 9 {
			return "x" // makes the EPC fail Validate
		}
		if (len(body)-1-i)%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return string(rune('0' + (10-sum%10)%10))
}
