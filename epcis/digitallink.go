package epcis

import (
	"regexp"
	"strconv"
	"strings"
)

// This file ports the reference implementation's dl_normaliser: any URI
// carrying a GS1 key (EPC URI, EPC class URI, EPC pattern URI, GS1 Digital
// Link URI) becomes its canonical GS1 Digital Link URI at the finest
// identification level, without qualifiers it does not keep or a query.

// epcChar is one character of an EPC URI component (GS1 AI encodable
// character set 82, percent-encoded where needed).
const epcChar = `(?:%2[125-9A-Fa-f]|%3[0-9A-Fa-f]|%4[1-9A-Fa-f]|%5[0-9AaFf]|%6[1-9A-Fa-f]|%7[0-9Aa]|[!')(*+,.0-9:;=A-Za-z_-])`

// cpiChar is one character of a CPI component (character set 39).
const cpiChar = `(?:%2[3dfDF]|%3[0-9]|%4[1-9A-Fa-f]|%5[0-9Aa]|[0-9A-Z-])`

// dlChar is a character that a canonical Digital Link serial, lot or
// similar value may hold.
const dlChar = `[\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]`

// gcp12 is a company prefix of 6 to 12 digits, a dot, and the rest of a
// 12-digit key (GLN-like keys); gcp13 the same for 13 digits (GTIN-like).
const (
	gcp12 = `(?:\d{6}\.\d{6}|\d{7}\.\d{5}|\d{8}\.\d{4}|\d{9}\.\d{3}|\d{10}\.\d{2}|\d{11}\.\d{1}|\d{12}\.)`
	gcp13 = `(?:\d{6}\.\d{7}|\d{7}\.\d{6}|\d{8}\.\d{5}|\d{9}\.\d{4}|\d{10}\.\d{3}|\d{11}\.\d{2}|\d{12}\.\d{1})`
	gcpA  = `(?:\d{6}\.\d{6}|\d{7}\.\d{5}|\d{8}\.\d{4}|\d{9}\.\d{3}|\d{10}\.\d{2}|\d{11}\.\d{1}|\d{12}\.\.)`
)

// gcpVar is a company prefix followed by a variable reference whose total
// length is at most max: 6 digits and max-6 characters, and so on.
func gcpVar(char string, max int) string {
	var alts []string
	for n := 6; n <= 12; n++ {
		alts = append(alts, `\d{`+strconv.Itoa(n)+`}\.`+char+`{1,`+strconv.Itoa(max-n)+`}`)
	}
	return "(?:" + strings.Join(alts, "|") + ")"
}

func re(s string) *regexp.Regexp { return regexp.MustCompile(`^(?:` + s + `)`) }

var (
	reSGTIN  = re(`urn:epc:id:sgtin:` + gcp13 + `\.` + epcChar + `{1,20}$`)
	reSSCC   = re(`urn:epc:id:sscc:(?:\d{6}\.\d{11}|\d{7}\.\d{10}|\d{8}\.\d{9}|\d{9}\.\d{8}|\d{10}\.\d{7}|\d{11}\.\d{6}|\d{12}\.\d{5})$`)
	reSGLN   = re(`urn:epc:id:sgln:` + gcp12 + `\.` + epcChar + `{1,20}$`)
	reGRAI   = re(`urn:epc:id:grai:` + gcpA + `\.` + epcChar + `{1,16}$`)
	reGIAI   = re(`urn:epc:id:giai:` + gcpVar(epcChar, 30) + `$`)
	reGSRN   = re(`urn:epc:id:gsrn:(?:\d{6}\.\d{11}|\d{7}\.\d{10}|\d{8}\.\d{9}|\d{9}\.\d{8}|\d{10}\.\d{7}|\d{11}\.\d{6}|\d{12}\.\d{5})$`)
	reGSRNP  = re(`urn:epc:id:gsrnp:(?:\d{6}\.\d{11}|\d{7}\.\d{10}|\d{8}\.\d{9}|\d{9}\.\d{8}|\d{10}\.\d{7}|\d{11}\.\d{6}|\d{12}\.\d{5})$`)
	reGDTI   = re(`urn:epc:id:gdti:` + gcpA + epcChar + `{1,20}$`)
	reCPI    = re(`urn:epc:id:cpi:` + gcpVar(cpiChar, 30) + `\.\d{1,12}$`)
	reSGCN   = re(`urn:epc:id:sgcn:` + gcp12 + `\.\d{1,12}$`)
	reGINC   = re(`urn:epc:id:ginc:` + gcpVar(epcChar, 30) + `$`)
	reGSIN   = re(`urn:epc:id:gsin:(?:\d{6}\.\d{10}|\d{7}\.\d{9}|\d{8}\.\d{8}|\d{9}\.\d{7}|\d{10}\.\d{6}|\d{11}\.\d{5}|\d{12}\.\d{4})$`)
	reITIP   = re(`urn:epc:id:itip:` + gcp13 + `\.\d{2}\.\d{2}\.` + epcChar + `{1,20}$`)
	reUPUI   = re(`urn:epc:id:upui:` + gcp13 + `\.` + epcChar + `{1,28}$`)
	rePGLN   = re(`urn:epc:id:pgln:` + gcp12 + `$`)
	reLGTIN  = re(`urn:epc:class:lgtin:` + gcp13 + `\.` + epcChar + `{1,20}$`)
	rePatGTN = re(`urn:epc:idpat:sgtin:` + gcp13 + `\.\*$`)
	rePatGRA = re(`urn:epc:idpat:grai:` + gcpA + `\.\*$`)
	rePatGDT = re(`urn:epc:idpat:gdti:` + gcpA + `\.\*$`)
	rePatSGC = re(`urn:epc:idpat:sgcn:` + gcpA + `\.\*$`)
	rePatCPI = re(`urn:epc:idpat:cpi:` + gcpVar(cpiChar, 30) + `\.\*$`)
	rePatITP = re(`urn:epc:idpat:itip:` + gcp13 + `\.\d{2}\.\d{2}\.\*$`)
	rePatUPI = re(`urn:epc:idpat:upui:` + gcp13 + `\.\*$`)

	reDL            = re(`https?:(//((([^/?#]*)@)?([^/?#:]*)(:([^/?#]*))?))?((([^?#]*)(/(01|gtin|8006|itip|8010|cpid|414|gln|417|party|8017|gsrnp|8018|gsrn|255|gcn|00|sscc|253|gdti|401|ginc|402|gsin|8003|grai|8004|giai)/)(\d{4}[^/]+)(/[^/]+/[^/]+)?[/]?(\?([^?\n]*))?(#([^\n]*))?)|(/[A-Za-z_-]{10}$))`)
	reCanonicalHost = re(`https://id.gs1.org/(01|8006|8010|414|417|8017|8018|255|00|253|401|402|8003|8004)/(\d{4}[^/]+)(/[^/]+/[^/]+)?[/]?(\?([^?\n]*))?(#([^\n]*))?|(/[A-Za-z_-]{10}$)`)
	reGTIN14        = re(`https://id.gs1.org/01/\d{14}`)
	reGTIN13        = re(`https://id.gs1.org/01/\d{13}`)
	reGTIN12        = re(`https://id.gs1.org/01/\d{12}`)
	reGTIN8         = re(`https://id.gs1.org/01/\d{8}`)
	reCPVOnly       = re(`https://id.gs1.org/8006/\d{18}/22/` + dlChar + `{0,20}$|https://id.gs1.org/01/\d{14}/22/` + dlChar + `{0,20}$`)
	reCPVMore       = re(`https://id.gs1.org/8006/\d{18}/22/[\x2F\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20}$|https://id.gs1.org/01/\d{14}/22/[\x2F\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20}$`)
	reLotSerial     = re(`https://id.gs1.org/8006/\d{18}/10/` + dlChar + `{0,20}/21/` + dlChar + `{0,20}$|https://id.gs1.org/01/(\d{14})/10/` + dlChar + `{0,20}/21/` + dlChar + `{0,20}$`)
	reCanonical     = re(strings.Join([]string{
		`https://id.gs1.org/00/(\d{18})$`,
		`https://id.gs1.org/01/(\d{14})/21/` + dlChar + `{0,20}$`,
		`https://id.gs1.org/01/(\d{14})/10/` + dlChar + `{0,20}$`,
		`https://id.gs1.org/01/(\d{14})$`,
		`https://id.gs1.org/01/(\d{14})/235/` + dlChar + `{0,28}$`,
		`https://id.gs1.org/253/(\d{13})` + dlChar + `{0,17}$`,
		`https://id.gs1.org/255/(\d{13})(\d{0,12})$`,
		`https://id.gs1.org/401/` + dlChar + `{0,30}$`,
		`https://id.gs1.org/402/(\d{17})$`,
		`https://id.gs1.org/414/(\d{13})$`,
		`https://id.gs1.org/414/(\d{13})/254/` + dlChar + `{0,20}$`,
		`https://id.gs1.org/417/(\d{13})$`,
		`https://id.gs1.org/8003/(\d{14})` + dlChar + `{0,16}$`,
		`https://id.gs1.org/8004/` + dlChar + `{0,30}$`,
		`https://id.gs1.org/8006/(\d{18})/21/` + dlChar + `{0,20}$`,
		`https://id.gs1.org/8006/(\d{18})/10/` + dlChar + `{0,20}$`,
		`https://id.gs1.org/8006/(\d{18})$`,
		`https://id.gs1.org/8010/[\x23\x2D\x2F\x30-\x39\x41-\x5A]{0,30}/8011/(\d{0,12})$`,
		`https://id.gs1.org/8010/[\x23\x2D\x2F\x30-\x39\x41-\x5A]{0,30}$`,
		`https://id.gs1.org/8017/(\d{18})$`,
		`https://id.gs1.org/8018/(\d{18})$`,
	}, "|"))
)

// dlPercent percent-encodes the characters GS1 Digital Link requires
// encoded and EPC URIs allow.
var dlPercent = strings.NewReplacer("!", "%21", "(", "%28", ")", "%29", "*", "%2A", "+", "%2B", ",", "%2C", ":", "%3A")

// checkDigit returns the GS1 check digit of a key without it.
func checkDigit(key string) string {
	sum := 0
	for i := 0; i < len(key); i++ {
		d := int(key[len(key)-1-i] - '0')
		if i%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return strconv.Itoa((10 - sum%10) % 10)
}

// gtinFromEPC builds a GTIN (without check digit) from an EPC's company
// prefix and item reference (indicator digit first).
func gtinFromEPC(gcp, itemRef string) string { return itemRef[:1] + gcp + itemRef[1:] }

// normaliseDigitalLink returns the canonical GS1 Digital Link URI of uri,
// and false when uri carries no GS1 key it can normalise.
func normaliseDigitalLink(uri string) (string, bool) {
	dot := strings.IndexByte(uri, '.')
	if dot < 0 {
		return "", false
	}
	if strings.HasPrefix(uri, "urn:epc:") {
		return epcToDigitalLink(uri, dot)
	}
	if !strings.HasPrefix(uri, "http") || !mayBeDigitalLink(uri) || !reDL.MatchString(uri) {
		return "", false
	}
	return canonicaliseDigitalLink(uri)
}

// isKeyAI reports whether s is a path element reDL takes for a primary
// key.
func isKeyAI(s string) bool {
	switch s {
	case "01", "gtin", "8006", "itip", "8010", "cpid", "414", "gln", "417", "party", "8017", "gsrnp", "8018", "gsrn",
		"255", "gcn", "00", "sscc", "253", "gdti", "401", "ginc", "402", "gsin", "8003", "grai", "8004", "giai":
		return true
	}
	return false
}

// mayBeDigitalLink is a necessary condition of reDL, cheap enough to run
// on every URI an event holds (CBV terms, locations), so that the regular
// expression runs only where it may match: a primary key's path element
// followed by four digits, or a last path element of ten letters (a
// compressed link).
func mayBeDigitalLink(uri string) bool {
	if n := len(uri); n >= 11 && uri[n-11] == '/' && isSlug(uri[n-10:]) {
		return true
	}
	for i := strings.IndexByte(uri, '/'); i >= 0; {
		rest := uri[i+1:]
		j := strings.IndexByte(rest, '/')
		if j < 0 {
			return false
		}
		if isKeyAI(rest[:j]) && len(rest) >= j+5 && allDigits(rest[j+1:j+5]) {
			return true
		}
		i += 1 + j
	}
	return false
}

func isSlug(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// epcToDigitalLink converts EPC URIs, EPC class URIs and EPC pattern URIs.
// dot is the index of uri's first '.', which ends the company prefix.
func epcToDigitalLink(uri string, dot int) (string, bool) {
	// ref returns the n characters after the company prefix's dot.
	ref := func(n int) string { return uri[dot+1 : dot+1+n] }
	const dl = "https://id.gs1.org/"
	switch {
	case isSGTIN(uri):
		gcp := uri[17:dot]
		gtin := gtinFromEPC(gcp, ref(13-len(gcp)))
		return dl + "01/" + gtin + checkDigit(gtin) + "/21/" + dlPercent.Replace(uri[32:]), true
	case reSSCC.MatchString(uri):
		gcp := uri[16:dot]
		sscc := uri[dot+1:dot+2] + gcp + uri[dot+2:]
		return dl + "00/" + sscc + checkDigit(sscc), true
	case reSGLN.MatchString(uri):
		gcp := uri[16:dot]
		gln := gcp + ref(12-len(gcp))
		if ext := uri[30:]; ext != "0" {
			return dl + "414/" + gln + checkDigit(gln) + "/254/" + dlPercent.Replace(ext), true
		}
		return dl + "414/" + gln + checkDigit(gln), true
	case reGRAI.MatchString(uri):
		gcp := uri[16:dot]
		grai := "0" + gcp + ref(12-len(gcp))
		return dl + "8003/" + grai + checkDigit(grai) + dlPercent.Replace(uri[30:]), true
	case reGIAI.MatchString(uri):
		return dl + "8004/" + uri[16:dot] + dlPercent.Replace(uri[dot+1:]), true
	case reGSRN.MatchString(uri):
		key := uri[16:dot] + uri[dot+1:]
		return dl + "8018/" + key + checkDigit(key), true
	case reGSRNP.MatchString(uri):
		key := uri[17:dot] + uri[dot+1:]
		return dl + "8017/" + key + checkDigit(key), true
	case reGDTI.MatchString(uri):
		gcp := uri[16:dot]
		key := gcp + ref(12-len(gcp))
		return dl + "253/" + key + checkDigit(key) + dlPercent.Replace(uri[30:]), true
	case reCPI.MatchString(uri):
		last := strings.LastIndexByte(uri, '.')
		return dl + "8010/" + dlPercent.Replace(uri[15:dot]+uri[dot+1:last]) + "/8011/" + uri[last+1:], true
	case reSGCN.MatchString(uri):
		gcp := uri[16:dot]
		key := gcp + ref(12-len(gcp))
		return dl + "255/" + key + checkDigit(key) + uri[30:], true
	case reGINC.MatchString(uri):
		return dl + "401/" + uri[16:dot] + dlPercent.Replace(uri[dot+1:]), true
	case reGSIN.MatchString(uri):
		key := uri[16:dot] + uri[dot+1:]
		return dl + "402/" + key + checkDigit(key), true
	case reITIP.MatchString(uri):
		gcp := uri[16:dot]
		gtin := gtinFromEPC(gcp, ref(13-len(gcp)))
		return dl + "8006/" + gtin + checkDigit(gtin) + uri[31:33] + uri[34:36] + "/21/" + dlPercent.Replace(uri[37:]), true
	case reUPUI.MatchString(uri):
		gcp := uri[16:dot]
		gtin := gtinFromEPC(gcp, ref(13-len(gcp)))
		return dl + "01/" + gtin + checkDigit(gtin) + "/235/" + dlPercent.Replace(uri[31:]), true
	case rePGLN.MatchString(uri):
		gcp := uri[16:dot]
		gln := gcp + ref(12-len(gcp))
		return dl + "417/" + gln + checkDigit(gln), true
	case reLGTIN.MatchString(uri):
		gcp := uri[20:dot]
		gtin := gtinFromEPC(gcp, ref(13-len(gcp)))
		return dl + "01/" + gtin + checkDigit(gtin) + "/10/" + dlPercent.Replace(uri[35:]), true
	case rePatGTN.MatchString(uri):
		gcp := uri[20:dot]
		gtin := gtinFromEPC(gcp, ref(13-len(gcp)))
		return dl + "01/" + gtin + checkDigit(gtin), true
	case rePatGRA.MatchString(uri):
		gcp := uri[19:dot]
		grai := "0" + gcp + ref(12-len(gcp))
		return dl + "8003/" + grai + checkDigit(grai), true
	case rePatGDT.MatchString(uri):
		gcp := uri[19:dot]
		key := gcp + ref(12-len(gcp))
		return dl + "253/" + key + checkDigit(key), true
	case rePatSGC.MatchString(uri):
		gcp := uri[19:dot]
		key := gcp + ref(12-len(gcp))
		return dl + "255/" + key + checkDigit(key), true
	case rePatCPI.MatchString(uri):
		last := strings.LastIndexByte(uri, '.')
		return dl + "8010/" + dlPercent.Replace(uri[18:dot]+uri[dot+1:last]), true
	case rePatITP.MatchString(uri):
		gcp := uri[19:dot]
		gtin := gtinFromEPC(gcp, ref(13-len(gcp)))
		return dl + "8006/" + gtin + checkDigit(gtin) + uri[34:36] + uri[37:39], true
	case rePatUPI.MatchString(uri):
		gcp := uri[19:dot]
		gtin := gtinFromEPC(gcp, ref(13-len(gcp)))
		return dl + "01/" + gtin + checkDigit(gtin), true
	}
	return "", false
}

// dlShortNames maps Digital Link short names to their AIs.
var dlShortNames = []string{
	"/gtin/", "/01/", "/itip/", "/8006/", "/cpid/", "/8010/", "/gln/", "/414/", "/party/", "/417/",
	"/gsrnp/", "/8017/", "/gsrn/", "/8018/", "/gcn/", "/255/", "/sscc/", "/00/", "/gdti/", "/253/",
	"/ginc/", "/401/", "/gsin/", "/402/", "/grai/", "/8003/", "/giai/", "/8004/", "/cpv/", "/22/",
	"/lot/", "/10/", "/ser/", "/21/",
}

// dlPrimaryKeys are the primary-key AIs, in the order the reference looks
// for them when it moves a URI to the canonical host.
var dlPrimaryKeys = []string{"/00/", "/01/", "/253/", "/255/", "/401/", "/402/", "/414/", "/417/",
	"/8003/", "/8004/", "/8006/", "/8010/", "/8017/", "/8018/"}

// canonicaliseDigitalLink rewrites a Digital Link URI to the canonical
// host, AIs instead of short names, a 14-digit GTIN, no CPV, serial over
// lot, and no query; false when the result is not canonical.
func canonicaliseDigitalLink(uri string) (string, bool) {
	if q := strings.IndexByte(uri, '?'); q >= 0 {
		uri = uri[:q]
	}
	for i := 0; i < len(dlShortNames); i += 2 { // sequential, as str.replace
		uri = strings.ReplaceAll(uri, dlShortNames[i], dlShortNames[i+1])
	}
	if !reCanonicalHost.MatchString(uri) {
		for _, k := range dlPrimaryKeys {
			if i := strings.Index(uri, k); i >= 0 {
				uri = "https://id.gs1.org" + uri[i:]
				break
			}
		}
	}
	if !reGTIN14.MatchString(uri) {
		switch {
		case reGTIN13.MatchString(uri):
			uri = strings.ReplaceAll(uri, "/01/", "/01/0")
		case reGTIN12.MatchString(uri):
			uri = strings.ReplaceAll(uri, "/01/", "/01/00")
		case reGTIN8.MatchString(uri):
			uri = strings.ReplaceAll(uri, "/01/", "/01/000000")
		}
	}
	if reCPVOnly.MatchString(uri) {
		uri = uri[:strings.Index(uri, "/22/")]
	}
	if reCPVMore.MatchString(uri) {
		i := strings.Index(uri, "/22/")
		x := uri[i+4:]
		if j := strings.IndexByte(x, '/'); j >= 0 {
			uri = uri[:i] + x[j:]
		} else { // Python's x[-1:]
			uri = uri[:i] + x[len(x)-1:]
		}
	}
	if reLotSerial.MatchString(uri) {
		i := strings.Index(uri, "/10/")
		y := uri[i+4:]
		uri = uri[:i] + y[strings.IndexByte(y, '/'):]
	}
	if reCanonical.MatchString(uri) {
		return uri, true
	}
	return "", false
}
