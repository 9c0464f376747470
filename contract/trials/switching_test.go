package trials_test

import (
	"encoding/json"
	"testing"

	"github.com/careledger/careledger/contract/trials"
)

// TestSwitchedFindsASwitchedOutcome runs the COMPare pattern: data capture
// begins under version 1 (primary: hba1c and weight), an amendment after it
// demotes weight and adds fasting glucose as primary, and the results report
// the new outcome and hba1c only.
func TestSwitchedFindsASwitchedOutcome(t *testing.T) {
	ch := enrolled(t)
	ch.must(researcher, data("visit-1", 1, alice))
	capture := ch.height
	ch.must(researcher, amendment())
	ch.must(boardAdmin, trials.Approve{Trial: trial, Version: 2})
	approval := ch.height
	ch.must(researcher, trials.Report{Trial: trial, Result: commitment("results"), Outcomes: []string{"fasting-glucose-26w", "hba1c-26w"}})

	s := trials.Switched(trial, ch.history)
	if s.Baseline != 1 || s.Capture == nil || s.Capture.Height != capture || s.Capture.Version != 1 {
		t.Fatalf("baseline %d, capture %+v; want version 1 in force at height %d", s.Baseline, s.Capture, capture)
	}
	if got := outcomes(s.NotReported); got != "weight-26w:primary ae-rate:secondary" {
		t.Errorf("not reported = %s; want weight-26w:primary ae-rate:secondary", got)
	}
	if got := outcomes(s.NotPreSpecified); got != "fasting-glucose-26w:primary" {
		t.Errorf("not pre-specified = %s; want fasting-glucose-26w:primary", got)
	}
	if s.NotPreSpecified[0].At.Version != 2 {
		t.Errorf("fasting glucose reported under version %d; want 2", s.NotPreSpecified[0].At.Version)
	}
	if len(s.Changed) != 2 {
		t.Fatalf("changed = %+v; want weight demoted and fasting glucose added", s.Changed)
	}
	for i, c := range []trials.Change{
		{Outcome: "fasting-glucose-26w", From: "", To: "primary", Previous: 1, Version: 2},
		{Outcome: "weight-26w", From: "primary", To: "secondary", Previous: 1, Version: 2},
	} {
		got := s.Changed[i]
		if got.Outcome != c.Outcome || got.From != c.From || got.To != c.To || got.Previous != c.Previous || got.Version != c.Version || got.At.Height != approval {
			t.Errorf("change %d = %+v; want %+v at height %d", i, got, c, approval)
		}
	}
	if !s.Switched() {
		t.Error("Switched() = false; want true")
	}
	again, _ := json.Marshal(trials.Switched(trial, ch.history))
	first, _ := json.Marshal(s)
	if string(again) != string(first) {
		t.Error("Switched is not deterministic over the same events")
	}
}

// TestSwitchedAmendmentBeforeCapture: outcomes changed before any data was
// captured are pre-specified, and reporting all of them is clean.
func TestSwitchedAmendmentBeforeCapture(t *testing.T) {
	ch := enrolled(t)
	ch.must(researcher, amendment())
	ch.must(boardAdmin, trials.Approve{Trial: trial, Version: 2})
	ch.must(alice, trials.Consent{Trial: trial, Version: 2})
	ch.must(researcher, data("visit-1", 2, alice))
	ch.must(researcher, trials.Report{Trial: trial, Result: commitment("results"),
		Outcomes: []string{"ae-rate", "fasting-glucose-26w", "hba1c-26w", "weight-26w"}})
	s := trials.Switched(trial, ch.history)
	if s.Baseline != 2 || s.Switched() {
		t.Fatalf("report = baseline %d, %+v %+v %+v; want baseline 2 and nothing switched", s.Baseline, s.NotReported, s.NotPreSpecified, s.Changed)
	}
	if len(s.Versions) != 2 || s.Versions[1].Approved == nil || s.Versions[1].Proposed.Version != 1 {
		t.Fatalf("versions = %+v; want 2, the second proposed under 1 and approved", s.Versions)
	}
}

func outcomes(fs []trials.Finding) string {
	out := ""
	for i, f := range fs {
		if i > 0 {
			out += " "
		}
		out += f.Outcome + ":" + f.Role
	}
	return out
}
