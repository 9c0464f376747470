package fhirapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/disclosure"
	"github.com/careledger/careledger/fhir"
)

// teamPrefix marks a CareTeam id that names a care team on the chain.
const teamPrefix = "team-"

// readCareTeam serves GET /fhir/CareTeam/{id}: a patient's care team on
// the chain (team-N), or a stored CareTeam. The team is read by the
// patient, a delegate, an auditor or a privacy officer, and whoever is on
// it.
func (s *Server) readCareTeam(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	n, ok := strings.CutPrefix(r.PathValue("id"), teamPrefix)
	if !ok {
		return s.readAs(w, r, who, "CareTeam")
	}
	notFound := fhir.NewError(fhir.ErrNotFound, fhir.Issue{Diagnostics: "no such care team"})
	id, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		return notFound
	}
	t, err := consent.LoadTeam(s.state(), id)
	if err != nil {
		return err
	}
	if t == nil {
		return notFound
	}
	if err := s.patientInScope(r, t.Patient.String(), "CareTeam"); err != nil {
		return err
	}
	if !t.Includes(who) {
		if ok, err := disclosure.MayRead(s.state(), who, t.Patient); err != nil || !ok {
			return orForbidden(err, "only the patient, a delegate, an auditor, a privacy officer or the team reads a care team")
		}
	}
	return writeView(w, careTeamResource(t))
}

// careTeamResource returns team t as a FHIR CareTeam: its subject and
// participants by their ledger identifiers. It has no name: the chain
// keeps none.
func careTeamResource(t *consent.Team) map[string]any {
	var participants []any
	for _, a := range t.Members {
		participants = append(participants, map[string]any{"member": identifierRef("urn:careledger:account", a.String())})
	}
	for _, o := range t.Orgs {
		participants = append(participants, map[string]any{"member": identifierRef("urn:careledger:org", o)})
	}
	status := "active"
	if len(participants) == 0 {
		status = "inactive"
	}
	c := map[string]any{
		"resourceType": "CareTeam",
		"id":           teamPrefix + strconv.FormatUint(t.ID, 10),
		"status":       status,
		"subject":      identifierRef("urn:careledger:account", t.Patient.String()),
	}
	if participants != nil {
		c["participant"] = participants
	}
	return c
}
