package trials

import (
	"encoding/hex"
	"slices"
	"strconv"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/tx"
)

// The trials contract's event types. Each names the trial ("trial") and its
// sponsor ("org", so that the audit log indexes it by organization); the
// events of one trial are its whole public history, from which Switching
// rebuilds the outcome-switching report.
const (
	EventRegistered = "trials.registered"       // a trial and its version 1
	EventAmended    = "trials.amended"          // a new protocol version, pending
	EventApproved   = "trials.approved"         // a version came into force
	EventConsented  = "trials.consented"        // a participant consented to a version
	EventEnrolled   = "trials.enrolled"         // a participant enrolled
	EventWithdrawn  = "trials.withdrawn"        // a participant withdrew
	EventData       = "trials.data_committed"   // a dataset's root
	EventResults    = "trials.results_reported" // a results report
)

func eventSpecs() []contract.EventSpec {
	return []contract.EventSpec{
		{Type: EventRegistered, ByType: true, Action: "C"}, // a registry lists every trial
		{Type: EventAmended, Action: "U"},
		{Type: EventApproved, Action: "U"},
		{Type: EventConsented, Action: "C"},
		{Type: EventEnrolled, Action: "C"},
		{Type: EventWithdrawn, Action: "U"},
		{Type: EventData, Action: "C"},
		{Type: EventResults, Action: "C"},
	}
}

// Outcome roles, as events and the report name them.
const (
	Primary   = "primary"
	Secondary = "secondary"
)

// Role returns whether v pre-specifies outcome id as Primary or Secondary,
// or "".
func Role(v *Version, id string) string {
	if _, ok := slices.BinarySearch(v.Primary, id); ok {
		return Primary
	}
	if _, ok := slices.BinarySearch(v.Secondary, id); ok {
		return Secondary
	}
	return ""
}

func attr(k, v string) contract.Attr         { return contract.Attr{Key: k, Value: v} }
func uattr(k string, v uint64) contract.Attr { return attr(k, strconv.FormatUint(v, 10)) }
func hattr(k string, h [32]byte) contract.Attr {
	return attr(k, hex.EncodeToString(h[:]))
}

func event(typ string, t *Trial, attrs ...contract.Attr) contract.Event {
	return contract.Event{Type: typ, Attrs: append([]contract.Attr{attr("trial", t.ID), attr("org", t.Sponsor)}, attrs...)}
}

func versionAttrs(v *Version) []contract.Attr {
	as := []contract.Attr{uattr("version", v.Number), hattr("protocol", v.Protocol), hattr("sap", v.SAP)}
	for _, id := range v.Primary {
		as = append(as, attr(Primary, id))
	}
	for _, id := range v.Secondary {
		as = append(as, attr(Secondary, id))
	}
	return as
}

func registeredEvent(t *Trial, v *Version) contract.Event {
	return event(EventRegistered, t, append([]contract.Attr{attr("board", t.Board), hattr("study", t.Study)}, versionAttrs(v)...)...)
}

func amendedEvent(t *Trial, v *Version) contract.Event {
	return event(EventAmended, t, versionAttrs(v)...)
}

func participantEvent(typ string, t *Trial, p tx.Address, attrs ...contract.Attr) contract.Event {
	e := event(typ, t, append([]contract.Attr{attr("participant", p.String())}, attrs...)...)
	e.Accounts = []tx.Address{p}
	return e
}

func dataEvent(t *Trial, m CommitData) contract.Event {
	return event(EventData, t, attr("dataset", m.Dataset), hattr("root", m.Root), uattr("rows", m.Rows),
		uattr("version", m.Version), uattr("participants", uint64(len(m.Participants))))
}

func resultsEvent(t *Trial, r *Result) contract.Event {
	as := []contract.Attr{hattr("result", r.Result), uattr("version", r.Version)}
	for _, id := range r.Outcomes {
		as = append(as, attr("outcome", id))
	}
	return event(EventResults, t, as...)
}
