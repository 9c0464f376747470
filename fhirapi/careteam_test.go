package fhirapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/tx"
)

// TestCareTeamResource reads a patient's care team from the chain as a FHIR
// CareTeam, valid against the schema, as the patient and as a member; a
// physician not on it is refused; a grant to the team names it in its
// Consent.
func TestCareTeamResource(t *testing.T) {
	s := newStory(t)
	pa := addr(s.patient)
	s.send(s.patient, contract.Encode(consent.SetTeam{Patient: pa, Members: []tx.Address{addr(s.drB)}, Orgs: []string{hospitalA}}))
	s.send(s.patient, contract.Encode(consent.Grant{
		Patient: pa, Grantee: consent.Grantee{Team: 1}, Scope: consent.Scope{Types: []string{"Observation"}}, Purposes: []string{"TREAT"},
	}))

	status, body := s.fhir(s.drB, "GET", "CareTeam/team-1", nil)
	s.expect("a member reads the team", status, http.StatusOK, body)
	var team struct {
		ID          string `json:"id"`
		Participant []struct {
			Member struct {
				Identifier struct{ System, Value string } `json:"identifier"`
			} `json:"member"`
		} `json:"participant"`
	}
	if err := json.Unmarshal(body, &team); err != nil || team.ID != "team-1" || len(team.Participant) != 2 ||
		team.Participant[0].Member.Identifier.Value != addr(s.drB).String() || team.Participant[1].Member.Identifier.Value != hospitalA {
		t.Errorf("CareTeam/team-1 = %s; want the physician and %s as participants", body, hospitalA)
	}
	validateView(t, "CareTeam", body)
	if status, body := s.fhir(s.patient, "GET", "CareTeam/team-1", nil); status != http.StatusOK {
		t.Errorf("the patient reads their team: %d %.300s", status, body)
	}
	// Hospital A's physician is on the team through the organization; a
	// team of only drB is another matter: after the change, drA is refused.
	s.send(s.patient, contract.Encode(consent.SetTeam{Patient: pa, Team: 1, Members: []tx.Address{addr(s.drB)}}))
	if status, body := s.fhir(s.drA, "GET", "CareTeam/team-1", nil); status != http.StatusForbidden {
		t.Errorf("a physician no longer on the team reads it: %d %.300s; want 403", status, body)
	}
	if status, body := s.fhir(s.drB, "GET", "CareTeam/team-9", nil); status != http.StatusNotFound {
		t.Errorf("an unknown team: %d %.300s; want 404", status, body)
	}
	status, body = s.fhir(s.drB, "GET", "Consent/grant-1", nil)
	if status != http.StatusOK || !strings.Contains(string(body), `"system":"urn:careledger:care-team","value":"1"`) {
		t.Errorf("a member reads the team's grant: %d %.400s; want the care team as actor", status, body)
	}
}
