package x12

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/careledger/careledger/contract/claims"
)

// Party names a payer or payee in an 835 (N1): its name and an identifier
// with its qualifier (N103: "XV" a CMS plan ID, "XX" an NPI, "FI" a tax ID).
type Party struct {
	Name, IDQualifier, ID string
}

// Remittance is what an 835 reports: the settled claims of one payer to one
// payee, paid on the CareLedger ledger in one payment identified by Trace.
type Remittance struct {
	Envelope Envelope
	Payer    Party
	Payee    Party
	Trace    string // TRN02: the payment's reference, such as the settling block's height
	PayerID  string // TRN03: "1" and the payer's tax ID, as the guide has it
	Claims   []RemitClaim
}

// RemitClaim is one adjudicated claim and what the chain does not hold
// about it: the provider's patient control number (the 837's CLM01) and
// each line's procedure, modifiers, units and date of service, from the
// claim's body.
type RemitClaim struct {
	Decision       *claims.Decision
	PatientControl string
	Lines          []ServiceLine
}

// ServiceLine is a billed line as the provider submitted it.
type ServiceLine struct {
	Code      string
	Modifiers []string
	Units     uint64
	Date      uint32 // YYYYMMDD
}

// patientShare are the reasons whose adjustments the patient owes (group
// PR); every other adjustment is contractual (CO): the fee schedule's
// reduction and each denial.
var patientShare = map[string]bool{"1": true, "2": true, "3": true}

// Write835 writes r as a health care claim payment/advice (835,
// 005010X221A1): BPR with the total paid, TRN, the payer and payee (N1),
// and per claim a CLP, then per line an SVC with its CAS adjustments by
// group and its date. Each claim's lines balance: charge less adjustments
// is the payment. It refuses a claim not yet fully paid, a preauthorization,
// or lines that do not match the decision's.
func Write835(r *Remittance) ([]byte, error) {
	d := DefaultDelimiters
	var body []Segment
	var total uint64
	for i, rc := range r.Claims {
		segs, paid, err := remitClaim(d, rc)
		if err != nil {
			return nil, fmt.Errorf("claim %d: %w", i+1, err)
		}
		body = append(body, segs...)
		total += paid
	}
	if len(r.Claims) == 0 {
		return nil, fmt.Errorf("an 835 needs at least one claim")
	}
	date := fmt.Sprintf("%08d", r.Envelope.Date)
	head := []Segment{
		Seg("BPR", "I", amount(total), "C", "BOP", "", "", "", "", "", "", "", "", "", "", "", date),
		Seg("TRN", "1", r.Trace, r.PayerID),
		Seg("DTM", "405", date),
		Seg("N1", "PR", r.Payer.Name, r.Payer.IDQualifier, r.Payer.ID),
		Seg("N1", "PE", r.Payee.Name, r.Payee.IDQualifier, r.Payee.ID),
		Seg("LX", "1"),
	}
	if total == 0 {
		head[0] = Seg("BPR", "H", "0", "C", "NON", "", "", "", "", "", "", "", "", "", "", "", date)
	}
	ic := &Interchange{Delimiters: d, ISA: r.Envelope.isa(d), Groups: []Group{{
		GS:   r.Envelope.gs("HP", "005010X221A1"),
		Sets: []Set{{ST: Seg("ST", "835", "0001", "005010X221A1"), Segments: append(head, body...)}},
	}}}
	return ic.Encode(), nil
}

func remitClaim(d Delimiters, rc RemitClaim) ([]Segment, uint64, error) {
	dec := rc.Decision
	switch {
	case dec == nil || dec.Use != claims.UseClaim:
		return nil, 0, fmt.Errorf("not an adjudicated claim")
	case dec.Benefit > 0 && !dec.Paid:
		return nil, 0, fmt.Errorf("the claim waits for its payer's funds: nothing to remit yet")
	case len(rc.Lines) != len(dec.Lines):
		return nil, 0, fmt.Errorf("%d lines given for %d adjudicated", len(rc.Lines), len(dec.Lines))
	}
	var charge uint64
	for _, l := range dec.Lines {
		charge += l.Submitted
	}
	status := "1" // processed as primary
	if dec.Outcome() == "denied" {
		status = "4"
	}
	control := rc.PatientControl
	if control == "" {
		control = hex.EncodeToString(dec.Claim[:8])
	}
	segs := []Segment{Seg("CLP", control, status, amount(charge), amount(dec.Benefit), amount(dec.PatientOwes), "12",
		hex.EncodeToString(dec.Claim[:16]))}
	for i, l := range dec.Lines {
		sl := rc.Lines[i]
		proc := strings.Join(append([]string{"HC", sl.Code}, sl.Modifiers...), string(d.Component))
		segs = append(segs, Seg("SVC", proc, amount(l.Submitted), amount(l.Benefit), "", strconv.FormatUint(sl.Units, 10)),
			Seg("DTM", "472", fmt.Sprintf("%08d", sl.Date)))
		segs = append(segs, adjustments(l)...)
		var adjusted uint64
		for _, a := range l.Adjustments {
			adjusted += a.Amount
		}
		if l.Submitted-min(adjusted, l.Submitted) != l.Benefit || adjusted > l.Submitted {
			return nil, 0, fmt.Errorf("line %d does not balance: charge less adjustments is not its payment", i+1)
		}
	}
	return segs, dec.Benefit, nil
}

// adjustments returns a line's CAS segments: one per group (CO, then PR),
// up to six reason and amount pairs each, in the decision's order.
func adjustments(l claims.LineResult) []Segment {
	var out []Segment
	for _, group := range []string{"CO", "PR"} {
		cas := Seg("CAS", group)
		for _, a := range l.Adjustments {
			if patientShare[a.Reason] != (group == "PR") || a.Amount == 0 {
				continue
			}
			if len(cas.Elements) == 1+3*6 {
				out = append(out, cas)
				cas = Seg("CAS", group)
			}
			cas.Elements = append(cas.Elements, a.Reason, amount(a.Amount), "")
		}
		if len(cas.Elements) > 1 {
			cas.Elements = cas.Elements[:len(cas.Elements)-1] // no trailing empty quantity
			out = append(out, cas)
		}
	}
	return out
}

// amount writes minor units as an X12 decimal, trailing zeros dropped.
func amount(minor uint64) string {
	s := strconv.FormatUint(minor/100, 10)
	switch c := minor % 100; {
	case c == 0:
		return s
	case c%10 == 0:
		return s + "." + strconv.FormatUint(c/10, 10)
	default:
		return fmt.Sprintf("%s.%02d", s, c)
	}
}
