package app_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/careledger/careledger/apptest"
	"github.com/careledger/careledger/contract"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/records"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/tx"
)

// careChain is a chain with a custodian (apptest.OrgA) whose node key is svc, its
// physician drA, nurse nurseA and privacy officer, a physician drB of
// another organization (apptest.OrgB), and a patient with a caregiver delegate.
type careChain struct {
	app                                  *app.App
	rec                                  *recorder
	svc, drA, nurseA, privacy, drB, drB2 ed25519.PrivKey
	patient, caregiver, stranger         ed25519.PrivKey
}

func newCareChain(t testing.TB) *careChain {
	t.Helper()
	a, rec := newRecordedChain(t)
	c := &careChain{app: a, rec: rec,
		svc: apptest.Key("svc-a"), drA: apptest.Key("dr-a"), nurseA: apptest.Key("nurse-a"), privacy: apptest.Key("privacy-a"),
		drB: apptest.Key("dr-b"), drB2: apptest.Key("dr-b2"),
		patient: apptest.Key("patient"), caregiver: apptest.Key("caregiver"), stranger: apptest.Key("stranger"),
	}
	member := func(org string, k ed25519.PrivKey, r identity.Role) tx.Msg {
		return contract.Encode(identity.RegisterMember{Org: org, PubKey: apptest.Pub(k), Roles: []identity.Role{r}})
	}
	c.send(t, apptest.Key("admin-a"),
		member(apptest.OrgA, c.svc, identity.Service), member(apptest.OrgA, c.drA, identity.Physician),
		member(apptest.OrgA, c.nurseA, identity.Nurse), member(apptest.OrgA, c.privacy, identity.PrivacyOfficer))
	c.send(t, apptest.Key("admin-b"), member(apptest.OrgB, c.drB, identity.Physician), member(apptest.OrgB, c.drB2, identity.Physician))
	for _, k := range []ed25519.PrivKey{c.patient, c.caregiver, c.stranger} {
		c.send(t, k, contract.Encode(identity.RegisterPatient{}))
	}
	c.send(t, c.patient, contract.Encode(identity.SetDelegate{Delegate: apptest.Addr(c.caregiver), Relation: identity.Caregiver}))
	return c
}

// try delivers one transaction of key in its own block and returns its
// result.
func (c *careChain) try(t testing.TB, key ed25519.PrivKey, msgs ...tx.Msg) app.TxResult {
	t.Helper()
	apptest.Deliver(t, c.app, apptest.SignTx(t, apptest.ChainID, key, apptest.Sequence(t, c.app, apptest.Addr(key)), msgs...))
	return c.rec.last(t)
}

// send is try requiring success.
func (c *careChain) send(t testing.TB, key ed25519.PrivKey, msgs ...tx.Msg) app.TxResult {
	t.Helper()
	r := c.try(t, key, msgs...)
	if r.Code != tx.CodeOK {
		t.Fatalf("%v: code %v (%s); want ok", r.Msgs, r.Code, r.Log)
	}
	return r
}

// decide records an access by requester through the custodian's node and
// returns the committed decisions.
func (c *careChain) decide(t *testing.T, requester ed25519.PrivKey, purpose string, breakGlass bool, items ...consent.Item) []consent.Decision {
	t.Helper()
	m := consent.Access{Requester: apptest.Addr(requester), Patient: apptest.Addr(c.patient), Purpose: purpose, BreakGlass: breakGlass, Items: items}
	if breakGlass {
		m.GlassReason = "unconscious"
	}
	r := c.send(t, c.svc, contract.Encode(m))
	_, ds, err := consent.ParseDecisions(r.Events)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

var (
	lab     = consent.Item{Type: "Observation", ID: "obs-1", Categories: []string{"laboratory"}}
	vitals  = consent.Item{Type: "Observation", ID: "obs-2", Categories: []string{"vital-signs"}}
	obsScan = consent.Item{Type: "Observation"}
	note    = consent.Item{Type: "DocumentReference", ID: "doc-1"}
)

func verdict(d consent.Decision) string {
	if d.Permit {
		return "permit/" + string(d.Basis)
	}
	return "deny/" + string(d.Basis)
}

func requireVerdicts(t *testing.T, what string, ds []consent.Decision, want ...string) {
	t.Helper()
	got := make([]string, len(ds))
	for i, d := range ds {
		got[i] = verdict(d)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: decisions %v; want %v", what, got, want)
	}
}

func TestAccessDecisions(t *testing.T) {
	c := newCareChain(t)
	requireVerdicts(t, "custodian's physician, TREAT", c.decide(t, c.drA, "TREAT", false, lab, obsScan), "permit/policy", "permit/policy")
	requireVerdicts(t, "custodian's nurse, HPAYMT", c.decide(t, c.nurseA, "HPAYMT", false, lab), "deny/none")
	requireVerdicts(t, "patient reads own", c.decide(t, c.patient, "PATRQT", false, lab), "permit/policy")
	requireVerdicts(t, "other organization, no grant", c.decide(t, c.drB, "TREAT", false, lab, obsScan), "deny/none", "deny/none")

	// The caregiver grants apptest.OrgB's physicians the laboratory results, for
	// treatment, until two blocks from now.
	h := apptest.Height(t, c.app)
	r := c.send(t, c.caregiver, contract.Encode(consent.Grant{
		Patient: apptest.Addr(c.patient), Grantee: consent.Grantee{Org: apptest.OrgB, Role: identity.Physician},
		Scope: consent.Scope{Types: []string{"Observation"}, Categories: []string{"laboratory"}}, Purposes: []string{"TREAT"},
		NotAfter: apptest.BlockTime(h + 4).Unix(),
	}))
	if r.Events[0].Type != "consent.granted" {
		t.Fatalf("grant events = %v; want consent.granted first", r.Events)
	}
	ds := c.decide(t, c.drB, "TREAT", false, lab, vitals, obsScan, note)
	requireVerdicts(t, "laboratory grant", ds, "permit/grant", "deny/none", "permit/grant", "deny/none")
	if got := ds[2].Categories; !reflect.DeepEqual(got, []string{"laboratory"}) || !ds[2].Partial() {
		t.Errorf("search under a category grant: categories %v; want [laboratory], partial", got)
	}
	requireVerdicts(t, "wrong purpose", c.decide(t, c.drB, "HPAYMT", false, lab), "deny/none")
	// Block h+4's time is past the grant's end: denied in block time.
	requireVerdicts(t, "expired grant", c.decide(t, c.drB, "TREAT", false, lab), "deny/none")

	// Break the glass: a physician in an emergency is permitted, flagged,
	// and queued for the custodian's privacy officer.
	r = c.send(t, c.svc, contract.Encode(consent.Access{Requester: apptest.Addr(c.drB), Patient: apptest.Addr(c.patient), Purpose: "ETREAT", BreakGlass: true, GlassReason: "life_threatening", Items: []consent.Item{note}}))
	access, ds, err := consent.ParseDecisions(r.Events)
	if err != nil {
		t.Fatal(err)
	}
	requireVerdicts(t, "break the glass", ds, "permit/break_glass")
	if last := r.Events[len(r.Events)-1]; last.Type != "consent.break_glass" || !slicesContain(last.Accounts, apptest.Addr(c.patient)) || last.Attr("glass_reason") != "life_threatening" {
		t.Errorf("break-the-glass events end with %+v; want consent.break_glass notifying the patient, reason life_threatening", last)
	}
	if a, ok := consent.AccessOf(r.Events[0]); !ok || !a.BreakGlass || a.GlassReason != "life_threatening" {
		t.Errorf("AccessOf(%+v) = %+v, %v; want a break-the-glass access for life_threatening", r.Events[0], a, ok)
	}
	requireVerdicts(t, "nurse cannot break the glass", c.decide(t, c.nurseA, "ETREAT", true, note), "deny/none")
	if got := c.try(t, c.drA, contract.Encode(consent.Review{Access: access, Justified: true})); got.Code != tx.CodeUnauthorized {
		t.Errorf("review by a physician: code %v; want unauthorized", got.Code)
	}
	c.send(t, c.privacy, contract.Encode(consent.Review{Access: access, Justified: true}))
	if got := c.try(t, c.privacy, contract.Encode(consent.Review{Access: access, Justified: true})); got.Code != tx.CodeNotFound {
		t.Errorf("second review: code %v; want not_found", got.Code)
	}

	// Erasure: no one reads an erased record again, not even by policy.
	c.send(t, c.patient, contract.Encode(records.Erase{Custodian: apptest.OrgA, Patient: apptest.Addr(c.patient), Record: "Observation/obs-1"}))
	requireVerdicts(t, "erased record", c.decide(t, c.drA, "TREAT", false, lab, vitals), "deny/erased", "permit/policy")
	// The custodian's privacy officer erases by policy; a physician may not.
	if r := c.try(t, c.drA, contract.Encode(records.Erase{Custodian: apptest.OrgA, Patient: apptest.Addr(c.patient), Record: "Observation/obs-2"})); r.Code != tx.CodeUnauthorized {
		t.Errorf("erasure by a physician: code %v; want unauthorized", r.Code)
	}
	c.send(t, c.privacy, contract.Encode(records.Erase{Custodian: apptest.OrgA, Patient: apptest.Addr(c.patient), Record: "Observation/obs-2"}))
	requireVerdicts(t, "erased by the privacy officer", c.decide(t, c.drA, "TREAT", false, vitals), "deny/erased")
}

func slicesContain(as []tx.Address, a tx.Address) bool {
	for _, x := range as {
		if x == a {
			return true
		}
	}
	return false
}

func TestAccessRequest(t *testing.T) {
	c := newCareChain(t)
	r := c.send(t, c.drB, contract.Encode(consent.Request{
		Patient: apptest.Addr(c.patient), Scope: consent.Scope{Types: []string{"*"}}, Purpose: "TREAT", Duration: 30 * 24 * 3600, Reason: "referral",
	}))
	if !slicesContain(r.Events[0].Accounts, apptest.Addr(c.patient)) {
		t.Fatalf("request event %+v does not notify the patient", r.Events[0])
	}
	q, err := consent.LoadRequest(c.app.State(), 1)
	if err != nil || q == nil || q.Status != consent.Pending || q.Requester != apptest.Addr(c.drB) {
		t.Fatalf("LoadRequest(1) = %+v, %v; want pending from dr-b", q, err)
	}
	if got := c.try(t, c.stranger, contract.Encode(consent.Answer{Request: 1, Approve: true})); got.Code != tx.CodeUnauthorized {
		t.Fatalf("answer by another patient: code %v; want unauthorized", got.Code)
	}
	r = c.send(t, c.patient, contract.Encode(consent.Answer{Request: 1, Approve: true}))
	if last := r.Events[len(r.Events)-1]; last.Type != "consent.answered" || !slicesContain(last.Accounts, apptest.Addr(c.drB)) {
		t.Errorf("answer events end with %+v; want consent.answered notifying the requester", last)
	}
	q, _ = consent.LoadRequest(c.app.State(), 1)
	g, err := consent.LoadGrant(c.app.State(), q.Grant)
	if q.Status != consent.Approved || err != nil || g == nil || g.Grantee.Member != apptest.Addr(c.drB) || g.NotAfter-g.NotBefore != 30*24*3600 {
		t.Fatalf("after approval: request %+v, grant %+v, %v; want approved with a 30-day grant to dr-b", q, g, err)
	}
	requireVerdicts(t, "approved requester", c.decide(t, c.drB, "TREAT", false, lab, obsScan), "permit/grant", "permit/grant")
	requireVerdicts(t, "the requester's colleague", c.decide(t, c.drB2, "TREAT", false, lab), "deny/none")
	if got := c.try(t, c.patient, contract.Encode(consent.Answer{Request: 1, Approve: false})); got.Code != tx.CodeAlreadyExists {
		t.Errorf("second answer: code %v; want already_exists", got.Code)
	}
	c.send(t, c.patient, contract.Encode(consent.Revoke{Grant: g.ID}))
	requireVerdicts(t, "revoked grant", c.decide(t, c.drB, "TREAT", false, lab), "deny/none")

	// A denial creates no grant.
	c.send(t, c.drB2, contract.Encode(consent.Request{Patient: apptest.Addr(c.patient), Scope: consent.Scope{Types: []string{"Condition"}}, Purpose: "TREAT", Duration: 60, Reason: "second_opinion"}))
	c.send(t, c.caregiver, contract.Encode(consent.Answer{Request: 2, Approve: false}))
	if q, _ := consent.LoadRequest(c.app.State(), 2); q.Status != consent.Denied || q.Grant != 0 {
		t.Errorf("after denial: request %+v; want denied without grant", q)
	}
}

// TestConsentRejections sends one bad consent or records message per case
// and requires its code and a state unchanged but for the signer's
// sequence.
func TestConsentRejections(t *testing.T) {
	grant := func(p tx.Address, cond string) consent.Grant {
		return consent.Grant{Patient: p, Grantee: consent.Grantee{Org: apptest.OrgB}, Scope: consent.Scope{Types: []string{"*"}}, Purposes: []string{"TREAT"}, Condition: cond}
	}
	costly := `categories.all(a, categories.all(b, categories.all(c, a + b + c != "")))`
	for _, tc := range []struct {
		name string
		who  func(c *careChain) ed25519.PrivKey
		msg  func(c *careChain) tx.Msg
		code tx.Code
	}{
		{"grant signed by another patient", func(c *careChain) ed25519.PrivKey { return c.stranger },
			func(c *careChain) tx.Msg { return contract.Encode(grant(apptest.Addr(c.patient), "")) }, tx.CodeUnauthorized},
		{"grant signed by a physician", func(c *careChain) ed25519.PrivKey { return c.drA },
			func(c *careChain) tx.Msg { return contract.Encode(grant(apptest.Addr(c.patient), "")) }, tx.CodeUnauthorized},
		{"condition over the cost limit", func(c *careChain) ed25519.PrivKey { return c.patient },
			func(c *careChain) tx.Msg { return contract.Encode(grant(apptest.Addr(c.patient), costly)) }, tx.CodeInvalid},
		{"condition that does not compile", func(c *careChain) ed25519.PrivKey { return c.patient },
			func(c *careChain) tx.Msg { return contract.Encode(grant(apptest.Addr(c.patient), "purpose ==")) }, tx.CodeInvalid},
		{"grant to an unknown organization", func(c *careChain) ed25519.PrivKey { return c.patient },
			func(c *careChain) tx.Msg {
				g := grant(apptest.Addr(c.patient), "")
				g.Grantee.Org = "no-such-org"
				return contract.Encode(g)
			}, tx.CodeNotFound},
		{"unknown purpose", func(c *careChain) ed25519.PrivKey { return c.patient },
			func(c *careChain) tx.Msg {
				g := grant(apptest.Addr(c.patient), "")
				g.Purposes = []string{"CURIOSITY"}
				return contract.Encode(g)
			}, tx.CodeInvalid},
		{"revoke an unknown grant", func(c *careChain) ed25519.PrivKey { return c.patient },
			func(c *careChain) tx.Msg { return contract.Encode(consent.Revoke{Grant: 99}) }, tx.CodeNotFound},
		{"access recorded by a physician", func(c *careChain) ed25519.PrivKey { return c.drA },
			func(c *careChain) tx.Msg {
				return contract.Encode(consent.Access{Requester: apptest.Addr(c.drA), Patient: apptest.Addr(c.patient), Purpose: "TREAT", Items: []consent.Item{lab}})
			}, tx.CodeUnauthorized},
		{"access for an unknown requester", func(c *careChain) ed25519.PrivKey { return c.svc },
			func(c *careChain) tx.Msg {
				return contract.Encode(consent.Access{Requester: apptest.Addr(apptest.Key("nobody")), Patient: apptest.Addr(c.patient), Purpose: "TREAT", Items: []consent.Item{lab}})
			}, tx.CodeNotFound},
		{"break the glass without a reason", func(c *careChain) ed25519.PrivKey { return c.svc },
			func(c *careChain) tx.Msg {
				return contract.Encode(consent.Access{Requester: apptest.Addr(c.drB), Patient: apptest.Addr(c.patient), Purpose: "ETREAT", BreakGlass: true, Items: []consent.Item{note}})
			}, tx.CodeInvalid},
		{"break the glass with a reason not on the list", func(c *careChain) ed25519.PrivKey { return c.svc },
			func(c *careChain) tx.Msg {
				return contract.Encode(consent.Access{Requester: apptest.Addr(c.drB), Patient: apptest.Addr(c.patient), Purpose: "ETREAT", BreakGlass: true, GlassReason: "fell off a ladder", Items: []consent.Item{note}})
			}, tx.CodeInvalid},
		{"request by a patient", func(c *careChain) ed25519.PrivKey { return c.stranger },
			func(c *careChain) tx.Msg {
				return contract.Encode(consent.Request{Patient: apptest.Addr(c.patient), Scope: consent.Scope{Types: []string{"*"}}, Purpose: "TREAT", Duration: 60, Reason: "other"})
			}, tx.CodeUnauthorized},
		{"anchor by a physician", func(c *careChain) ed25519.PrivKey { return c.drA },
			func(c *careChain) tx.Msg {
				return contract.Encode(records.Anchor{Custodian: apptest.OrgA, Patient: apptest.Addr(c.patient), Root: [32]byte{1}, Count: 1})
			}, tx.CodeUnauthorized},
		{"anchor for another custodian", func(c *careChain) ed25519.PrivKey { return c.svc },
			func(c *careChain) tx.Msg {
				return contract.Encode(records.Anchor{Custodian: apptest.OrgB, Patient: apptest.Addr(c.patient), Root: [32]byte{1}, Count: 1})
			}, tx.CodeWrongOrganization},
		{"erasure by another patient", func(c *careChain) ed25519.PrivKey { return c.stranger },
			func(c *careChain) tx.Msg {
				return contract.Encode(records.Erase{Custodian: apptest.OrgA, Patient: apptest.Addr(c.patient)})
			}, tx.CodeUnauthorized},
		{"delegate named by a member", func(c *careChain) ed25519.PrivKey { return c.drA },
			func(c *careChain) tx.Msg {
				return contract.Encode(identity.SetDelegate{Delegate: apptest.Addr(c.drB), Relation: identity.Caregiver})
			}, tx.CodeUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCareChain(t)
			key := tc.who(c)
			before := apptest.Dump(t, c.app.State())
			r := c.try(t, key, tc.msg(c))
			if r.Code != tc.code {
				t.Fatalf("code %v (%s); want %v", r.Code, r.Log, tc.code)
			}
			after := apptest.Dump(t, c.app.State())
			apptest.IgnoreSequence(t, before, after, apptest.Addr(key))
			if changed := apptest.DiffKeys(before, after); len(changed) > 0 {
				t.Errorf("state keys changed %v; want only the signer's sequence", changed)
			}
		})
	}
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// TestResearchDecisions: a research read (HRESCH, CLINTRCH) is decided on
// the patient's grant only while the patient is enrolled in a trial of the
// requester's organization, consented to the version in force; the patient
// reading their own records for research is not held to it.
func TestResearchDecisions(t *testing.T) {
	c := newCareChain(t)
	researcher, board := apptest.Key("researcher-d"), apptest.Key("admin-a")
	c.send(t, apptest.Key("admin-d"), contract.Encode(identity.RegisterMember{Org: apptest.OrgD, PubKey: apptest.Pub(researcher), Roles: []identity.Role{identity.Researcher}}))
	for _, org := range []string{apptest.OrgD, apptest.OrgB} {
		c.send(t, c.patient, contract.Encode(consent.Grant{Patient: apptest.Addr(c.patient), Grantee: consent.Grantee{Org: org},
			Scope: consent.Scope{Types: []string{"*"}}, Purposes: []string{"HRESCH", "CLINTRCH"}}))
	}
	const trial = "NCT00000007"
	c.send(t, researcher, contract.Encode(trials.Register{Trial: trial, Sponsor: apptest.OrgD, Board: apptest.OrgA,
		Study: [32]byte{1}, Protocol: [32]byte{2}, SAP: [32]byte{3}, Primary: []string{"hba1c-26w"}}))
	c.send(t, board, contract.Encode(trials.Approve{Trial: trial, Version: 1}))

	requireVerdicts(t, "granted, not a participant", c.decide(t, researcher, "HRESCH", false, lab, obsScan), "deny/not_enrolled", "deny/not_enrolled")
	c.send(t, c.patient, contract.Encode(trials.Consent{Trial: trial, Version: 1}))
	requireVerdicts(t, "consented, not enrolled", c.decide(t, researcher, "CLINTRCH", false, lab), "deny/not_enrolled")
	c.send(t, researcher, contract.Encode(trials.Enroll{Trial: trial, Participant: apptest.Addr(c.patient)}))
	requireVerdicts(t, "enrolled", c.decide(t, researcher, "HRESCH", false, lab, obsScan), "permit/grant", "permit/grant")
	requireVerdicts(t, "enrolled, CLINTRCH", c.decide(t, researcher, "CLINTRCH", false, lab), "permit/grant")
	requireVerdicts(t, "another organization's research", c.decide(t, c.drB, "HRESCH", false, lab), "deny/not_enrolled")
	requireVerdicts(t, "the patient's own, for research", c.decide(t, c.patient, "HRESCH", false, lab), "permit/policy")
	requireVerdicts(t, "treatment, unaffected", c.decide(t, c.drA, "TREAT", false, lab), "permit/policy")
	c.send(t, c.patient, contract.Encode(trials.Withdraw{Trial: trial, Participant: apptest.Addr(c.patient)}))
	requireVerdicts(t, "withdrawn", c.decide(t, researcher, "HRESCH", false, lab), "deny/not_enrolled")
}
