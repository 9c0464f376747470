package fhirapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/schedule"
	"github.com/careledger/careledger/fhirapi"
)

// signedBooking returns an Appointment of status carrying key's signed
// booking of ref, naming slot.
func (s *story) signedBooking(key ed25519.PrivKey, patient ed25519.PrivKey, ref schedule.SlotRef, status, slot string) map[string]any {
	s.t.Helper()
	t, err := s.c.Build(context.Background(), key, contract.Encode(schedule.Book{Patient: addr(patient), SlotRef: ref}))
	if err != nil {
		s.t.Fatal(err)
	}
	return obj("resourceType", "Appointment", "status", status,
		"participant", []any{obj("status", "needs-action", "actor", obj("reference", "Patient/"+addr(patient).String()))},
		"slot", []any{obj("reference", slot)},
		"extension", []any{obj("url", fhirapi.SignedBookingURL, "valueBase64Binary", base64.StdEncoding.EncodeToString(t.Encode()))})
}

// searchIDs runs a FHIR search as who and returns the ids it found.
func (s *story) searchIDs(who ed25519.PrivKey, query string) []string {
	s.t.Helper()
	status, body := s.fhir(who, "GET", query, nil)
	s.expect("GET "+query, status, http.StatusOK, body)
	var b struct {
		Type  string
		Total int
		Entry []struct{ Resource struct{ ID string } }
	}
	if err := json.Unmarshal(body, &b); err != nil || b.Type != "searchset" || b.Total != len(b.Entry) {
		s.t.Fatalf("GET %s = %s; want a searchset Bundle", query, body)
	}
	ids := []string{}
	for _, e := range b.Entry {
		ids = append(ids, e.Resource.ID)
	}
	return ids
}

// TestAppointments books slots through POST /fhir/Appointment and the
// JSON API, and reads and searches the bookings, slots and schedules as
// FHIR Appointment, Slot and Schedule: the patient sees their own
// appointments, the provider's members all of its own, another
// organization's none; a taken slot, a booking of another slot than the
// Appointment names and unknown parameters are refused; an appointment
// marked attended reads as fulfilled; ids stay within FHIR's 64
// characters for the longest schedule ids.
func TestAppointments(t *testing.T) {
	s := newStory(t)
	other := ed25519.GenPrivKey()
	s.send(other, contract.Encode(identity.RegisterPatient{}))
	soon := time.Now().Add(5 * time.Second).Unix()
	later := time.Now().Add(48 * time.Hour).Truncate(time.Hour).Unix()
	long := strings.Repeat("x", 64)
	s.send(s.n.Admin,
		contract.Encode(schedule.Publish{Provider: hospitalA, Schedule: "gp", Category: "primary-care"}),
		contract.Encode(schedule.Publish{Provider: hospitalA, Schedule: "teeth", Category: "dental", Virtual: true}),
		contract.Encode(schedule.Publish{Provider: hospitalA, Schedule: long, Category: "imaging"}),
		contract.Encode(schedule.OpenSlots{Provider: hospitalA, Schedule: "gp", Slots: []schedule.SlotSpec{{Start: soon, Minutes: 15}, {Start: later, Minutes: 20}, {Start: later + 3600, Minutes: 20}}}),
		contract.Encode(schedule.OpenSlots{Provider: hospitalA, Schedule: "teeth", Slots: []schedule.SlotSpec{{Start: later, Minutes: 30}}}),
		contract.Encode(schedule.OpenSlots{Provider: hospitalA, Schedule: long, Slots: []schedule.SlotSpec{{Start: later, Minutes: 30}}}))
	gp := func(start int64) schedule.SlotRef {
		return schedule.SlotRef{Provider: hospitalA, Schedule: "gp", Start: start}
	}
	slotOf := func(ref schedule.SlotRef) string {
		return hospitalA + "." + ref.Schedule + "." + strconv.FormatInt(ref.Start, 10)
	}

	// The patient books two gp slots through FHIR; the other patient a
	// dental one through the JSON API.
	for _, ref := range []schedule.SlotRef{gp(soon), gp(later)} {
		status, body := s.fhir(s.patient, "POST", "Appointment", s.signedBooking(s.patient, s.patient, ref, "proposed", "Slot/"+slotOf(ref)))
		s.expect("book "+slotOf(ref), status, http.StatusCreated, body)
		var a struct {
			ID, Status string
			Slot       []struct{ Reference string }
		}
		if json.Unmarshal(body, &a); a.ID != slotOf(ref) || a.Status != "booked" || len(a.Slot) != 1 || a.Slot[0].Reference != "Slot/"+slotOf(ref) {
			t.Errorf("POST Appointment = %s; want the booked Appointment %s", body, slotOf(ref))
		}
		validateView(t, "Appointment", body)
	}
	teeth := schedule.SlotRef{Provider: hospitalA, Schedule: "teeth", Start: later}
	s.send(other, contract.Encode(schedule.Book{Patient: addr(other), SlotRef: teeth}))

	// Refusals: a taken slot (409, nothing changes), a signed booking of
	// another slot than the Appointment names, a bad status.
	for _, c := range []struct {
		what string
		body map[string]any
		want int
	}{
		{"a taken slot", s.signedBooking(other, other, gp(later), "booked", "Slot/"+slotOf(gp(later))), http.StatusConflict},
		{"another slot", s.signedBooking(other, other, gp(later+3600), "booked", "Slot/"+slotOf(gp(later))), http.StatusBadRequest},
		{"a bad status", s.signedBooking(other, other, gp(later+3600), "fulfilled", "Slot/"+slotOf(gp(later+3600))), http.StatusBadRequest},
		{"no slot on the chain", s.signedBooking(other, other, gp(later+3600), "booked", "Slot/nothing"), http.StatusBadRequest},
	} {
		status, body := s.fhir(other, "POST", "Appointment", c.body)
		s.expect("book "+c.what, status, c.want, body)
	}

	mine := []string{slotOf(gp(soon)), slotOf(gp(later))}
	all := []string{slotOf(gp(soon)), slotOf(gp(later)), slotOf(teeth)}
	pid := "Patient/" + addr(s.patient).String()
	for _, c := range []struct {
		who   ed25519.PrivKey
		query string
		want  []string
	}{
		{s.patient, "Appointment", mine},
		{s.patient, "Appointment?patient=" + pid, mine},
		{s.patient, "Appointment?patient=" + pid + "&date=ge" + time.Unix(later, 0).UTC().Format(time.RFC3339), mine[1:]},
		{s.patient, "Appointment?date=lt" + time.Unix(later, 0).UTC().Format("2006-01-02"), mine[:1]},
		{other, "Appointment", []string{slotOf(teeth)}},
		{s.drA, "Appointment", all},
		{s.drA, "Appointment?actor=Organization/" + hospitalA + "&status=booked", all},
		{s.drA, "Appointment?actor=" + pid, mine},
		{s.drA, "Appointment?actor:identifier=urn:careledger:org|" + hospitalB, nil},
		{s.drA, "Appointment?service-category=dental", []string{slotOf(teeth)}},
		{s.drA, "Appointment?service-category=urn:careledger:service-category|primary-care,dental&status=fulfilled,booked", all},
		{s.drA, "Appointment?status=cancelled", nil},
		{s.drB, "Appointment", nil},
		{s.drB, "Slot?schedule=Schedule/" + hospitalA + ".gp&status=free", []string{slotOf(gp(later + 3600))}},
		{s.drB, "Slot?schedule=Schedule/" + hospitalA + ".gp&start=gt" + time.Unix(later, 0).UTC().Format(time.RFC3339), []string{slotOf(gp(later + 3600))}},
		{s.drB, "Slot?service-category=dental&status=busy", []string{slotOf(teeth)}},
		{s.patient, "Schedule?actor=Organization/" + hospitalA + "&service-category=primary-care", []string{hospitalA + ".gp"}},
		{s.patient, "Schedule?actor:identifier=urn:careledger:org|" + hospitalB, nil},
	} {
		if got := s.searchIDs(c.who, c.query); !slices.Equal(got, append([]string{}, c.want...)) {
			t.Errorf("GET %s = %v; want %v", c.query, got, c.want)
		}
	}
	for _, c := range []struct {
		who  ed25519.PrivKey
		path string
		want int
	}{
		{s.patient, "Appointment/" + slotOf(gp(later)), http.StatusOK},
		{s.drA, "Appointment/" + slotOf(teeth), http.StatusOK},
		{s.patient, "Appointment/" + slotOf(teeth), http.StatusForbidden},
		{s.drB, "Appointment/" + slotOf(gp(later)), http.StatusForbidden},
		{s.drA, "Appointment/" + slotOf(gp(later+3600)), http.StatusNotFound}, // a free slot is no appointment
		{s.drA, "Appointment?when=now", http.StatusBadRequest},
		{s.drA, "Appointment?date=xx2020", http.StatusBadRequest},
		{s.drA, "Slot?schedule=x&owner=y", http.StatusBadRequest},
	} {
		status, body := s.fhir(c.who, "GET", c.path, nil)
		s.expect("GET "+c.path, status, c.want, body)
	}

	// Ids: the longest schedule id reads under a hashed key.
	ids := s.searchIDs(s.drB, "Schedule?service-category=imaging")
	if len(ids) != 1 || len(ids[0]) > 64 || !strings.HasPrefix(ids[0], "s-") {
		t.Fatalf("the imaging schedule's ids = %v; want one hashed id", ids)
	}
	slots := s.searchIDs(s.drB, "Slot?schedule=Schedule/"+ids[0])
	if len(slots) != 1 || len(slots[0]) > 64 {
		t.Fatalf("the imaging schedule's slots = %v; want one, id at most 64 characters", slots)
	}
	for _, path := range []string{"Schedule/" + ids[0], "Slot/" + slots[0]} {
		status, body := s.fhir(s.drB, "GET", path, nil)
		s.expect("GET "+path, status, http.StatusOK, body)
	}

	// Attended: the appointment is fulfilled.
	time.Sleep(time.Until(time.Unix(soon+1, 0)))
	s.send(s.drA, contract.Encode(schedule.Mark{SlotRef: gp(soon), Outcome: schedule.Attended}))
	if got := s.searchIDs(s.patient, "Appointment?status=fulfilled"); !slices.Equal(got, mine[:1]) {
		t.Errorf("fulfilled appointments = %v; want %v", got, mine[:1])
	}
	status, body := s.fhir(s.patient, "GET", "Appointment/"+url.PathEscape(slotOf(gp(soon))), nil)
	s.expect("read the fulfilled appointment", status, http.StatusOK, body)
	validateView(t, "Appointment", body)
}
