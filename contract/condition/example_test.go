package condition_test

import (
	"fmt"
	"time"

	"github.com/careledger/careledger/contract/condition"
)

// shipment is the activation of the example's environment.
type shipment struct {
	temperatureMC int64
	at            time.Time // the block time
}

func (s shipment) ResolveName(name string) (any, bool) {
	switch name {
	case "temperature_mc":
		return s.temperatureMC, true
	case "now":
		return s.at, true
	}
	return nil, false
}

// A contract declares its environment once, checks an expression when it is
// set on the chain, and evaluates it for each input.
func Example() {
	env := condition.MustNewEnv(condition.EnvOptions{
		Name: "cold chain",
		Vars: []condition.Var{
			{Name: "temperature_mc", Type: condition.Int},
			{Name: "now", Type: condition.Timestamp},
		},
	})
	engine := condition.NewEngine(64)
	const limit = 100

	rule := `temperature_mc <= 8000 || now.getHours() < 6`
	fmt.Println(engine.Check(env, rule, limit))
	at := time.Date(2026, 11, 21, 14, 30, 0, 0, time.UTC)
	fmt.Println(engine.Eval(env, rule, limit, shipment{6500, at}))
	fmt.Println(engine.Eval(env, rule, limit, shipment{9100, at}))

	fmt.Println(engine.Check(env, `now() > timestamp("2026-01-01T00:00:00Z")`, limit) != nil)
	// Output:
	// <nil>
	// true <nil>
	// false <nil>
	// true
}
