package app_test

import (
	"slices"
	"strconv"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/apptest"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/tx"
)

// TestCareTeam: a patient grants their care team once; a member added
// later reads under the grant, a member removed loses access at once, and
// an organization on the team covers its members.
func TestCareTeam(t *testing.T) {
	c := newCareChain(t)
	patient := apptest.Addr(c.patient)
	setTeam := func(by ed25519.PrivKey, team uint64, orgs []string, members ...ed25519.PrivKey) app.TxResult {
		m := consent.SetTeam{Patient: patient, Team: team, Orgs: orgs}
		for _, k := range members {
			m.Members = append(m.Members, apptest.Addr(k))
		}
		return c.send(t, by, contract.Encode(m))
	}

	r := setTeam(c.patient, 0, nil, c.drB)
	team := teamOf(t, r)
	if team != 1 {
		t.Fatalf("first team numbered %d; want 1", team)
	}
	c.send(t, c.patient, contract.Encode(consent.Grant{
		Patient: patient, Grantee: consent.Grantee{Team: team},
		Scope: consent.Scope{Types: []string{"Observation"}}, Purposes: []string{"TREAT"},
	}))
	requireVerdicts(t, "a member of the team", c.decide(t, c.drB, "TREAT", false, lab), "permit/grant")
	requireVerdicts(t, "not yet on the team", c.decide(t, c.drB2, "TREAT", false, lab), "deny/none")
	requireVerdicts(t, "on the team, another purpose", c.decide(t, c.drB, "HPAYMT", false, lab), "deny/none")

	// The caregiver (a delegate) adds drB2 and removes drB: the grant
	// covers the new member at once, and no longer the old one, who hears
	// of the change.
	r = setTeam(c.caregiver, team, nil, c.drB2)
	if !slices.Contains(r.Events[0].Accounts, apptest.Addr(c.drB)) || r.Events[0].Attr("removed") != apptest.Addr(c.drB).String() {
		t.Errorf("team change event %+v; want the removed member named and notified", r.Events[0])
	}
	requireVerdicts(t, "added later", c.decide(t, c.drB2, "TREAT", false, lab), "permit/grant")
	requireVerdicts(t, "removed", c.decide(t, c.drB, "TREAT", false, lab), "deny/none")

	// An organization on the team: each of its members is covered.
	setTeam(c.patient, team, []string{apptest.OrgB})
	requireVerdicts(t, "member of an organization on the team", c.decide(t, c.drB, "TREAT", false, lab), "permit/grant")

	// Emptied, the team permits no one.
	setTeam(c.patient, team, nil)
	requireVerdicts(t, "emptied team", c.decide(t, c.drB2, "TREAT", false, lab), "deny/none")
}

func TestCareTeamRejections(t *testing.T) {
	c := newCareChain(t)
	patient := apptest.Addr(c.patient)
	r := c.send(t, c.patient, contract.Encode(consent.SetTeam{Patient: patient, Members: []tx.Address{apptest.Addr(c.drB)}}))
	team := teamOf(t, r)
	other := apptest.Addr(c.stranger)
	for _, tc := range []struct {
		name string
		by   ed25519.PrivKey
		msg  tx.Msg
		code tx.Code
	}{
		{"a team formed by a physician", c.drA, contract.Encode(consent.SetTeam{Patient: patient}), tx.CodeUnauthorized},
		{"another patient's team changed", c.stranger, contract.Encode(consent.SetTeam{Patient: other, Team: team}), tx.CodeNotFound},
		{"an unknown team", c.patient, contract.Encode(consent.SetTeam{Patient: patient, Team: 99}), tx.CodeNotFound},
		{"an unknown member", c.patient, contract.Encode(consent.SetTeam{Patient: patient, Members: []tx.Address{{7}}}), tx.CodeNotFound},
		{"an unknown organization", c.patient, contract.Encode(consent.SetTeam{Patient: patient, Orgs: []string{"no-such-org"}}), tx.CodeNotFound},
		{"a member named twice", c.patient, contract.Encode(consent.SetTeam{Patient: patient, Members: []tx.Address{apptest.Addr(c.drB), apptest.Addr(c.drB)}}), tx.CodeInvalid},
		{"the patient on their own team", c.patient, contract.Encode(consent.SetTeam{Patient: patient, Members: []tx.Address{patient}}), tx.CodeInvalid},
		{"a grant to another patient's team", c.stranger, contract.Encode(consent.Grant{
			Patient: other, Grantee: consent.Grantee{Team: team}, Scope: consent.Scope{Types: []string{"*"}}, Purposes: []string{"TREAT"},
		}), tx.CodeNotFound},
		{"a grantee both member and team", c.patient, contract.Encode(consent.Grant{
			Patient: patient, Grantee: consent.Grantee{Team: team, Member: apptest.Addr(c.drB)}, Scope: consent.Scope{Types: []string{"*"}}, Purposes: []string{"TREAT"},
		}), tx.CodeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := c.try(t, tc.by, tc.msg); r.Code != tc.code {
				t.Fatalf("code %v (%s); want %v", r.Code, r.Log, tc.code)
			}
		})
	}
	// A patient forms at most MaxTeamsPerPatient teams.
	for range consent.MaxTeamsPerPatient - 1 {
		c.send(t, c.patient, contract.Encode(consent.SetTeam{Patient: patient}))
	}
	if r := c.try(t, c.patient, contract.Encode(consent.SetTeam{Patient: patient})); r.Code != tx.CodeInvalid {
		t.Errorf("team %d of one patient: code %v; want invalid", consent.MaxTeamsPerPatient+1, r.Code)
	}
	if ids, err := consent.PatientTeams(c.app.State(), patient); err != nil || len(ids) != consent.MaxTeamsPerPatient || ids[0] != team {
		t.Errorf("the patient's teams = %v, %v; want %d, team %d first", ids, err, consent.MaxTeamsPerPatient, team)
	}
	got, err := consent.LoadTeam(c.app.State(), team)
	if err != nil || got == nil || !slices.Equal(got.Members, []tx.Address{apptest.Addr(c.drB)}) {
		t.Errorf("team after the refusals = %+v, %v; want unchanged", got, err)
	}
}

// teamOf returns the team a consent.team event of r names.
func teamOf(t *testing.T, r app.TxResult) uint64 {
	t.Helper()
	for _, e := range r.Events {
		if e.Type == consent.EventTeam {
			id, err := strconv.ParseUint(e.Attr("team"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
	}
	t.Fatalf("no %s event in %+v", consent.EventTeam, r.Events)
	return 0
}
