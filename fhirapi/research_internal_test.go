package fhirapi

import (
	"testing"

	"github.com/careledger/careledger/tx"
)

// FuzzParseSubjectID: a ResearchSubject id parses without panicking, and
// one that parses is the id subjectID gives its trial and participant.
func FuzzParseSubjectID(f *testing.F) {
	var a tx.Address
	a[0], a[19] = 0xab, 0x01
	for _, s := range []string{"NCT00000042." + a.String(), "example." + a.String(), "a.b.c." + a.String(), ".", "example.", "x.zz", "team-1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		trial, p, ok := parseSubjectID(id)
		if !ok {
			return
		}
		if got := subjectID(trial, p); got != id && got != "" {
			t.Errorf("parseSubjectID(%q) = %q, %s; subjectID gives back %q", id, trial, p, got)
		}
	})
}
