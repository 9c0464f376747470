package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tourClaims walks the README's claims tour: Mercy's billing agent submits
// a claim for Carol, whose venipuncture is bundled with the visit; Carol
// reads her explanation of benefits and asks about her coverage.
func tourClaims(t *testing.T, run func(bool, ...string) string) {
	carol := run(true, "keys", "show", "--address", "patient-carol")
	dir := t.TempDir()
	claim := fmt.Sprintf(`{"resourceType": "Claim", "status": "active", "use": "claim", "created": "2026-11-02",
 "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
 "priority": {"coding": [{"code": "normal"}]},
 "patient": {"reference": "Patient/patient-carol"},
 "provider": {"identifier": {"system": "urn:careledger:org", "value": "mercy-hospital"}},
 "insurer": {"identifier": {"system": "urn:careledger:org", "value": "acme-health"}},
 "insurance": [{"sequence": 1, "focal": true, "coverage": {"identifier": {"system": "urn:careledger:coverage", "value": "cov-%s"}}}],
 "item": [
  {"sequence": 1, "productOrService": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99214"}]}, "servicedDate": "2026-11-01", "net": {"value": 200.00, "currency": "USD"}},
  {"sequence": 2, "productOrService": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "36415"}]}, "servicedDate": "2026-11-01", "net": {"value": 10.00, "currency": "USD"}}]}`, carol[:8])
	file := filepath.Join(dir, "claim.json")
	if err := os.WriteFile(file, []byte(claim), 0o600); err != nil {
		t.Fatal(err)
	}
	var cr struct {
		ResourceType, ID, Outcome string
		Item                      []struct {
			Adjudication []struct {
				Reason *struct{ Coding []struct{ Code string } }
			}
		}
		Payment struct{ Amount struct{ Value float64 } }
	}
	mustJSON(t, run(true, "fhir", "--key", "billing", "POST", "Claim", file), &cr)
	if cr.ResourceType != "ClaimResponse" || cr.Outcome != "partial" || len(cr.Item) != 2 || cr.Payment.Amount.Value != 48 {
		t.Fatalf("ClaimResponse = %+v; want partial, plan paying 48.00", cr)
	}
	last := cr.Item[1].Adjudication[len(cr.Item[1].Adjudication)-1]
	if last.Reason == nil || last.Reason.Coding[0].Code != "97" {
		t.Errorf("venipuncture's adjudication %+v; want denied with X12 reason 97", cr.Item[1].Adjudication)
	}
	run(true, "fhir", "--key", "patient-carol", "GET", "ClaimResponse/"+cr.ID)
	var eob struct{ Total int }
	mustJSON(t, run(true, "fhir", "--key", "patient-carol", "GET", "ExplanationOfBenefit?patient="+carol), &eob)
	if eob.Total != 1 {
		t.Errorf("Carol's explanations of benefits: %d; want 1", eob.Total)
	}
	ask := fmt.Sprintf(`{"resourceType": "CoverageEligibilityRequest", "status": "active", "purpose": ["benefits"], "created": "2026-11-02",
 "patient": {"identifier": {"system": "urn:careledger:patient", "value": "%s"}}, "servicedDate": "2026-11-15",
 "insurer": {"identifier": {"system": "urn:careledger:org", "value": "acme-health"}},
 "insurance": [{"coverage": {"identifier": {"system": "urn:careledger:coverage", "value": "cov-%s"}}}]}`, carol, carol[:8])
	if err := os.WriteFile(filepath.Join(dir, "ask.json"), []byte(ask), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := run(true, "fhir", "--key", "patient-carol", "POST", "CoverageEligibilityRequest/$submit", filepath.Join(dir, "ask.json")); !strings.Contains(out, `"inforce":true`) || !strings.Contains(out, `"code":"deductible"`) {
		t.Errorf("eligibility: %s; want in force, with the deductible", out)
	}
}
