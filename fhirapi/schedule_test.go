package fhirapi_test

import (
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/schedule"
	"github.com/careledger/careledger/fhir"
)

// TestScheduleViews reads a provider's schedule and its slots on the chain
// as FHIR Schedule and Slot: a free slot, then busy once a patient booked
// it, never saying who.
func TestScheduleViews(t *testing.T) {
	s := newStory(t)
	start := time.Now().Add(3 * time.Hour).Unix()
	s.send(s.n.Admin, contract.Encode(schedule.Publish{Provider: hospitalA, Schedule: "gp", Category: "primary-care"}),
		contract.Encode(schedule.OpenSlots{Provider: hospitalA, Schedule: "gp", Slots: []schedule.SlotSpec{{Start: start, Minutes: 20}}}))

	status, body := s.fhir(s.patient, "GET", "Schedule/"+hospitalA+".gp", nil)
	s.expect("read the schedule", status, http.StatusOK, body)
	var sched struct {
		ID              string
		ServiceCategory []struct{ Coding []struct{ Code string } }
		Actor           []struct{ Identifier struct{ Value string } }
	}
	if json.Unmarshal(body, &sched); sched.ID != hospitalA+".gp" || len(sched.Actor) != 1 || sched.Actor[0].Identifier.Value != hospitalA ||
		len(sched.ServiceCategory) != 1 || sched.ServiceCategory[0].Coding[0].Code != "primary-care" {
		t.Errorf("Schedule = %s; want %s's primary-care schedule gp", body, hospitalA)
	}
	validateView(t, "Schedule", body)
	slot := "Slot/" + hospitalA + ".gp." + strconv.FormatInt(start, 10)
	slotStatus := func() string {
		t.Helper()
		status, body := s.fhir(s.drB, "GET", slot, nil)
		s.expect("read the slot", status, http.StatusOK, body)
		validateView(t, "Slot", body)
		var sl struct {
			Status, Start string
			Schedule      struct{ Reference string }
		}
		if json.Unmarshal(body, &sl); sl.Schedule.Reference != "Schedule/"+hospitalA+".gp" || sl.Start != time.Unix(start, 0).UTC().Format(time.RFC3339) {
			t.Errorf("%s = %s; want its schedule and start", slot, body)
		}
		return sl.Status
	}
	if got := slotStatus(); got != "free" {
		t.Errorf("the open slot's status = %q; want free", got)
	}
	s.send(s.patient, contract.Encode(schedule.Book{Patient: addr(s.patient), SlotRef: schedule.SlotRef{Provider: hospitalA, Schedule: "gp", Start: start}}))
	if got := slotStatus(); got != "busy" {
		t.Errorf("the booked slot's status = %q; want busy", got)
	}
	for _, path := range []string{"Schedule/" + hospitalA + ".none", "Slot/" + hospitalA + ".gp.1", "Slot/" + hospitalA + ".gp.x"} {
		if status, body := s.fhir(s.drB, "GET", path, nil); status != http.StatusNotFound {
			t.Errorf("GET %s = %d %.200s; want 404", path, status, body)
		}
	}
}

// validateView checks a view against the FHIR schema, when it is there.
func validateView(t *testing.T, what string, body []byte) {
	t.Helper()
	path := schemaPath(t)
	if path == "" {
		return
	}
	schema, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := fhir.NewValidator(schema)
	if err != nil {
		t.Fatal(err)
	}
	r, err := fhir.Parse(body)
	if err == nil {
		err = v.Validate(r)
	}
	if err != nil {
		t.Errorf("the %s view does not validate: %v", what, err)
	}
}
