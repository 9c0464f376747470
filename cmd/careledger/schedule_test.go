package main

import (
	"strings"
	"testing"
)

func TestRuleFlag(t *testing.T) {
	var r ruleFlag
	if err := r.Set("dispensed:500:pharma+provider:count < 3 && attester_type == \"pharma\""); err != nil {
		t.Fatal(err)
	}
	got := r[0]
	if got.Event != "dispensed" || got.Amount != 500 || strings.Join(got.Attesters, ",") != "pharma,provider" || got.Expr != `count < 3 && attester_type == "pharma"` {
		t.Errorf("Set = %+v", got)
	}
	for _, bad := range []string{"attended", "attended:x:provider", "attended:-1:provider"} {
		if err := r.Set(bad); err == nil {
			t.Errorf("Set(%q) = nil; want an error", bad)
		}
	}
}

func FuzzRuleFlag(f *testing.F) {
	for _, s := range []string{"attended:1000:provider", "dispensed:5:pharma+provider:count < 3", "x:1:", ":::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var r ruleFlag
		if err := r.Set(s); err != nil {
			return
		}
		if len(r) != 1 || !strings.HasPrefix(s, r[0].Event+":") {
			t.Fatalf("Set(%q) = %+v", s, r)
		}
	})
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"1772438400", "2026-03-02T09:00:00Z", "2026-03-02T09:00:00+01:00", "tomorrow"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseTime(s) // never panics; errors are usage errors
	})
}
