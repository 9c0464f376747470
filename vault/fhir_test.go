package vault_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/careledger/careledger/vault"
)

// fhirExamples is the folder of HL7's FHIR R4 example resources.
const fhirExamples = "../../shared/data/fhir-examples/resources"

// pseudonymOf stands in for the chain's pseudonym of a FHIR patient
// reference such as "Patient/example".
func pseudonymOf(ref string) string {
	h := sha256.Sum256([]byte("test pseudonym\x00" + ref))
	return hex.EncodeToString(h[:20])
}

// loadExamples reads every example resource as a first version: compact
// JSON, its patient taken from subject or patient ("" if it has none), and
// a Patient resource its own patient.
func loadExamples(t *testing.T) []vault.Record {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fhirExamples, "*.json"))
	if err != nil || len(files) == 0 {
		t.Skipf("no FHIR examples in %s (the shared data folder is absent): %v", fhirExamples, err)
	}
	var recs []vault.Record
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			ResourceType string
			ID           string
			Subject      json.RawMessage
			Patient      json.RawMessage
		}
		if err := json.Unmarshal(data, &res); err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		var content bytes.Buffer
		if err := json.Compact(&content, data); err != nil {
			t.Fatal(err)
		}
		ref := reference(res.Subject)
		if ref == "" {
			ref = reference(res.Patient)
		}
		if res.ResourceType == "Patient" {
			ref = "Patient/" + res.ID
		}
		p := ""
		if strings.HasPrefix(ref, "Patient/") {
			p = pseudonymOf(ref)
		}
		salt, err := vault.NewSalt()
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, vault.Record{
			Patient: p, Type: res.ResourceType, ID: res.ID, Version: 1,
			Updated: epoch, Salt: salt, Content: content.Bytes(),
		})
	}
	return recs
}

// TestFHIRExamples stores HL7's example resources, reopens the vault, and
// checks that each reads back byte for byte with its commitment, and that
// a patient's records list in order.
func TestFHIRExamples(t *testing.T) {
	recs := loadExamples(t)
	// Some examples share a type and id (in different files): keep the
	// first of each.
	seen := map[string]bool{}
	recs = slices.DeleteFunc(recs, func(r vault.Record) bool {
		k := r.Type + "/" + r.ID
		defer func() { seen[k] = true }()
		return seen[k]
	})
	commitments := map[string][32]byte{}
	for _, r := range recs {
		commitments[r.Type+"/"+r.ID] = vault.Commitment(r.Salt, r.Content)
	}

	dir, kw := t.TempDir(), newKey(t)
	v, err := vault.Open(dir, kw)
	if err != nil {
		t.Fatal(err)
	}
	for batch := range slices.Chunk(recs, 100) {
		if err := v.Put(batch...); err != nil {
			t.Fatalf("Put of %d examples = %v; want nil", len(batch), err)
		}
	}
	v.Close()
	v = openVault(t, dir, kw)

	for _, want := range recs {
		got, err := v.Latest(want.Type, want.ID)
		if err != nil {
			t.Fatalf("Latest(%s/%s) = %v; want nil", want.Type, want.ID, err)
		}
		if !equal(got, want) {
			t.Fatalf("Latest(%s/%s) differs from what was put", want.Type, want.ID)
		}
		if c := vault.Commitment(got.Salt, got.Content); c != commitments[want.Type+"/"+want.ID] {
			t.Fatalf("Commitment of %s/%s read back = %x; want the one computed before Put", want.Type, want.ID, c)
		}
	}

	p := pseudonymOf("Patient/example")
	var want []vault.Record
	for _, r := range recs {
		if r.Patient == p {
			want = append(want, r)
		}
	}
	slices.SortFunc(want, func(a, b vault.Record) int {
		return strings.Compare(a.Type+"\x00"+a.ID, b.Type+"\x00"+b.ID)
	})
	if len(want) < 2 {
		t.Fatalf("only %d examples concern Patient/example; the list check needs more", len(want))
	}
	got, err := v.List(p, "")
	if err != nil {
		t.Fatalf("List(Patient/example) = %v; want nil", err)
	}
	checkRecords(t, "List(Patient/example)", got, want)

	// Erasing the patient leaves the other examples readable.
	if err := v.ErasePatient(p); err != nil {
		t.Fatalf("ErasePatient(Patient/example) = %v; want nil", err)
	}
	if _, err := v.Latest("Patient", "example"); !errors.Is(err, vault.ErrErased) {
		t.Errorf("Latest(Patient/example) after erasure = %v; want ErrErased", err)
	}
	if _, err := v.Latest("Patient", "f001"); err != nil {
		t.Errorf("Latest(Patient/f001) after erasing another patient = %v; want nil", err)
	}
}

// reference returns the reference of a FHIR Reference element, or "" if
// the element is absent or something else (a list, a boolean).
func reference(elem json.RawMessage) string {
	var r struct{ Reference string }
	if json.Unmarshal(elem, &r) != nil {
		return ""
	}
	return r.Reference
}
