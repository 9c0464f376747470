package claims_test

import (
	"crypto/sha256"
	"testing"

	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

// TestReadReceipts: a node's receipt of a claim's read names the claim,
// the reader and its relation to the claim, and the patient's account; a
// reader who is no party to the claim, or a signer that is no node, is
// refused and nothing is recorded.
func TestReadReceipts(t *testing.T) {
	ch := newPayer(t)
	id := identity.Describe()
	ch.run(&id, patientAlice, identity.SetDelegate{Delegate: addr(patientBob), Relation: identity.Caregiver})
	d := ch.decide(ch.claim(line("99213", 10_000, 20250301)))
	read := func(reader string, view string) claims.Read {
		return claims.Read{Reader: addr(reader), Purpose: "HPAYMT", View: view, Claims: [][32]byte{d.Claim}}
	}
	for _, tc := range []struct{ reader, as string }{
		{payerAgent, "payer"}, {clinicAdmin, "provider"}, {patientAlice, "patient"}, {patientBob, "delegate"},
	} {
		ch.must(clinicNode, read(tc.reader, "ExplanationOfBenefit"))
		e := ch.event(claims.EventRead)
		if e == nil || e.Attr("as") != tc.as || e.Attr("reader") != addr(tc.reader).String() || e.Attr("node") != clinic ||
			e.Attr("view") != "ExplanationOfBenefit" || len(e.Accounts) != 2 || e.Accounts[0] != addr(patientAlice) {
			t.Errorf("read by %s: event %+v; want one as %s, naming alice's account", tc.reader, e, tc.as)
		}
	}
	preauth := ch.claim(line("70553", 250_000, 20250301))
	preauth.Use = claims.UsePreauth
	ch.must(clinicNode, preauth)
	for _, tc := range []struct {
		name   string
		signer string
		m      claims.Read
		want   tx.Code
	}{
		{"a reader who is no party", clinicNode, read(rivalAdmin, "ClaimResponse"), tx.CodeUnauthorized},
		{"a signer that is no node", payerAgent, read(payerAgent, "ClaimResponse"), tx.CodeUnauthorized},
		{"an unknown claim", clinicNode, claims.Read{Reader: addr(payerAgent), Purpose: "HPAYMT", View: "ClaimResponse", Claims: [][32]byte{sha256.Sum256([]byte("none"))}}, tx.CodeNotFound},
		{"a preauthorization's EOB", clinicNode, claims.Read{Reader: addr(patientAlice), Purpose: "PATRQT", View: "ExplanationOfBenefit", Claims: [][32]byte{preauth.Claim}}, tx.CodeInvalid},
		{"a purpose in lowercase", clinicNode, claims.Read{Reader: addr(payerAgent), Purpose: "hpaymt", View: "ClaimResponse", Claims: [][32]byte{d.Claim}}, tx.CodeInvalid},
		{"a claim named twice", clinicNode, claims.Read{Reader: addr(payerAgent), Purpose: "HPAYMT", View: "ClaimResponse", Claims: [][32]byte{d.Claim, d.Claim}}, tx.CodeInvalid},
		{"an unknown view", clinicNode, claims.Read{Reader: addr(payerAgent), Purpose: "HPAYMT", View: "Claim", Claims: [][32]byte{d.Claim}}, tx.CodeInvalid},
	} {
		if got := ch.exec(tc.signer, tc.m); got != tc.want || ch.events != nil {
			t.Errorf("%s: %v, events %v; want %v and no event", tc.name, got, ch.events, tc.want)
		}
	}
}
