package claims

import (
	"encoding/hex"
	"strconv"

	"github.com/careledger/careledger/contract"
)

// Event types of the claims contract. They name organizations, amounts,
// reason codes and edits, never a procedure or diagnosis code.
const (
	EventDeposit     = "claims.deposit"
	EventPlan        = "claims.plan"
	EventCoverage    = "claims.coverage"
	EventPolicyLoad  = "claims.policy_load"
	EventPublished   = "claims.policy_published"
	EventAdjudicated = "claims.adjudicated"
	EventPaid        = "claims.paid"
	EventAuthorized  = "claims.authorized"
	// EventAppealed and EventAppealDecided name the appeal's reason code,
	// never its letter (which stays at the provider).
	EventAppealed      = "claims.appealed"
	EventAppealDecided = "claims.appeal_decided"
)

func eventSpecs() []contract.EventSpec {
	return []contract.EventSpec{
		{Type: EventDeposit, Action: "U"},
		{Type: EventPlan, Action: "U"},
		{Type: EventCoverage, Action: "U"},
		{Type: EventPolicyLoad, Action: "U"},
		{Type: EventPublished, ByType: true, Action: "U"},
		{Type: EventAdjudicated, Action: "C"},
		{Type: EventPaid, Action: "U"},
		{Type: EventAuthorized, ByType: true, Action: "U"},
		{Type: EventAppealed, ByType: true, Action: "U"},
		{Type: EventAppealDecided, ByType: true, Action: "U"},
		{Type: EventRead, ByType: true, Action: "R"},
	}
}

func attr(k, v string) contract.Attr         { return contract.Attr{Key: k, Value: v} }
func uattr(k string, v uint64) contract.Attr { return attr(k, strconv.FormatUint(v, 10)) }
func idattr(id [32]byte) contract.Attr       { return attr("claim", hex.EncodeToString(id[:])) }
