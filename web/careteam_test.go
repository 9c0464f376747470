package web_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/tx"
)

// TestCareTeam: a patient forms a care team of a caregiver and an
// organization from the page, grants it access once, and then takes the
// caregiver off it; the chain holds each step as the page showed it, and
// the caregiver's access to the team ends with it.
func TestCareTeam(t *testing.T) {
	chromiumPath(t)
	n := nodetest.Start(t, node.InitOptions{Org: node.Org{ID: hospital, Name: "Mercy General Hospital", Type: identity.Provider}})
	carer := ed25519.GenPrivKey()
	if _, err := n.Client.Send(t.Context(), carer, contract.Encode(identity.RegisterPatient{})); err != nil {
		t.Fatal(err)
	}
	carerAddr := tx.AddressOf(carer.PubKey().Bytes()).String()
	carerToken := n.Token(t, carer)

	b := newBrowser(t, n.URL)
	alice := b.person("alice")
	me := alice.newPatient("alice")
	alice.click("#new-team summary")
	alice.fill("#new-team input[name=members]", carerAddr)
	alice.fill("#new-team input[name=orgs]", hospital)
	alice.click("#new-team button[type=submit]")
	alice.waitFor("the team listed", `document.querySelector("#team-table table")?.innerText.includes(`+jsString(hospital)+`)`)
	var team consent.Team
	if status := getJSON(t, n.URL+"/v1/teams/1", carerToken, &team); status != http.StatusOK ||
		team.Patient.String() != me || len(team.Members) != 1 || team.Members[0].String() != carerAddr || len(team.Orgs) != 1 {
		t.Fatalf("GET /v1/teams/1 as the caregiver = %d %+v; want alice's team of the caregiver and %s", status, team, hospital)
	}

	// Granted once, to the team.
	alice.click("#grants details summary")
	alice.waitFor("the team offered to the grant form", `document.querySelector("#grant-team option[value='1']")`)
	alice.do("choose the team", chromedp.SetValue(chromedp.CSS("#grant-team"), "1"))
	alice.click("#grants form button[type=submit]")
	alice.waitFor("the grant listed", `document.querySelector("#grant-table")?.innerText.includes("care team 1")`)
	var grants struct{ Grants []consent.StoredGrant }
	if status := getJSON(t, n.URL+"/v1/patients/"+me+"/grants", carerToken, &grants); status != http.StatusOK ||
		len(grants.Grants) != 1 || grants.Grants[0].Grantee.Team != 1 {
		t.Errorf("alice's grants as the caregiver sees them = %d %+v; want the grant to team 1", status, grants)
	}
	alice.checkPage(screens(t), "care-teams")

	// The caregiver leaves the team: from the next block, the team and
	// its grant are no longer theirs to read.
	alice.click("#team-table details summary")
	alice.waitFor("the team's form open", `document.querySelector("#team-table input[name=members]")?.checkVisibility()`)
	eval[bool](alice, "clear the accounts", `(document.querySelector("#team-table input[name=members]").value = "", true)`)
	alice.click("#team-table button[type=submit]")
	alice.waitFor("the team changed", `document.querySelector("#team-table td:nth-child(2)")?.innerText === "none"`)
	if status := getJSON(t, n.URL+"/v1/teams/1", carerToken, &team); status != http.StatusForbidden {
		t.Errorf("GET /v1/teams/1 as the caregiver who left = HTTP %d; want 403", status)
	}
}

// getJSON gets url with a bearer token, decodes a 200 answer into v, and
// returns the status.
func getJSON(t *testing.T, url, token string, v any) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusOK {
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	return res.StatusCode
}
