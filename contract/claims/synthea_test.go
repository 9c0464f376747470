package claims_test

import (
	"crypto/sha256"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/tx"
)

// syntheaPatients are three patients of the HIV cohort, about 30 claims each.
var syntheaPatients = []string{
	"Bob965_Keeling57_3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b.json",
	"Cecelia952_Romaguera67_f1731e33-dc55-4ee8-72d7-cece2e49bedd.json",
	"Cyrus914_Nader710_e35e717e-09ad-041e-6858-56f84b32e476.json",
}

// fhirClaim is what the test reads of a FHIR Claim.
type fhirClaim struct {
	Use            string
	BillablePeriod struct{ Start string }
	Diagnosis      []struct {
		DiagnosisReference struct{ Reference string }
	}
	Item []struct {
		DiagnosisSequence []uint64
		ProductOrService  struct{ Coding []struct{ Code string } }
		Net               *struct{ Value json.Number }
	}
	Total struct{ Value json.Number }
}

// TestSyntheaClaims derives the on-chain claim of every Synthea Claim of
// three patients (read with package fhir), as a FHIR face would, and
// adjudicates each under a fee schedule that covers their codes: every
// claim applies, the only denials are duplicates, the deductible
// accumulates per plan year within its amount, and what the payer paid is
// what the clinic received, in the same messages.
func TestSyntheaClaims(t *testing.T) {
	ch := newChain(t)
	var subs []claims.Submit
	allowed := map[string]uint64{}
	signerKeys["carol"] = 9
	id := identity.Describe()
	ch.run(&id, "carol", identity.RegisterPatient{})
	for i, file := range syntheaPatients {
		patient := []string{patientAlice, patientBob, "carol"}[i] // a registered account stands in for each
		for _, m := range syntheaSubmits(t, file, addr(patient)) {
			for _, l := range m.Lines {
				allowed[l.Code] = max(allowed[l.Code], l.Charge*9/10) // pays 90% of the largest charge seen
			}
			subs = append(subs, m)
		}
	}
	if len(subs) < 60 {
		t.Fatalf("derived %d claims from %d patients; want their 90 or so", len(subs), len(syntheaPatients))
	}
	plan := claims.RegisterPlan{Payer: payer, Plan: "synthea", Deductible: 50_000, Coinsurance: 2_000, Copay: 2_000, OOPMax: 400_000, YearStart: 101}
	ch.must(payerAdmin, plan)
	load := claims.PolicyLoad{Payer: payer, Version: 1}
	for _, code := range slices.Sorted(maps.Keys(allowed)) {
		load.Fees = append(load.Fees, claims.Fee{Code: code, Allowed: max(allowed[code], 1)})
	}
	ch.must(payerAdmin, load)
	ch.must(payerAdmin, claims.PolicyPublish{Payer: payer, Version: 1, Effective: 19000101})
	ch.must(payerAdmin, claims.Deposit{Payer: payer, Amount: 1_000_000_000_000})
	covered := map[tx.Address]bool{}
	for _, m := range subs {
		if !covered[m.Patient] {
			covered[m.Patient] = true
			ch.must(payerAdmin, claims.RegisterCoverage{Payer: payer, Coverage: m.Coverage, Plan: "synthea", Patient: m.Patient, Start: 19000101})
		}
	}

	var benefit, lines, denied uint64
	for _, m := range subs {
		if code := ch.exec(clinicNode, m); code != tx.CodeOK {
			t.Fatalf("claim %x = %v (%v); want applied", m.Claim[:4], code, ch.err)
		}
		d, _ := claims.LoadDecision(ch.s, m.Claim)
		if d.Benefit > 0 && !d.Paid {
			t.Errorf("claim %x approved for %d but not paid", m.Claim[:4], d.Benefit)
		}
		for _, l := range d.Lines {
			lines++
			if l.Status == claims.Denied {
				denied++
				if l.Edits[0] != "duplicate" {
					t.Errorf("claim %x line denied by %v; only duplicates should be", m.Claim[:4], l.Edits)
				}
				continue
			}
			if l.Benefit+l.Patient != l.Eligible || l.Eligible > l.Submitted {
				t.Errorf("claim %x line = %+v; want benefit + patient = eligible <= submitted", m.Claim[:4], l)
			}
		}
		benefit += d.Benefit
	}
	if got := ch.balance(clinic); got != benefit {
		t.Errorf("clinic received %d; the decisions paid %d", got, benefit)
	}
	if got := ch.balance(payer); got != 1_000_000_000_000-benefit {
		t.Errorf("payer balance %d; want %d", got, 1_000_000_000_000-benefit)
	}
	met := 0
	for p := range covered {
		for year := uint32(1900); year <= 2030; year++ {
			acc, _ := claims.LoadAccumulators(ch.s, payer, syntheaCoverage(p), year)
			if acc.Deductible > plan.Deductible || acc.OOP > plan.OOPMax {
				t.Errorf("accumulators of %d = %+v; over the plan's %d, %d", year, acc, plan.Deductible, plan.OOPMax)
			}
			if acc.Deductible == plan.Deductible {
				met++
			}
		}
	}
	if met == 0 || benefit == 0 {
		t.Errorf("no plan year met its deductible (%d), or nothing paid (%d)", met, benefit)
	}
	t.Logf("%d claims, %d lines, %d denied as duplicates, %d paid, %d plan years past the deductible", len(subs), lines, denied, benefit, met)
}

func syntheaCoverage(p tx.Address) string { return "cov-" + p.String()[:8] }

// syntheaSubmits derives one claims/submit per Claim of a bundle: lines
// are the items with a price; the encounter's item, priceless, is charged
// the rest of the claim's total; items naming a diagnosis are the claim's
// diagnoses (their Conditions' codes); amounts are cents.
func syntheaSubmits(t *testing.T, file string, patient tx.Address) []claims.Submit {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "data", "synthea", "google-fhir-data-pipes-synthea-hiv", file))
	if err != nil {
		t.Skipf("Synthea data: %v", err)
	}
	b, err := fhir.ParseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	conditions := map[string]string{} // fullUrl → code
	var birth string
	for _, e := range b.Entries {
		var r struct {
			BirthDate string
			Code      struct{ Coding []struct{ Code string } }
		}
		if err := json.Unmarshal(e.Resource.Canonical(), &r); err != nil {
			t.Fatal(err)
		}
		switch e.Resource.Type() {
		case "Patient":
			birth = r.BirthDate
		case "Condition":
			conditions[e.FullURL] = r.Code.Coding[0].Code
		}
	}
	var out []claims.Submit
	for _, e := range b.Entries {
		if e.Resource.Type() != "Claim" {
			continue
		}
		var c fhirClaim
		if err := json.Unmarshal(e.Resource.Canonical(), &c); err != nil {
			t.Fatal(err)
		}
		date := dateOf(t, c.BillablePeriod.Start)
		m := claims.Submit{
			Claim: sha256.Sum256(e.Resource.Canonical()), Use: claims.UseClaim, Patient: patient,
			Provider: clinic, Payer: payer, Coverage: syntheaCoverage(patient), Age: uint64((date - dateOf(t, birth)) / 10000), Place: "11",
		}
		for _, d := range c.Diagnosis {
			m.Diagnoses = append(m.Diagnoses, conditions[d.DiagnosisReference.Reference])
		}
		rest := cents(t, c.Total.Value)
		encounter := -1
		for _, it := range c.Item {
			switch {
			case it.Net != nil:
				l := claims.Line{Code: it.ProductOrService.Coding[0].Code, Units: 1, Charge: cents(t, it.Net.Value), Date: date}
				rest -= l.Charge
				m.Lines = append(m.Lines, l)
			case len(it.DiagnosisSequence) == 0 && encounter < 0:
				encounter = len(m.Lines)
				m.Lines = append(m.Lines, claims.Line{Code: it.ProductOrService.Coding[0].Code, Units: 1, Date: date})
			}
		}
		if encounter >= 0 {
			m.Lines[encounter].Charge = rest
			if rest == 0 || rest > claims.MaxAmount {
				m.Lines = slices.Delete(m.Lines, encounter, encounter+1)
			}
		}
		if len(m.Diagnoses) > 0 {
			for i := range m.Lines {
				m.Lines[i].Pointers = []uint64{1}
			}
		}
		if len(m.Lines) > 0 {
			out = append(out, m)
		}
	}
	return out
}

// dateOf returns an ISO date or dateTime's date as YYYYMMDD.
func dateOf(t *testing.T, s string) uint32 {
	t.Helper()
	v, err := strconv.ParseUint(strings.ReplaceAll(s[:min(len(s), 10)], "-", ""), 10, 32)
	if err != nil {
		t.Fatalf("date %q: %v", s, err)
	}
	return uint32(v)
}

// cents converts a decimal amount ("140.52") to minor units without floats.
func cents(t *testing.T, n json.Number) uint64 {
	t.Helper()
	whole, frac, _ := strings.Cut(n.String(), ".")
	frac = (frac + "00")[:2]
	v, err := strconv.ParseUint(whole+frac, 10, 64)
	if err != nil {
		t.Fatalf("amount %q: %v", n, err)
	}
	return v
}
