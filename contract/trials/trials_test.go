package trials_test

import (
	"strings"
	"testing"

	"github.com/careledger/careledger/contract"

	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/tx"
)

func TestRegisterPendsUntilTheBoardApproves(t *testing.T) {
	ch := newChain(t)
	ch.must(researcher, registration())
	if tr := ch.trial(); tr.InForce != 0 || tr.Versions != 1 || tr.Sponsor != sponsor || tr.Board != board {
		t.Fatalf("trial after registration = %+v; want version 1 pending", tr)
	}
	ch.refuse(alice, trials.Consent{Trial: trial, Version: 1}, tx.CodeInvalid)
	ch.must(boardAdmin, trials.Approve{Trial: trial, Version: 1})
	v, _ := trials.LoadVersion(ch.s, trial, 1)
	if ch.trial().InForce != 1 || v.Pending() || v.Approver != addr(boardAdmin) || v.ApprovedHeight != ch.height {
		t.Fatalf("after approval: trial %+v, version %+v; want version 1 in force, approved by the board now", ch.trial(), v)
	}
}

func TestRegisterRefusals(t *testing.T) {
	bad := func(edit func(*trials.Register)) trials.Register {
		m := registration()
		edit(&m)
		return m
	}
	tests := []struct {
		name   string
		signer string
		msg    trials.Register
		want   tx.Code
	}{
		{"non-member signer", alice, registration(), tx.CodeUnauthorized},
		{"member of another org", rivalAdmin, registration(), tx.CodeWrongOrganization},
		{"sponsor not research", payerAdmin, bad(func(m *trials.Register) { m.Sponsor = payer }), tx.CodeUnauthorized},
		{"board unknown", researcher, bad(func(m *trials.Register) { m.Board = "no-such-board" }), tx.CodeNotFound},
		{"board a payer", researcher, bad(func(m *trials.Register) { m.Board = payer }), tx.CodeInvalid},
		{"board is sponsor", researcher, bad(func(m *trials.Register) { m.Board = sponsor }), tx.CodeInvalid},
		{"no primary outcome", researcher, bad(func(m *trials.Register) { m.Primary = nil }), tx.CodeInvalid},
		{"outcomes unsorted", researcher, bad(func(m *trials.Register) { m.Primary = []string{"weight-26w", "hba1c-26w"} }), tx.CodeInvalid},
		{"outcome twice", researcher, bad(func(m *trials.Register) { m.Primary = []string{"hba1c-26w", "hba1c-26w"} }), tx.CodeInvalid},
		{"outcome primary and secondary", researcher, bad(func(m *trials.Register) { m.Secondary = []string{"hba1c-26w"} }), tx.CodeInvalid},
		{"outcome id with a space", researcher, bad(func(m *trials.Register) { m.Primary = []string{"hba1c 26w"} }), tx.CodeInvalid},
		{"trial id empty", researcher, bad(func(m *trials.Register) { m.Trial = "" }), tx.CodeInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			newChain(t).refuse(tc.signer, tc.msg, tc.want)
		})
	}
	t.Run("twice", func(t *testing.T) {
		ch := newChain(t)
		ch.must(researcher, registration())
		ch.refuse(sponsorAdmin, registration(), tx.CodeAlreadyExists)
	})
}

func amendment() trials.Amend {
	// Version 2 demotes weight to secondary and adds a new primary outcome.
	return trials.Amend{Trial: trial, Protocol: commitment("protocol v2"), SAP: commitment("sap v2"),
		Primary: []string{"fasting-glucose-26w", "hba1c-26w"}, Secondary: []string{"ae-rate", "weight-26w"}}
}

func TestAmendAndApprove(t *testing.T) {
	ch := approved(t)
	ch.must(researcher, amendment())
	if tr := ch.trial(); tr.InForce != 1 || tr.Versions != 2 {
		t.Fatalf("after amendment: %+v; want version 1 still in force, 2 pending", tr)
	}
	ch.refuse(researcher, amendment(), tx.CodeAlreadyExists)                                  // one pending version at a time
	ch.refuse(researcher, trials.Approve{Trial: trial, Version: 2}, tx.CodeWrongOrganization) // not the board
	ch.refuse(rivalAdmin, trials.Approve{Trial: trial, Version: 2}, tx.CodeWrongOrganization)
	ch.refuse(boardAdmin, trials.Approve{Trial: trial, Version: 3}, tx.CodeNotFound)
	ch.refuse(boardAdmin, trials.Approve{Trial: trial, Version: 1}, tx.CodeAlreadyExists)
	ch.refuse(boardAdmin, trials.Approve{Trial: "NCT99999999", Version: 1}, tx.CodeNotFound)
	ch.must(boardAdmin, trials.Approve{Trial: trial, Version: 2})
	if ch.trial().InForce != 2 {
		t.Fatalf("in force = %d; want 2", ch.trial().InForce)
	}
	ch.refuse(rivalAdmin, amendment(), tx.CodeWrongOrganization)
	ch.refuse(researcher, trials.Amend{Trial: trial, Primary: []string{"b", "a"}}, tx.CodeInvalid)
}

func TestEnrollNeedsConsentToTheVersionInForce(t *testing.T) {
	ch := approved(t)
	ch.refuse(researcher, trials.Enroll{Trial: trial, Participant: addr(alice)}, tx.CodeUnauthorized)
	ch.refuse(alice, trials.Consent{Trial: trial, Version: 2}, tx.CodeInvalid)           // not in force
	ch.refuse(researcher, trials.Consent{Trial: trial, Version: 1}, tx.CodeUnauthorized) // a member is no participant
	ch.must(alice, trials.Consent{Trial: trial, Version: 1})
	ch.refuse(alice, trials.Consent{Trial: trial, Version: 1}, tx.CodeAlreadyExists)
	ch.refuse(alice, trials.Enroll{Trial: trial, Participant: addr(alice)}, tx.CodeUnauthorized) // the sponsor enrolls
	ch.refuse(rivalAdmin, trials.Enroll{Trial: trial, Participant: addr(alice)}, tx.CodeWrongOrganization)
	ch.must(sponsorNode, trials.Enroll{Trial: trial, Participant: addr(alice)})
	ch.refuse(researcher, trials.Enroll{Trial: trial, Participant: addr(alice)}, tx.CodeAlreadyExists)

	// An amendment in force: bob must consent to version 2 to enroll.
	ch.must(researcher, amendment())
	ch.must(bob, trials.Consent{Trial: trial, Version: 1})
	ch.must(boardAdmin, trials.Approve{Trial: trial, Version: 2})
	ch.refuse(researcher, trials.Enroll{Trial: trial, Participant: addr(bob)}, tx.CodeUnauthorized)
	ch.must(bob, trials.Consent{Trial: trial, Version: 2})
	ch.must(researcher, trials.Enroll{Trial: trial, Participant: addr(bob)})
	p, _ := trials.LoadParticipant(ch.s, trial, addr(bob))
	if p.Consented != 2 || p.EnrolledHeight != ch.height {
		t.Fatalf("bob = %+v; want consented to 2 and enrolled now", p)
	}
}

func TestCommitDataNeedsReconsentAfterAnAmendment(t *testing.T) {
	ch := enrolled(t)
	ch.must(researcher, data("visit-1", 1, alice))
	if tr := ch.trial(); tr.Datasets != 1 || tr.CaptureHeight != ch.height {
		t.Fatalf("trial = %+v; want one dataset, capture begun now", tr)
	}
	ch.must(researcher, amendment())
	ch.must(sponsorNode, data("visit-1b", 1, alice)) // version 1 stays in force while 2 pends
	ch.must(boardAdmin, trials.Approve{Trial: trial, Version: 2})
	ch.refuse(researcher, data("visit-2", 2, alice), tx.CodeUnauthorized) // alice has not re-consented
	ch.refuse(researcher, data("visit-2", 1, alice), tx.CodeInvalid)      // version 1 is no longer in force
	ch.must(alice, trials.Consent{Trial: trial, Version: 2})
	ch.must(researcher, data("visit-2", 2, alice))
	d, _ := trials.LoadDataset(ch.s, trial, "visit-2")
	if d == nil || d.Version != 2 || d.Rows != 10 || d.Root != tx.Hash(commitment("visit-2")) {
		t.Fatalf("dataset = %+v; want visit-2 under version 2", d)
	}
	ch.refuse(researcher, data("visit-2", 2, alice), tx.CodeAlreadyExists)
}

func TestCommitDataRefusals(t *testing.T) {
	ch := enrolled(t)
	ch.must(bob, trials.Consent{Trial: trial, Version: 1}) // consented, never enrolled
	unsorted := data("v", 1, alice, bob)
	unsorted.Participants[0], unsorted.Participants[1] = unsorted.Participants[1], unsorted.Participants[0]
	noRows := data("v", 1, alice)
	noRows.Rows = 0
	tests := []struct {
		name   string
		signer string
		msg    trials.CommitData
		want   tx.Code
	}{
		{"by a non-sponsor", rivalAdmin, data("v", 1, alice), tx.CodeWrongOrganization},
		{"by the participant", alice, data("v", 1, alice), tx.CodeUnauthorized},
		{"participant never consented", researcher, data("v", 1, alice, carol), tx.CodeUnauthorized},
		{"participant not enrolled", researcher, data("v", 1, alice, bob), tx.CodeUnauthorized},
		{"participants unsorted", researcher, unsorted, tx.CodeInvalid},
		{"no participants", researcher, data("v", 1), tx.CodeInvalid},
		{"no rows", researcher, noRows, tx.CodeInvalid},
		{"dataset id bad", researcher, data("visit/1", 1, alice), tx.CodeInvalid},
		{"unknown trial", researcher, func() trials.CommitData { m := data("v", 1, alice); m.Trial = "NCT2"; return m }(), tx.CodeNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { ch.refuse(tc.signer, tc.msg, tc.want) })
	}
}

func TestWithdrawStopsCapture(t *testing.T) {
	ch := enrolled(t)
	ch.refuse(bob, trials.Withdraw{Trial: trial, Participant: addr(alice)}, tx.CodeUnauthorized) // someone else
	ch.refuse(researcher, trials.Withdraw{Trial: trial, Participant: addr(carol)}, tx.CodeNotFound)
	ch.must(alice, trials.Withdraw{Trial: trial, Participant: addr(alice)})
	ch.refuse(alice, trials.Withdraw{Trial: trial, Participant: addr(alice)}, tx.CodeAlreadyExists)
	ch.refuse(researcher, data("visit-1", 1, alice), tx.CodeUnauthorized)
	ch.refuse(alice, trials.Consent{Trial: trial, Version: 1}, tx.CodeInvalid)
	ch.refuse(researcher, trials.Enroll{Trial: trial, Participant: addr(alice)}, tx.CodeUnauthorized)

	// The sponsor may withdraw a participant too.
	ch.must(bob, trials.Consent{Trial: trial, Version: 1})
	ch.must(researcher, trials.Withdraw{Trial: trial, Participant: addr(bob)})
}

func TestReportNamesKnownOutcomesOnly(t *testing.T) {
	ch := enrolled(t)
	ch.must(researcher, amendment()) // pending: its new outcome is not yet known
	res := trials.Report{Trial: trial, Result: commitment("results"), Outcomes: []string{"fasting-glucose-26w"}}
	ch.refuse(researcher, res, tx.CodeNotFound)
	ch.refuse(researcher, trials.Report{Trial: trial, Result: commitment("r"), Outcomes: []string{"mortality"}}, tx.CodeNotFound)
	ch.refuse(researcher, trials.Report{Trial: trial, Result: commitment("r")}, tx.CodeInvalid)
	ch.refuse(researcher, trials.Report{Trial: trial, Result: commitment("r"), Outcomes: []string{"weight-26w", "ae-rate"}}, tx.CodeInvalid)
	ch.refuse(rivalAdmin, trials.Report{Trial: trial, Result: commitment("r"), Outcomes: []string{"ae-rate"}}, tx.CodeWrongOrganization)
	ch.must(boardAdmin, trials.Approve{Trial: trial, Version: 2})
	ch.must(researcher, res)
	r, _ := trials.LoadResult(ch.s, trial, 1)
	if r == nil || r.Version != 2 || len(r.Outcomes) != 1 {
		t.Fatalf("result 1 = %+v; want the report under version 2", r)
	}
}

func TestEventsNameNoPatientButTheParticipant(t *testing.T) {
	ch := enrolled(t)
	for _, e := range ch.history {
		if !strings.HasPrefix(e.Event.Type, "trials.") {
			continue
		}
		if e.Event.Attr("trial") != trial || e.Event.Attr("org") != sponsor {
			t.Errorf("event %s names trial %q org %q; want %s and %s", e.Event.Type, e.Event.Attr("trial"), e.Event.Attr("org"), trial, sponsor)
		}
		if p := e.Event.Attr("participant"); p != "" && (len(e.Event.Accounts) != 1 || e.Event.Accounts[0].String() != p) {
			t.Errorf("event %s names participant %s but concerns %v", e.Event.Type, p, e.Event.Accounts)
		}
	}
}

// TestNothingBeforeApproval: before the board approves version 1, no
// participant consents, is enrolled or gives data, and no result is
// reported; and every message names a registered trial.
func TestNothingBeforeApproval(t *testing.T) {
	ch := newChain(t)
	ch.must(researcher, registration())
	ch.refuse(alice, trials.Withdraw{Trial: trial, Participant: addr(alice)}, tx.CodeNotFound) // nothing to withdraw from yet
	tests := []struct {
		signer string
		msg    contract.Msg
	}{
		{alice, trials.Consent{Trial: trial, Version: 1}},
		{researcher, trials.Enroll{Trial: trial, Participant: addr(alice)}},
		{researcher, data("visit-1", 1, alice)},
		{researcher, trials.Report{Trial: trial, Result: commitment("r"), Outcomes: []string{"ae-rate"}}},
		{researcher, amendment()}, // version 1 still pends
	}
	for _, tc := range tests {
		want := tx.CodeInvalid
		if _, ok := tc.msg.(trials.Amend); ok {
			want = tx.CodeAlreadyExists
		}
		ch.refuse(tc.signer, tc.msg, want)
	}
	unknown := "NCT99999999"
	for _, tc := range []struct {
		signer string
		msg    contract.Msg
	}{
		{researcher, trials.Amend{Trial: unknown, Primary: []string{"a"}}},
		{alice, trials.Consent{Trial: unknown, Version: 1}},
		{researcher, trials.Enroll{Trial: unknown, Participant: addr(alice)}},
		{alice, trials.Withdraw{Trial: unknown, Participant: addr(alice)}},
		{researcher, trials.Report{Trial: unknown, Result: commitment("r"), Outcomes: []string{"a"}}},
	} {
		ch.refuse(tc.signer, tc.msg, tx.CodeNotFound)
	}
}

func TestValidationRefusals(t *testing.T) {
	ch := approved(t)
	for _, tc := range []struct {
		name string
		msg  contract.Msg
	}{
		{"version 0", trials.Approve{Trial: trial, Version: 0}},
		{"version over the limit", trials.Consent{Trial: trial, Version: trials.MaxVersions + 1}},
		{"zero participant", trials.Enroll{Trial: trial}},
		{"zero participant withdrawn", trials.Withdraw{Trial: trial}},
		{"report outcomes with a bad id", trials.Report{Trial: trial, Result: commitment("r"), Outcomes: []string{"ae rate"}}},
	} {
		t.Run(tc.name, func(t *testing.T) { ch.refuse(boardAdmin, tc.msg, tx.CodeInvalid) })
	}
}

// TestAmendmentLimit: a trial has at most MaxVersions versions.
func TestAmendmentLimit(t *testing.T) {
	ch := approved(t)
	for v := uint64(2); v <= trials.MaxVersions; v++ {
		ch.must(researcher, amendment())
		ch.must(boardAdmin, trials.Approve{Trial: trial, Version: v})
	}
	ch.refuse(researcher, amendment(), tx.CodeInvalid)
}
