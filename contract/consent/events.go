package consent

import (
	"strconv"
	"strings"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/tx"
)

// The consent contract's event types.
const (
	EventGranted            = "consent.granted"
	EventRevoked            = "consent.revoked"
	EventRequested          = "consent.requested"
	EventAnswered           = "consent.answered"
	EventAccess             = "consent.access"   // one per access, before its decisions
	EventDecision           = "consent.decision" // one per item of an access
	EventBreakGlass         = "consent.break_glass"
	EventBreakGlassReviewed = "consent.break_glass_reviewed"
	EventTeam               = "consent.team" // a care team formed or changed
)

// GrantedOf returns the grant a consent.granted event created, and false if
// e is not one.
func GrantedOf(e contract.Event) (grant uint64, ok bool) {
	if e.Type != EventGranted {
		return 0, false
	}
	id, err := strconv.ParseUint(e.Attr("grant"), 10, 64)
	return id, err == nil
}

// AccessRecord is what a consent.access event says of one access.
type AccessRecord struct {
	Access     uint64
	Custodian  string
	Requester  tx.Address
	Patient    tx.Address
	Purpose    string
	Outcome    string // permit, partial or deny
	BreakGlass bool
	// GlassReason is the break-the-glass reason code (GlassReasons), set
	// when BreakGlass is.
	GlassReason string
}

// AccessOf returns the access e records, and false if e is not a
// consent.access event or does not parse.
func AccessOf(e contract.Event) (AccessRecord, bool) {
	if e.Type != EventAccess {
		return AccessRecord{}, false
	}
	a := AccessRecord{
		Custodian: e.Attr("custodian"), Purpose: e.Attr("purpose"),
		Outcome: e.Attr("outcome"), BreakGlass: e.Attr("break_glass") == "true",
		GlassReason: e.Attr("glass_reason"),
	}
	var err1, err2, err3 error
	a.Access, err1 = strconv.ParseUint(e.Attr("access"), 10, 64)
	a.Requester, err2 = tx.ParseAddress(e.Attr("requester"))
	a.Patient, err3 = tx.ParseAddress(e.Attr("patient"))
	return a, err1 == nil && err2 == nil && err3 == nil
}

// DecisionOf returns the access a consent.decision event belongs to and its
// decision, and false if e is not one or does not parse.
func DecisionOf(e contract.Event) (access uint64, d Decision, ok bool) {
	if e.Type != EventDecision {
		return 0, d, false
	}
	for _, a := range e.Attrs {
		var err error
		switch a.Key {
		case "access":
			access, err = strconv.ParseUint(a.Value, 10, 64)
		case "item":
			d.Item.Type, d.Item.ID, _ = strings.Cut(a.Value, "/")
		case "decision":
			d.Permit = a.Value == "permit"
		case "basis":
			d.Basis = Basis(a.Value)
		case "grant":
			var g uint64
			g, err = strconv.ParseUint(a.Value, 10, 64)
			d.Grants = append(d.Grants, g)
		case "category":
			d.Categories = append(d.Categories, a.Value)
		case "record":
			d.Records = append(d.Records, a.Value)
		}
		if err != nil {
			return 0, Decision{}, false
		}
	}
	return access, d, true
}
