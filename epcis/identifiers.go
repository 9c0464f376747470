package epcis

import (
	"strings"
)

// gs1URNSchemes are the EPC URI schemes of GS1 keys, with their syntax.
var gs1URNSchemes = map[string]func(string) bool{
	"sgtin": isSGTIN, "sscc": reSSCC.MatchString, "sgln": reSGLN.MatchString,
	"grai": reGRAI.MatchString, "giai": reGIAI.MatchString, "gsrn": reGSRN.MatchString,
	"gsrnp": reGSRNP.MatchString, "gdti": reGDTI.MatchString, "cpi": reCPI.MatchString,
	"sgcn": reSGCN.MatchString, "ginc": reGINC.MatchString, "gsin": reGSIN.MatchString,
	"itip": reITIP.MatchString, "upui": reUPUI.MatchString, "pgln": rePGLN.MatchString,
}

// otherURNSchemes are EPC URI schemes outside GS1 keys, checked loosely.
var otherURNSchemes = map[string]bool{"gid": true, "usdod": true, "adi": true, "bic": true, "imovn": true, "gdti": true}

// checkEPC reports why s is not a valid instance-level identifier, or "".
// EPC URNs of GS1 keys must follow the EPC Tag Data Standard; GS1 Digital
// Link URIs must carry correct check digits; anything else must be an
// absolute URI (EPCIS allows private identifiers).
func checkEPC(s string) string {
	if rest, ok := strings.CutPrefix(s, "urn:epc:id:"); ok {
		scheme, _, _ := strings.Cut(rest, ":")
		if match, ok := gs1URNSchemes[scheme]; ok {
			if !match(s) {
				return "malformed EPC URI (" + scheme + ")"
			}
			return ""
		}
		if !otherURNSchemes[scheme] {
			return "unknown EPC URI scheme"
		}
		return ""
	}
	return checkURIOrDigitalLink(s)
}

// checkEPCClass reports why s is not a valid class-level identifier, or "".
func checkEPCClass(s string) string {
	switch {
	case strings.HasPrefix(s, "urn:epc:class:lgtin:"):
		if !reLGTIN.MatchString(s) {
			return "malformed EPC class URI (lgtin)"
		}
		return ""
	case strings.HasPrefix(s, "urn:epc:idpat:"):
		if _, ok := normaliseDigitalLink(s); !ok {
			return "malformed EPC pattern URI"
		}
		return ""
	}
	return checkURIOrDigitalLink(s)
}

// checkLocation reports why s is not a valid readPoint, bizLocation,
// source or destination identifier, or "".
func checkLocation(s string) string { return checkEPC(s) }

func checkURIOrDigitalLink(s string) string {
	if !isAbsoluteURI(s) {
		return "not an absolute URI"
	}
	if strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") {
		return checkDigitalLink(s)
	}
	return ""
}

// dlKeyDigits gives, for the GS1 Digital Link primary keys whose check
// digit the decoder verifies (GTIN, SSCC, GLN), how many leading digits
// the value has, the check digit being the last. Other keys are checked
// for syntax only by the hash's normaliser.
var dlKeyDigits = map[string]int{"01": 14, "00": 18, "414": 13, "417": 13, "8006": 14}

// checkDigitalLink checks the primary key of a GS1 Digital Link URI (an
// HTTP URI whose path holds a primary key AI): its digits and check digit.
// Other HTTP URIs pass.
func checkDigitalLink(s string) string {
	path := s[strings.Index(s, "//")+2:]
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	segs := strings.Split(path, "/")
	for i := 1; i+1 < len(segs); i++ {
		n, ok := dlKeyDigits[segs[i]]
		if !ok {
			continue
		}
		key := segs[i+1]
		if segs[i] == "01" && (len(key) == 8 || len(key) == 12 || len(key) == 13) {
			key = strings.Repeat("0", 14-len(key)) + key
		}
		if len(key) < n || !allDigits(key[:n]) || (segs[i] != "8006" && len(key) != n) {
			return "malformed GS1 key in Digital Link URI (AI " + segs[i] + ")"
		}
		if checkDigit(key[:n-1]) != key[n-1:n] {
			return "wrong check digit in Digital Link URI (AI " + segs[i] + ")"
		}
		return ""
	}
	return ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
