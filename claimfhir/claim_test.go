package claimfhir_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/careledger/careledger/claimfhir"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/tx"
)

const visit = `{"resourceType":"Claim","status":"active","use":"claim","patient":{"reference":"Patient/p1"},
"insurer":{"identifier":{"system":"urn:careledger:org","value":"acme-health"}},
"insurance":[{"sequence":1,"focal":true,"coverage":{"identifier":{"system":"urn:careledger:coverage","value":"cov-1"}}}],
"billablePeriod":{"start":"2024-03-01T09:00:00Z"},
"diagnosis":[{"sequence":1,"diagnosisCodeableConcept":{"coding":[{"code":"E11.9"}]}}],
"item":[{"sequence":1,"productOrService":{"coding":[{"code":"99214"}]},"modifier":[{"coding":[{"code":"25"}]}],"diagnosisSequence":[1],"net":{"value":180.5}},
 {"sequence":2,"productOrService":{"coding":[{"code":"36415"}]},"servicedDate":"2024-03-02","quantity":{"value":2},"unitPrice":{"value":3.25}}]}`

// synthea is the shape of a Synthea Claim: a priceless encounter item
// charged what the total leaves, and a priceless item naming a diagnosis.
const synthea = `{"resourceType":"Claim","use":"claim","patient":{"reference":"Patient/p1"},
"insurer":{"identifier":{"system":"urn:careledger:org","value":"acme-health"}},
"insurance":[{"coverage":{"reference":"Coverage/cov-1"}}],
"billablePeriod":{"start":"2019-05-06T10:00:00-04:00"},
"diagnosis":[{"diagnosisCodeableConcept":{"coding":[{"code":"444814009"}]}}],
"item":[{"productOrService":{"coding":[{"code":"185345009"}]}},
 {"diagnosisSequence":[1],"productOrService":{"coding":[{"code":"444814009"}]}},
 {"productOrService":{"coding":[{"code":"140"}]},"net":{"value":140.52}}],
"total":{"value":269.52,"currency":"USD"}}`

func TestDecode(t *testing.T) {
	c, err := claimfhir.Decode([]byte(visit))
	if err != nil {
		t.Fatal(err)
	}
	want := []claims.Line{
		{Code: "99214", Modifiers: []string{"25"}, Units: 1, Charge: 18050, Date: 20240301, Pointers: []uint64{1}},
		{Code: "36415", Units: 2, Charge: 650, Date: 20240302},
	}
	if c.Use != claims.UseClaim || c.PatientID != "p1" || c.Payer != "acme-health" || c.Coverage != "cov-1" || c.Place != "11" || len(c.Diagnoses) != 1 {
		t.Errorf("Decode(visit) = %+v", c)
	}
	if got, _ := json.Marshal(c.Lines); string(got) != mustJSON(want) {
		t.Errorf("Decode(visit).Lines = %s; want %s", got, mustJSON(want))
	}
	m, err := c.Submit([32]byte{1}, "city-clinic", tx.Address{2}, 19700615)
	if err != nil || m.Age != 53 || m.Provider != "city-clinic" {
		t.Errorf("Submit = %+v, %v; want age 53", m, err)
	}

	s, err := claimfhir.Decode([]byte(synthea))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Lines) != 2 || s.Lines[0].Charge != 12900 || s.Lines[1].Charge != 14052 || s.Lines[0].Date != 20190506 {
		t.Errorf("Decode(synthea).Lines = %+v; want the encounter charged 129.00 and 140.52", s.Lines)
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestDecodeRefuses(t *testing.T) {
	edit := func(from, to string) string { return strings.Replace(visit, from, to, 1) }
	for _, c := range []struct{ name, body, code string }{
		{"not JSON", "{", claimfhir.CodeNotClaim},
		{"another type", `{"resourceType":"Patient"}`, claimfhir.CodeNotClaim},
		{"predetermination", edit(`"use":"claim"`, `"use":"predetermination"`), claimfhir.CodeUse},
		{"no patient", edit(`"Patient/p1"`, `"Group/p1"`), claimfhir.CodePatient},
		{"insurer by name", edit(`"system":"urn:careledger:org",`, ``), claimfhir.CodeInsurer},
		{"no coverage", edit(`"coverage":{"identifier":{"system":"urn:careledger:coverage","value":"cov-1"}}`, `"coverage":{"display":"Acme"}`), claimfhir.CodeCoverage},
		{"diagnosis by reference", edit(`"diagnosisCodeableConcept":{"coding":[{"code":"E11.9"}]}`, `"diagnosisReference":{"reference":"Observation/c"}`), claimfhir.CodeDiagnosis},
		{"negative", edit(`180.5`, `-180.5`), claimfhir.CodeAmount},
		{"three decimals", edit(`180.5`, `180.555`), claimfhir.CodeAmount},
		{"absurd", edit(`180.5`, `1e12`), claimfhir.CodeAmount},
		{"zero quantity", edit(`"value":2`, `"value":0`), claimfhir.CodeItem},
		{"bad date", edit(`"2024-03-02"`, `"March 2"`), claimfhir.CodeDate},
		{"bad preAuthRef", edit(`"focal":true,`, `"focal":true,"preAuthRef":["x"],`), claimfhir.CodePreAuth},
	} {
		_, err := claimfhir.Decode([]byte(c.body))
		var fe *fhir.Error
		if !errors.As(err, &fe) || !errors.Is(fe.Kind, fhir.ErrInvalid) || !strings.HasPrefix(fe.Issues[0].Diagnostics, c.code+":") {
			t.Errorf("%s: Decode = %v; want %s", c.name, err, c.code)
		}
	}
}

func TestResolve(t *testing.T) {
	c, err := claimfhir.Decode([]byte(strings.Replace(visit, `"diagnosisCodeableConcept":{"coding":[{"code":"E11.9"}]}`, `"diagnosisReference":{"reference":"Condition/c1"}`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Resolve(func(id string) (string, error) { return map[string]string{"c1": "44054006"}[id], nil }); err != nil || c.Diagnoses[0] != "44054006" {
		t.Errorf("Resolve = %v, diagnoses %v; want the Condition's code", err, c.Diagnoses)
	}
	if err := c.Resolve(func(string) (string, error) { return "", nil }); err == nil {
		t.Error("Resolve of a Condition without a code succeeded")
	}
}

func TestSubmitChecksAsTheContract(t *testing.T) {
	c, err := claimfhir.Decode([]byte(strings.Replace(visit, `"36415"`, `"364/15"`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Submit([32]byte{1}, "city-clinic", tx.Address{2}, 19700615)
	if err == nil {
		t.Fatalf("Submit with a code holding a slash = %v; want refused", err)
	}
	var fe *fhir.Error
	if !errors.As(err, &fe) || !strings.HasPrefix(fe.Issues[0].Diagnostics, claimfhir.CodeInvalid) {
		t.Errorf("Submit = %v; want %s", err, claimfhir.CodeInvalid)
	}
	if _, err := c.Submit([32]byte{1}, "city-clinic", tx.Address{2}, 0); err == nil {
		t.Error("Submit without a birth date succeeded")
	}
}

func TestClaimResponse(t *testing.T) {
	d := &claimfhir.Decided{Decision: &claims.Decision{
		Claim: [32]byte{0xab}, Use: claims.UseClaim, Provider: "city-clinic", Payer: "acme-health", Coverage: "cov-1", Height: 7,
		Lines: []claims.LineResult{
			{Status: claims.Approved, Version: 1, Submitted: 20000, Eligible: 18000, Benefit: 12000, Patient: 6000, Adjustments: []claims.Adjustment{{Reason: "45", Amount: 2000}}},
			{Status: claims.Denied, Version: 1, Submitted: 1000, Adjustments: []claims.Adjustment{{Reason: "97", Amount: 1000}}, Edits: []string{"code_pair"}},
		},
		Benefit: 12000, PatientOwes: 6000, Paid: true,
	}, Time: time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC), AuditEvent: 42}
	r, err := claimfhir.ClaimResponse(d)
	if err != nil {
		t.Fatal(err)
	}
	s := string(r.Canonical())
	for _, want := range []string{`"outcome":"partial"`, `"code":"97"`, `"valueString":"code_pair"`, `"value":120.00`, `"currency":"USD"`, `"reference":"AuditEvent/log-42"`, `"memberliability"`} {
		if !strings.Contains(s, want) {
			t.Errorf("ClaimResponse lacks %s: %s", want, s)
		}
	}
	if r.ID() != claimfhir.ID(d.Claim) {
		t.Errorf("id %s; want %s", r.ID(), claimfhir.ID(d.Claim))
	}
	d.Paid = false // the payer was short: approved, waiting in its queue
	if r, _ := claimfhir.ClaimResponse(d); !strings.Contains(string(r.Canonical()), `"code":"partial"`) {
		t.Errorf("unpaid ClaimResponse's payment is not partial: %s", r.Canonical())
	}
	d.Paid = true
	eob, err := claimfhir.ExplanationOfBenefit(d)
	if err != nil || !strings.Contains(string(eob.Canonical()), `"focal":true`) {
		t.Errorf("ExplanationOfBenefit = %s, %v", eob.Canonical(), err)
	}
}

func TestEligibilityResponse(t *testing.T) {
	req, err := claimfhir.DecodeEligibility([]byte(`{"resourceType":"CoverageEligibilityRequest","patient":{"identifier":{"system":"urn:careledger:patient","value":"` + tx.Address{1}.String() + `"}},
"insurer":{"identifier":{"system":"urn:careledger:org","value":"acme-health"}},"servicedDate":"2024-06-01","insurance":[{"coverage":{"reference":"Coverage/cov-1"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	st := claimfhir.Standing{InForce: true, Coverage: &claims.Coverage{Plan: "gold", Start: 20000101},
		Plan: &claims.Plan{Deductible: 50000, Coinsurance: 2000, Copay: 2000, OOPMax: 400000, YearStart: 701}, Used: claims.Accumulators{Deductible: 18000, OOP: 18000}}
	r, err := claimfhir.EligibilityResponse(req, st, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s := string(r.Canonical())
	for _, want := range []string{`"inforce":true`, `"start":"2023-07-01"`, `"end":"2024-06-30"`, `"value":180.00`, `"allowedString":"20.00%"`} {
		if !strings.Contains(s, want) {
			t.Errorf("CoverageEligibilityResponse lacks %s: %s", want, s)
		}
	}
}

// FuzzDecode checks that no Claim body panics the decoder, and that a
// claim it reads either submits or is refused with a FHIR error.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(visit))
	f.Add([]byte(synthea))
	f.Add([]byte(`{"resourceType":"Claim","use":"preauthorization","item":[{"net":{"value":"1"}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := claimfhir.Decode(b)
		if err != nil {
			var fe *fhir.Error
			if !errors.As(err, &fe) {
				t.Fatalf("Decode error %v is not a FHIR error", err)
			}
			return
		}
		if _, err := c.Submit([32]byte{1}, "city-clinic", tx.Address{2}, 19000101); err != nil {
			var fe *fhir.Error
			if !errors.As(err, &fe) {
				t.Fatalf("Submit error %v is not a FHIR error", err)
			}
		}
	})
}

// FuzzDecodeEligibility checks that no body panics the eligibility
// request's decoder.
func FuzzDecodeEligibility(f *testing.F) {
	f.Add([]byte(`{"resourceType":"CoverageEligibilityRequest","patient":{"reference":"Patient/p"},"insurer":{"identifier":{"system":"urn:careledger:org","value":"a"}},"servicedDate":"2024-06-01","insurance":[{"coverage":{"reference":"Coverage/c"}}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := claimfhir.DecodeEligibility(b); err != nil {
			var fe *fhir.Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a FHIR error", err)
			}
		}
	})
}
