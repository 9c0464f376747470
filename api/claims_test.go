package api_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/tx"
)

// TestLedgerAndClaimThroughTheAPI follows a claim through a real node: a
// short payer leaves the approved line pending; a deposit pays it; the
// denied line is appealed and overturned and paid; the balances, histories
// and the claim read back as the chain holds them.
func TestLedgerAndClaimThroughTheAPI(t *testing.T) {
	n := nodetest.Start(t, node.InitOptions{Others: []node.Org{{ID: "acme", Name: "Acme Health", Type: identity.Payer}}})
	ctx := t.Context()
	c := n.Client
	payerAdmin, err := node.KeysDir(n.Home).Load("acme-admin", nil)
	if err != nil {
		t.Fatal(err)
	}
	send := func(key ed25519.PrivKey, ms ...contract.Msg) {
		t.Helper()
		for _, m := range ms {
			if _, err := c.Send(ctx, key, contract.Encode(m)); err != nil {
				t.Fatalf("%T: %v", m, err)
			}
		}
	}
	clinicAgent := newMember(t, n, identity.ClaimsAgent)
	payerAgent := ed25519.GenPrivKey()
	patient, stranger := ed25519.GenPrivKey(), ed25519.GenPrivKey()
	send(patient, identity.RegisterPatient{})
	send(stranger, identity.RegisterPatient{})
	pa := tx.AddressOf(patient.PubKey().Bytes())
	send(payerAdmin,
		identity.RegisterMember{Org: "acme", PubKey: payerAgent.PubKey().Bytes(), Roles: []identity.Role{identity.ClaimsAgent}},
		claims.RegisterPlan{Payer: "acme", Plan: "basic", YearStart: 101},
		claims.PolicyLoad{Payer: "acme", Version: 1, Fees: []claims.Fee{{Code: "99213", Allowed: 10_000}}},
		claims.PolicyPublish{Payer: "acme", Version: 1, Effective: 20250101},
		claims.RegisterCoverage{Payer: "acme", Coverage: "cov-1", Plan: "basic", Patient: pa, Start: 20250101},
		claims.Deposit{Payer: "acme", Amount: 1_000})
	m := claims.Submit{
		Claim: sha256.Sum256([]byte("api claim")), Use: claims.UseClaim, Patient: pa, Provider: "local", Payer: "acme",
		Coverage: "cov-1", Age: 40, Place: "11",
		Lines: []claims.Line{{Code: "99213", Units: 1, Charge: 12_000, Date: 20250301}, {Code: "99999", Units: 1, Charge: 3_000, Date: 20250301}},
	}
	send(clinicAgent, m)

	payerTok, clinicTok := n.Token(t, payerAdmin), n.Token(t, n.Admin)
	acct, err := c.LedgerAccount(ctx, payerTok, "acme")
	if err != nil || acct.Balance != 1_000 || len(acct.Pending) != 1 || acct.Pending[0].Amount != 10_000 || acct.Pending[0].Claim != hex.EncodeToString(m.Claim[:]) {
		t.Fatalf("LedgerAccount(acme) = %+v, %v; want balance 1000 and the claim's 10000 pending", acct, err)
	}
	if acct, err := c.LedgerAccount(ctx, clinicTok, "local"); err != nil || len(acct.Pending) != 1 || acct.Pending[0].Payer != "acme" {
		t.Errorf("LedgerAccount(local) = %+v, %v; want the claim owed by acme pending", acct, err)
	}
	if _, err := c.LedgerAccount(ctx, clinicTok, "acme"); !refused(err) {
		t.Errorf("LedgerAccount(acme) as the clinic's admin = %v; want unauthorized", err)
	}
	if _, err := c.LedgerAccount(ctx, n.Token(t, newMember(t, n, identity.Auditor)), "no-such-org"); !notFound(err) {
		t.Errorf("LedgerAccount(no-such-org) as an auditor = %v; want not_found", err)
	}

	send(payerAdmin, claims.Deposit{Payer: "acme", Amount: 20_000})
	send(clinicAgent, claims.Appeal{Claim: m.Claim, Reason: "coding-corrected"})
	send(payerAgent, claims.DecideAppeal{Claim: m.Claim, Overturn: true, Reason: "corrected"})

	if _, err := c.Claim(ctx, clinicTok, m.Claim); err != nil {
		t.Errorf("Claim as the clinic's admin = %v", err)
	}
	got, err := c.Claim(ctx, n.Token(t, patient), m.Claim)
	if err != nil || got.Outcome != "approved" || !got.Paid || got.Settled != 13_000 || len(got.Appeals) != 1 || got.Appeals[0].State != "overturned" {
		t.Errorf("Claim as the patient = %+v, %v; want approved, paid 13000, one overturned appeal", got, err)
	}
	// The patient's read, committed before the answer, is in the patient's
	// audit trail; the clinic's read of its own claim is not.
	if reads := claimReads(t, n, patient, m.Claim); len(reads) != 1 || reads[0].Attr("as") != "patient" || reads[0].Attr("view") != "ClaimAnswer" {
		t.Errorf("claims.read events in the patient's trail = %+v; want the patient's read alone", reads)
	}
	if _, err := c.Claim(ctx, n.Token(t, stranger), m.Claim); !refused(err) {
		t.Errorf("Claim as another patient = %v; want unauthorized", err)
	}
	hist, err := c.LedgerHistory(ctx, clinicTok, "local", 0, 0)
	want := []ledger.Entry{
		{Seq: 1, Kind: ledger.KindReceived, Amount: 3_000, Counterparty: "acme", Balance: 13_000},
		{Seq: 0, Kind: ledger.KindReceived, Amount: 10_000, Counterparty: "acme", Balance: 10_000},
	}
	if err != nil || len(hist) != 2 {
		t.Fatalf("LedgerHistory(local) = %+v, %v; want two payments received", hist, err)
	}
	for i, e := range hist {
		w := want[i]
		if e.Seq != w.Seq || e.Kind != w.Kind || e.Amount != w.Amount || e.Counterparty != w.Counterparty || e.Balance != w.Balance || e.Ref != hex.EncodeToString(m.Claim[:]) {
			t.Errorf("history entry %d = %+v; want %+v for the claim", i, e, w)
		}
	}
	queue, err := c.Claims(ctx, payerTok, "acme", client.ClaimQuery{Status: claims.StatusApproved})
	if err != nil || len(queue.Claims) != 1 || queue.Claims[0].Claim != hex.EncodeToString(m.Claim[:]) || queue.Claims[0].Submitted != 15_000 ||
		queue.Claims[0].Appeals != 1 || !slices.Equal(queue.Claims[0].Edits, []string{"fee_schedule", "appeal_overturned"}) || !slices.Equal(queue.Claims[0].Versions, []uint64{1}) {
		t.Errorf("Claims(acme, approved) = %+v, %v; want the claim, 15000 submitted, its edits and version 1", queue, err)
	}
	for _, q := range []client.ClaimQuery{{Status: claims.StatusDenied}, {From: 20250302}, {To: 20250228}} {
		if got, err := c.Claims(ctx, clinicTok, "local", q); err != nil || len(got.Claims) != 0 {
			t.Errorf("Claims(local, %+v) = %+v, %v; want none", q, got, err)
		}
	}
	if _, err := c.Claims(ctx, clinicTok, "acme", client.ClaimQuery{}); !refused(err) {
		t.Errorf("Claims(acme) as the clinic's admin = %v; want unauthorized", err)
	}
	if _, err := c.Claims(ctx, payerTok, "acme", client.ClaimQuery{Status: "paid"}); err == nil {
		t.Error("Claims(acme, status paid) = ok; want invalid")
	}
	if vs, err := c.Policies(ctx, clinicTok, "acme"); err != nil || len(vs) != 1 || !vs[0].Complete || vs[0].Fees != 1 || vs[0].Effective != 20250101 {
		t.Errorf("Policies(acme) = %+v, %v; want version 1 complete with one fee", vs, err)
	}
	hist, err = c.LedgerHistory(ctx, payerTok, "acme", 3, 1)
	if err != nil || len(hist) != 1 || hist[0].Seq != 2 || hist[0].Kind != ledger.KindPaid || hist[0].Amount != 10_000 || hist[0].Balance != 11_000 {
		t.Errorf("LedgerHistory(acme, before 3, limit 1) = %+v, %v; want the payment of 10000 leaving 11000", hist, err)
	}
}

func notFound(err error) bool {
	code, ok := tx.CodeOf(err)
	return ok && code == tx.CodeNotFound
}

// claimReads returns the claims.read events of claim in patient's audit
// trail, as the patient lists them, once the log holds one.
func claimReads(t *testing.T, n *nodetest.Node, patient ed25519.PrivKey, claim [32]byte) []contract.Event {
	t.Helper()
	hdr := http.Header{"Authorization": {"Bearer " + n.Token(t, patient)}}
	url := n.URL + "/v1/audit/events?limit=1000&account=" + tx.AddressOf(patient.PubKey().Bytes()).String()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		res, body := do(t, "GET", url, nil, hdr)
		var l v1.EventList
		if err := json.Unmarshal(body, &l); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("audit events = %d %s", res.StatusCode, body)
		}
		var out []contract.Event
		for _, e := range l.Events {
			if e.Event.Event.Type == claims.EventRead && e.Event.Event.Attr("claim") == hex.EncodeToString(claim[:]) {
				out = append(out, e.Event.Event)
			}
		}
		if len(out) > 0 || time.Now().After(deadline) {
			return out
		}
	}
}
