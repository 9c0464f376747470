package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tourTrial walks the README's demo trial (Clinical trials): the trial
// read by the sponsor's researcher, its outcome-switching report verified
// offline with the genesis alone, and its participants over FHIR, Bob
// asked to consent again.
func tourTrial(t *testing.T, run func(bool, ...string) string, genesis string) {
	t.Helper()
	if out := run(true, "query", "trial", "--key", "researcher", "DEMO-2026-001"); !strings.Contains(out, `"in_force": 2`) {
		t.Errorf("query trial DEMO-2026-001: %.300s; want version 2 in force", out)
	}
	file := filepath.Join(t.TempDir(), "demo-trial.json")
	if err := os.WriteFile(file, []byte(run(true, "query", "trial-report", "--key", "researcher", "DEMO-2026-001")), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := run(true, "verify", "trial-report", "--genesis", genesis, file); !strings.Contains(out, "verified: trial DEMO-2026-001 of acme-research") ||
		!strings.Contains(out, `changed after data capture: weight-26w from "primary" in version 1 to "secondary" in version 2`) {
		t.Errorf("verify trial-report: %s; want it verified, weight demoted after capture", out)
	}
	if out := run(true, "fhir", "--key", "researcher", "GET", "ResearchSubject?study=DEMO-2026-001"); strings.Count(out, `"on-study"`) != 2 || !strings.Contains(out, "reconsent-needed") {
		t.Errorf("ResearchSubject?study=DEMO-2026-001: %.500s; want Alice and Bob on study", out)
	}
}
