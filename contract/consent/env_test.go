package consent

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/careledger/careledger/contract/condition"
)

const limit = 1000 // the cost limit of these tests

var access = accessInput{
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

func TestAccessEval(t *testing.T) {
	e := condition.NewEngine(16)
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
		t.Run(tt.expr, func(t *testing.T) {
			got, err := e.Eval(accessEnv, tt.expr, limit, &access)
			if err != nil || got != tt.want {
				t.Errorf("Eval(%q) = %v, %v; want %v, nil", tt.expr, got, err, tt.want)
			}
		})
	}
}

// Every declared variable resolves to a value of its declared type: x == x
// would fail at run time (false) for a value missing or of another type.
func TestAccessVariablesResolve(t *testing.T) {
	e := condition.NewEngine(16)
	for _, v := range accessEnv.Vars() {
		t.Run(v.Name, func(t *testing.T) {
			expr := v.Name + " == " + v.Name
			if got, err := e.Eval(accessEnv, expr, limit, &access); err != nil || !got {
				t.Errorf("Eval(%q) = %v, %v; want true, nil", expr, got, err)
			}
		})
	}
}

func TestAccessCheckRejects(t *testing.T) {
	e := condition.NewEngine(16)
	tests := []struct {
		name, expr, why string
	}{
		{"syntax", `purpose ==`, "Syntax error"},
		{"unknown variable", `diagnosis == "x"`, "undeclared reference"},
		{"no clock", `now() > timestamp("2026-01-01T00:00:00Z")`, "undeclared reference to 'now'"},
		{"not bool", `purpose`, "not bool"},
		{"too costly", `categories.all(a, categories.all(b, categories.all(c, categories.all(d, a + b + c + d != ""))))`, "exceeds the limit"},
		{"too long", strings.Repeat("true && ", condition.MaxLength/8+1) + "true", "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.Check(accessEnv, tt.expr, limit)
			if !errors.Is(err, condition.ErrInvalid) || !strings.Contains(err.Error(), tt.why) {
				t.Errorf("Check(%q) = %v; want ErrInvalid saying %q", tt.expr, err, tt.why)
			}
			if _, err := e.Eval(accessEnv, tt.expr, limit, &access); !errors.Is(err, condition.ErrInvalid) {
				t.Errorf("Eval(%q) error = %v; want ErrInvalid", tt.expr, err)
			}
		})
	}
}

// The worst-case estimates, which decide whether a policy or a grant is
// accepted and whose message can reach an event, are those the engine gave
// before it took environments (the bounds of every input unchanged).
func TestAccessCostEstimates(t *testing.T) {
	e := condition.NewEngine(16)
	tests := []struct {
		expr string
		want string // the estimate
	}{
		{`purpose == "TREAT"`, "2"},
		{`purpose == "TREAT" && requester_org == custodian && requester_roles.exists(r, r in ["physician", "nurse"])`, "168"},
		{`"laboratory" in categories && resource_type == "Observation"`, "20"},
		{`now.getHours() >= 8 && now.getHours() < 18`, "6"},
		{`categories.all(a, categories.all(b, a + b != ""))`, "14930"},
		{`categories.all(a, categories.all(b, categories.all(c, a + b + c != "")))`, "558418"},
		{`requester_roles.exists(r, r.startsWith(purpose)) || categories.exists(c, c.contains(record))`, "10852"},
		{`requester.matches(patient)`, "1647"},
		{`categories.map(c, c + purpose).exists(x, x == "a")`, "1165"},
		{`categories.filter(c, c.size() > 3).size() > 0`, "270"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			want := "invalid condition: estimated cost up to " + tt.want + " exceeds the limit 1"
			if err := e.Check(accessEnv, tt.expr, 1); err == nil || err.Error() != want {
				t.Errorf("Check(%q, 1) = %v; want %v", tt.expr, err, want)
			}
		})
	}
}
