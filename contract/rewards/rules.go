package rewards

import (
	"github.com/careledger/careledger/contract/condition"
)

// RuleCostLimit bounds the estimated cost of one rule; a program whose
// rule costs more is refused.
const RuleCostLimit = 1_000

// eventEnv is what a reward rule sees: the attested event, who attested
// it, and what the program already paid the patient. It holds no record
// content: a rule cannot read any.
var eventEnv = condition.MustNewEnv(condition.EnvOptions{
	Name: "reward_event",
	Vars: []condition.Var{
		{Name: "event", Type: condition.String, MaxSize: maxKind},
		{Name: "attester", Type: condition.String, MaxSize: maxID},
		{Name: "attester_type", Type: condition.String, MaxSize: maxKind},
		{Name: "count", Type: condition.Int},
		{Name: "received", Type: condition.Int},
		{Name: "time", Type: condition.Int},
	},
})

// eventVars resolves eventEnv's variables for one attestation.
type eventVars struct {
	event, attester, attesterType string
	got                           Received
	time                          int64
}

func (v *eventVars) ResolveName(name string) (any, bool) {
	switch name {
	case "event":
		return v.event, true
	case "attester":
		return v.attester, true
	case "attester_type":
		return v.attesterType, true
	case "count":
		return int64(v.got.Count), true
	case "received":
		return int64(v.got.Total), true
	case "time":
		return v.time, true
	}
	return nil, false
}
