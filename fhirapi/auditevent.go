package fhirapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/careledger/careledger/audit"
	"github.com/careledger/careledger/audit/auditdb"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/disclosure"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/tx"
)

// LogIndexURL is the extension by which an AuditEvent names its index in
// the audit log. GET /fhir/AuditEvent?patient=...&date=...&agent=...&type=...
// returns the events of one patient's trail as AuditEvent resources shaped
// after IHE Basic Audit Log Patterns, all of them in one searchset, to the
// patient, a delegate, an auditor or a privacy officer.
const LogIndexURL = "urn:careledger:audit-log-index"

// GlassReasonSystem is the code system of break-the-glass reasons
// (consent.GlassReasons), a coding of an AuditEvent's purposeOfUse beside
// the purpose (ETREAT) when the glass was broken.
const GlassReasonSystem = "urn:careledger:break-glass-reason"

// balpSubtype maps an event's action (contract.EventSpec.Action) to the
// restful-interaction subtype of IHE Basic Audit Log Patterns.
var balpSubtype = map[string]string{"C": "create", "R": "read", "U": "update", "D": "delete"}

// auditEvent returns a log event as an AuditEvent, whose records name
// gives as the reader may see them.
func (s *Server) auditEvent(index uint64, ev *audit.Event, name func(record string) string) (*fhir.Resource, error) {
	e := ev.Event
	spec, _ := s.events.Event(e.Type)
	action, subtype := spec.Action, balpSubtype[spec.Action]
	if subtype == "" {
		action, subtype = "E", "create"
	}
	outcome := "0" // success
	if e.Type == consent.EventAccess && e.Attr("outcome") == "deny" {
		outcome = "4" // minor failure: refused
	}
	who := e.Attr("requester")
	for _, k := range []string{"by", "member"} {
		if who == "" {
			who = e.Attr(k)
		}
	}
	agent := map[string]any{
		"type":      map[string]any{"coding": []any{coding("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP")}},
		"requestor": true,
	}
	if who != "" {
		agent["who"] = identifierRef("urn:careledger:account", who)
	}
	if p := e.Attr("purpose"); p != "" {
		purpose := []any{coding("http://terminology.hl7.org/CodeSystem/v3-ActReason", p)}
		if r := e.Attr("glass_reason"); r != "" { // break the glass: why, beside the purpose
			purpose = append(purpose, coding(GlassReasonSystem, r))
		}
		agent["purposeOfUse"] = []any{map[string]any{"coding": purpose}}
	}
	source := map[string]any{"observer": map[string]any{"display": "CareLedger"}}
	if c := e.Attr("custodian"); c != "" {
		source["observer"] = identifierRef("urn:careledger:org", c)
	}
	var entities []any
	if p := e.Attr("patient"); p != "" {
		entities = append(entities, map[string]any{
			"what": identifierRef("urn:careledger:patient", p),
			"type": coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "1"),
			"role": coding("http://terminology.hl7.org/CodeSystem/object-role", "1"),
		})
	}
	for _, a := range e.Attrs {
		if a.Key == "record" && a.Value != "*" || a.Key == "item" {
			entities = append(entities, map[string]any{"what": map[string]any{"reference": name(a.Value)},
				"type": coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2")})
		}
	}
	var details []any
	for _, a := range e.Attrs {
		v := a.Value
		if a.Key == "record" || a.Key == "item" {
			v = name(v)
		}
		details = append(details, map[string]any{"type": a.Key, "valueString": v})
	}
	r := map[string]any{
		"resourceType": "AuditEvent",
		"id":           "log-" + strconv.FormatUint(index, 10),
		"extension":    []any{map[string]any{"url": LogIndexURL, "valueInteger": index}},
		"type":         coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest"),
		"subtype":      []any{coding("http://hl7.org/fhir/restful-interaction", subtype), coding("urn:careledger:event", e.Type)},
		"action":       action,
		"recorded":     ev.Time.UTC().Format(time.RFC3339Nano),
		"outcome":      outcome,
		"agent":        []any{agent},
		"source":       source,
	}
	if e.Type == consent.EventAccess && e.Attr("outcome") != "deny" && !strings.HasPrefix(e.Attr("purpose"), "PATRQT") {
		r["type"] = coding("http://dicom.nema.org/resources/ontology/DCM", "110106") // Export: a disclosure
	}
	if len(entities) > 0 {
		if len(details) > 0 {
			entities[0].(map[string]any)["detail"] = details
		}
		r["entity"] = entities
	}
	return parseMap(r)
}

// searchAuditEvent serves GET /fhir/AuditEvent.
func (s *Server) searchAuditEvent(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	q := r.URL.Query()
	patient, err := s.patientAddress(q.Get("patient"))
	if err != nil {
		return err
	}
	if err := s.mayReadTrail(r, who, patient); err != nil {
		return err
	}
	match, err := auditFilter(q)
	if err != nil {
		return err
	}
	name, err := s.recordNames(who, patient)
	if err != nil {
		return err
	}
	idx, err := s.audit.AccountEvents(patient, 0, 1<<30)
	if err != nil {
		return err
	}
	var out []*fhir.Resource
	for _, i := range idx {
		leaf, err := s.audit.Leaf(i)
		if err != nil {
			return err
		}
		ev, err := audit.DecodeEvent(leaf)
		if err != nil {
			return err
		}
		if !match(ev) {
			continue
		}
		res, err := s.auditEvent(i, ev, name)
		if err != nil {
			return err
		}
		out = append(out, res)
	}
	entries := make([]any, len(out))
	for i, res := range out {
		entries[i] = map[string]any{"fullUrl": fhirBase(r) + "/AuditEvent/" + res.ID(), "resource": res, "search": map[string]any{"mode": "match"}}
	}
	b, err := parseMap(map[string]any{"resourceType": "Bundle", "type": "searchset", "total": len(out), "entry": entries})
	if err != nil {
		return err
	}
	write(w, http.StatusOK, b.Canonical())
	return nil
}

// mayReadTrail refuses who patient's audit trail unless who is the patient,
// a delegate, an auditor or a privacy officer, within the token's scopes.
func (s *Server) mayReadTrail(r *http.Request, who *identity.Account, patient tx.Address) error {
	ok, err := disclosure.MayRead(s.state(), who, patient)
	if err == nil && !ok {
		err = fhir.NewError(fhir.ErrForbidden, fhir.Issue{Diagnostics: "only the patient, a delegate, an auditor or a privacy officer reads the audit trail"})
	}
	if err != nil {
		return err
	}
	return s.patientInScope(r, patient.String(), "AuditEvent")
}

// readAuditEvent serves GET /fhir/AuditEvent/log-N, the log's event N: an
// event about a patient to those who may read the patient's trail, any
// other to members of the network (as GET /v1/audit/events/{index}). Any
// other id is an AuditEvent stored here like any resource.
func (s *Server) readAuditEvent(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	index, ok := strings.CutPrefix(r.PathValue("id"), "log-")
	if !ok {
		return s.readAs(w, r, who, "AuditEvent")
	}
	n, err := strconv.ParseUint(index, 10, 64)
	if err != nil {
		return fhir.NewError(fhir.ErrNotFound, fhir.Issue{Diagnostics: "log-N names the audit log's event N"})
	}
	leaf, err := s.audit.Leaf(n)
	if errors.Is(err, auditdb.ErrNotFound) {
		return fhir.NewError(fhir.ErrNotFound, fhir.Issue{Diagnostics: "the audit log has no such event"})
	}
	if err != nil {
		return err
	}
	ev, err := audit.DecodeEvent(leaf)
	if err != nil {
		return err
	}
	name := func(v string) string { return v }
	if p := ev.Event.Attr("patient"); p != "" {
		patient, err := tx.ParseAddress(p)
		if err != nil {
			return err
		}
		if err := s.mayReadTrail(r, who, patient); err != nil {
			return err
		}
		if name, err = s.recordNames(who, patient); err != nil {
			return err
		}
	} else if who.Kind != identity.Member {
		return fhir.NewError(fhir.ErrForbidden, fhir.Issue{Diagnostics: "events about no patient are read by members of the network"})
	}
	res, err := s.auditEvent(n, ev, name)
	if err != nil {
		return err
	}
	write(w, http.StatusOK, res.Canonical())
	return nil
}

// recordNames returns how the AuditEvents of patient's trail name records
// to who. Events name records "Type/ref" (custodian.Ref). The patient, a
// delegate and the custodian's own members see the FHIR ids of the records
// held here; anyone else (an auditor of another organization), and every
// record held elsewhere or erased, gets the ref.
func (s *Server) recordNames(who *identity.Account, patient tx.Address) (func(string) string, error) {
	asIs := func(v string) string { return v }
	mine := who.Kind == identity.Member && who.Org == s.c.Org()
	if !mine {
		acts, err := identity.ActsFor(s.state(), who.Address, patient)
		if err != nil || !acts {
			return asIs, err
		}
	}
	seen := map[string]string{}
	return func(v string) string {
		if n, ok := seen[v]; ok {
			return n
		}
		n := v
		if typ, ref, ok := strings.Cut(v, "/"); ok {
			if id, found := s.c.ResolveRef(typ, ref, patient.String()); found {
				n = typ + "/" + id
			}
		}
		seen[v] = n
		return n
	}, nil
}

// parseMap returns a resource built as a map.
func parseMap(m map[string]any) (*fhir.Resource, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return fhir.Parse(b)
}

// patientAddress returns the pseudonym a patient search parameter names:
// an account address, or the id of a Patient held here.
func (s *Server) patientAddress(p string) (tx.Address, error) {
	p = strings.TrimPrefix(p, "Patient/")
	if p == "" {
		return tx.Address{}, fhir.NewError(fhir.ErrUnsupported, fhir.Issue{Diagnostics: "AuditEvent searches name one patient"})
	}
	if a, err := tx.ParseAddress(p); err == nil {
		return a, nil
	}
	pseudonym, err := s.c.TrailOf(p)
	if err != nil {
		return tx.Address{}, err
	}
	return tx.ParseAddress(pseudonym)
}

// auditFilter returns the condition of the date, agent and type
// parameters.
func auditFilter(q map[string][]string) (func(*audit.Event) bool, error) {
	var conds []func(*audit.Event) bool
	for _, v := range q["date"] {
		c, err := dateCondition(v)
		if err != nil {
			return nil, err
		}
		conds = append(conds, func(e *audit.Event) bool { return c(e.Time) })
	}
	for _, v := range q["agent"] {
		a := strings.TrimPrefix(v, "urn:careledger:account|")
		conds = append(conds, func(e *audit.Event) bool {
			return e.Event.Attr("requester") == a || e.Event.Attr("by") == a || e.Event.Attr("member") == a
		})
	}
	for _, v := range q["type"] {
		t := strings.TrimPrefix(v, "urn:careledger:event|")
		conds = append(conds, func(e *audit.Event) bool { return e.Event.Type == t })
	}
	for k := range q {
		switch k {
		case "patient", "date", "agent", "type", "_format":
		default:
			return nil, fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: "AuditEvent searches take patient, date, agent, type and _count; not " + k})
		}
	}
	return func(e *audit.Event) bool {
		for _, c := range conds {
			if !c(e) {
				return false
			}
		}
		return true
	}, nil
}

// dateCondition returns the condition of one value of a date search
// parameter: a FHIR date or dateTime with an optional prefix (eq, ge, gt,
// le, lt).
func dateCondition(v string) (func(time.Time) bool, error) {
	prefix, value := "eq", v
	if len(v) > 2 && strings.ContainsAny(v[:1], "gleabn") {
		prefix, value = v[:2], v[2:]
	}
	lo, hi, err := dateRange(value)
	if err != nil {
		return nil, fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: "date must be a FHIR date or dateTime, with an optional prefix"})
	}
	switch prefix {
	case "eq":
		return func(t time.Time) bool { return !t.Before(lo) && t.Before(hi) }, nil
	case "ge":
		return func(t time.Time) bool { return !t.Before(lo) }, nil
	case "gt":
		return func(t time.Time) bool { return !t.Before(hi) }, nil
	case "le":
		return func(t time.Time) bool { return t.Before(hi) }, nil
	case "lt":
		return func(t time.Time) bool { return t.Before(lo) }, nil
	}
	return nil, fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: "date prefixes are eq, ge, gt, le and lt"})
}

// dateRange returns the instants a FHIR date or dateTime covers.
func dateRange(v string) (lo, hi time.Time, err error) {
	for _, f := range []struct {
		layout string
		step   func(time.Time) time.Time
	}{
		{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }},
		{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
		{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
		{time.RFC3339Nano, func(t time.Time) time.Time { return t.Add(time.Second) }},
	} {
		if t, err := time.Parse(f.layout, v); err == nil {
			return t, f.step(t), nil
		}
	}
	return lo, hi, errors.New("not a FHIR date or dateTime")
}
