package condition

import (
	"fmt"
	"slices"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/cost"
)

// Type is the CEL type of a declared variable: a scalar, or a list of
// scalars (List). Maps and messages are not offered: nothing needs them yet,
// and the cost estimate would need bounds for their keys and values.
type Type string

// The scalar types. A variable's value, as an Activation gives it, is the Go
// value shown: CEL converts it.
const (
	Bool      Type = "bool"      // bool
	Int       Type = "int"       // int64 (or any signed integer type)
	Uint      Type = "uint"      // uint64 (or any unsigned integer type)
	Double    Type = "double"    // float64
	String    Type = "string"    // string
	Bytes     Type = "bytes"     // []byte
	Timestamp Type = "timestamp" // time.Time, in UTC
	Duration  Type = "duration"  // time.Duration
)

// List is the type of a list of elem, a scalar; its value is a slice, such
// as []string.
func List(elem Type) Type { return "list(" + elem + ")" }

// elem returns the element type of a list type.
func (t Type) elem() (Type, bool) {
	if len(t) > len("list()") && t[:5] == "list(" && t[len(t)-1] == ')' {
		return t[5 : len(t)-1], true
	}
	return "", false
}

func (t Type) cel() (*cel.Type, bool) {
	switch t {
	case Bool:
		return cel.BoolType, true
	case Int:
		return cel.IntType, true
	case Uint:
		return cel.UintType, true
	case Double:
		return cel.DoubleType, true
	case String:
		return cel.StringType, true
	case Bytes:
		return cel.BytesType, true
	case Timestamp:
		return cel.TimestampType, true
	case Duration:
		return cel.DurationType, true
	}
	if e, ok := t.elem(); ok {
		if _, isList := e.elem(); isList {
			return nil, false // a list of lists: its items would need bounds too
		}
		if et, ok := e.cel(); ok {
			return cel.ListType(et), true
		}
	}
	return nil, false
}

// sized reports whether values of t have a size the cost estimate needs a
// bound for: strings, bytes and lists.
func (t Type) sized() bool {
	_, isList := t.elem()
	return t == String || t == Bytes || isList
}

// Var declares a variable that expressions may read.
type Var struct {
	// Name is the variable's name in expressions: a CEL identifier.
	Name string
	// Type is its CEL type.
	Type Type
	// MaxSize bounds a string's or bytes' length in bytes, or a list's
	// number of elements. The worst-case cost estimate relies on it, so the
	// contract must refuse inputs beyond it. Required for strings, bytes and
	// lists; no other type takes it.
	MaxSize uint64
	// MaxItemSize bounds the length of each element of a list of strings or
	// bytes, as MaxSize does. Required for those lists only.
	MaxItemSize uint64
}

// Function declares a function that expressions may call, beyond CEL's
// standard library. Its overloads are cel.Overload options with a binding.
// A binding must be deterministic: a function of its arguments alone, never
// of the clock, the state, randomness or I/O. Each call costs 1, in the
// estimate and in evaluation (CEL's price for a function it has no cost model
// of), so a binding's work must not grow with its arguments beyond what
// their declared bounds make negligible.
type Function struct {
	Name      string
	Overloads []cel.FunctionOpt
}

// EnvOptions declares an environment. A contract declares its environment
// once; its expressions may read these variables and call CEL's standard
// library and these functions, nothing else. In particular nothing reads
// the wall clock: a contract that needs the time declares a timestamp
// variable and gives it the block time.
type EnvOptions struct {
	// Name names the environment in errors about its declaration, such as
	// "access". Required. It is kept out of the errors of Check and Eval,
	// whose text can reach the chain (a refusal's message, an event's
	// reason), so that naming an environment never changes results.
	Name      string
	Vars      []Var
	Functions []Function
}

// Validate reports whether the declaration is well-formed: a name, valid
// and distinct identifiers, known types, and the bounds each type needs.
func (o *EnvOptions) Validate() error {
	if o.Name == "" {
		return fmt.Errorf("condition environment: a name is required")
	}
	seen := make(map[string]bool, len(o.Vars)+len(o.Functions))
	name := func(what, n string) error {
		if !isIdent(n) {
			return fmt.Errorf("condition environment %q: %s name %q is not a CEL identifier", o.Name, what, n)
		}
		if seen[n] {
			return fmt.Errorf("condition environment %q: %q declared twice", o.Name, n)
		}
		seen[n] = true
		return nil
	}
	for _, v := range o.Vars {
		if err := name("variable", v.Name); err != nil {
			return err
		}
		if _, ok := v.Type.cel(); !ok {
			return fmt.Errorf("condition environment %q: variable %s: unknown type %q", o.Name, v.Name, v.Type)
		}
		if v.Type.sized() != (v.MaxSize > 0) {
			return fmt.Errorf("condition environment %q: variable %s: MaxSize is required for strings, bytes and lists, and only for them", o.Name, v.Name)
		}
		e, _ := v.Type.elem()
		if (e == String || e == Bytes) != (v.MaxItemSize > 0) {
			return fmt.Errorf("condition environment %q: variable %s: MaxItemSize is required for lists of strings or bytes, and only for them", o.Name, v.Name)
		}
	}
	for _, f := range o.Functions {
		if err := name("function", f.Name); err != nil {
			return err
		}
		if len(f.Overloads) == 0 {
			return fmt.Errorf("condition environment %q: function %s has no overload", o.Name, f.Name)
		}
	}
	return nil
}

// reserved are CEL's reserved words, which cannot name a variable.
var reserved = []string{
	"as", "break", "const", "continue", "else", "false", "for", "function", "if",
	"import", "in", "let", "loop", "package", "namespace", "null", "return",
	"true", "var", "void", "while",
}

func isIdent(s string) bool {
	if s == "" || slices.Contains(reserved, s) {
		return false
	}
	for i, c := range s {
		letter := c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// costModelVersion is the revision of cel-go's cost model that estimates and
// evaluations use: 1, the latest in cel-go v0.33 and what this engine used
// before it was pinned. Changing it changes results: a network upgrade.
const costModelVersion = 1

// Env is a declared environment, compiled once. It is immutable and safe
// for concurrent use; an Engine caches programs per Env.
type Env struct {
	name string
	vars []Var
	cel  *cel.Env
	est  estimator
}

// NewEnv compiles the declaration o.
func NewEnv(o EnvOptions) (*Env, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	opts := []cel.EnvOption{
		// Report a faulty declaration here rather than at the first Check.
		cel.EagerlyValidateDeclarations(true),
		// Estimates and runtime costs decide what the chain accepts, so
		// they must not move when cel-go is upgraded: left unset, cel-go
		// uses its latest cost model.
		cel.CostModelVersion(costModelVersion),
	}
	est := make(estimator, len(o.Vars))
	for _, v := range o.Vars {
		t, _ := v.Type.cel()
		opts = append(opts, cel.Variable(v.Name, t))
		est[v.Name] = bounds{size: v.MaxSize, item: v.MaxItemSize}
	}
	for _, f := range o.Functions {
		opts = append(opts, cel.Function(f.Name, f.Overloads...))
	}
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, fmt.Errorf("condition environment %q: %w", o.Name, err)
	}
	return &Env{name: o.Name, vars: slices.Clone(o.Vars), cel: env, est: est}, nil
}

// MustNewEnv is NewEnv for a declaration fixed in the code, such as a
// contract's package variable: an error is a bug, and it panics.
func MustNewEnv(o EnvOptions) *Env {
	env, err := NewEnv(o)
	if err != nil {
		panic(err)
	}
	return env
}

// Name returns the environment's name.
func (env *Env) Name() string { return env.name }

// Vars returns the declared variables, in their order of declaration.
func (env *Env) Vars() []Var { return slices.Clone(env.vars) }

// String returns the environment's name.
func (env *Env) String() string { return env.name }

type bounds struct{ size, item uint64 }

// estimator gives the cost estimate the declared bounds of an environment's
// variables, so that an expression's worst-case cost is finite when it
// iterates over them. It is only read once built.
type estimator map[string]bounds

func (est estimator) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	p := n.Path()
	if len(p) == 0 || len(p) > 2 {
		return nil
	}
	b := est[p[0]]
	max := b.size
	if len(p) == 2 {
		if p[1] != "@items" {
			return nil
		}
		max = b.item
	}
	if max == 0 {
		return nil
	}
	return &cost.SizeEstimate{Min: 0, Max: max}
}

func (estimator) EstimateCallCost(string, string, *cost.AstNode, []cost.AstNode) *cost.CallEstimate {
	return nil
}
