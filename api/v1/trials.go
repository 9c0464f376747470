package v1

import "github.com/careledger/careledger/contract/trials"

// TrialAnswer is a registered trial with every protocol version, in order
// (GET /v1/trials/{id}).
type TrialAnswer struct {
	Trial    *trials.Trial     `json:"trial"`
	Versions []*trials.Version `json:"versions"`
}
