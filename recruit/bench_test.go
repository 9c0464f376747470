package recruit

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/careledger/careledger/contract/condition"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/vault"
)

// benchPatients are n patients of 12 records each: a Patient, three
// Conditions, three MedicationRequests and five lab Observations.
func benchPatients(n int) [][]vault.Record {
	out := make([][]vault.Record, n)
	for i := range out {
		recs := []vault.Record{rec("Patient", fmt.Sprintf(`{"resourceType":"Patient","birthDate":"19%02d-03-04","gender":"female"}`, 40+i%50))}
		for j, c := range []string{"44054006", "38341003", "55822004"} {
			if (i+j)%4 != 0 {
				recs = append(recs, rec("Condition", `{"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct","code":"`+c+`"}]}}`))
			}
		}
		for _, m := range []string{"860975", "314076", "617312"} {
			recs = append(recs, rec("MedicationRequest", `{"resourceType":"MedicationRequest","status":"active","medicationCodeableConcept":{"coding":[{"code":"`+m+`"}]}}`))
		}
		for j, l := range []string{"4548-4", "2339-0", "2093-3", "8480-6", "39156-5"} {
			recs = append(recs, rec("Observation", fmt.Sprintf(`{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"%s"}]},"effectiveDateTime":"2026-%02d-15T08:00:00Z","valueQuantity":{"value":%d.%d,"unit":"%%"}}`, l, 1+j*2, 5+i%6, j)))
		}
		out[i] = recs
	}
	return out
}

// BenchmarkMatch measures a custodian's evaluation of an eligibility rule
// per patient (attributes from the records, then the rule), beside the
// baseline of only decoding the same records' JSON.
func BenchmarkMatch(b *testing.B) {
	patients := benchPatients(1000)
	engine := condition.NewEngine(8)
	const rule = `age_band in ["40-49", "50-59", "60-69"] && "44054006" in conditions && ` +
		`"860975" in medications && lab_in_range(labs, "4548-4", 7.0, 10.0)`
	b.Run("baseline: decode only", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			for _, r := range patients[i%len(patients)] {
				var v map[string]any
				if err := json.Unmarshal(r.Content, &v); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "patients/s")
	})
	b.Run("attributes and rule", func(b *testing.B) {
		matched := 0
		for i := 0; b.Loop(); i++ {
			e := Attributes(patients[i%len(patients)], now, 365*24*time.Hour)
			ok, err := trials.Eligible(engine, rule, &e)
			if err != nil {
				b.Fatal(err)
			}
			if ok {
				matched++
			}
		}
		if matched == 0 {
			b.Fatal("no patient matched: the benchmark measures nothing")
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "patients/s")
	})
}
