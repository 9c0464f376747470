package supply

import (
	"strings"

	"github.com/careledger/careledger/tx"
)

// EPC identifies a serialized item or a logistic unit on the chain, in the
// path form of a GS1 Digital Link: "/01/{GTIN-14}/21/{serial}" for an SGTIN
// and "/00/{SSCC-18}" for an SSCC. The HTTP layer converts EPC URIs
// (urn:epc:id:sgtin:..., Digital Link URIs) to this form; one identifier
// has one form, so it can be a state key.
type EPC string

// Limits of identifiers.
const (
	MaxSerial = 20 // GS1 AI (21): up to 20 characters
	maxEPC    = len("/01/") + 14 + len("/21/") + MaxSerial
)

// SGTIN returns the EPC of the item with gtin and serial.
func SGTIN(gtin, serial string) EPC { return EPC("/01/" + gtin + "/21/" + serial) }

// SSCC returns the EPC of the logistic unit with the 18-digit code.
func SSCC(code string) EPC { return EPC("/00/" + code) }

// Item reports the GTIN and serial of an SGTIN, and false for an SSCC or a
// malformed EPC.
func (e EPC) Item() (gtin, serial string, ok bool) {
	s := string(e)
	if len(s) < len("/01/")+14+len("/21/")+1 || s[:4] != "/01/" || s[18:22] != "/21/" {
		return "", "", false
	}
	return s[4:18], s[22:], true
}

// IsSSCC reports whether e is a logistic unit's EPC.
func (e EPC) IsSSCC() bool { return strings.HasPrefix(string(e), "/00/") }

// Validate checks the form of e and its check digit.
func (e EPC) Validate() error {
	if gtin, serial, ok := e.Item(); ok {
		if err := ValidateGTIN(gtin); err != nil {
			return err
		}
		return validateSerial(serial)
	}
	if e.IsSSCC() {
		if code := string(e[4:]); len(code) != 18 || !checkDigitOK(code) {
			return tx.Rejectf(tx.CodeInvalid, "an SSCC is 18 digits with a valid check digit")
		}
		return nil
	}
	return tx.Rejectf(tx.CodeInvalid, "an EPC is /01/{gtin}/21/{serial} or /00/{sscc}")
}

// ValidateGTIN checks a GTIN-14: 14 digits whose last is the GS1 check
// digit. Shorter GTINs (8, 12, 13 digits) are padded with leading zeros
// before they reach the chain.
func ValidateGTIN(gtin string) error {
	if len(gtin) != 14 || !checkDigitOK(gtin) {
		return tx.Rejectf(tx.CodeInvalid, "a GTIN is 14 digits with a valid check digit")
	}
	return nil
}

// checkDigitOK reports whether s is all digits and its last is the GS1
// check digit (mod 10, weights 3 and 1 from the right).
func checkDigitOK(s string) bool {
	sum := 0
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i]) - '0'
		if d < 0 || d > 9 {
			return false
		}
		if i == len(s)-1 {
			continue
		}
		if (len(s)-1-i)%2 == 1 {
			d *= 3
		}
		sum += d
	}
	return (10-sum%10)%10 == int(s[len(s)-1]-'0')
}

// validateSerial checks a serial against GS1's character set 82 (the
// characters an AI (21) may hold), which excludes spaces and controls.
func validateSerial(s string) error {
	if s == "" || len(s) > MaxSerial {
		return tx.Rejectf(tx.CodeInvalid, "a serial is 1 to %d characters", MaxSerial)
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(cset82, rune(s[i])) {
			return tx.Rejectf(tx.CodeInvalid, "a serial holds only GS1 character set 82")
		}
	}
	return nil
}

const cset82 = `!"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz`
