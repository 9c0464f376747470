// Package condition is the CEL engine of the contracts: it compiles,
// checks and evaluates boolean expressions, such as the network's default
// access policy and the conditions of patients' grants (package consent).
//
// A contract declares an environment (Env): the variables, with their types
// and the bounds of their sizes, and any functions its expressions may use;
// and gives their values for each evaluation (an Activation). Evaluation is
// deterministic: the inputs come from the chain and the block time (nothing
// reads the wall clock), and every evaluation runs under a cost limit. An
// expression is checked once, when it is submitted: it must compile in its
// environment, be boolean, and have an estimated worst-case cost within the
// limit, so a condition that could run too long never reaches the state.
//
// condition imports cel-go and the standard library; it holds no state but a
// cache of compiled programs, which changes speed, never results.
package condition

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/interpreter"
)

// MaxLength is the longest expression accepted, in bytes.
const MaxLength = 2048

// MaxCategories bounds the category codes of a record in an access: the
// bound of the consent environment's categories, which consent's decoders
// enforce. It belongs to consent, and stays here until consent's message
// decoding, being rewritten, can take it along.
const MaxCategories = 16

// Activation gives the values of an environment's declared variables for one
// evaluation: ResolveName returns the value of the variable name, a Go value
// of its declared Type. A variable it does not resolve makes the evaluation
// fail (false).
type Activation interface {
	ResolveName(name string) (any, bool)
}

// activation is an Activation as cel-go wants it.
type activation struct{ Activation }

func (activation) Parent() interpreter.Activation { return nil }

// ErrInvalid marks an expression that does not compile, is not boolean, or
// costs more than the limit.
var ErrInvalid = errors.New("invalid condition")

// Engine compiles and evaluates expressions in any number of environments,
// keeping a bounded cache of compiled programs keyed by environment,
// expression and cost limit. It is safe for concurrent use.
type Engine struct {
	mu    sync.Mutex
	cache map[cacheKey]*cached
	max   int
}

type cacheKey struct {
	env   *Env
	expr  string
	limit uint64
}

type cached struct {
	prg cel.Program
	err error
}

// NewEngine returns an engine caching up to cacheSize programs.
func NewEngine(cacheSize int) *Engine {
	return &Engine{cache: make(map[cacheKey]*cached), max: cacheSize}
}

// Check reports whether expr is a valid condition in env under costLimit.
// Its error wraps ErrInvalid and says why; the message quotes no input
// values.
func (e *Engine) Check(env *Env, expr string, costLimit uint64) error {
	_, err := e.program(env, expr, costLimit)
	return err
}

// Eval evaluates expr in env with the variables' values in vars. A valid
// expression that fails at run time (a division by zero, an index out of
// range, the cost limit reached) evaluates to false: a condition that cannot
// be shown true does not permit. The error is for expressions that Check
// rejects.
func (e *Engine) Eval(env *Env, expr string, costLimit uint64, vars Activation) (bool, error) {
	prg, err := e.program(env, expr, costLimit)
	if err != nil {
		return false, err
	}
	out, _, err := prg.Eval(activation{vars})
	if err != nil {
		return false, nil
	}
	b, ok := out.(types.Bool)
	return ok && bool(b), nil
}

func (e *Engine) program(env *Env, expr string, costLimit uint64) (cel.Program, error) {
	k := cacheKey{env, expr, costLimit}
	e.mu.Lock()
	c, ok := e.cache[k]
	e.mu.Unlock()
	if ok {
		return c.prg, c.err
	}
	prg, err := env.compile(expr, costLimit)
	e.mu.Lock()
	if len(e.cache) >= e.max {
		clear(e.cache) // rare: policies and conditions are few
	}
	e.cache[k] = &cached{prg, err}
	e.mu.Unlock()
	return prg, err
}

// compile compiles expr and checks it under costLimit. Its messages must not
// change for the same expression, limit and declaration: they can reach the
// chain.
func (env *Env) compile(expr string, costLimit uint64) (cel.Program, error) {
	if len(expr) > MaxLength {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrInvalid, MaxLength)
	}
	ast, iss := env.cel.Compile(expr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, iss.Err())
	}
	if ast.OutputType() != cel.BoolType {
		return nil, fmt.Errorf("%w: result is %s, not bool", ErrInvalid, ast.OutputType())
	}
	est, err := env.cel.EstimateCost(ast, env.est)
	if err != nil {
		return nil, fmt.Errorf("%w: cost: %v", ErrInvalid, err)
	}
	if est.Max > costLimit {
		return nil, fmt.Errorf("%w: estimated cost up to %s exceeds the limit %d", ErrInvalid, costString(est.Max), costLimit)
	}
	prg, err := env.cel.Program(ast, cel.CostLimit(costLimit))
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
