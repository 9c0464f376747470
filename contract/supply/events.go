package supply

import (
	"slices"
	"strconv"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/tx"
)

// The supply contract's event types. None names a patient: they carry
// product identifiers, organizations and accounts of trading partners.
const (
	EventProduct       = "supply.product"        // a product registered or changed
	EventRecorded      = "supply.recorded"       // one captured EPCIS event
	EventErrorDeclared = "supply.error_declared" // a recorded event declared erroneous
	EventSuspect       = "supply.suspect"        // a serial seen where it cannot be
	EventQuarantined   = "supply.quarantined"    // a cold-chain excursion
	EventReleased      = "supply.released"       // a quality release
	EventRecalled      = "supply.recalled"       // a lot recalled
	EventRecallNotice  = "supply.recall_notice"  // one holder of a recalled lot
)

func eventSpecs() []contract.EventSpec {
	return []contract.EventSpec{
		{Type: EventProduct, Action: "C"},
		{Type: EventRecorded, Action: "C"},
		{Type: EventErrorDeclared, Action: "U"},
		{Type: EventSuspect, ByType: true}, // a brand owner's watch list
		{Type: EventQuarantined, ByType: true, Action: "U"},
		{Type: EventReleased, Action: "U"},
		{Type: EventRecalled, ByType: true, Action: "U"},
		{Type: EventRecallNotice, Action: "U"},
		{Type: EventVerification, Action: "R"},
		{Type: EventPartyClaimed, Action: "C"},
		{Type: EventPartyReleased, Action: "D"},
	}
}

// Suspect is what a supply.suspect event says: EPC appeared in Event
// although it was never commissioned or is no longer in the supply chain
// (Reason: never_commissioned, dispensed, decommissioned or destroyed), a
// possible counterfeit or clone. BrandOwner and Holder are organizations
// ("" if unknown).
type Suspect struct {
	Event      string
	EPC        EPC
	Reason     string
	BrandOwner string
	Holder     string
}

// SuspectOf returns the suspect sighting e records, and false if e is not
// one.
func SuspectOf(e contract.Event) (Suspect, bool) {
	if e.Type != EventSuspect {
		return Suspect{}, false
	}
	return Suspect{Event: e.Attr("event"), EPC: EPC(e.Attr("epc")), Reason: e.Attr("reason"),
		BrandOwner: e.Attr("brand_owner"), Holder: e.Attr("holder")}, true
}

// Quarantine is what a supply.quarantined event says: a reading in Event
// broke GTIN's cold-chain rule, and EPC and the Items under it (itself
// included) were quarantined at Holder.
type Quarantine struct {
	Event  string
	EPC    EPC
	GTIN   string
	Holder string
	Items  int
}

// QuarantineOf returns the quarantine e records, and false if e is not one.
func QuarantineOf(e contract.Event) (Quarantine, bool) {
	if e.Type != EventQuarantined {
		return Quarantine{}, false
	}
	n, err := strconv.Atoi(e.Attr("items"))
	return Quarantine{Event: e.Attr("event"), EPC: EPC(e.Attr("epc")), GTIN: e.Attr("gtin"), Holder: e.Attr("holder"), Items: n}, err == nil
}

// RecallNotice is what a supply.recall_notice event says: Holder holds
// Items live items of GTIN's recalled Lot.
type RecallNotice struct {
	GTIN   string
	Lot    string
	Holder string
	Items  uint64
}

// RecallNoticeOf returns the notice e records, and false if e is not one.
func RecallNoticeOf(e contract.Event) (RecallNotice, bool) {
	if e.Type != EventRecallNotice {
		return RecallNotice{}, false
	}
	n, err := strconv.ParseUint(e.Attr("items"), 10, 64)
	return RecallNotice{GTIN: e.Attr("gtin"), Lot: e.Attr("lot"), Holder: e.Attr("holder"), Items: n}, err == nil
}

// orgAttrs returns an "org" attribute for each organization, without empty
// names or repeats: the audit log indexes an event under every
// organization its "org" attributes name, so that each finds the events
// that concern it.
func orgAttrs(orgs ...string) []contract.Attr {
	var out []contract.Attr
	for i, o := range orgs {
		if o != "" && !slices.Contains(orgs[:i], o) {
			out = append(out, contract.Attr{Key: "org", Value: o})
		}
	}
	return out
}

// notify returns the accounts to name, without zero addresses or repeats,
// in the order given.
func notify(as ...tx.Address) []tx.Address {
	var out []tx.Address
	for _, a := range as {
		if a != (tx.Address{}) && !containsAddr(out, a) {
			out = append(out, a)
		}
	}
	return out
}

func containsAddr(as []tx.Address, a tx.Address) bool {
	for _, b := range as {
		if a == b {
			return true
		}
	}
	return false
}
