package claims_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"testing"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/tx"
)

// TestAppealOverturnedAndPaid: an MRI denied for want of an authorization
// is appealed by the clinic and overturned by the payer's claims agent; the
// line is priced under the version that judged it, the patient's share
// taken against the deductible, and the benefit paid in the same message.
func TestAppealOverturnedAndPaid(t *testing.T) {
	ch := newPayer(t)
	d := ch.decide(ch.claim(line("70553", 250_000, 20250301)))
	if d.Outcome() != "denied" {
		t.Fatalf("MRI without authorization = %s; want denied", d.Outcome())
	}
	ch.must(clinicNode, claims.Appeal{Claim: d.Claim, Reason: "auth-on-file", Letter: sha256.Sum256([]byte("letter"))})
	if e := ch.event(claims.EventAppealed); e == nil || e.Attr("reason") != "auth-on-file" || e.Attr("lines") != "1" || e.Attr("appeal") != "1" {
		t.Errorf("appealed event = %+v; want reason auth-on-file, 1 line, appeal 1", e)
	}
	ch.must(payerAgent, claims.DecideAppeal{Claim: d.Claim, Overturn: true, Reason: "medical-necessity"})

	// 200,000 allowed: 50,000 deductible, 2,500 copay, 20% of 147,500 = 29,500.
	d, _ = claims.LoadDecision(ch.s, d.Claim)
	l := d.Lines[0]
	if l.Status != claims.Approved || l.Version != 1 || l.Eligible != 200_000 || l.Patient != 82_000 || l.Benefit != 118_000 {
		t.Errorf("overturned line = %+v; want approved under version 1, eligible 200000, patient 82000, benefit 118000", l)
	}
	if want := []string{"prior_auth", "appeal_overturned"}; !slices.Equal(l.Edits, want) {
		t.Errorf("edits = %v; want %v", l.Edits, want)
	}
	wantAdj := []claims.Adjustment{{Reason: "45", Amount: 50_000}, {Reason: "1", Amount: 50_000}, {Reason: "2", Amount: 29_500}, {Reason: "3", Amount: 2_500}}
	if !slices.Equal(l.Adjustments, wantAdj) {
		t.Errorf("adjustments = %v; want %v", l.Adjustments, wantAdj)
	}
	if !d.Paid || d.Settled != 118_000 || d.Benefit != 118_000 || d.PatientOwes != 82_000 {
		t.Errorf("decision = paid %v, settled %d, benefit %d, patient %d; want paid 118000, patient 82000", d.Paid, d.Settled, d.Benefit, d.PatientOwes)
	}
	if got := ch.balance(clinic); got != 118_000 {
		t.Errorf("clinic balance = %d; want 118000 paid in the decision's block", got)
	}
	if e := ch.event(claims.EventAppealDecided); e == nil || e.Attr("outcome") != "overturned" || e.Attr("benefit") != "118000" || e.Attr("reason") != "medical-necessity" {
		t.Errorf("decided event = %+v; want overturned, benefit 118000", e)
	}
	if e := ch.event(claims.EventPaid); e == nil || e.Attr("amount") != "118000" {
		t.Errorf("paid event = %+v; want amount 118000", e)
	}
	acc, _ := claims.LoadAccumulators(ch.s, payer, "cov-alice", 2025)
	if acc.Deductible != 50_000 || acc.OOP != 82_000 {
		t.Errorf("accumulators = %+v; want deductible 50000, oop 82000", acc)
	}
	as, _ := claims.LoadAppeals(ch.s, d.Claim)
	if len(as) != 1 || as[0].State != claims.AppealOverturned || as[0].Benefit != 118_000 || as[0].DecisionReason != "medical-necessity" {
		t.Errorf("appeals = %+v; want one overturned with benefit 118000", as)
	}
	// The overturned line now counts as billed: the same service again is a duplicate.
	if d := ch.decide(ch.claim(line("70553", 250_000, 20250301))); d.Lines[0].Edits[0] != "duplicate" {
		t.Errorf("the overturned service billed again = %+v; want a duplicate", d.Lines[0])
	}
}

// TestAppealUpheld: an upheld appeal moves no money; the provider may
// appeal again, up to MaxAppeals times.
func TestAppealUpheld(t *testing.T) {
	ch := newPayer(t)
	d := ch.decide(ch.claim(line("99999", 5_000, 20250301)))
	for i := 1; i <= claims.MaxAppeals; i++ {
		ch.must(clinicNode, claims.Appeal{Claim: d.Claim, Reason: "coding-corrected"})
		ch.must(payerAgent, claims.DecideAppeal{Claim: d.Claim, Reason: "not-covered"})
		if e := ch.event(claims.EventAppealDecided); e == nil || e.Attr("outcome") != "upheld" || e.Attr("benefit") != "0" {
			t.Errorf("decision %d event = %+v; want upheld, benefit 0", i, e)
		}
	}
	if code := ch.exec(clinicNode, claims.Appeal{Claim: d.Claim, Reason: "coding-corrected"}); code != tx.CodeInvalid {
		t.Errorf("appeal %d = %v; want invalid", claims.MaxAppeals+1, code)
	}
	if got := ch.balance(clinic); got != 0 {
		t.Errorf("clinic balance = %d; want 0", got)
	}
	if d2, _ := claims.LoadDecision(ch.s, d.Claim); d2.Outcome() != "denied" {
		t.Errorf("decision after upheld appeals = %s; want denied", d2.Outcome())
	}
}

// TestOverturnOfShortPayer: a partly paid claim's overturned line waits in
// the payer's queue while its balance is short, and is paid by the next
// deposit; a line no fee schedule prices is allowed its charge.
func TestOverturnOfShortPayer(t *testing.T) {
	ch := newChain(t)
	ch.must(payerAdmin, claims.RegisterPlan{Payer: payer, Plan: "basic", YearStart: 101})
	ch.must(payerAdmin, basePolicy)
	ch.must(payerAdmin, claims.PolicyPublish{Payer: payer, Version: 1, Effective: 20250101})
	ch.must(payerAdmin, claims.RegisterCoverage{Payer: payer, Coverage: "cov-alice", Plan: "basic", Patient: addr(patientAlice), Start: 20250101})
	ch.must(payerAdmin, claims.Deposit{Payer: payer, Amount: 16_000})
	d := ch.decide(ch.claim(line("99214", 15_000, 20250301), line("99999", 3_000, 20250301)))
	if d.Outcome() != "partial" || !d.Paid || ch.balance(clinic) != 15_000 {
		t.Fatalf("claim = %s, paid %v, clinic %d; want partial, paid 15000", d.Outcome(), d.Paid, ch.balance(clinic))
	}
	ch.must(clinicNode, claims.Appeal{Claim: d.Claim, Lines: []uint64{1}, Reason: "coding-corrected"})
	ch.must(payerAgent, claims.DecideAppeal{Claim: d.Claim, Overturn: true, Reason: "corrected"})
	d, _ = claims.LoadDecision(ch.s, d.Claim)
	if d.Paid || d.Settled != 15_000 || d.Due() != 3_000 || ch.balance(clinic) != 15_000 {
		t.Fatalf("overturn of a short payer = paid %v, settled %d, due %d, clinic %d; want unpaid, 15000 settled, 3000 due",
			d.Paid, d.Settled, d.Due(), ch.balance(clinic))
	}
	ch.must(payerAdmin, claims.Deposit{Payer: payer, Amount: 2_000})
	d, _ = claims.LoadDecision(ch.s, d.Claim)
	if !d.Paid || d.Settled != 18_000 || ch.balance(clinic) != 18_000 || ch.balance(payer) != 0 {
		t.Errorf("after the deposit = paid %v, settled %d, clinic %d, payer %d; want paid, 18000, 18000, 0",
			d.Paid, d.Settled, ch.balance(clinic), ch.balance(payer))
	}
}

// TestAppealRefusals: appeals and decisions by the wrong party, of what is
// not denied or not there, or twice, are refused and change nothing.
func TestAppealRefusals(t *testing.T) {
	ch := newPayer(t)
	approved := ch.decide(ch.claim(line("99213", 10_000, 20250301)))
	partial := ch.decide(ch.claim(line("93000", 3_000, 20250302), line("93010", 1_500, 20250302)))
	undecided := ch.decide(ch.claim(line("99999", 3_000, 20250303)))
	decided := ch.decide(ch.claim(line("99999", 3_000, 20250304)))
	pre := ch.claim(line("99999", 3_000, 20250305))
	pre.Use = claims.UsePreauth
	ch.decide(pre)
	ch.must(clinicNode, claims.Appeal{Claim: partial.Claim, Reason: "modifier-missing"})
	ch.must(clinicNode, claims.Appeal{Claim: decided.Claim, Reason: "coding-corrected"})
	ch.must(payerAgent, claims.DecideAppeal{Claim: decided.Claim, Reason: "not-covered"})
	unknown := sha256.Sum256([]byte("no such claim"))

	tests := []struct {
		name   string
		signer string
		m      contract.Msg
		want   tx.Code
	}{
		{"appeal of an unknown claim", clinicNode, claims.Appeal{Claim: unknown, Reason: "x"}, tx.CodeNotFound},
		{"appeal by another organization", rivalNode, claims.Appeal{Claim: undecided.Claim, Reason: "x"}, tx.CodeWrongOrganization},
		{"appeal by the payer", payerAgent, claims.Appeal{Claim: undecided.Claim, Reason: "x"}, tx.CodeWrongOrganization},
		{"appeal by a member without the claims role", clinicAdmin, claims.Appeal{Claim: undecided.Claim, Reason: "x"}, tx.CodeUnauthorized},
		{"appeal of an approved claim", clinicNode, claims.Appeal{Claim: approved.Claim, Reason: "x"}, tx.CodeInvalid},
		{"appeal of an approved line", clinicNode, claims.Appeal{Claim: undecided.Claim, Lines: []uint64{0, 0}, Reason: "x"}, tx.CodeInvalid},
		{"appeal of a line not there", clinicNode, claims.Appeal{Claim: undecided.Claim, Lines: []uint64{1}, Reason: "x"}, tx.CodeInvalid},
		{"appeal of a preauthorization", clinicNode, claims.Appeal{Claim: pre.Claim, Reason: "x"}, tx.CodeNotFound},
		{"appeal without a reason", clinicNode, claims.Appeal{Claim: undecided.Claim}, tx.CodeInvalid},
		{"reason with a space", clinicNode, claims.Appeal{Claim: undecided.Claim, Reason: "see letter"}, tx.CodeInvalid},
		{"reason with a code in it", clinicNode, claims.Appeal{Claim: undecided.Claim, Reason: "E11.9"}, tx.CodeInvalid},
		{"decision reason with digits", payerAgent, claims.DecideAppeal{Claim: partial.Claim, Reason: "99213"}, tx.CodeInvalid},
		{"second open appeal", clinicNode, claims.Appeal{Claim: partial.Claim, Reason: "x"}, tx.CodeAlreadyExists},
		{"decision on an unknown claim", payerAgent, claims.DecideAppeal{Claim: unknown, Reason: "x"}, tx.CodeNotFound},
		{"decision without an appeal", payerAgent, claims.DecideAppeal{Claim: undecided.Claim, Reason: "x"}, tx.CodeNotFound},
		{"double decision", payerAgent, claims.DecideAppeal{Claim: decided.Claim, Overturn: true, Reason: "x"}, tx.CodeAlreadyExists},
		{"decision by the payer's admin", payerAdmin, claims.DecideAppeal{Claim: partial.Claim, Overturn: true, Reason: "x"}, tx.CodeUnauthorized},
		{"decision by the provider", clinicNode, claims.DecideAppeal{Claim: partial.Claim, Overturn: true, Reason: "x"}, tx.CodeWrongOrganization},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := maps.Clone(ch.s)
			if code := ch.exec(tt.signer, tt.m); code != tt.want {
				t.Errorf("%T = %v (%v); want %v", tt.m, code, ch.err, tt.want)
			}
			if !maps.EqualFunc(before, ch.s, bytes.Equal) {
				t.Errorf("%T refused but the state changed", tt.m)
			}
		})
	}
}

// TestPending lists what a short payer owes, to the payer and to the
// provider, in the order deposits will pay it.
func TestPending(t *testing.T) {
	ch := newChain(t)
	ch.must(payerAdmin, claims.RegisterPlan{Payer: payer, Plan: "basic", YearStart: 101})
	ch.must(payerAdmin, basePolicy)
	ch.must(payerAdmin, claims.PolicyPublish{Payer: payer, Version: 1, Effective: 20250101})
	ch.must(payerAdmin, claims.RegisterCoverage{Payer: payer, Coverage: "cov-alice", Plan: "basic", Patient: addr(patientAlice), Start: 20250101})
	ch.must(payerAdmin, claims.Deposit{Payer: payer, Amount: 1_000})
	first := ch.decide(ch.claim(line("99214", 15_000, 20250301)))
	second := ch.decide(ch.claim(line("99213", 10_000, 20250302)))
	for _, org := range []string{payer, clinic} {
		got, err := claims.Pending(ch.s, org)
		if err != nil || len(got) != 2 || got[0].Claim != hex.EncodeToString(first.Claim[:]) || got[1].Claim != hex.EncodeToString(second.Claim[:]) || got[1].Amount != 10_000 || got[0].Provider != clinic {
			t.Errorf("Pending(%s) = %+v, %v; want the two claims in order", org, got, err)
		}
	}
	if got, _ := claims.Pending(ch.s, rival); len(got) != 0 {
		t.Errorf("Pending(rival) = %+v; want none", got)
	}
}
