package claims_test

import (
	"strings"
	"testing"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/tx"
)

// TestVersionByDateOfService: a claim line is judged by the version in
// force on its date of service, whenever it is submitted; a version loaded
// in several messages takes effect only when published, all together.
func TestVersionByDateOfService(t *testing.T) {
	ch := newPayer(t)
	// Version 2 from July: 99213 pays 110.00, and 93010 is no longer unbundled from 93000.
	ch.must(payerAdmin, claims.PolicyLoad{Payer: payer, Version: 2, Fees: []claims.Fee{{Code: "99213", Allowed: 11_000}, {Code: "93000", Allowed: 3_000}}})
	ch.must(payerAdmin, claims.PolicyLoad{Payer: payer, Version: 2, Fees: []claims.Fee{{Code: "93010", Allowed: 1_500}}})
	if e := ch.event(claims.EventPolicyLoad); e == nil || e.Attr("fees") != "3" {
		t.Errorf("second load's event = %+v; want fees 3 in the draft", e)
	}

	// Not yet published: a July claim is still judged by version 1.
	d := ch.decide(ch.claim(line("99213", 20_000, 20250801)))
	if l := d.Lines[0]; l.Version != 1 || l.Eligible != 10_000 {
		t.Errorf("line before version 2 is published = version %d eligible %d; want 1, 10000", l.Version, l.Eligible)
	}
	ch.must(payerAdmin, claims.PolicyPublish{Payer: payer, Version: 2, Effective: 20250701})

	d = ch.decide(ch.claim(line("99213", 20_000, 20250630), line("99213", 20_000, 20250702), line("93000", 3_000, 20250702), line("93010", 1_500, 20250702)))
	for i, want := range []struct {
		version  uint64
		eligible uint64
	}{{1, 10_000}, {2, 11_000}, {2, 3_000}, {2, 1_500}} {
		if l := d.Lines[i]; l.Version != want.version || l.Eligible != want.eligible || l.Status != claims.Approved {
			t.Errorf("line %d = version %d eligible %d status %d; want version %d eligible %d approved", i, l.Version, l.Eligible, l.Status, want.version, want.eligible)
		}
	}
	if e := ch.event(claims.EventAdjudicated); e == nil || strings.Join(e.Values("version"), ",") != "1,2" {
		t.Errorf("adjudicated event = %+v; want versions 1,2", e)
	}
}

// TestPolicyRefusals: what a payer may not load, publish or register.
// Version 2 is published from August; version 3 is a draft holding rule x.
func TestPolicyRefusals(t *testing.T) {
	ch := newPayer(t)
	ch.must(payerAdmin, claims.PolicyLoad{Payer: payer, Version: 2, Fees: []claims.Fee{{Code: "99213", Allowed: 1}}})
	ch.must(payerAdmin, claims.PolicyPublish{Payer: payer, Version: 2, Effective: 20250801})
	ch.must(payerAdmin, claims.PolicyLoad{Payer: payer, Version: 3, Rules: []claims.Rule{{ID: "x", Action: claims.Deny, Reason: "96", Expr: `false`}}})
	rule := func(r claims.Rule) claims.PolicyLoad {
		return claims.PolicyLoad{Payer: payer, Version: 3, Rules: []claims.Rule{r}}
	}
	tests := []struct {
		name   string
		signer string
		m      contract.Msg
		want   tx.Code
	}{
		{"rule that does not compile", payerAdmin, rule(claims.Rule{ID: "r", Action: claims.Deny, Reason: "96", Expr: `code ==`}), tx.CodeInvalid},
		{"rule that is not boolean", payerAdmin, rule(claims.Rule{ID: "r", Action: claims.Deny, Reason: "96", Expr: `units + 1`}), tx.CodeInvalid},
		{"rule over its cost", payerAdmin, rule(claims.Rule{ID: "r", Action: claims.Deny, Reason: "96", Expr: `codes.all(a, codes.all(b, codes.all(c, a + b + c != "")))`}), tx.CodeInvalid},
		{"denial without a reason", payerAdmin, rule(claims.Rule{ID: "r", Action: claims.Deny, Expr: `true`}), tx.CodeInvalid},
		{"unknown rule action", payerAdmin, rule(claims.Rule{ID: "r", Action: 7, Expr: `true`}), tx.CodeInvalid},
		{"rule already in the version", payerAdmin, rule(claims.Rule{ID: "x", Action: claims.Deny, Reason: "96", Expr: `true`}), tx.CodeAlreadyExists},
		{"fee of zero", payerAdmin, claims.PolicyLoad{Payer: payer, Version: 3, Fees: []claims.Fee{{Code: "99213"}}}, tx.CodeInvalid},
		{"pair of one code", payerAdmin, claims.PolicyLoad{Payer: payer, Version: 3, Pairs: []claims.CodePair{{Column1: "1", Column2: "1"}}}, tx.CodeInvalid},
		{"modifier indicator 9", payerAdmin, claims.PolicyLoad{Payer: payer, Version: 3, Pairs: []claims.CodePair{{Column1: "1", Column2: "2", Modifier: 9}}}, tx.CodeInvalid},
		{"empty load", payerAdmin, claims.PolicyLoad{Payer: payer, Version: 3}, tx.CodeInvalid},
		{"load into a published version", payerAdmin, claims.PolicyLoad{Payer: payer, Version: 2, Fees: []claims.Fee{{Code: "1", Allowed: 1}}}, tx.CodeAlreadyExists},
		{"load by a provider", clinicAdmin, claims.PolicyLoad{Payer: payer, Version: 3, Fees: []claims.Fee{{Code: "1", Allowed: 1}}}, tx.CodeWrongOrganization},
		{"publish of no draft", payerAdmin, claims.PolicyPublish{Payer: payer, Version: 4, Effective: 20250901}, tx.CodeNotFound},
		{"publish effective not after the last", payerAdmin, claims.PolicyPublish{Payer: payer, Version: 3, Effective: 20250801}, tx.CodeInvalid},
		{"publish by the claims agent", payerAgent, claims.PolicyPublish{Payer: payer, Version: 3, Effective: 20250901}, tx.CodeUnauthorized},
		{"plan with co-insurance over 100%", payerAdmin, claims.RegisterPlan{Payer: payer, Plan: "p", Coinsurance: 10_001, YearStart: 101}, tx.CodeInvalid},
		{"plan year starting on February 30", payerAdmin, claims.RegisterPlan{Payer: payer, Plan: "p", YearStart: 230}, tx.CodeInvalid},
		{"coverage of an unknown plan", payerAdmin, claims.RegisterCoverage{Payer: payer, Coverage: "c", Plan: "none", Patient: addr(patientBob), Start: 20250101}, tx.CodeNotFound},
		{"coverage of an unregistered patient", payerAdmin, claims.RegisterCoverage{Payer: payer, Coverage: "c", Plan: "gold", Patient: addr(clinicNode), Start: 20250101}, tx.CodeNotFound},
		{"coverage taken over for another patient", payerAdmin, claims.RegisterCoverage{Payer: payer, Coverage: "cov-alice", Plan: "gold", Patient: addr(patientBob), Start: 20250101}, tx.CodeAlreadyExists},
		{"coverage ending before it starts", payerAdmin, claims.RegisterCoverage{Payer: payer, Coverage: "c", Plan: "gold", Patient: addr(patientBob), Start: 20250101, End: 20241231}, tx.CodeInvalid},
		{"deposit by a provider", clinicAdmin, claims.Deposit{Payer: clinic, Amount: 1}, tx.CodeUnauthorized},
		{"deposit of nothing", payerAdmin, claims.Deposit{Payer: payer}, tx.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code := ch.exec(tt.signer, tt.m); code != tt.want {
				t.Errorf("%T = %v (%v); want %v", tt.m, code, ch.err, tt.want)
			}
		})
	}
	if vs, _ := claims.Versions(ch.s, payer); len(vs) != 2 {
		t.Errorf("versions after the refusals = %v; want 1 and 2", vs)
	}
}
