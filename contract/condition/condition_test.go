package condition

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const limit = 1000

var request = Input{
	Purpose:        "TREAT",
	Requester:      "aa11",
	RequesterOrg:   "mercy-hospital",
	RequesterType:  "provider",
	RequesterRoles: []string{"physician"},
	Custodian:      "mercy-hospital",
	Patient:        "bb22",
	ResourceType:   "Observation",
	Categories:     []string{"laboratory"},
	Now:            time.Date(2026, 11, 21, 14, 30, 0, 0, time.UTC),
}

func TestEval(t *testing.T) {
	e, err := NewEngine(16)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		expr string
		want bool
	}{
		{`purpose == "TREAT" && requester_org == custodian && requester_roles.exists(r, r in ["physician", "nurse"])`, true},
		{`purpose == "HPAYMT"`, false},
		{`"laboratory" in categories && resource_type == "Observation"`, true},
		{`now.getHours() >= 8 && now.getHours() < 18`, true},
		{`now < timestamp("2026-01-01T00:00:00Z")`, false},
		{`requester == patient`, false},
		{`break_glass`, false},
		{`[1, 2][requester_roles.size() + 5] == 1`, false}, // a runtime error is not a permit
	}
	for _, tt := range tests {
		got, err := e.Eval(tt.expr, limit, &request)
		if err != nil || got != tt.want {
			t.Errorf("Eval(%q) = %v, %v; want %v, nil", tt.expr, got, err, tt.want)
		}
	}
}

func TestCheckRejects(t *testing.T) {
	e, err := NewEngine(16)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, expr, why string
	}{
		{"syntax", `purpose ==`, "Syntax error"},
		{"unknown variable", `diagnosis == "x"`, "undeclared reference"},
		{"not bool", `purpose`, "not bool"},
		{"too costly", `categories.all(a, categories.all(b, categories.all(c, categories.all(d, a + b + c + d != ""))))`, "exceeds the limit"},
		{"too long", strings.Repeat("true && ", MaxLength/8+1) + "true", "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.Check(tt.expr, limit)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.why) {
				t.Errorf("Check(%q) = %v; want ErrInvalid saying %q", tt.expr, err, tt.why)
			}
			if _, err := e.Eval(tt.expr, limit, &request); !errors.Is(err, ErrInvalid) {
				t.Errorf("Eval(%q) error = %v; want ErrInvalid", tt.expr, err)
			}
		})
	}
}

// The cost limit is part of the check: the same expression passes a higher
// limit, and the cache keeps the two verdicts apart.
func TestCostLimitIsPerLimit(t *testing.T) {
	e, err := NewEngine(16)
	if err != nil {
		t.Fatal(err)
	}
	expr := `categories.all(a, categories.all(b, a + b != ""))`
	if err := e.Check(expr, 100); err == nil {
		t.Fatalf("Check(%q, 100) = nil; want too costly", expr)
	}
	if err := e.Check(expr, 100_000); err != nil {
		t.Fatalf("Check(%q, 100000) = %v; want nil", expr, err)
	}
}

func BenchmarkEval(b *testing.B) {
	e, err := NewEngine(16)
	if err != nil {
		b.Fatal(err)
	}
	exprs := map[string]string{
		"policy":   `purpose == "TREAT" && requester_org == custodian && requester_roles.exists(r, r in ["physician", "nurse"])`,
		"constant": `true`, // the baseline: the cost of an evaluation itself
	}
	for _, name := range []string{"constant", "policy"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := e.Eval(exprs[name], limit, &request); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
