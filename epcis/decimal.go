package epcis

import (
	"errors"
	"math/big"
	"regexp"
	"strings"
)

// Decimal is a number exactly as the document wrote it ("26", "-3.5",
// "1.2E1"), so that no float ever reaches the state machine; Fixed reads it
// as an exact fixed-point integer. The zero value means absent.
type Decimal string

// decimalPattern is the syntax of an xsd:decimal or JSON number, with an
// optional exponent.
var decimalPattern = regexp.MustCompile(`^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$`)

// Errors of Decimal.Fixed.
var (
	ErrNotDecimal = errors.New("not a decimal number")
	ErrInexact    = errors.New("decimal has more fractional digits than the scale keeps")
	ErrOverflow   = errors.New("decimal does not fit in 64 bits at this scale")
)

// maxDecimalExponent bounds an exponent, so that "1e999999999" cannot ask
// for a huge power of ten.
const maxDecimalExponent = 40

// Valid reports whether d is a number.
func (d Decimal) Valid() bool { return decimalPattern.MatchString(string(d)) }

// Fixed returns d × 10^scale as an int64, exactly: Decimal("2.35").Fixed(2)
// is 235. It fails when d is not a number, has more fractional digits than
// scale keeps (ErrInexact; no rounding), or overflows.
func (d Decimal) Fixed(scale int) (int64, error) {
	s := string(d)
	if !decimalPattern.MatchString(s) || scale < 0 || scale > maxDecimalExponent {
		return 0, ErrNotDecimal
	}
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e, ok := new(big.Int).SetString(strings.TrimPrefix(s[i+1:], "+"), 10)
		if !ok || !e.IsInt64() || e.Int64() > maxDecimalExponent || e.Int64() < -maxDecimalExponent {
			return 0, ErrOverflow
		}
		exp = int(e.Int64())
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart, "+-") + frac
	if digits == "" {
		digits = "0"
	}
	n, _ := new(big.Int).SetString(digits, 10)
	if strings.HasPrefix(intPart, "-") {
		n.Neg(n)
	}
	shift := scale + exp - len(frac)
	ten := big.NewInt(10)
	if shift >= 0 {
		n.Mul(n, new(big.Int).Exp(ten, big.NewInt(int64(shift)), nil))
	} else {
		q, r := new(big.Int).QuoRem(n, new(big.Int).Exp(ten, big.NewInt(int64(-shift)), nil), new(big.Int))
		if r.Sign() != 0 {
			return 0, ErrInexact
		}
		n = q
	}
	if !n.IsInt64() {
		return 0, ErrOverflow
	}
	return n.Int64(), nil
}
