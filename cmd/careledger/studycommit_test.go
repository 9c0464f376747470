package main

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"

	"github.com/careledger/careledger/fhir"
)

// TestStudyCommitment: trial-register commits to the ResearchStudy file as
// POST /fhir/ResearchStudy checks it, the canonical JSON with id the trial
// ID, so that a trial registered with the CLI can have its document kept
// at the sponsor's node; and to another trial ID, another commitment.
func TestStudyCommitment(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "data", "fhir-examples", "resources", "ResearchStudy-example.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := fhir.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	// The HL7 example's id is "example": as trial "example" its bytes are
	// committed as they are.
	if got, err := studyCommitment(path, "example"); err != nil || got != sha256.Sum256(r.Canonical()) {
		t.Errorf("studyCommitment(example, %q) = %x, %v; want the SHA-256 of its canonical JSON", "example", got, err)
	}
	r.SetID("NCT00000042")
	if got, err := studyCommitment(path, "NCT00000042"); err != nil || got != sha256.Sum256(r.Canonical()) {
		t.Errorf("studyCommitment(example, NCT00000042) = %x, %v; want that of the study with id NCT00000042", got, err)
	}
}
