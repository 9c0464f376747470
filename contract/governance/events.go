package governance

import (
	"fmt"
	"strconv"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/tx"
)

// The governance contract's event types. A proposal that closes emits
// "governance." and its status (passed, rejected, expired, failed).
const (
	EventProposed      = "governance.proposed"
	EventVoted         = "governance.voted"
	EventOrgAdmitted   = "governance.org_admitted"
	EventOrgSuspended  = "governance.org_suspended"
	EventOrgReinstated = "governance.org_reinstated"
	EventOrgRemoved    = "governance.org_removed"
	EventValidator     = "governance.validator" // a validator's new power, for CometBFT
	EventParams        = "governance.params"    // network parameters changed
)

// ValidatorChange is what a governance.validator event says.
type ValidatorChange struct {
	Org    string
	PubKey tx.PubKey
	Power  int64
}

// ValidatorChangeOf returns the change e announces; ok is false if e is not
// a governance.validator event. An event of that type that does not parse
// is an error: the application cannot go on without it.
func ValidatorChangeOf(e contract.Event) (v ValidatorChange, ok bool, err error) {
	if e.Type != EventValidator {
		return v, false, nil
	}
	v.Org = e.Attr("org")
	if v.PubKey, err = tx.ParsePubKey(e.Attr("pub_key")); err != nil {
		return v, true, fmt.Errorf("validator event: %w", err)
	}
	if v.Power, err = strconv.ParseInt(e.Attr("power"), 10, 64); err != nil {
		return v, true, fmt.Errorf("validator event: %w", err)
	}
	return v, true, nil
}

// ParamsChangeOf returns the parameters a governance.params event changes
// (zero for those it leaves); ok is false if e is not one.
func ParamsChangeOf(e contract.Event) (p Params, ok bool, err error) {
	if e.Type != EventParams {
		return p, false, nil
	}
	for _, f := range []struct {
		key string
		v   *uint64
	}{{"max_tx_bytes", &p.MaxTxBytes}, {"max_block_bytes", &p.MaxBlockBytes}, {"cel_cost_limit", &p.CELCostLimit}} {
		if s := e.Attr(f.key); s != "" {
			if *f.v, err = strconv.ParseUint(s, 10, 64); err != nil {
				return p, true, fmt.Errorf("params event: %w", err)
			}
		}
	}
	return p, true, nil
}
