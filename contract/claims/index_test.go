package claims_test

import (
	"reflect"
	"testing"

	"github.com/careledger/careledger/contract/claims"
)

// TestClaimsOf: a payer and a provider each list their claims newest
// first, filtered by status and dates of service, a page at a time; a
// provider lists none of another's.
func TestClaimsOf(t *testing.T) {
	ch := newChain(t)
	ch.must(payerAdmin, claims.RegisterPlan{Payer: payer, Plan: "basic", YearStart: 101})
	ch.must(payerAdmin, basePolicy)
	ch.must(payerAdmin, claims.PolicyPublish{Payer: payer, Version: 1, Effective: 20250101})
	ch.must(payerAdmin, claims.RegisterCoverage{Payer: payer, Coverage: "cov-alice", Plan: "basic", Patient: addr(patientAlice), Start: 20250101})
	ch.must(payerAdmin, claims.Deposit{Payer: payer, Amount: 20_000})
	paid := ch.decide(ch.claim(line("99214", 15_000, 20250301)))
	denied := ch.decide(ch.claim(line("99999", 5_000, 20250310)))
	waiting := ch.decide(ch.claim(line("99213", 10_000, 20250320), line("36415", 1_000, 20250401)))
	appealed := ch.decide(ch.claim(line("99999", 7_000, 20250405)))
	ch.must(clinicNode, claims.Appeal{Claim: appealed.Claim, Reason: "coding-corrected"})

	ids := func(cs []claims.ListedClaim) (out [][32]byte) {
		for _, c := range cs {
			out = append(out, c.Decision.Claim)
		}
		return out
	}
	want := func(ds ...*claims.Decision) (out [][32]byte) {
		for _, d := range ds {
			out = append(out, d.Claim)
		}
		return out
	}
	for _, org := range []string{payer, clinic} {
		all, next, err := claims.ClaimsOf(ch.s, org, claims.ListFilter{}, 1<<62, 100)
		if err != nil || next != 0 || len(all) != 4 {
			t.Fatalf("ClaimsOf(%s) = %d claims, next %d, %v; want 4, 0", org, len(all), next, err)
		}
		if got := []string{all[0].Status, all[1].Status, all[2].Status, all[3].Status}; !reflect.DeepEqual(got,
			[]string{claims.StatusAppealed, claims.StatusPending, claims.StatusDenied, claims.StatusApproved}) {
			t.Errorf("ClaimsOf(%s) statuses = %v; want appealed, pending, denied, approved (newest first)", org, got)
		}
		if all[1].From != 20250320 || all[1].To != 20250401 || all[1].Decision.Claim != waiting.Claim {
			t.Errorf("ClaimsOf(%s)[1] = %+v; want the waiting claim, dates 20250320 to 20250401", org, all[1].Listed)
		}
	}
	for _, tc := range []struct {
		f    claims.ListFilter
		want []*claims.Decision
	}{
		{claims.ListFilter{Status: claims.StatusDenied}, []*claims.Decision{denied}},
		{claims.ListFilter{Status: claims.StatusApproved}, []*claims.Decision{paid}},
		{claims.ListFilter{Status: claims.StatusPending}, []*claims.Decision{waiting}},
		{claims.ListFilter{Status: claims.StatusAppealed}, []*claims.Decision{appealed}},
		{claims.ListFilter{From: 20250401}, []*claims.Decision{appealed, waiting}},
		{claims.ListFilter{From: 20250305, To: 20250315}, []*claims.Decision{denied}},
		{claims.ListFilter{To: 20250301}, []*claims.Decision{paid}},
	} {
		got, _, err := claims.ClaimsOf(ch.s, payer, tc.f, 1<<62, 100)
		if err != nil || !reflect.DeepEqual(ids(got), want(tc.want...)) {
			t.Errorf("ClaimsOf(%+v) = %x, %v; want %x", tc.f, ids(got), err, want(tc.want...))
		}
	}
	first, next, err := claims.ClaimsOf(ch.s, clinic, claims.ListFilter{}, 1<<62, 3)
	if err != nil || len(first) != 3 || next != 1 {
		t.Fatalf("first page of 3 = %d claims, next %d, %v; want 3, next 1", len(first), next, err)
	}
	rest, next, err := claims.ClaimsOf(ch.s, clinic, claims.ListFilter{}, next, 3)
	if err != nil || len(rest) != 1 || next != 0 || rest[0].Decision.Claim != paid.Claim {
		t.Errorf("second page = %d claims, next %d, %v; want the oldest claim and no next", len(rest), next, err)
	}
	if got, _, err := claims.ClaimsOf(ch.s, rival, claims.ListFilter{}, 1<<62, 100); err != nil || len(got) != 0 {
		t.Errorf("ClaimsOf(rival) = %d claims, %v; want none", len(got), err)
	}
}

// TestPolicies: published versions with their row counts and effective
// dates, oldest first, then drafts still loading.
func TestPolicies(t *testing.T) {
	ch := newChain(t)
	ch.must(payerAdmin, basePolicy)
	ch.must(payerAdmin, claims.PolicyPublish{Payer: payer, Version: 1, Effective: 20250101})
	ch.must(payerAdmin, claims.PolicyLoad{Payer: payer, Version: 2, Fees: []claims.Fee{{Code: "99213", Allowed: 11_000}}})
	ch.must(payerAdmin, claims.PolicyLoad{Payer: payer, Version: 2, Units: []claims.UnitLimit{{Code: "97110", Max: 2}}})
	got, err := claims.Policies(ch.s, payer)
	want := []claims.PolicyVersion{
		{Version: 1, Effective: 20250101, Complete: true, Fees: 8, Pairs: 2, Units: 2, Rules: 3},
		{Version: 2, Fees: 1, Units: 1},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Policies = %+v, %v; want %+v", got, err, want)
	}
	ch.must(payerAdmin, claims.PolicyPublish{Payer: payer, Version: 2, Effective: 20250701})
	if got, err := claims.Policies(ch.s, payer); err != nil || len(got) != 2 || !got[1].Complete || got[1].Effective != 20250701 || got[1].Fees != 1 {
		t.Errorf("Policies after publishing 2 = %+v, %v; want version 2 complete from 20250701", got, err)
	}
	if got, err := claims.Policies(ch.s, rival); err != nil || len(got) != 0 {
		t.Errorf("Policies(rival) = %+v, %v; want none", got, err)
	}
}
