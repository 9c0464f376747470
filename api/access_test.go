package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/api"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/tx"
)

// notRefused, as a wanted status, is any answer but 401 and 403: a chain-wide
// view may answer 404 for what this node does not hold.
const notRefused = -1

// TestAccess walks every route of the route table against a real node:
// without a token, each route but the open ones answers 401; with another
// patient's token, each route that concerns a patient answers no data; and
// the patient and an auditor get what they should. A route added to the
// table without a case here fails.
func TestAccess(t *testing.T) {
	n := nodetest.Start(t, node.InitOptions{})
	ctx := t.Context()
	c := n.Client

	patientKey, otherKey, delegateKey := ed25519.GenPrivKey(), ed25519.GenPrivKey(), ed25519.GenPrivKey()
	reg, err := c.Send(ctx, patientKey, contract.Encode(identity.RegisterPatient{}))
	if err != nil {
		t.Fatalf("register patient: %v", err)
	}
	for _, k := range []ed25519.PrivKey{otherKey, delegateKey} {
		if _, err := c.Send(ctx, k, contract.Encode(identity.RegisterPatient{})); err != nil {
			t.Fatalf("register other patient: %v", err)
		}
	}
	if _, err := c.Send(ctx, patientKey, contract.Encode(identity.SetDelegate{
		Delegate: tx.AddressOf(delegateKey.PubKey().Bytes()), Relation: identity.Caregiver,
	})); err != nil {
		t.Fatalf("set delegate: %v", err)
	}
	auditorKey := newMember(t, n, identity.Auditor)
	physicianKey := newMember(t, n, identity.Physician)
	p := tx.AddressOf(patientKey.PubKey().Bytes())
	scope := consent.Scope{Types: []string{"Observation"}}
	if _, err := c.Send(ctx, patientKey, contract.Encode(consent.Grant{
		Patient: p, Grantee: consent.Grantee{Org: "local", Role: identity.Physician}, Scope: scope, Purposes: []string{"TREAT"},
	})); err != nil {
		t.Fatalf("grant: %v", err)
	}
	if _, err := c.Send(ctx, patientKey, contract.Encode(consent.SetTeam{
		Patient: p, Members: []tx.Address{tx.AddressOf(physicianKey.PubKey().Bytes())},
	})); err != nil {
		t.Fatalf("form a care team: %v", err)
	}
	if _, err := c.Send(ctx, physicianKey, contract.Encode(consent.Request{
		Patient: p, Scope: scope, Purpose: "TREAT", Duration: 3600, Reason: "referral",
	})); err != nil {
		t.Fatalf("request access: %v", err)
	}
	nodetest.WaitHeight(t, c, reg.Height+3) // a certified checkpoint holds them

	self, other, auditor := n.Token(t, patientKey), n.Token(t, otherKey), n.Token(t, auditorKey)
	delegate := n.Token(t, delegateKey)
	scoped, err := c.ScopedToken(ctx, patientKey, "patient/*.rs")
	if err != nil {
		t.Fatalf("scoped token: %v", err)
	}
	pa, pub := p.String(), tx.PubKey(patientKey.PubKey().Bytes()).String()
	zero64 := strings.Repeat("0", 64)

	// Each route: a URL about the patient, and what the patient (and so
	// their delegate, another patient) and an auditor get (0: not checked,
	// for submissions and logins).
	cases := map[string]struct {
		url           string
		self, auditor int
	}{
		"GET /healthz":                                  {"/healthz", 200, 200},
		"GET /v1/openapi.json":                          {"/v1/openapi.json", 200, 200},
		"GET /v1/status":                                {"/v1/status", 200, 200},
		"POST /v1/txs":                                  {"/v1/txs", 0, 0},
		"POST /v1/txs/batch":                            {"/v1/txs/batch", 0, 0},
		"GET /v1/txs/{hash}":                            {"/v1/txs/" + reg.Hash.String(), 200, 200},
		"GET /v1/accounts/{address}":                    {"/v1/accounts/" + pa, 200, 200},
		"GET /v1/accounts/{address}/txs":                {"/v1/accounts/" + pa + "/txs", 200, 200},
		"GET /v1/keys/{pubkey}":                         {"/v1/keys/" + pub, 200, 200},
		"GET /v1/orgs":                                  {"/v1/orgs", 200, 200},
		"GET /v1/orgs/{id}":                             {"/v1/orgs/local", 200, 200},
		"GET /v1/orgs/{id}/members":                     {"/v1/orgs/local/members", 403, 200},
		"GET /v1/orgs/{id}/reviews":                     {"/v1/orgs/local/reviews", 403, 200},
		"GET /v1/ledger/{id}":                           {"/v1/ledger/local", 403, 200},
		"GET /v1/ledger/{id}/history":                   {"/v1/ledger/local/history", 403, 200},
		"GET /v1/claims/{claim}":                        {"/v1/claims/" + zero64, notRefused, notRefused},
		"GET /v1/orgs/{id}/claims":                      {"/v1/orgs/local/claims", 403, 200},
		"GET /v1/orgs/{id}/policies":                    {"/v1/orgs/local/policies", 200, 200},
		"GET /v1/patients/{address}/grants":             {"/v1/patients/" + pa + "/grants", 200, 200},
		"GET /v1/patients/{address}/delegates":          {"/v1/patients/" + pa + "/delegates", 200, 200},
		"GET /v1/patients/{address}/teams":              {"/v1/patients/" + pa + "/teams", 200, 200},
		"GET /v1/patients/{address}/recovery":           {"/v1/patients/" + pa + "/recovery", 200, 200},
		"GET /v1/patients/{address}/balance":            {"/v1/patients/" + pa + "/balance", 200, 200},
		"GET /v1/schedules/{provider}/{schedule}/slots": {"/v1/schedules/local/gp/slots", notRefused, notRefused},
		"GET /v1/programs/{id}":                         {"/v1/programs/none", notRefused, notRefused},
		"GET /v1/programs":                              {"/v1/programs", 200, 200},
		"GET /v1/orgs/{id}/schedules":                   {"/v1/orgs/local/schedules", 200, 200},
		"GET /v1/programs/{id}/patients/{address}":      {"/v1/programs/none/patients/" + pa, notRefused, notRefused},
		"GET /v1/trials/{id}":                           {"/v1/trials/NCT1", notRefused, notRefused},
		"GET /v1/trials/{id}/datasets/{name}":           {"/v1/trials/NCT1/datasets/visit-1", notRefused, notRefused},
		"GET /v1/trials/{id}/report":                    {"/v1/trials/NCT1/report", notRefused, notRefused},
		"GET /v1/trials/{id}/recruitment":               {"/v1/trials/NCT1/recruitment", notRefused, notRefused},
		"POST /v1/trials/{id}/recruit":                  {"/v1/trials/NCT1/recruit", 403, 403},
		"GET /v1/patients/{address}/invitations":        {"/v1/patients/" + pa + "/invitations", 200, 403},
		"GET /v1/grants/{id}":                           {"/v1/grants/1", 200, 200},
		"GET /v1/teams/{id}":                            {"/v1/teams/1", 200, 200},
		"GET /v1/anchors/{root}":                        {"/v1/anchors/" + zero64, notRefused, notRefused},
		"GET /v1/proposals/{id}":                        {"/v1/proposals/1", notRefused, notRefused},
		"GET /v1/validators":                            {"/v1/validators", 200, 200},
		"GET /v1/audit/checkpoints/{height}":            {"/v1/audit/checkpoints/1", 200, 200},
		"GET /v1/audit/events":                          {"/v1/audit/events?account=" + pa, 200, 200},
		"GET /v1/audit/events/{index}":                  {"/v1/audit/events/0", 200, 200},
		"GET /v1/audit/proofs/inclusion":                {"/v1/audit/proofs/inclusion?index=0&size=1", 200, 200},
		"GET /v1/audit/proofs/consistency":              {"/v1/audit/proofs/consistency?from=1&to=2", 200, 200},
		"GET /v1/audit/bundles/{index}":                 {"/v1/audit/bundles/0", 200, 200},
		"GET /v1/audit/disclosures/{address}":           {"/v1/audit/disclosures/" + pa, 200, 200},
		"GET /v1/requests/{id}":                         {"/v1/requests/1", 200, 200},
		"GET /v1/blocks/{height}":                       {"/v1/blocks/1", 200, 200},
		"GET /v1/events":                                {"/v1/events?account=" + pa, 200, 200},
		"POST /v1/auth/challenge":                       {"/v1/auth/challenge", 0, 0},
		"POST /v1/auth/token":                           {"/v1/auth/token", 0, 0},
		"GET /v1/auth/whoami":                           {"/v1/auth/whoami", 200, 200},
		"GET /.well-known/smart-configuration":          {"/.well-known/smart-configuration", 200, 200},
	}
	for _, rt := range n.API().Routes() {
		t.Run(rt.Pattern, func(t *testing.T) {
			tc, ok := cases[rt.Pattern]
			if !ok {
				t.Fatalf("route %s (access %s) has no case in TestAccess", rt.Pattern, rt.Access)
			}
			method, _, _ := strings.Cut(rt.Pattern, " ")
			url := n.URL + tc.url
			if !rt.Open {
				if got := statusOf(t, method, url, ""); got != http.StatusUnauthorized {
					t.Errorf("%s %s without a token = HTTP %d; want 401", method, tc.url, got)
				}
			}
			// Another patient reads nothing that concerns this one; only
			// chain-wide views answer it.
			if got := statusOf(t, method, url, other); rt.Access != api.MemberAccess && !rt.Open && got < 300 {
				t.Errorf("%s %s with another patient's token (access %s) = HTTP %d; want a refusal", method, tc.url, rt.Access, got)
			}
			// A token limited by SMART scopes (patient/*.rs) reads the
			// chain-wide views and no route whose rule concerns a patient.
			if got := statusOf(t, method, url, scoped.Token); !rt.Open && rt.Access != api.MemberAccess && got != http.StatusForbidden {
				t.Errorf("%s %s with the patient's patient/*.rs token = HTTP %d; want 403", method, tc.url, got)
			} else if rt.Access == api.MemberAccess && (got == 401 || got == 403) {
				t.Errorf("%s %s with the patient's patient/*.rs token = HTTP %d; want not refused", method, tc.url, got)
			}
			for _, who := range []struct {
				name, token string
				want        int
			}{{"the patient", self, tc.self}, {"the patient's delegate", delegate, tc.self}, {"an auditor", auditor, tc.auditor}} {
				got := statusOf(t, method, url, who.token)
				switch {
				case who.want == 0:
				case who.want == notRefused && (got == 401 || got == 403):
					t.Errorf("%s %s as %s = HTTP %d; want not refused", method, tc.url, who.name, got)
				case who.want > 0 && got != who.want:
					t.Errorf("%s %s as %s = HTTP %d; want %d", method, tc.url, who.name, got, who.want)
				}
			}
		})
	}
}

// TestAccessGrants checks that a member sees a patient's grants that name
// its organization, and nothing of a patient whose grants do not.
func TestAccessGrants(t *testing.T) {
	n := nodetest.Start(t, node.InitOptions{})
	ctx := t.Context()
	c := n.Client
	granted, ungranted := ed25519.GenPrivKey(), ed25519.GenPrivKey()
	for _, k := range []ed25519.PrivKey{granted, ungranted} {
		if _, err := c.Send(ctx, k, contract.Encode(identity.RegisterPatient{})); err != nil {
			t.Fatalf("register patient: %v", err)
		}
	}
	pg, pu := tx.AddressOf(granted.PubKey().Bytes()), tx.AddressOf(ungranted.PubKey().Bytes())
	if _, err := c.Send(ctx, granted, contract.Encode(consent.Grant{
		Patient: pg, Grantee: consent.Grantee{Org: "local"}, Scope: consent.Scope{Types: []string{"*"}}, Purposes: []string{"TREAT"},
	})); err != nil {
		t.Fatalf("grant: %v", err)
	}
	physician := n.Token(t, newMember(t, n, identity.Physician))
	gs, err := c.Grants(ctx, physician, pg)
	if err != nil || len(gs) != 1 || gs[0].Grantee.Org != "local" {
		t.Errorf("Grants(physician of local, patient who granted local) = %+v, %v; want its one grant", gs, err)
	}
	gs, err = c.Grants(ctx, physician, pu)
	if !refused(err) {
		t.Errorf("Grants(physician of local, patient who granted nothing) = %+v, %v; want unauthorized", gs, err)
	}
}

// refused reports whether err is the answer 403 unauthorized.
func refused(err error) bool {
	code, ok := tx.CodeOf(err)
	return ok && code == tx.CodeUnauthorized
}

// statusOf sends a bodiless request with token ("" for none) and returns
// the answer's status, without reading a streamed body to its end.
func statusOf(t *testing.T, method, url, token string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	res.Body.Close()
	return res.StatusCode
}
