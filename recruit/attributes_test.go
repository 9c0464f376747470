package recruit

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/careledger/careledger/contract/condition"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/vault"
)

var now = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

func rec(typ, content string) vault.Record {
	return vault.Record{Type: typ, Content: []byte(content)}
}

func TestAttributes(t *testing.T) {
	recs := []vault.Record{
		rec("Patient", `{"resourceType":"Patient","birthDate":"1968-12-04","gender":"female"}`),
		rec("Condition", `{"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006"},{"system":"http://hl7.org/fhir/sid/icd-10","code":"E11.9"}]}}`),
		rec("Condition", `{"resourceType":"Condition","code":{"coding":[{"code":"44054006"}]}}`), // the same code again
		rec("MedicationRequest", `{"resourceType":"MedicationRequest","medicationCodeableConcept":{"coding":[{"code":"860975"}]}}`),
		rec("MedicationStatement", `{"resourceType":"MedicationStatement","medicationCodeableConcept":{"coding":[{"code":"310798"}]}}`),
		// HbA1c: an older and a newer result; the newer counts.
		rec("Observation", `{"resourceType":"Observation","code":{"coding":[{"code":"4548-4"}]},"effectiveDateTime":"2026-06-01T09:00:00Z","valueQuantity":{"value":9.6}}`),
		rec("Observation", `{"resourceType":"Observation","code":{"coding":[{"code":"4548-4"}]},"effectiveDateTime":"2026-11-01T09:00:00Z","valueQuantity":{"value":7.4}}`),
		// Glucose of two years ago: not recent. A result without a value, and one in the future: neither.
		rec("Observation", `{"resourceType":"Observation","code":{"coding":[{"code":"2339-0"}]},"effectiveDateTime":"2024-11-01","valueQuantity":{"value":140}}`),
		rec("Observation", `{"resourceType":"Observation","code":{"coding":[{"code":"8867-4"}]},"issued":"2026-11-30T10:00:00Z"}`),
		rec("Observation", `{"resourceType":"Observation","code":{"coding":[{"code":"39156-5"}]},"effectiveDateTime":"2027-01-01","valueQuantity":{"value":31}}`),
		{Type: "Condition", Deleted: true},
		rec("Condition", `not json`),
	}
	got := Attributes(recs, now, 365*24*time.Hour)
	want := trials.Eligibility{AgeBand: "50-59", Sex: "female", Conditions: []string{"44054006", "E11.9"},
		Medications: []string{"310798", "860975"}, Labs: []string{"4548-4=7.4"}}
	if got.AgeBand != want.AgeBand || got.Sex != want.Sex || !slices.Equal(got.Conditions, want.Conditions) ||
		!slices.Equal(got.Medications, want.Medications) || !slices.Equal(got.Labs, want.Labs) {
		t.Errorf("Attributes = %+v; want %+v", got, want)
	}
}

func TestAgeBand(t *testing.T) {
	for _, tc := range []struct{ born, want string }{
		{"1968-12-04", "50-59"}, // 58 the day after tomorrow: still 57
		{"1966-12-03", "60-69"}, // 60 today
		{"2010-01-01", "0-17"},
		{"2008-12-03", "18-29"},
		{"1940", "80+"},
		{"1999-02", "18-29"}, // a partial date: the year
		{"2030-01-01", ""},
		{"yesterday", ""},
	} {
		if got := ageBand(tc.born, now); got != tc.want {
			t.Errorf("ageBand(%s) = %q; want %q", tc.born, got, tc.want)
		}
	}
}

func TestAttributesBounded(t *testing.T) {
	var recs []vault.Record
	for i := range trials.MaxCodes + 10 {
		recs = append(recs, rec("Condition", `{"resourceType":"Condition","code":{"coding":[{"code":"C`+string(rune('A'+i%26))+string(rune('A'+i/26))+`"}]}}`))
	}
	e := Attributes(recs, now, time.Hour)
	if len(e.Conditions) != trials.MaxCodes {
		t.Fatalf("%d conditions; want the bound %d", len(e.Conditions), trials.MaxCodes)
	}
	// What a custodian computes always evaluates: a rule that iterates
	// every list stays within the cost the chain checked.
	ok, err := trials.Eligible(condition.NewEngine(4), `conditions.exists(c, c == "CZZ")`, &e)
	if err != nil || ok {
		t.Errorf("Eligible over bounded lists = %v, %v; want false, nil", ok, err)
	}
}

// FuzzAttributes: any record content yields attributes within the bounds
// the chain checked rules against, and never panics.
func FuzzAttributes(f *testing.F) {
	for _, s := range []string{
		`{"resourceType":"Patient","birthDate":"1968-12-04","gender":"female"}`,
		`{"resourceType":"Observation","code":{"coding":[{"code":"4548-4"}]},"effectiveDateTime":"2026-11-01T09:00:00Z","valueQuantity":{"value":7.4}}`,
		`{"resourceType":"MedicationRequest","medicationCodeableConcept":{"coding":[{"code":"860975"}]}}`,
		`{"resourceType":"Observation","valueQuantity":{"value":"1e999"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		e := Attributes([]vault.Record{{Type: "X", Content: content}}, now, 365*24*time.Hour)
		if len(e.Conditions) > trials.MaxCodes || len(e.Medications) > trials.MaxCodes || len(e.Labs) > trials.MaxLabs {
			t.Fatalf("Attributes(%q) = %+v: over the bounds", content, e)
		}
		for _, l := range slices.Concat(e.Conditions, e.Medications, e.Labs) {
			if len(l) > trials.MaxCodeLen {
				t.Fatalf("Attributes(%q): item %q over %d bytes", content, l, trials.MaxCodeLen)
			}
		}
	})
}

func TestInbox(t *testing.T) {
	in, err := OpenInbox(filepath.Join(t.TempDir(), "inbox"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	alice, bob := tx.Address{1}, tx.Address{2}
	put := func(p tx.Address, trial string, rev uint64, want bool) {
		t.Helper()
		if fresh, err := in.Put(p, Invitation{Trial: trial, Revision: rev, Custodian: "org1", Time: now}); fresh != want || err != nil {
			t.Errorf("Put(%s, %s r%d) = %v, %v; want %v", p, trial, rev, fresh, err, want)
		}
	}
	put(alice, "NCT2", 1, true)
	put(alice, "NCT2", 1, false) // matched again: not news
	put(alice, "NCT1", 1, true)
	put(alice, "NCT2", 2, true) // a new revision
	put(bob, "NCT1", 1, true)
	got, err := in.Of(alice)
	if err != nil || len(got) != 2 || got[0].Trial != "NCT1" || got[1].Trial != "NCT2" || got[1].Revision != 2 {
		t.Errorf("Of(alice) = %+v, %v; want NCT1 r1 and NCT2 r2", got, err)
	}
	if got, _ := in.Of(tx.Address{3}); len(got) != 0 {
		t.Errorf("Of(nobody) = %+v; want none", got)
	}
}
