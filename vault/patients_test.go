package vault_test

import (
	"slices"
	"sort"
	"testing"
)

// TestPatientsTypes checks the key-only listings a bulk export starts
// from: every patient held and not erased, in order, and each one's types.
func TestPatientsTypes(t *testing.T) {
	v := newVault(t)
	p1, p2, p3 := patient(1), patient(2), patient(3)
	put(t, v,
		rec(p1, "Observation", "b", 1),
		rec(p1, "Obs", "x", 1), // a type that is a prefix of another
		rec(p1, "Observation", "a", 1),
		rec(p1, "Condition", "c", 1),
		rec(p2, "Patient", "p2", 1),
		rec(p3, "Patient", "p3", 1),
		rec("", "Practitioner", "dr", 1),
	)
	if err := v.ErasePatient(p3); err != nil {
		t.Fatal(err)
	}
	got, err := v.Patients()
	want := []string{p1, p2}
	sort.Strings(want)
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("Patients() = %v, %v; want %v (not the erased one, not the directory)", got, err, want)
	}
	for _, tt := range []struct {
		patient string
		want    []string
	}{
		{p1, []string{"Condition", "Obs", "Observation"}},
		{p2, []string{"Patient"}},
		{p3, nil},
		{"", []string{"Practitioner"}},
		{patient(4), nil},
	} {
		if got, err := v.Types(tt.patient); err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Types(%.8s…) = %v, %v; want %v", tt.patient, got, err, tt.want)
		}
	}
	if _, err := v.Types("ABC"); err == nil {
		t.Error("Types(\"ABC\") = nil error; want invalid")
	}
}
