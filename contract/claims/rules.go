package claims

import (
	"github.com/careledger/careledger/contract/condition"
)

// RuleCostLimit bounds the estimated cost of one rule over one line; a rule
// above it is refused when its policy loads.
const RuleCostLimit = 5_000

const exprMax = condition.MaxLength

// lineEnv is what a policy rule sees: one line of a claim and the claim's
// patient facts. Amounts are integers in minor units, dates YYYYMMDD.
var lineEnv = condition.MustNewEnv(condition.EnvOptions{
	Name: "claim_line",
	Vars: []condition.Var{
		{Name: "age", Type: condition.Int},
		{Name: "place", Type: condition.String, MaxSize: 2},
		{Name: "diagnoses", Type: condition.List(condition.String), MaxSize: MaxDiagnoses, MaxItemSize: maxCode},
		{Name: "line_diagnoses", Type: condition.List(condition.String), MaxSize: MaxPointers, MaxItemSize: maxCode},
		{Name: "codes", Type: condition.List(condition.String), MaxSize: MaxLines, MaxItemSize: maxCode},
		{Name: "code", Type: condition.String, MaxSize: maxCode},
		{Name: "modifiers", Type: condition.List(condition.String), MaxSize: MaxModifiers, MaxItemSize: 2},
		{Name: "units", Type: condition.Int},
		{Name: "charge", Type: condition.Int},
		{Name: "date", Type: condition.Int},
		{Name: "preauthorization", Type: condition.Bool},
	},
})

// lineVars resolves lineEnv's variables for line i of a claim.
type lineVars struct {
	m     *Submit
	i     int
	codes []string
}

func (v *lineVars) ResolveName(name string) (any, bool) {
	l := &v.m.Lines[v.i]
	switch name {
	case "age":
		return int64(v.m.Age), true
	case "place":
		return v.m.Place, true
	case "diagnoses":
		return v.m.Diagnoses, true
	case "line_diagnoses":
		ds := make([]string, len(l.Pointers))
		for j, p := range l.Pointers {
			ds[j] = v.m.Diagnoses[p-1]
		}
		return ds, true
	case "codes":
		return v.codes, true
	case "code":
		return l.Code, true
	case "modifiers":
		return l.Modifiers, true
	case "units":
		return int64(l.Units), true
	case "charge":
		return int64(l.Charge), true
	case "date":
		return int64(l.Date), true
	case "preauthorization":
		return v.m.Use == UsePreauth, true
	}
	return nil, false
}

// Validate checks what of a rule needs no engine: its ID, a known
// action, a reason for a denial, the expression's length.
func (r Rule) Validate() error {
	if err := validID("rule id", r.ID); err != nil {
		return err
	}
	switch r.Action {
	case Deny:
		if err := validCode("reason", r.Reason, maxReason); err != nil {
			return err
		}
	case RequireAuth:
		if r.Reason != "" {
			if err := validCode("reason", r.Reason, maxReason); err != nil {
				return err
			}
		}
	default:
		return invalid("rule %s: action must be 1 (deny) or 2 (require authorization)", r.ID)
	}
	if r.Expr == "" || len(r.Expr) > exprMax {
		return invalid("rule %s: a condition is 1 to %d bytes", r.ID, exprMax)
	}
	return nil
}

// CheckRule reports whether r is a valid rule, its condition compiling in
// the line environment within RuleCostLimit.
func (c *Contract) CheckRule(r Rule) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if err := c.Engine.Check(lineEnv, r.Expr, RuleCostLimit); err != nil {
		return invalid("rule %s: %v", r.ID, err)
	}
	return nil
}
