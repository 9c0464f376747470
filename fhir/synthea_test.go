package fhir_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/careledger/careledger/fhir"
)

type manifestEntry struct {
	File           string         `json:"file"`
	SHA256         string         `json:"sha256"`
	BundleType     string         `json:"bundle_type"`
	Entries        int            `json:"entries"`
	ResourceCounts map[string]int `json:"resource_counts"`
	BirthDate      *string        `json:"birthDate"` // of the bundle's patient; null for shared bundles
}

func readManifest(t *testing.T) map[string]manifestEntry {
	t.Helper()
	var list []manifestEntry
	if err := json.Unmarshal(readShared(t, "synthea/MANIFEST.json"), &list); err != nil {
		t.Fatal(err)
	}
	m := map[string]manifestEntry{}
	for _, e := range list {
		m[e.File] = e
	}
	return m
}

// syntheaOrder returns the bundles of a folder with the batch bundles of
// shared resources (hospitals, practitioners) first, as they must be loaded.
func syntheaOrder(t *testing.T, folder string) []string {
	files := globShared(t, "synthea/"+folder+"/*.json")
	rank := func(f string) int {
		switch base := filepath.Base(f); {
		case strings.HasPrefix(base, "hospitalInformation"):
			return 0
		case strings.HasPrefix(base, "practitionerInformation"):
			return 1
		}
		return 2
	}
	slices.SortStableFunc(files, func(a, b string) int { return rank(a) - rank(b) })
	return files
}

// TestSyntheaBundles parses, validates and resolves every Synthea bundle, in
// load order, into an in-memory store per folder, and checks the result
// against MANIFEST.json: entry and resource counts, no urn:uuid reference
// left, and every clinical resource tied to the bundle's patient.
func TestSyntheaBundles(t *testing.T) {
	v := testValidator(t)
	manifest := readManifest(t)
	seen := 0
	for _, folder := range []string{"smart-on-fhir-generated-sample-data", "google-fhir-data-pipes-synthea-hiv"} {
		store := newMemStore()
		newID := idGen(folder[:5])
		for _, file := range syntheaOrder(t, folder) {
			rel := "synthea/" + folder + "/" + filepath.Base(file)
			want, ok := manifest[rel]
			if !ok {
				t.Errorf("%s is not in MANIFEST.json", rel)
				continue
			}
			seen++
			t.Run(filepath.Base(file), func(t *testing.T) {
				checkSyntheaBundle(t, v, store, newID, readShared(t, rel), want)
			})
		}
	}
	if seen != len(manifest) {
		t.Errorf("checked %d bundles; MANIFEST.json lists %d", seen, len(manifest))
	}
}

func checkSyntheaBundle(t *testing.T, v *fhir.Validator, store *memStore, newID func(string) string, raw []byte, want manifestEntry) {
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != want.SHA256 {
		t.Fatalf("sha256 differs from MANIFEST.json: the data is not the data described")
	}
	b, err := fhir.ParseBundle(raw)
	if err != nil {
		t.Fatalf("ParseBundle = %v", err)
	}
	if b.Type != want.BundleType || len(b.Entries) != want.Entries {
		t.Fatalf("ParseBundle: type %s with %d entries; MANIFEST says %s with %d", b.Type, len(b.Entries), want.BundleType, want.Entries)
	}
	counts := map[string]int{}
	for _, e := range b.Entries {
		if e.Err != nil {
			t.Fatalf("entry error: %v", e.Err)
		}
		counts[e.Resource.Type()]++
	}
	if !maps.Equal(counts, want.ResourceCounts) {
		t.Errorf("resource counts %v; MANIFEST says %v", counts, want.ResourceCounts)
	}
	if err := v.ValidateBundle(b); err != nil {
		t.Fatalf("ValidateBundle = %v", err)
	}
	for i, e := range b.Entries {
		if e.Err != nil {
			t.Fatalf("entry %d: ValidateBundle recorded %v", i, e.Err)
		}
	}

	plan, err := fhir.Resolve(b, newID, store)
	if err != nil {
		t.Fatalf("Resolve = %v", err)
	}
	patient := ""
	for i, op := range plan.Ops {
		if op.Err != nil {
			t.Fatalf("op %d: %v", i, op.Err)
		}
		if op.Action == fhir.ActionNone {
			continue // a conditional create matched a stored resource
		}
		if op.Action != fhir.ActionCreate || op.Resource == nil || op.Resource.ID() != op.ID {
			t.Fatalf("op %d = %v %s/%s; want a create with the resource's id", i, op.Action, op.Type, op.ID)
		}
		for _, ref := range references(t, op.Resource) {
			if strings.HasPrefix(ref, "urn:uuid:") {
				t.Fatalf("op %d (%s): reference %s left unresolved", i, op.Type, ref)
			}
			if strings.Contains(ref, "?") {
				t.Fatalf("op %d (%s): conditional reference left unresolved", i, op.Type)
			}
		}
		if op.Type == "Patient" {
			patient = op.ID
			var p struct{ BirthDate string }
			if err := json.Unmarshal(op.Resource.Canonical(), &p); err != nil || want.BirthDate == nil || p.BirthDate != *want.BirthDate {
				t.Errorf("Patient birthDate differs from MANIFEST.json")
			}
		}
	}
	if (patient != "") != (want.BirthDate != nil) {
		t.Errorf("bundle has patient %q; MANIFEST birthDate %v", patient, want.BirthDate)
	}
	store.apply(plan)

	// Every resource of a patient bundle belongs to its patient; shared
	// resources (organizations, practitioners) to none.
	for i, op := range plan.Ops {
		if op.Resource == nil {
			continue
		}
		got, ok := fhir.PatientOf(op.Resource)
		if fhir.InPatientCompartment(op.Type) {
			if !ok || got != patient {
				t.Errorf("op %d: PatientOf(%s) = %q, %v; want %q", i, op.Resource, got, ok, patient)
			}
		} else if ok {
			t.Errorf("op %d: PatientOf(%s) = %q; want none", i, op.Resource, got)
		}
	}
}
