package fhirapi

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/schedule"
	"github.com/careledger/careledger/custodian"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/tx"
)

// A provider's schedule on the chain reads as Schedule/K, its slot
// starting at Unix second T as Slot/K.T, and the booking of that slot as
// Appointment/K.T, where K is PROVIDER.SCHEDULE (organization IDs hold no
// '.') when that leaves room for the start within FHIR's 64 characters,
// and otherwise "s-" and 32 hex digits of a hash of the provider and the
// schedule (schedule IDs may be 64 characters long). Other ids are
// resources stored here.
//
// Any signed-in account reads and searches Schedules and Slots, as GET
// /v1/schedules/.../slots: a Slot says free or busy, never who booked it.
// An Appointment names its patient, so it is shown, as the JSON route
// shows a booking, to the patient and the provider's members, and also to
// the patient's delegates (who may book for them). A cancelled booking
// frees its slot and leaves no Appointment; a rescheduled one moves to its
// new slot's id. Searches of these three types answer from the chain
// alone, in one page: records of them stored here are read by id only.

const (
	careledgerCategory = "urn:careledger:service-category"
	orgSystem          = "urn:careledger:org"
	// SignedBookingURL is the extension of a POSTed Appointment whose
	// valueBase64Binary is a transaction, signed by the patient or a
	// delegate, holding one schedule/book message of the Appointment's
	// slot: the signed booking is what counts.
	SignedBookingURL = "urn:careledger:signed-booking"
	// maxNaturalKey leaves room for '.' and a start of 19 digits.
	maxNaturalKey = 64 - 20
)

var hashedKey = regexp.MustCompile(`^s-[0-9a-f]{32}$`)

// scheduleKey returns K, the id part naming provider's schedule id.
func scheduleKey(provider, id string) string {
	if k := provider + "." + id; len(k) <= maxNaturalKey {
		return k
	}
	return hashKey(provider, id)
}

func hashKey(provider, id string) string {
	h := sha256.Sum256([]byte(provider + "/" + id))
	return "s-" + hex.EncodeToString(h[:16])
}

// resolveKey returns the provider and schedule K names; ok is false when K
// is not a chain id. A hashed K is found among the published schedules.
func (s *Server) resolveKey(k string) (provider, id string, ok bool, err error) {
	if provider, id, ok := strings.Cut(k, "."); ok {
		return provider, id, true, nil
	}
	if !hashedKey.MatchString(k) {
		return "", "", false, nil
	}
	err = schedule.EachSchedule(s.state(), "", func(p, i string, _ *schedule.Schedule) (bool, error) {
		if hashKey(p, i) == k {
			provider, id = p, i
			return false, nil
		}
		return true, nil
	})
	return provider, id, true, err
}

// resolveSlot returns the slot a Slot or Appointment id names; ok is false
// when the id is not a chain id. A slot that cannot exist is one at start
// 0.
func (s *Server) resolveSlot(fullID string) (ref schedule.SlotRef, ok bool, err error) {
	i := strings.LastIndexByte(fullID, '.')
	if i < 0 {
		return ref, false, nil
	}
	provider, id, ok, err := s.resolveKey(fullID[:i])
	if !ok || err != nil {
		return ref, ok, err
	}
	start, _ := strconv.ParseInt(fullID[i+1:], 10, 64)
	return schedule.SlotRef{Provider: provider, Schedule: id, Start: max(start, 0)}, true, nil
}

func slotID(ref schedule.SlotRef) string {
	return scheduleKey(ref.Provider, ref.Schedule) + "." + strconv.FormatInt(ref.Start, 10)
}

func categoryOf(code string) []any {
	return []any{map[string]any{"coding": []any{coding(careledgerCategory, code)}}}
}

func scheduleView(provider, id string, sc *schedule.Schedule) map[string]any {
	return map[string]any{
		"resourceType":    "Schedule",
		"id":              scheduleKey(provider, id),
		"identifier":      []any{map[string]any{"system": "urn:careledger:schedule", "value": provider + "/" + id}},
		"active":          true,
		"serviceCategory": categoryOf(sc.Category),
		"serviceType":     []any{map[string]any{"text": map[bool]string{true: "virtual", false: "in person"}[sc.Virtual]}},
		"actor":           []any{identifierRef(orgSystem, provider)},
	}
}

func slotStatus(sl *schedule.Slot) string {
	if sl.State == schedule.Free {
		return "free"
	}
	return "busy"
}

func period(sl *schedule.Slot) (start, end string) {
	begin := time.Unix(sl.Start, 0).UTC()
	return begin.Format(time.RFC3339), begin.Add(time.Duration(sl.Minutes) * time.Minute).Format(time.RFC3339)
}

func slotView(ref schedule.SlotRef, sl *schedule.Slot, sc *schedule.Schedule) map[string]any {
	start, end := period(sl)
	v := map[string]any{
		"resourceType": "Slot",
		"id":           slotID(ref),
		"schedule":     map[string]any{"reference": "Schedule/" + scheduleKey(ref.Provider, ref.Schedule)},
		"status":       slotStatus(sl),
		"start":        start,
		"end":          end,
	}
	if sc != nil {
		v["serviceCategory"] = categoryOf(sc.Category)
	}
	return v
}

// appointmentStatus is the FHIR status of a booked slot's state.
func appointmentStatus(st schedule.State) string {
	switch st {
	case schedule.Done:
		return "fulfilled"
	case schedule.Missed:
		return "noshow"
	}
	return "booked"
}

func appointmentView(ref schedule.SlotRef, sl *schedule.Slot, sc *schedule.Schedule) map[string]any {
	start, end := period(sl)
	patient := identifierRef(custodian.PatientSystem, sl.Patient.String())
	patient["type"] = "Patient"
	v := map[string]any{
		"resourceType":    "Appointment",
		"id":              slotID(ref),
		"status":          appointmentStatus(sl.State),
		"start":           start,
		"end":             end,
		"minutesDuration": sl.Minutes,
		"slot":            []any{map[string]any{"reference": "Slot/" + slotID(ref)}},
		"participant": []any{
			map[string]any{"actor": patient, "status": "accepted"},
			map[string]any{"actor": identifierRef(orgSystem, ref.Provider), "status": "accepted"},
		},
	}
	if sc != nil {
		v["serviceCategory"] = categoryOf(sc.Category)
	}
	return v
}

// readSchedule serves GET /fhir/Schedule/{id}.
func (s *Server) readSchedule(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	provider, id, ok, err := s.resolveKey(r.PathValue("id"))
	if err != nil {
		return err
	}
	if !ok {
		return s.readAs(w, r, who, "Schedule")
	}
	sc, err := schedule.LoadSchedule(s.state(), provider, id)
	if err != nil {
		return err
	}
	if sc == nil {
		return fhir.NewError(fhir.ErrNotFound, fhir.Issue{Diagnostics: "no such schedule"})
	}
	return writeView(w, scheduleView(provider, id, sc))
}

// chainSlot returns the slot a Slot or Appointment read names, and its
// schedule; ok is false when the id names a stored resource.
func (s *Server) chainSlot(r *http.Request, what string) (ref schedule.SlotRef, sl *schedule.Slot, sc *schedule.Schedule, ok bool, err error) {
	ref, ok, err = s.resolveSlot(r.PathValue("id"))
	if !ok || err != nil {
		return ref, nil, nil, ok, err
	}
	if sl, err = schedule.LoadSlot(s.state(), ref); err == nil && sl != nil {
		sc, err = schedule.LoadSchedule(s.state(), ref.Provider, ref.Schedule)
	}
	if err == nil && (sl == nil || what == "Appointment" && sl.State == schedule.Free) {
		err = fhir.NewError(fhir.ErrNotFound, fhir.Issue{Diagnostics: "no such " + strings.ToLower(what)})
	}
	return ref, sl, sc, true, err
}

// readSlot serves GET /fhir/Slot/{id}.
func (s *Server) readSlot(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	ref, sl, sc, ok, err := s.chainSlot(r, "Slot")
	if !ok && err == nil {
		return s.readAs(w, r, who, "Slot")
	}
	if err != nil {
		return err
	}
	return writeView(w, slotView(ref, sl, sc))
}

// readAppointment serves GET /fhir/Appointment/{id}.
func (s *Server) readAppointment(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	ref, sl, sc, ok, err := s.chainSlot(r, "Appointment")
	if !ok && err == nil {
		return s.readAs(w, r, who, "Appointment")
	}
	if err != nil {
		return err
	}
	if ok, err := s.maySeeBooking(r, who, ref, sl); err != nil || !ok {
		return orForbidden(err, "only the patient, a delegate and the provider's members read an appointment")
	}
	return writeView(w, appointmentView(ref, sl, sc))
}

// maySeeBooking reports whether who may see who booked sl: its patient or
// a delegate, or a member of its provider, within the token's scopes.
func (s *Server) maySeeBooking(r *http.Request, who *identity.Account, ref schedule.SlotRef, sl *schedule.Slot) (bool, error) {
	if err := s.patientInScope(r, sl.Patient.String(), "Appointment"); err != nil {
		var fe *fhir.Error
		if errors.As(err, &fe) {
			return false, nil
		}
		return false, err
	}
	if who.Kind == identity.Member && who.Org == ref.Provider {
		return true, nil
	}
	return identity.ActsFor(s.state(), who.Address, sl.Patient)
}

// searchForm parses a search's parameters and refuses any but allowed.
func searchForm(r *http.Request, typ string, allowed ...string) (url.Values, error) {
	if err := r.ParseForm(); err != nil {
		return nil, fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: "search parameters do not parse"})
	}
	for k := range r.Form {
		if k != "_format" && !slices.Contains(allowed, k) {
			return nil, fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: fmt.Sprintf("%s searches take %s; not %s", typ, strings.Join(allowed, ", "), k)})
		}
	}
	return r.Form, nil
}

// anyOf reports whether one of a token parameter's comma-separated values
// is code (of system, when a value names one).
func anyOf(value, system, code string) bool {
	for _, v := range strings.Split(value, ",") {
		sys, c, hasSystem := strings.Cut(v, "|")
		if !hasSystem {
			c, sys = v, system
		}
		if c == code && sys == system {
			return true
		}
	}
	return false
}

// tokens returns a predicate true when every occurrence of parameter name
// matches code.
func tokens(form url.Values, name, system string) func(code string) bool {
	values := form[name]
	return func(code string) bool {
		for _, v := range values {
			if !anyOf(v, system, code) {
				return false
			}
		}
		return true
	}
}

// dates returns a predicate true when a time meets every occurrence of
// the date parameter name.
func dates(form url.Values, name string) (func(time.Time) bool, error) {
	var conds []func(time.Time) bool
	for _, v := range form[name] {
		c, err := dateCondition(v)
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
	}
	return func(t time.Time) bool {
		for _, c := range conds {
			if !c(t) {
				return false
			}
		}
		return true
	}, nil
}

// party is who a reference parameter names: a provider organization or a
// patient's account. An unknown reference names nobody, and matches
// nothing.
type party struct {
	org     string
	patient tx.Address
	nobody  bool
}

func (p party) is(provider string, patient tx.Address) bool {
	return !p.nobody && (p.org != "" && p.org == provider || p.patient != tx.Address{} && p.patient == patient)
}

// parties reads reference parameter name (and name:identifier): values
// Patient/ID (a Patient held here, or an account address), Organization/ID
// (an organization on the chain), or identifiers of those systems. The
// result's inner lists are alternatives; every outer one must match.
func (s *Server) parties(form url.Values, name string) ([][]party, error) {
	var out [][]party
	for key, identifier := range map[string]bool{name: false, name + ":identifier": true} {
		for _, v := range form[key] {
			var alts []party
			for _, one := range strings.Split(v, ",") {
				p, err := s.party(one, identifier)
				if err != nil {
					return nil, err
				}
				alts = append(alts, p)
			}
			out = append(out, alts)
		}
	}
	return out, nil
}

func (s *Server) party(v string, identifier bool) (party, error) {
	if identifier {
		sys, value, _ := strings.Cut(v, "|")
		switch sys {
		case orgSystem:
			return party{org: value}, nil
		case custodian.PatientSystem, "urn:careledger:account":
			if a, err := tx.ParseAddress(value); err == nil {
				return party{patient: a}, nil
			}
		}
		return party{nobody: true}, nil
	}
	if org, ok := strings.CutPrefix(v, "Organization/"); ok {
		return party{org: org}, nil
	}
	if strings.HasPrefix(v, "Patient/") || !strings.Contains(v, "/") {
		a, err := s.patientAddress(v)
		if err != nil {
			var fe *fhir.Error
			if errors.As(err, &fe) && errors.Is(fe.Kind, fhir.ErrNotFound) {
				return party{nobody: true}, nil
			}
			return party{}, err
		}
		return party{patient: a}, nil
	}
	return party{nobody: true}, nil
}

func matchParties(ps [][]party, provider string, patient tx.Address) bool {
	for _, alts := range ps {
		if !slices.ContainsFunc(alts, func(p party) bool { return p.is(provider, patient) }) {
			return false
		}
	}
	return true
}

// searchSchedule serves GET /fhir/Schedule?actor=: the published
// schedules, of the providers actor names.
func (s *Server) searchSchedule(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	form, err := searchForm(r, "Schedule", "actor", "actor:identifier", "service-category")
	if err != nil {
		return err
	}
	actors, err := s.parties(form, "actor")
	if err != nil {
		return err
	}
	category := tokens(form, "service-category", careledgerCategory)
	var out []*fhir.Resource
	err = schedule.EachSchedule(s.state(), "", func(provider, id string, sc *schedule.Schedule) (bool, error) {
		if !matchParties(actors, provider, tx.Address{}) || !category(sc.Category) {
			return true, nil
		}
		res, err := parseMap(scheduleView(provider, id, sc))
		out = append(out, res)
		return true, err
	})
	if err != nil {
		return err
	}
	return writeSearchSet(w, r, "Schedule", out)
}

// eachScheduledSlot calls fn with each slot on the chain and its schedule,
// in key order: what a Slot or Appointment search visits.
func (s *Server) eachScheduledSlot(fn func(ref schedule.SlotRef, sl *schedule.Slot, sc *schedule.Schedule) error) error {
	var last schedule.SlotRef
	var sc *schedule.Schedule
	return schedule.EachSlot(s.state(), func(ref schedule.SlotRef, sl *schedule.Slot) (bool, error) {
		if sc == nil || ref.Provider != last.Provider || ref.Schedule != last.Schedule {
			var err error
			if sc, err = schedule.LoadSchedule(s.state(), ref.Provider, ref.Schedule); err != nil || sc == nil {
				return false, err
			}
			last = ref
		}
		return true, fn(ref, sl, sc)
	})
}

// searchSlot serves GET /fhir/Slot: by schedule (Schedule/ID), start (a
// date with its prefixes), status (free or busy) and service-category.
func (s *Server) searchSlot(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	form, err := searchForm(r, "Slot", "schedule", "start", "status", "service-category")
	if err != nil {
		return err
	}
	start, err := dates(form, "start")
	if err != nil {
		return err
	}
	status, category := tokens(form, "status", "http://hl7.org/fhir/slotstatus"), tokens(form, "service-category", careledgerCategory)
	var schedules []string
	for _, v := range form["schedule"] {
		schedules = append(schedules, strings.TrimPrefix(v, "Schedule/"))
	}
	var out []*fhir.Resource
	err = s.eachScheduledSlot(func(ref schedule.SlotRef, sl *schedule.Slot, sc *schedule.Schedule) error {
		k := scheduleKey(ref.Provider, ref.Schedule)
		if slices.ContainsFunc(schedules, func(v string) bool { return v != k }) ||
			!start(time.Unix(sl.Start, 0)) || !status(slotStatus(sl)) || !category(sc.Category) {
			return nil
		}
		res, err := parseMap(slotView(ref, sl, sc))
		out = append(out, res)
		return err
	})
	if err != nil {
		return err
	}
	return writeSearchSet(w, r, "Slot", out)
}

// searchAppointment serves GET /fhir/Appointment: the bookings who may
// see, by patient, actor (the patient or the provider), date (the start,
// with its prefixes), status (booked, fulfilled, noshow) and
// service-category.
func (s *Server) searchAppointment(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	form, err := searchForm(r, "Appointment", "patient", "patient:identifier", "actor", "actor:identifier", "date", "status", "service-category")
	if err != nil {
		return err
	}
	patients, err := s.parties(form, "patient")
	if err != nil {
		return err
	}
	actors, err := s.parties(form, "actor")
	if err != nil {
		return err
	}
	date, err := dates(form, "date")
	if err != nil {
		return err
	}
	status, category := tokens(form, "status", "http://hl7.org/fhir/appointmentstatus"), tokens(form, "service-category", careledgerCategory)
	var out []*fhir.Resource
	err = s.eachScheduledSlot(func(ref schedule.SlotRef, sl *schedule.Slot, sc *schedule.Schedule) error {
		if sl.State == schedule.Free || !matchParties(patients, "", sl.Patient) || !matchParties(actors, ref.Provider, sl.Patient) ||
			!date(time.Unix(sl.Start, 0)) || !status(appointmentStatus(sl.State)) || !category(sc.Category) {
			return nil
		}
		if ok, err := s.maySeeBooking(r, who, ref, sl); err != nil || !ok {
			return err
		}
		res, err := parseMap(appointmentView(ref, sl, sc))
		out = append(out, res)
		return err
	})
	if err != nil {
		return err
	}
	return writeSearchSet(w, r, "Appointment", out)
}

// binaryExtension is an extension with a valueBase64Binary.
type binaryExtension struct {
	URL               string `json:"url"`
	ValueBase64Binary string `json:"valueBase64Binary"`
}

// decodeBook decodes and validates a schedule/book message body as the
// contract does.
var decodeBook = func() func([]byte) (schedule.Book, error) {
	for _, m := range schedule.Describe().Msgs {
		if m.Type == schedule.TypeBook {
			return func(b []byte) (schedule.Book, error) {
				msg, err := m.Decode(b)
				if err != nil {
					return schedule.Book{}, err
				}
				return msg.(schedule.Book), nil
			}
		}
	}
	panic("the scheduling contract has no schedule/book")
}()

// createAppointment serves POST /fhir/Appointment: an Appointment with
// status booked or proposed, naming one Slot on the chain and carrying
// the signed booking of that slot (SignedBookingURL), books it and
// answers the booked Appointment; any other Appointment is stored as a
// record.
func (s *Server) createAppointment(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	res, err := s.body(r, "Appointment")
	if err != nil {
		return err
	}
	var a struct {
		Status    string `json:"status"`
		Slot      []struct{ Reference string }
		Extension []binaryExtension `json:"extension"`
	}
	json.Unmarshal(res.Canonical(), &a)
	i := slices.IndexFunc(a.Extension, func(e binaryExtension) bool { return e.URL == SignedBookingURL })
	if i < 0 {
		if res, err = s.c.Create(r.Context(), who, res); err != nil {
			return err
		}
		w.Header().Set("Location", fhirBase(r)+"/Appointment/"+res.ID()+"/_history/"+res.Meta().VersionID)
		writeResource(w, http.StatusCreated, res)
		return nil
	}
	invalid := func(why, where string) error {
		return fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: why, Expression: []string{where}})
	}
	if a.Status != "booked" && a.Status != "proposed" {
		return invalid("a booking's status is booked or proposed", "Appointment.status")
	}
	var ref schedule.SlotRef
	if len(a.Slot) == 1 {
		id, _ := strings.CutPrefix(a.Slot[0].Reference, "Slot/")
		var ok bool
		if ref, ok, err = s.resolveSlot(id); err != nil {
			return err
		} else if !ok || id == a.Slot[0].Reference {
			ref = schedule.SlotRef{}
		}
	}
	if ref.Provider == "" {
		return invalid("a booking names one Slot on the chain", "Appointment.slot")
	}
	raw, err := base64.StdEncoding.DecodeString(a.Extension[i].ValueBase64Binary)
	if err != nil {
		return invalid("the signed booking is not base64", "Appointment.extension")
	}
	t, err := tx.Decode(raw, tx.DefaultLimits)
	if err != nil || len(t.Msgs) != 1 || t.Msgs[0].Type != schedule.TypeBook {
		return invalid("the signed booking must be a transaction of one schedule/book message", "Appointment.extension")
	}
	if m, err := decodeBook(t.Msgs[0].Body); err != nil || m.SlotRef != ref {
		return invalid("the signed booking must book the Appointment's slot", "Appointment.extension")
	}
	if _, err := s.c.Relay(r.Context(), raw); err != nil {
		return fmt.Errorf("booking refused: %w", err) // a rejection answers by its code
	}
	sl, err := schedule.LoadSlot(s.state(), ref)
	if err != nil {
		return err
	}
	if sl == nil || sl.State == schedule.Free {
		return fhir.NewError(fhir.ErrNotFound, fhir.Issue{Diagnostics: "the booking committed but is not readable yet"})
	}
	sc, err := schedule.LoadSchedule(s.state(), ref.Provider, ref.Schedule)
	if err != nil {
		return err
	}
	out, err := parseMap(appointmentView(ref, sl, sc))
	if err != nil {
		return err
	}
	w.Header().Set("Location", fhirBase(r)+"/Appointment/"+out.ID())
	writeResource(w, http.StatusCreated, out)
	return nil
}

// writeView answers a resource built from the chain's state.
func writeView(w http.ResponseWriter, v map[string]any) error {
	res, err := parseMap(v)
	if err != nil {
		return err
	}
	writeResource(w, http.StatusOK, res)
	return nil
}
