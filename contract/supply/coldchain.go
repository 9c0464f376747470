package supply

import (
	"github.com/careledger/careledger/contract/condition"
)

// ExcursionCostLimit bounds the cost of evaluating a cold-chain rule over
// one reading; a rule whose estimate exceeds it is refused at registration.
const ExcursionCostLimit = 1000

// readingEnv is what a cold-chain rule sees: one sensor reading. The value
// is an integer in thousandths of its unit (no floats in the state
// machine): 2 °C is 2000.
var readingEnv = condition.MustNewEnv(condition.EnvOptions{
	Name: "reading",
	Vars: []condition.Var{
		{Name: "type", Type: condition.String, MaxSize: maxCode},
		{Name: "value", Type: condition.Int},
		{Name: "uom", Type: condition.String, MaxSize: maxUOM},
		{Name: "exception", Type: condition.String, MaxSize: maxCode},
	},
})

// ResolveName resolves readingEnv's variables.
func (r *Reading) ResolveName(name string) (any, bool) {
	switch name {
	case "type":
		return r.Type, true
	case "value":
		return r.Value, true
	case "uom":
		return r.UOM, true
	case "exception":
		return r.Exception, true
	}
	return nil, false
}

// CheckExcursion reports whether rule is a valid cold-chain rule.
func (c *Contract) CheckExcursion(rule string) error {
	return c.Engine.Check(readingEnv, rule, ExcursionCostLimit)
}

// breaks returns the first of readings that breaks rule, or nil.
func (c *Contract) breaks(rule string, readings []Reading) (*Reading, error) {
	for i := range readings {
		ok, err := c.Engine.Eval(readingEnv, rule, ExcursionCostLimit, &readings[i])
		if err != nil {
			return nil, err
		}
		if ok {
			return &readings[i], nil
		}
	}
	return nil, nil
}
