package fhirapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/schedule"
	"github.com/careledger/careledger/fhir"
)

// A provider's schedule on the chain reads as Schedule/PROVIDER.SCHEDULE,
// and its slot starting at Unix second T as Slot/PROVIDER.SCHEDULE.T
// (organization IDs hold no '.'). Other ids are resources stored here.
// Any signed-in account reads them, as GET /v1/schedules/.../slots: a
// Slot says free or busy, never who booked it.

const careledgerCategory = "urn:careledger:service-category"

// readSchedule serves GET /fhir/Schedule/{id}.
func (s *Server) readSchedule(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	provider, id, ok := strings.Cut(r.PathValue("id"), ".")
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
	return writeView(w, map[string]any{
		"resourceType":    "Schedule",
		"id":              provider + "." + id,
		"active":          true,
		"serviceCategory": []any{map[string]any{"coding": []any{map[string]any{"system": careledgerCategory, "code": sc.Category}}}},
		"serviceType":     []any{map[string]any{"text": map[bool]string{true: "virtual", false: "in person"}[sc.Virtual]}},
		"actor":           []any{identifierRef("urn:careledger:org", provider)},
	})
}

// readSlot serves GET /fhir/Slot/{id}.
func (s *Server) readSlot(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	id := r.PathValue("id")
	provider, rest, ok := strings.Cut(id, ".")
	i := strings.LastIndexByte(rest, '.')
	if !ok || i < 0 {
		return s.readAs(w, r, who, "Slot")
	}
	notFound := fhir.NewError(fhir.ErrNotFound, fhir.Issue{Diagnostics: "no such slot"})
	start, err := strconv.ParseInt(rest[i+1:], 10, 64)
	if err != nil {
		return notFound
	}
	sl, err := schedule.LoadSlot(s.state(), schedule.SlotRef{Provider: provider, Schedule: rest[:i], Start: start})
	if err != nil {
		return err
	}
	if sl == nil {
		return notFound
	}
	status := "busy"
	if sl.State == schedule.Free {
		status = "free"
	}
	begin := time.Unix(start, 0).UTC()
	return writeView(w, map[string]any{
		"resourceType": "Slot",
		"id":           id,
		"schedule":     map[string]any{"reference": "Schedule/" + provider + "." + rest[:i]},
		"status":       status,
		"start":        begin.Format(time.RFC3339),
		"end":          begin.Add(time.Duration(sl.Minutes) * time.Minute).Format(time.RFC3339),
	})
}

// writeView answers a resource built from the chain's state.
func writeView(w http.ResponseWriter, v map[string]any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	res, err := fhir.Parse(b)
	if err != nil {
		return err
	}
	writeResource(w, http.StatusOK, res)
	return nil
}
