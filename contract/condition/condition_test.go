package condition

import (
	"errors"
	"strings"
	"testing"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

const limit = 1000

// coldChain is a cold-chain-like environment: a shipment's temperature
// readings in millidegrees Celsius, with a function of its own.
var coldChain = MustNewEnv(EnvOptions{
	Name: "cold chain",
	Vars: []Var{
		{Name: "temperature_mc", Type: Int},
		{Name: "max_mc", Type: Int},
		{Name: "readings", Type: List(Int), MaxSize: 64},
		{Name: "site", Type: String, MaxSize: 64},
		{Name: "now", Type: Timestamp},
	},
	Functions: []Function{{
		Name: "celsius",
		Overloads: []cel.FunctionOpt{cel.Overload("celsius_int", []*cel.Type{cel.IntType}, cel.DoubleType,
			cel.UnaryBinding(func(v ref.Val) ref.Val { return types.Double(float64(v.(types.Int)) / 1000) }))},
	}},
})

// claims is a claims-like environment. Its site is a number, where the cold
// chain's is a string.
var claims = MustNewEnv(EnvOptions{
	Name: "claims",
	Vars: []Var{
		{Name: "amount_cents", Type: Int},
		{Name: "currency", Type: String, MaxSize: 3},
		{Name: "codes", Type: List(String), MaxSize: 32, MaxItemSize: 16},
		{Name: "site", Type: Int},
	},
})

// vars is an Activation for tests.
type vars map[string]any

func (v vars) ResolveName(name string) (any, bool) {
	x, ok := v[name]
	return x, ok
}

var (
	shipment = vars{
		"temperature_mc": int64(6500),
		"max_mc":         int64(8000),
		"readings":       []int64{4000, 6500, 7900},
		"site":           "DEPOT-7",
		"now":            time.Date(2026, 11, 21, 14, 30, 0, 0, time.UTC),
	}
	claim = vars{
		"amount_cents": int64(125_00),
		"currency":     "EUR",
		"codes":        []string{"99213", "J45.909"},
		"site":         int64(7),
	}
)

func TestEval(t *testing.T) {
	e := NewEngine(16)
	tests := []struct {
		name string
		env  *Env
		in   Activation
		expr string
		want bool
	}{
		{"within limit", coldChain, shipment, `temperature_mc <= max_mc && readings.all(r, r <= max_mc)`, true},
		{"declared function", coldChain, shipment, `celsius(temperature_mc) < 8.0`, true},
		{"block time", coldChain, shipment, `now.getHours() >= 8 && now < timestamp("2027-01-01T00:00:00Z")`, true},
		{"string", coldChain, shipment, `site.startsWith("DEPOT-")`, true},
		{"false", coldChain, shipment, `readings.exists(r, r > max_mc)`, false},
		{"claim", claims, claim, `amount_cents > 10000 && currency == "EUR" && "99213" in codes`, true},
		{"other type, same name", claims, claim, `site == 7`, true},
		{"runtime error", claims, claim, `amount_cents / (site - 7) > 0`, false}, // not a permit
		{"missing value", claims, vars{}, `currency == "EUR"`, false},            // not a permit
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.Eval(tt.env, tt.expr, limit, tt.in)
			if err != nil || got != tt.want {
				t.Errorf("Eval(%s, %q) = %v, %v; want %v, nil", tt.env, tt.expr, got, err, tt.want)
			}
		})
	}
}

func TestCheckRejects(t *testing.T) {
	e := NewEngine(16)
	tests := []struct {
		name, expr, why string
	}{
		{"syntax", `temperature_mc <=`, "Syntax error"},
		{"undeclared variable", `humidity > 80`, "undeclared reference to 'humidity'"},
		{"undeclared function", `fahrenheit(temperature_mc) < 46.0`, "undeclared reference to 'fahrenheit'"},
		{"no clock", `now() < timestamp("2027-01-01T00:00:00Z")`, "undeclared reference to 'now'"},
		{"no clock as timestamp.now", `timestamp.now() > now`, "undeclared reference"},
		{"not bool", `temperature_mc`, "not bool"},
		{"type error", `site == 7`, "no matching overload"},
		{"too costly", `readings.all(a, readings.all(b, readings.all(c, a + b + c < max_mc)))`, "exceeds the limit"},
		{"too long", strings.Repeat("true && ", MaxLength/8+1) + "true", "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.Check(coldChain, tt.expr, limit)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.why) {
				t.Errorf("Check(%q) = %v; want ErrInvalid saying %q", tt.expr, err, tt.why)
			}
			if _, err := e.Eval(coldChain, tt.expr, limit, shipment); !errors.Is(err, ErrInvalid) {
				t.Errorf("Eval(%q) error = %v; want ErrInvalid", tt.expr, err)
			}
		})
	}
}

// Two environments share one engine: each expression is type-checked in its
// own environment, whichever was checked first, so the cache keeps their
// verdicts apart.
func TestEnvironmentsCoexist(t *testing.T) {
	tests := []struct {
		expr            string
		inCold, inClaim bool // valid in coldChain, in claims
	}{
		{`temperature_mc <= max_mc`, true, false},
		{`celsius(temperature_mc) < 8.0`, true, false},
		{`amount_cents > 10000 && currency == "EUR"`, false, true},
		{`site == "DEPOT-7"`, true, false},
		{`site == 7`, false, true},
		{`true`, true, true},
	}
	for _, coldFirst := range []bool{true, false} {
		e := NewEngine(16)
		for _, tt := range tests {
			name := tt.expr + "/claims first"
			if coldFirst {
				name = tt.expr + "/cold chain first"
			}
			t.Run(name, func(t *testing.T) {
				order := []struct {
					env   *Env
					valid bool
				}{{coldChain, tt.inCold}, {claims, tt.inClaim}}
				if !coldFirst {
					order[0], order[1] = order[1], order[0]
				}
				for _, o := range order {
					err := e.Check(o.env, tt.expr, limit)
					if (err == nil) != o.valid {
						t.Errorf("Check(%s, %q) = %v; want valid %v", o.env, tt.expr, err, o.valid)
					}
				}
			})
		}
	}
}

// The cost limit is part of the check: the same expression passes a higher
// limit, and the cache keeps the two verdicts apart.
func TestCostLimitIsPerLimit(t *testing.T) {
	e := NewEngine(16)
	expr := `codes.all(a, codes.all(b, a + b != ""))`
	tests := []struct {
		limit uint64
		want  bool // valid
	}{{100, false}, {100_000, true}, {100, false}}
	for _, tt := range tests {
		if err := e.Check(claims, expr, tt.limit); (err == nil) != tt.want {
			t.Errorf("Check(%q, %d) = %v; want valid %v", expr, tt.limit, err, tt.want)
		}
	}
}

// A cache smaller than the programs in use changes nothing but speed.
func TestSmallCache(t *testing.T) {
	e := NewEngine(1)
	for range 3 {
		for _, expr := range []string{`temperature_mc <= max_mc`, `site == "DEPOT-7"`, `humidity > 80`} {
			want := expr != `humidity > 80`
			got, err := e.Eval(coldChain, expr, limit, shipment)
			if got != want || (err == nil) != want {
				t.Errorf("Eval(%q) = %v, %v; want %v", expr, got, err, want)
			}
		}
	}
}

func TestNewEnvRefuses(t *testing.T) {
	fn := Function{Name: "f", Overloads: []cel.FunctionOpt{cel.Overload("f_int", []*cel.Type{cel.IntType}, cel.IntType,
		cel.UnaryBinding(func(v ref.Val) ref.Val { return v }))}}
	tests := []struct {
		name string
		o    EnvOptions
		why  string
	}{
		{"no name", EnvOptions{Vars: []Var{{Name: "x", Type: Int}}}, "name is required"},
		{"empty variable name", EnvOptions{Name: "t", Vars: []Var{{Type: Int}}}, "not a CEL identifier"},
		{"bad variable name", EnvOptions{Name: "t", Vars: []Var{{Name: "max-mc", Type: Int}}}, "not a CEL identifier"},
		{"reserved word", EnvOptions{Name: "t", Vars: []Var{{Name: "in", Type: Int}}}, "not a CEL identifier"},
		{"twice", EnvOptions{Name: "t", Vars: []Var{{Name: "x", Type: Int}, {Name: "x", Type: String, MaxSize: 8}}}, "declared twice"},
		{"variable and function", EnvOptions{Name: "t", Vars: []Var{{Name: "f", Type: Int}}, Functions: []Function{fn}}, "declared twice"},
		{"unknown type", EnvOptions{Name: "t", Vars: []Var{{Name: "x", Type: "map(string, int)"}}}, "unknown type"},
		{"list of lists", EnvOptions{Name: "t", Vars: []Var{{Name: "x", Type: List(List(Int)), MaxSize: 8}}}, "unknown type"},
		{"unbounded string", EnvOptions{Name: "t", Vars: []Var{{Name: "x", Type: String}}}, "MaxSize is required"},
		{"unbounded list", EnvOptions{Name: "t", Vars: []Var{{Name: "x", Type: List(Int)}}}, "MaxSize is required"},
		{"bounded int", EnvOptions{Name: "t", Vars: []Var{{Name: "x", Type: Int, MaxSize: 8}}}, "only for them"},
		{"unbounded items", EnvOptions{Name: "t", Vars: []Var{{Name: "x", Type: List(String), MaxSize: 8}}}, "MaxItemSize is required"},
		{"bounded int items", EnvOptions{Name: "t", Vars: []Var{{Name: "x", Type: List(Int), MaxSize: 8, MaxItemSize: 8}}}, "MaxItemSize is required"},
		{"function without overload", EnvOptions{Name: "t", Functions: []Function{{Name: "g"}}}, "no overload"},
		{"standard function redeclared", EnvOptions{Name: "t", Functions: []Function{{Name: "size", Overloads: []cel.FunctionOpt{
			cel.Overload("size_string", []*cel.Type{cel.StringType}, cel.StringType, cel.UnaryBinding(func(v ref.Val) ref.Val { return v }))}}}}, "size_string has multiple definitions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewEnv(tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.why) {
				t.Errorf("NewEnv(%+v) = %v; want an error saying %q", tt.o, err, tt.why)
			}
		})
	}
}

func BenchmarkEval(b *testing.B) {
	e := NewEngine(16)
	exprs := map[string]string{
		"rule":     `temperature_mc <= max_mc && readings.all(r, r <= max_mc) && site.startsWith("DEPOT-")`,
		"constant": `true`, // the baseline: the cost of an evaluation itself
	}
	for _, name := range []string{"constant", "rule"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := e.Eval(coldChain, exprs[name], limit, shipment); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
