package trials

import (
	"slices"
	"strconv"
	"time"

	"github.com/careledger/careledger/contract"
)

// Entry is one event of a trial's history, with the block it was committed
// in.
type Entry struct {
	Event  contract.Event
	Height int64
	Time   time.Time
}

// Switching is the outcome-switching report of one trial: what it
// pre-specified, what it reported, and what changed in between. It is
// derived from the trial's events alone (Switched), so anyone holding the
// events, such as a verifier of a signed report, derives the same.
type Switching struct {
	Trial   string `json:"trial"`
	Sponsor string `json:"sponsor"`
	Board   string `json:"board"`
	// Versions is every protocol version, in order, with when it was
	// proposed and approved.
	Versions []VersionHistory `json:"versions"`
	// Capture is when data capture began (the first data commitment), and
	// under which version; nil before any.
	Capture *Moment `json:"capture,omitempty"`
	// Baseline is the version whose outcomes count as pre-specified: the
	// one in force when data capture began, or, before any capture, the
	// first approved (0 if none is).
	Baseline uint64 `json:"baseline"`
	// Results are the results reports, in order.
	Results []ResultHistory `json:"results"`
	// NotReported are the pre-specified outcomes no report named.
	NotReported []Finding `json:"not_reported"`
	// NotPreSpecified are the reported outcomes the baseline did not name.
	NotPreSpecified []Finding `json:"not_prespecified"`
	// Changed are the outcomes an amendment approved after data capture
	// began added, removed or moved between primary and secondary.
	Changed []Change `json:"changed"`
}

// Moment is a point in the trial's history and the version then in force.
type Moment struct {
	Height  int64     `json:"height"`
	Time    time.Time `json:"time"`
	Version uint64    `json:"version"`
}

// VersionHistory is one protocol version as the events tell it.
type VersionHistory struct {
	Number    uint64   `json:"number"`
	Protocol  string   `json:"protocol"`
	SAP       string   `json:"sap"`
	Primary   []string `json:"primary"`
	Secondary []string `json:"secondary,omitempty"`
	Proposed  Moment   `json:"proposed"` // Version: the version in force when proposed
	Approved  *Moment  `json:"approved,omitempty"`
}

// ResultHistory is one results report.
type ResultHistory struct {
	Result   string   `json:"result"`
	Outcomes []string `json:"outcomes"`
	At       Moment   `json:"at"`
}

// Finding is an outcome pre-specified and not reported, or reported and not
// pre-specified. Role is its role in the baseline (not reported), or in the
// version in force when it was first reported (not pre-specified). At is
// when it was first reported, or, for an outcome never reported, the last
// report (nil if there is none); each with its version in force.
type Finding struct {
	Outcome string  `json:"outcome"`
	Role    string  `json:"role"`
	At      *Moment `json:"at,omitempty"`
}

// Change is an outcome whose role an approved amendment changed after data
// capture began: From its role in version Previous ("" for none) To its role
// in Version ("" for removed), approved At.
type Change struct {
	Outcome  string `json:"outcome"`
	From     string `json:"from"`
	To       string `json:"to"`
	Previous uint64 `json:"previous"`
	Version  uint64 `json:"version"`
	At       Moment `json:"at"`
}

// Switched derives trial's outcome-switching report from its events, in
// log order; events of other trials are ignored. It is pure: the same
// events give the same report.
func Switched(trial string, entries []Entry) *Switching {
	s := &Switching{Trial: trial, Versions: []VersionHistory{}, Results: []ResultHistory{},
		NotReported: []Finding{}, NotPreSpecified: []Finding{}, Changed: []Change{}}
	var inForce uint64
	for _, e := range entries {
		if e.Event.Attr("trial") != trial {
			continue
		}
		at := Moment{Height: e.Height, Time: e.Time.UTC(), Version: inForce}
		switch e.Event.Type {
		case EventRegistered:
			s.Sponsor, s.Board = e.Event.Attr("org"), e.Event.Attr("board")
			s.Versions = append(s.Versions, versionOf(e.Event, at))
		case EventAmended:
			s.Versions = append(s.Versions, versionOf(e.Event, at))
		case EventApproved:
			v := s.version(uintOf(e.Event.Attr("version")))
			if v == nil {
				continue
			}
			at.Version = v.Number
			v.Approved = &at
			if s.Capture != nil {
				s.Changed = append(s.Changed, changes(s.version(inForce), v, at)...)
			}
			inForce = v.Number
		case EventData:
			if s.Capture == nil {
				s.Capture = &at
			}
		case EventResults:
			s.Results = append(s.Results, ResultHistory{Result: e.Event.Attr("result"), Outcomes: e.Event.Values("outcome"), At: at})
		}
	}
	s.findings()
	return s
}

func versionOf(e contract.Event, at Moment) VersionHistory {
	return VersionHistory{Number: uintOf(e.Attr("version")), Protocol: e.Attr("protocol"), SAP: e.Attr("sap"),
		Primary: e.Values(Primary), Secondary: e.Values(Secondary), Proposed: at}
}

func uintOf(s string) uint64 {
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
}

// version returns version n, or nil.
func (s *Switching) version(n uint64) *VersionHistory {
	for i := range s.Versions {
		if s.Versions[i].Number == n {
			return &s.Versions[i]
		}
	}
	return nil
}

func roleIn(v *VersionHistory, id string) string {
	if v == nil {
		return ""
	}
	return Role(&Version{Primary: v.Primary, Secondary: v.Secondary}, id)
}

// changes lists the outcomes whose role differs between prev and next, by
// ID.
func changes(prev, next *VersionHistory, at Moment) []Change {
	var ids []string
	for _, v := range []*VersionHistory{prev, next} {
		if v != nil {
			ids = append(append(ids, v.Primary...), v.Secondary...)
		}
	}
	slices.Sort(ids)
	var out []Change
	var previous uint64
	if prev != nil {
		previous = prev.Number
	}
	for _, id := range slices.Compact(ids) {
		if from, to := roleIn(prev, id), roleIn(next, id); from != to {
			out = append(out, Change{Outcome: id, From: from, To: to, Previous: previous, Version: next.Number, At: at})
		}
	}
	return out
}

// findings fills NotReported and NotPreSpecified once the history is read.
func (s *Switching) findings() {
	if s.Capture != nil {
		s.Baseline = s.Capture.Version
	} else {
		for _, v := range s.Versions {
			if v.Approved != nil {
				s.Baseline = v.Number
				break
			}
		}
	}
	base := s.version(s.Baseline)
	var last *Moment
	if n := len(s.Results); n > 0 {
		last = &s.Results[n-1].At
	}
	if base != nil {
		for _, id := range append(slices.Clone(base.Primary), base.Secondary...) {
			if !s.reported(id) {
				s.NotReported = append(s.NotReported, Finding{Outcome: id, Role: roleIn(base, id), At: last})
			}
		}
	}
	seen := []string{}
	for i := range s.Results {
		r := &s.Results[i]
		for _, id := range r.Outcomes {
			if roleIn(base, id) != "" || slices.Contains(seen, id) {
				continue
			}
			seen = append(seen, id)
			s.NotPreSpecified = append(s.NotPreSpecified, Finding{Outcome: id, Role: roleIn(s.version(r.At.Version), id), At: &r.At})
		}
	}
}

func (s *Switching) reported(id string) bool {
	return slices.ContainsFunc(s.Results, func(r ResultHistory) bool { return slices.Contains(r.Outcomes, id) })
}

// Switched reports whether the report found any switched outcome.
func (s *Switching) Switched() bool {
	return len(s.NotReported)+len(s.NotPreSpecified)+len(s.Changed) > 0
}
