// Package condition evaluates the CEL expressions that access rules are
// written in: the network's default access policy and the optional condition
// of a patient's grant.
//
// An expression sees one access request through typed variables (see Input)
// and must return a bool. Evaluation is deterministic: the inputs come from
// the chain and the block time, and every evaluation runs under a cost limit.
// An expression is checked once, when it is submitted: it must compile, be
// boolean, and have an estimated worst-case cost within the limit, so a
// condition that could run too long never reaches the state.
//
// condition imports cel-go and the standard library; it holds no state but a
// cache of compiled programs, which changes speed, never results.
package condition

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/interpreter"
)

// MaxLength is the longest expression accepted, in bytes.
const MaxLength = 2048

// Bounds on the list inputs, which the cost estimate relies on. Callers
// truncate nothing: the contracts reject requests beyond them.
const (
	MaxRoles      = 8
	MaxCategories = 16
	maxString     = 256
)

// Input is what an expression sees: one access request. Every field is a
// pseudonymous identifier or a code; none is health data.
type Input struct {
	Purpose        string    // purpose: HL7 PurposeOfUse code, e.g. "TREAT"
	Requester      string    // requester: the requesting account's address
	RequesterOrg   string    // requester_org: its organization ("" for a patient)
	RequesterType  string    // requester_org_type: provider, payer, ...
	RequesterRoles []string  // requester_roles: its roles
	Custodian      string    // custodian: the organization holding the records
	Patient        string    // patient: the patient's pseudonym (address)
	ResourceType   string    // resource_type: the FHIR resource type
	Record         string    // record: the record's id, "" for a search
	Categories     []string  // categories: the record's category codes
	BreakGlass     bool      // break_glass: the requester declared an emergency
	Now            time.Time // now: the block time
}

var variables = []cel.EnvOption{
	cel.Variable("purpose", cel.StringType),
	cel.Variable("requester", cel.StringType),
	cel.Variable("requester_org", cel.StringType),
	cel.Variable("requester_org_type", cel.StringType),
	cel.Variable("requester_roles", cel.ListType(cel.StringType)),
	cel.Variable("custodian", cel.StringType),
	cel.Variable("patient", cel.StringType),
	cel.Variable("resource_type", cel.StringType),
	cel.Variable("record", cel.StringType),
	cel.Variable("categories", cel.ListType(cel.StringType)),
	cel.Variable("break_glass", cel.BoolType),
	cel.Variable("now", cel.TimestampType),
}

// activation resolves the variables from an Input without building a map.
type activation struct{ in *Input }

func (a activation) ResolveName(name string) (any, bool) {
	in := a.in
	switch name {
	case "purpose":
		return in.Purpose, true
	case "requester":
		return in.Requester, true
	case "requester_org":
		return in.RequesterOrg, true
	case "requester_org_type":
		return in.RequesterType, true
	case "requester_roles":
		return in.RequesterRoles, true
	case "custodian":
		return in.Custodian, true
	case "patient":
		return in.Patient, true
	case "resource_type":
		return in.ResourceType, true
	case "record":
		return in.Record, true
	case "categories":
		return in.Categories, true
	case "break_glass":
		return in.BreakGlass, true
	case "now":
		return in.Now.UTC(), true
	}
	return nil, false
}

func (activation) Parent() interpreter.Activation { return nil }

// ErrInvalid marks an expression that does not compile, is not boolean, or
// costs more than the limit.
var ErrInvalid = errors.New("invalid condition")

// Engine compiles and evaluates expressions, keeping a bounded cache of
// compiled programs. It is safe for concurrent use.
type Engine struct {
	env *cel.Env

	mu    sync.Mutex
	cache map[cacheKey]*cached
	max   int
}

type cacheKey struct {
	expr  string
	limit uint64
}

type cached struct {
	prg cel.Program
	err error
}

// NewEngine returns an engine caching up to cacheSize programs.
func NewEngine(cacheSize int) (*Engine, error) {
	env, err := cel.NewEnv(variables...)
	if err != nil {
		return nil, fmt.Errorf("condition environment: %w", err)
	}
	return &Engine{env: env, cache: make(map[cacheKey]*cached), max: cacheSize}, nil
}

// Check reports whether expr is a valid condition under costLimit. Its error
// wraps ErrInvalid and says why; the message quotes no input values.
func (e *Engine) Check(expr string, costLimit uint64) error {
	_, err := e.program(expr, costLimit)
	return err
}

// Eval evaluates expr for in. A valid expression that fails at run time (a
// division by zero, an index out of range) evaluates to false: a condition
// that cannot be shown true does not permit. The error is for expressions
// that Check rejects.
func (e *Engine) Eval(expr string, costLimit uint64, in *Input) (bool, error) {
	prg, err := e.program(expr, costLimit)
	if err != nil {
		return false, err
	}
	out, _, err := prg.Eval(activation{in})
	if err != nil {
		return false, nil
	}
	b, ok := out.(types.Bool)
	return ok && bool(b), nil
}

func (e *Engine) program(expr string, costLimit uint64) (cel.Program, error) {
	k := cacheKey{expr, costLimit}
	e.mu.Lock()
	c, ok := e.cache[k]
	e.mu.Unlock()
	if ok {
		return c.prg, c.err
	}
	prg, err := e.compile(expr, costLimit)
	e.mu.Lock()
	if len(e.cache) >= e.max {
		clear(e.cache) // rare: policies and conditions are few
	}
	e.cache[k] = &cached{prg, err}
	e.mu.Unlock()
	return prg, err
}

func (e *Engine) compile(expr string, costLimit uint64) (cel.Program, error) {
	if len(expr) > MaxLength {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrInvalid, MaxLength)
	}
	ast, iss := e.env.Compile(expr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, iss.Err())
	}
	if ast.OutputType() != cel.BoolType {
		return nil, fmt.Errorf("%w: result is %s, not bool", ErrInvalid, ast.OutputType())
	}
	est, err := e.env.EstimateCost(ast, estimator{})
	if err != nil {
		return nil, fmt.Errorf("%w: cost: %v", ErrInvalid, err)
	}
	if est.Max > costLimit {
		return nil, fmt.Errorf("%w: estimated cost up to %s exceeds the limit %d", ErrInvalid, costString(est.Max), costLimit)
	}
	prg, err := e.env.Program(ast, cel.CostLimit(costLimit))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return prg, nil
}

func costString(c uint64) string {
	if c == math.MaxUint64 {
		return "unbounded"
	}
	return fmt.Sprint(c)
}

// estimator bounds the sizes of the inputs, so that an expression's
// worst-case cost is finite when it iterates over them.
type estimator struct{}

func (estimator) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	p := n.Path()
	if len(p) == 2 && p[1] == "@items" {
		return &cost.SizeEstimate{Min: 0, Max: maxString}
	}
	if len(p) != 1 {
		return nil
	}
	switch p[0] {
	case "requester_roles":
		return &cost.SizeEstimate{Min: 0, Max: MaxRoles}
	case "categories":
		return &cost.SizeEstimate{Min: 0, Max: MaxCategories}
	case "purpose", "requester", "requester_org", "requester_org_type", "custodian", "patient", "resource_type", "record":
		return &cost.SizeEstimate{Min: 0, Max: maxString}
	}
	return nil
}

func (estimator) EstimateCallCost(string, string, *cost.AstNode, []cost.AstNode) *cost.CallEstimate {
	return nil
}
