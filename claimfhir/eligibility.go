package claimfhir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/tx"
)

// Stable codes of a CoverageEligibilityRequest that cannot be answered.
const (
	CodeNotEligibilityRequest = "eligibility-not-a-request"
	CodeEligibilityPatient    = "eligibility-patient"
	CodeEligibilityInsurer    = "eligibility-insurer"
	CodeEligibilityCoverage   = "eligibility-coverage"
	CodeEligibilityDate       = "eligibility-date"
)

// EligibilityRequest is what an answer needs of a FHIR
// CoverageEligibilityRequest.
type EligibilityRequest struct {
	// PatientID is the Patient resource it names (Patient/ID), "" when it
	// names the patient's account (Patient).
	PatientID string
	Patient   tx.Address
	Payer     string
	Coverage  string
	Date      uint32 // servicedDate, YYYYMMDD
	Purpose   []string
}

// DecodeEligibility reads a CoverageEligibilityRequest: its patient (a
// Patient held here, or an identifier of PatientSystem), insurer (an
// identifier of OrgSystem), insurance[0].coverage and servicedDate.
func DecodeEligibility(raw []byte) (*EligibilityRequest, error) {
	var j struct {
		ResourceType string
		Purpose      []string
		Patient      reference
		Insurer      reference
		ServicedDate string
		Insurance    []struct{ Coverage reference }
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	if err := d.Decode(&j); err != nil || j.ResourceType != "CoverageEligibilityRequest" {
		return nil, bad(CodeNotEligibilityRequest, "CoverageEligibilityRequest", "the body is not a CoverageEligibilityRequest")
	}
	req := &EligibilityRequest{Purpose: j.Purpose}
	if len(req.Purpose) == 0 {
		req.Purpose = []string{"validation", "benefits"}
	}
	switch p := j.Patient; {
	case p.Identifier != nil && p.Identifier.System == PatientSystem:
		a, err := tx.ParseAddress(p.Identifier.Value)
		if err != nil {
			return nil, bad(CodeEligibilityPatient, "CoverageEligibilityRequest.patient", "the patient identifier is not an account address")
		}
		req.Patient = a
	case strings.HasPrefix(p.Reference, "Patient/") && fhir.ValidID(strings.TrimPrefix(p.Reference, "Patient/")):
		req.PatientID = strings.TrimPrefix(p.Reference, "Patient/")
	default:
		return nil, bad(CodeEligibilityPatient, "CoverageEligibilityRequest.patient", "patient must be Patient/ID or an identifier of system %s", PatientSystem)
	}
	if j.Insurer.Identifier == nil || j.Insurer.Identifier.System != OrgSystem || j.Insurer.Identifier.Value == "" {
		return nil, bad(CodeEligibilityInsurer, "CoverageEligibilityRequest.insurer", "insurer must be an identifier of system %s", OrgSystem)
	}
	req.Payer = j.Insurer.Identifier.Value
	if len(j.Insurance) > 0 {
		switch cov := j.Insurance[0].Coverage; {
		case cov.Identifier != nil && cov.Identifier.System == CoverageSystem:
			req.Coverage = cov.Identifier.Value
		case strings.HasPrefix(cov.Reference, "Coverage/"):
			req.Coverage = strings.TrimPrefix(cov.Reference, "Coverage/")
		}
	}
	if req.Coverage == "" {
		return nil, bad(CodeEligibilityCoverage, "CoverageEligibilityRequest.insurance[0].coverage", "name the coverage as an identifier of system %s or Coverage/ID", CoverageSystem)
	}
	date, err := Date(j.ServicedDate)
	if err != nil {
		return nil, bad(CodeEligibilityDate, "CoverageEligibilityRequest.servicedDate", "servicedDate must be YYYY-MM-DD")
	}
	req.Date = date
	return req, nil
}

// Standing is what the ledger says of a coverage on the date asked.
type Standing struct {
	InForce  bool
	Coverage *claims.Coverage // nil: no such coverage of the patient
	Plan     *claims.Plan
	// Used is what the patient has paid toward the deductible and the
	// out-of-pocket maximum in the plan year holding the date.
	Used claims.Accumulators
}

// EligibilityResponse answers req from the ledger's standing: whether the
// coverage is in force on the date, the plan's cost sharing and, for the
// plan year holding the date, the deductible and out-of-pocket maximum
// with what has been used of them.
func EligibilityResponse(req *EligibilityRequest, st Standing, created time.Time) (*fhir.Resource, error) {
	ins := obj("coverage", ident(CoverageSystem, req.Coverage), "inforce", st.InForce)
	if st.Coverage != nil && st.Plan != nil {
		year := claims.PlanYear(req.Date, st.Plan.YearStart)
		start := time.Date(int(year), time.Month(st.Plan.YearStart/100), int(st.Plan.YearStart%100), 0, 0, 0, 0, time.UTC)
		ins["benefitPeriod"] = obj("start", start.Format(time.DateOnly), "end", start.AddDate(1, 0, -1).Format(time.DateOnly))
		p := st.Plan
		benefits := []any{
			obj("type", coding(benefitType, "deductible"), "allowedMoney", Money(p.Deductible), "usedMoney", Money(st.Used.Deductible)),
			obj("type", coding(benefitType, "copay"), "allowedMoney", Money(p.Copay)),
			obj("type", coding(benefitType, "copay-percent"), "allowedString", fmt.Sprintf("%d.%02d%%", p.Coinsurance/100, p.Coinsurance%100)),
		}
		if p.OOPMax > 0 {
			benefits = append(benefits, obj("type", obj("coding", []any{obj("system", "urn:careledger:claims:benefit", "code", "out-of-pocket-maximum")}, "text", "out-of-pocket maximum"),
				"allowedMoney", Money(p.OOPMax), "usedMoney", Money(st.Used.OOP)))
		}
		ins["item"] = []any{obj("category", coding("http://terminology.hl7.org/CodeSystem/ex-benefitcategory", "30"),
			"unit", coding("http://terminology.hl7.org/CodeSystem/benefit-unit", "individual"),
			"term", coding("http://terminology.hl7.org/CodeSystem/benefit-term", "annual"),
			"benefit", benefits)}
		ins["extension"] = []any{obj("url", "urn:careledger:claims:plan", "valueString", st.Coverage.Plan)}
	}
	r := obj("resourceType", "CoverageEligibilityResponse",
		"status", "active", "purpose", req.Purpose,
		"patient", patientRef(req.Patient),
		"servicedDate", dateString(req.Date),
		"created", created.UTC().Format(time.RFC3339),
		"request", obj("display", "the CoverageEligibilityRequest answered"),
		"outcome", "complete",
		"insurer", ident(OrgSystem, req.Payer),
		"insurance", []any{ins})
	if st.Coverage == nil {
		r["error"] = []any{obj("code", obj("text", "the payer has no such coverage of the patient"))}
		r["outcome"] = "error"
	}
	return build(r)
}

const benefitType = "http://terminology.hl7.org/CodeSystem/benefit-type"

func dateString(d uint32) string {
	return fmt.Sprintf("%04d-%02d-%02d", d/10000, d/100%100, d%100)
}
