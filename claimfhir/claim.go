// Package claimfhir is the FHIR face of the claims contract as pure
// functions: a FHIR R4 Claim read into the claims/submit message that
// adjudication needs, and a committed decision written as a ClaimResponse
// or an ExplanationOfBenefit, a coverage as a CoverageEligibilityResponse.
// The HTTP layer (fhirapi) stores the Claim's body at the provider and
// sends the message; nothing here does I/O.
//
// claimfhir imports claims, fhir and tx.
package claimfhir

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/tx"
)

// Identifier systems by which a Claim names what the chain knows.
const (
	// OrgSystem names an organization by its ID on the chain
	// (Claim.insurer, Claim.provider).
	OrgSystem = "urn:careledger:org"
	// CoverageSystem names a coverage by the ID its payer registered
	// (Claim.insurance.coverage).
	CoverageSystem = "urn:careledger:coverage"
	// ClaimSystem names an adjudicated claim by its commitment in hex, the
	// ID of its ClaimResponse and ExplanationOfBenefit.
	ClaimSystem = "urn:careledger:claim"
	// PatientSystem names a patient by their account's address.
	PatientSystem = "urn:careledger:patient"
	// DefaultPlace is the CMS place of service of a claim that names none
	// (11, office).
	DefaultPlace = "11"
)

// Stable codes of a Claim that cannot be submitted; an OperationOutcome's
// diagnostics start with one, then a colon.
const (
	CodeNotClaim    = "claim-not-a-claim"
	CodeUse         = "claim-use"
	CodePatient     = "claim-patient"
	CodeInsurer     = "claim-insurer"
	CodeCoverage    = "claim-coverage"
	CodePreAuth     = "claim-preauth-ref"
	CodeDiagnosis   = "claim-diagnosis"
	CodeItem        = "claim-item"
	CodeAmount      = "claim-amount"
	CodeDate        = "claim-date"
	CodeInvalid     = "claim-invalid"
	CodeBirthDate   = "claim-patient-birthdate"
	CodeUnsupported = "claim-unsupported"
)

// bad returns a 400 for a Claim that cannot be submitted, with its stable
// code and the element at fault, never the element's value.
func bad(code, where, format string, args ...any) error {
	return fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: code + ": " + fmt.Sprintf(format, args...), Expression: []string{where}})
}

// Claim is what adjudication needs of a FHIR Claim.
type Claim struct {
	Use       claims.Use
	PatientID string // the id of the Patient resource it names (Patient/ID)
	Payer     string // the insurer's organization ID on the chain
	Coverage  string // the payer's coverage ID
	Place     string
	Diagnoses []string
	Lines     []claims.Line
	// PreAuth is the preauthorization whose authorizations the claim's
	// lines may consume (insurance.preAuthRef), zero if none.
	PreAuth [32]byte
	// Conditions are the diagnoses given as references to Conditions,
	// whose codes Resolve fills in.
	Conditions []Condition
}

// Condition is a diagnosis the Claim names by a Condition: Diagnoses[Index]
// is its code once resolved.
type Condition struct {
	Index int
	ID    string
}

// Resolve fills in the codes of the diagnoses given as Conditions, which
// code returns (the first coding's code of Condition id, held by the
// provider about the claim's patient); a Condition it cannot give refuses
// the claim.
func (c *Claim) Resolve(code func(id string) (string, error)) error {
	for _, cond := range c.Conditions {
		v, err := code(cond.ID)
		if err != nil {
			return err
		}
		if v == "" {
			return bad(CodeDiagnosis, fmt.Sprintf("Claim.diagnosis[%d]", cond.Index), "the Condition has no code")
		}
		c.Diagnoses[cond.Index] = v
	}
	return nil
}

type reference struct {
	Reference  string
	Identifier *struct{ System, Value string }
}

type codeable struct {
	Coding []struct{ System, Code string }
}

func (c codeable) code() string {
	if len(c.Coding) == 0 {
		return ""
	}
	return c.Coding[0].Code
}

type money struct {
	Value    json.Number
	Currency string
}

type claimJSON struct {
	ResourceType   string
	Use            string
	Patient        reference
	Insurer        reference
	BillablePeriod struct{ Start string }
	Insurance      []struct {
		Coverage   reference
		PreAuthRef []string
	}
	Diagnosis []struct {
		DiagnosisCodeableConcept *codeable
		DiagnosisReference       *reference
	}
	Item []struct {
		DiagnosisSequence       []uint64
		ProductOrService        codeable
		Modifier                []codeable
		Quantity                *struct{ Value json.Number }
		UnitPrice               *money
		Net                     *money
		ServicedDate            string
		ServicedPeriod          *struct{ Start string }
		LocationCodeableConcept *codeable
	}
	Total *money
}

// Decode reads a FHIR Claim. Its lines are its items with a price (net,
// else unitPrice × quantity); an item without a price and without
// diagnosis pointers is charged what the claim's total leaves (Synthea's
// encounter item); other priceless items are not billed. Diagnoses are
// codes (diagnosisCodeableConcept) or Conditions (diagnosisReference to
// Condition/ID, whose codes Resolve fills in); dates of service are the items' or
// else the billable period's start; amounts become minor units without
// floats.
func Decode(raw []byte) (*Claim, error) {
	var j claimJSON
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&j); err != nil {
		return nil, bad(CodeNotClaim, "Claim", "the body is not a Claim of the expected shape")
	}
	if j.ResourceType != "Claim" {
		return nil, bad(CodeNotClaim, "Claim", "the body is not a Claim")
	}
	c := &Claim{Place: DefaultPlace}
	switch j.Use {
	case "claim":
		c.Use = claims.UseClaim
	case "preauthorization":
		c.Use = claims.UsePreauth
	default:
		return nil, bad(CodeUse, "Claim.use", "use must be claim or preauthorization")
	}
	id, ok := strings.CutPrefix(j.Patient.Reference, "Patient/")
	if !ok || !fhir.ValidID(id) {
		return nil, bad(CodePatient, "Claim.patient", "patient must refer to a Patient held here as Patient/ID")
	}
	c.PatientID = id
	if j.Insurer.Identifier == nil || j.Insurer.Identifier.System != OrgSystem || j.Insurer.Identifier.Value == "" {
		return nil, bad(CodeInsurer, "Claim.insurer", "insurer must be an identifier of system %s naming the payer", OrgSystem)
	}
	c.Payer = j.Insurer.Identifier.Value
	if err := c.readInsurance(&j); err != nil {
		return nil, err
	}
	for i, dg := range j.Diagnosis {
		where := fmt.Sprintf("Claim.diagnosis[%d]", i)
		switch {
		case dg.DiagnosisCodeableConcept != nil && dg.DiagnosisCodeableConcept.code() != "":
			c.Diagnoses = append(c.Diagnoses, dg.DiagnosisCodeableConcept.code())
		case dg.DiagnosisReference != nil && strings.HasPrefix(dg.DiagnosisReference.Reference, "Condition/") &&
			fhir.ValidID(strings.TrimPrefix(dg.DiagnosisReference.Reference, "Condition/")):
			c.Conditions = append(c.Conditions, Condition{Index: len(c.Diagnoses), ID: strings.TrimPrefix(dg.DiagnosisReference.Reference, "Condition/")})
			c.Diagnoses = append(c.Diagnoses, "")
		default:
			return nil, bad(CodeDiagnosis, where, "a diagnosis is a diagnosisCodeableConcept with a code, or a diagnosisReference to Condition/ID held here")
		}
	}
	if err := c.readItems(&j); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Claim) readInsurance(j *claimJSON) error {
	if len(j.Insurance) == 0 {
		return bad(CodeCoverage, "Claim.insurance", "a claim names its coverage in insurance[0]")
	}
	ins := j.Insurance[0]
	switch cov := ins.Coverage; {
	case cov.Identifier != nil && cov.Identifier.System == CoverageSystem:
		c.Coverage = cov.Identifier.Value
	case strings.HasPrefix(cov.Reference, "Coverage/"):
		c.Coverage = strings.TrimPrefix(cov.Reference, "Coverage/")
	}
	if c.Coverage == "" {
		return bad(CodeCoverage, "Claim.insurance[0].coverage", "coverage must be an identifier of system %s or Coverage/ID", CoverageSystem)
	}
	if len(ins.PreAuthRef) > 1 {
		return bad(CodePreAuth, "Claim.insurance[0].preAuthRef", "name at most one preauthorization")
	}
	if len(ins.PreAuthRef) == 1 {
		b, err := hex.DecodeString(ins.PreAuthRef[0])
		if err != nil || len(b) != 32 {
			return bad(CodePreAuth, "Claim.insurance[0].preAuthRef", "a preAuthRef is the preAuthRef of a preauthorization's ClaimResponse")
		}
		copy(c.PreAuth[:], b)
	}
	return nil
}

func (c *Claim) readItems(j *claimJSON) error {
	var start uint32
	if j.BillablePeriod.Start != "" {
		d, err := Date(j.BillablePeriod.Start)
		if err != nil {
			return bad(CodeDate, "Claim.billablePeriod.start", "a date must be YYYY-MM-DD")
		}
		start = d
	}
	rest, encounter := uint64(0), -1
	if j.Total != nil {
		v, err := MinorUnits(j.Total.Value)
		if err != nil {
			return bad(CodeAmount, "Claim.total", "%v", err)
		}
		rest = v
	}
	for i, it := range j.Item {
		where := fmt.Sprintf("Claim.item[%d]", i)
		l := claims.Line{Code: it.ProductOrService.code(), Units: 1, Date: start, Pointers: it.DiagnosisSequence}
		if l.Code == "" {
			return bad(CodeItem, where+".productOrService", "an item needs a code")
		}
		for _, m := range it.Modifier {
			l.Modifiers = append(l.Modifiers, m.code())
		}
		if it.Quantity != nil {
			q, err := strconv.ParseUint(it.Quantity.Value.String(), 10, 64)
			if err != nil || q == 0 {
				return bad(CodeItem, where+".quantity", "quantity must be a positive whole number")
			}
			l.Units = q
		}
		if err := itemDate(&l, it.ServicedDate, it.ServicedPeriod); err != nil {
			return bad(CodeDate, where+".serviced[x]", "a date must be YYYY-MM-DD")
		}
		if l.Date == 0 {
			return bad(CodeDate, where, "an item needs a date of service (servicedDate or the claim's billablePeriod.start)")
		}
		if it.LocationCodeableConcept != nil && it.LocationCodeableConcept.code() != "" {
			c.Place = it.LocationCodeableConcept.code()
		}
		switch {
		case it.Net != nil:
			v, err := MinorUnits(it.Net.Value)
			if err != nil {
				return bad(CodeAmount, where+".net", "%v", err)
			}
			l.Charge = v
		case it.UnitPrice != nil:
			v, err := MinorUnits(it.UnitPrice.Value)
			if err != nil {
				return bad(CodeAmount, where+".unitPrice", "%v", err)
			}
			l.Charge = v * l.Units
		case len(it.DiagnosisSequence) == 0 && encounter < 0:
			encounter = len(c.Lines)
		default:
			continue // a priceless item naming a diagnosis: not billed
		}
		rest -= min(rest, l.Charge)
		c.Lines = append(c.Lines, l)
	}
	if encounter >= 0 {
		if rest == 0 {
			c.Lines = append(c.Lines[:encounter], c.Lines[encounter+1:]...)
		} else {
			c.Lines[encounter].Charge = rest
		}
	}
	if len(c.Lines) == 0 {
		return bad(CodeItem, "Claim.item", "a claim bills 1 to %d items with a price", claims.MaxLines)
	}
	return nil
}

func itemDate(l *claims.Line, date string, period *struct{ Start string }) error {
	if date == "" && period != nil {
		date = period.Start
	}
	if date == "" {
		return nil
	}
	d, err := Date(date)
	if err != nil {
		return err
	}
	l.Date = d
	return nil
}

// Submit returns the claims/submit message of the claim: provider is the
// organization that holds its body, commitment the body's, patient the
// Patient's account and birth its birth date (YYYYMMDD), from which the
// patient's age on the first date of service is counted. The message is
// checked as the contract checks it, so that a claim the contract would
// refuse for its content is refused before anything is stored.
func (c *Claim) Submit(commitment [32]byte, provider string, patient tx.Address, birth uint32) (claims.Submit, error) {
	m := claims.Submit{Claim: commitment, Use: c.Use, Patient: patient, Provider: provider, Payer: c.Payer,
		Coverage: c.Coverage, Place: c.Place, Diagnoses: c.Diagnoses, Lines: make([]claims.Line, len(c.Lines))}
	first := c.Lines[0].Date
	for i, l := range c.Lines {
		l.Auth = c.PreAuth
		m.Lines[i] = l
		first = min(first, l.Date)
	}
	if birth == 0 || birth > first {
		return m, bad(CodeBirthDate, "Patient.birthDate", "the patient's birth date must be known and not after the date of service")
	}
	m.Age = uint64((first - birth) / 10000)
	if err := Check(m); err != nil {
		return m, err
	}
	return m, nil
}

// submitSpec is the contract's description of claims/submit, whose
// decoder checks what needs no state.
var submitSpec = func() *contract.MsgSpec {
	c := claims.New(nil).Describe()
	return c.Msg(claims.TypeSubmit)
}()

// Check checks m as the contract does before any state is read; its error
// carries the claim-invalid code and the contract's reason.
func Check(m claims.Submit) error {
	if _, err := submitSpec.Decode(contract.Encode(m).Body); err != nil {
		msg := err.Error()
		if r, ok := err.(*tx.Rejection); ok {
			msg = r.Msg
		}
		return bad(CodeInvalid, "Claim", "%s", msg)
	}
	return nil
}

// Date reads an ISO date or dateTime's date as YYYYMMDD.
func Date(s string) (uint32, error) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return 0, fmt.Errorf("not a date")
	}
	v, err := strconv.ParseUint(s[:4]+s[5:7]+s[8:10], 10, 32)
	if err != nil {
		return 0, fmt.Errorf("not a date")
	}
	return uint32(v), nil
}

// MinorUnits reads a decimal amount ("140.52") as minor units, refusing a
// negative amount, one with more than two decimals, or one above
// claims.MaxAmount.
func MinorUnits(n json.Number) (uint64, error) {
	whole, frac, _ := strings.Cut(n.String(), ".")
	if len(frac) > 2 || whole == "" || strings.Trim(frac, "0123456789") != "" {
		return 0, fmt.Errorf("an amount is a non-negative number with at most two decimals")
	}
	v, err := strconv.ParseUint(whole+(frac + "00")[:2], 10, 64)
	if err != nil || strings.HasPrefix(whole, "+") {
		return 0, fmt.Errorf("an amount is a non-negative number with at most two decimals")
	}
	if v > claims.MaxAmount {
		return 0, fmt.Errorf("an amount exceeds %d minor units", claims.MaxAmount)
	}
	return v, nil
}
