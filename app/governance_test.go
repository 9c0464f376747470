package app_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/careledger/careledger/apptest"
	"github.com/careledger/careledger/contract"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/governance"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

// govChain sends transactions one per block and keeps FinalizeBlock's
// answers, for the validator updates.
type govChain struct {
	app  *app.App
	rec  *recorder
	last *abci.ResponseFinalizeBlock
}

func (g *govChain) send(t *testing.T, key ed25519.PrivKey, m contract.Msg) app.TxResult {
	t.Helper()
	raw := apptest.SignTx(t, apptest.ChainID, key, apptest.Sequence(t, g.app, apptest.Addr(key)), contract.Encode(m))
	g.last = apptest.ApplyBlock(t, g.app, apptest.Height(t, g.app)+1, [][]byte{raw})
	return g.rec.last(t)
}

func proposal(t *testing.T, a *app.App, id uint64) *governance.Proposal {
	t.Helper()
	p, err := governance.LoadProposal(a.State(), id)
	if err != nil || p == nil {
		t.Fatalf("LoadProposal(%d) = %v, %v", id, p, err)
	}
	return p
}

// TestGovernance walks proposals through the test network, where apptest.OrgA (10)
// and apptest.OrgB (5) hold the validator power and apptest.OrgC none: admitting an
// organization with a validator, parameters, an expired proposal, a
// rejected one, suspending and reinstating the organization, and removing
// it.
func TestGovernance(t *testing.T) {
	a, rec := newRecordedChain(t)
	g := &govChain{app: a, rec: rec}
	adminA, adminB, adminC := apptest.Key("admin-a"), apptest.Key("admin-b"), apptest.Key("admin-c")
	labVal, labAdmin := apptest.Key("val-lab"), apptest.Key("admin-lab")
	admit := governance.Propose{Kind: governance.AdmitOrg, Deadline: 10, Org: identity.GenesisOrg{
		ID: "new-lab", Name: "New Lab", Type: identity.Provider, ValidatorKey: apptest.Pub(labVal), Power: 5,
		Admins: []tx.PubKey{apptest.Pub(labAdmin)},
	}}

	// An organization that could not be admitted is refused when proposed:
	// its ID or its validator key taken.
	for _, tc := range []struct {
		what string
		edit func(o *identity.GenesisOrg)
		code tx.Code
	}{
		{"an existing ID", func(o *identity.GenesisOrg) { o.ID = apptest.OrgC }, tx.CodeAlreadyExists},
		{"another's validator key", func(o *identity.GenesisOrg) { o.ValidatorKey = apptest.Pub(apptest.Key("val-a")) }, tx.CodeKeyInUse},
	} {
		bad := admit
		tc.edit(&bad.Org)
		if r := g.send(t, adminA, bad); r.Code != tc.code {
			t.Errorf("proposal to admit an organization with %s: %v (%s); want %v", tc.what, r.Code, r.Log, tc.code)
		}
	}
	if r := g.send(t, adminA, admit); r.Code != tx.CodeOK {
		t.Fatalf("propose: %v %s", r.Code, r.Log)
	}
	if p := proposal(t, a, 1); p.Status != governance.Open {
		t.Fatalf("after apptest.OrgA's yes (10 of 15): %s; want open", p.Status)
	}
	if r := g.send(t, adminC, governance.Vote{Proposal: 1, Yes: true}); r.Code != tx.CodeUnauthorized {
		t.Errorf("vote of an organization without power: %v; want unauthorized", r.Code)
	}
	if r := g.send(t, adminA, governance.Vote{Proposal: 1, Yes: true}); r.Code != tx.CodeAlreadyExists {
		t.Errorf("second vote of orgA: %v; want already_exists", r.Code)
	}
	g.send(t, adminB, governance.Vote{Proposal: 1, Yes: true})
	if p := proposal(t, a, 1); p.Status != governance.Passed {
		t.Fatalf("after apptest.OrgB's yes (15 of 15): %s; want passed", p.Status)
	}
	want := abci.Ed25519ValidatorUpdate(apptest.Pub(labVal), 5)
	if len(g.last.ValidatorUpdates) != 1 || g.last.ValidatorUpdates[0].Power != 5 ||
		!bytes.Equal(g.last.ValidatorUpdates[0].PubKey.GetEd25519(), want.PubKey.GetEd25519()) {
		t.Errorf("validator updates %v; want new-lab's key with power 5", g.last.ValidatorUpdates)
	}
	if acct := loadAccount(t, a, apptest.Addr(labAdmin)); acct.Org != "new-lab" || !acct.HasRole(identity.Admin) {
		t.Errorf("new-lab's admin: %+v", acct)
	}

	// Parameters: now 20 of power, apptest.OrgA and apptest.OrgB together hold 15 > 2/3.
	params := governance.Propose{Kind: governance.SetParams, Deadline: 10, Params: governance.Params{MaxTxBytes: 2048, MaxBlockBytes: 1 << 20, CELCostLimit: 5000}}
	g.send(t, adminA, params)
	g.send(t, adminB, governance.Vote{Proposal: 2, Yes: true})
	if p := proposal(t, a, 2); p.Status != governance.Passed {
		t.Fatalf("set_params: %s; want passed", p.Status)
	}
	if got := a.Params().MaxTxBytes; got != 2048 {
		t.Errorf("max tx bytes after set_params: %d; want 2048", got)
	}
	if c := g.last.ConsensusParamUpdates; c == nil || c.Block.MaxBytes != 1<<20 {
		t.Errorf("consensus param updates %v; want max block bytes 1 MiB", c)
	}
	if pol, err := consent.LoadPolicy(a.State()); err != nil || pol.CostLimit != 5000 {
		t.Errorf("CEL cost limit after set_params: %+v, %v; want 5000", pol, err)
	}

	// A proposal whose deadline passes expires.
	g.send(t, adminA, governance.Propose{Kind: governance.SuspendOrg, Org: identity.GenesisOrg{ID: apptest.OrgC}, Deadline: 1})
	apptest.Deliver(t, a)
	apptest.Deliver(t, a)
	if r := g.send(t, adminB, governance.Vote{Proposal: 3, Yes: true}); r.Code != tx.CodeInvalid {
		t.Errorf("vote after the deadline: %v; want invalid", r.Code)
	}

	// A third of the power against rejects.
	g.send(t, adminA, governance.Propose{Kind: governance.SuspendOrg, Org: identity.GenesisOrg{ID: apptest.OrgC}, Deadline: 10})
	g.send(t, labAdmin, governance.Vote{Proposal: 4, Yes: false})
	g.send(t, adminB, governance.Vote{Proposal: 4, Yes: false})
	if p := proposal(t, a, 4); p.Status != governance.Rejected {
		t.Errorf("suspension with 10 of 20 against: %s; want rejected", p.Status)
	}

	// Suspending it takes its validator out; reinstating it brings it back.
	for i, step := range []struct {
		kind  governance.Kind
		power int64
	}{{governance.SuspendOrg, 0}, {governance.ReinstateOrg, 5}} {
		g.send(t, adminA, governance.Propose{Kind: step.kind, Org: identity.GenesisOrg{ID: "new-lab"}, Deadline: 10})
		g.send(t, adminB, governance.Vote{Proposal: uint64(5 + i), Yes: true})
		if u := g.last.ValidatorUpdates; len(u) != 1 || u[0].Power != step.power {
			t.Errorf("validator updates after %s: %v; want new-lab's with power %d", step.kind, u, step.power)
		}
	}

	// Removing the organization takes its validator out.
	g.send(t, adminA, governance.Propose{Kind: governance.RemoveOrg, Org: identity.GenesisOrg{ID: "new-lab"}, Deadline: 10})
	g.send(t, adminB, governance.Vote{Proposal: 7, Yes: true})
	if len(g.last.ValidatorUpdates) != 1 || g.last.ValidatorUpdates[0].Power != 0 {
		t.Errorf("validator updates after removal: %v; want new-lab's with power 0", g.last.ValidatorUpdates)
	}
	if r := g.send(t, labAdmin, governance.Propose{Kind: governance.SuspendOrg, Org: identity.GenesisOrg{ID: apptest.OrgC}, Deadline: 10}); r.Code != tx.CodeSuspended {
		t.Errorf("proposal by a removed organization's admin: %v; want suspended", r.Code)
	}
	// For good: it cannot be reinstated or given power again.
	for _, kind := range []governance.Kind{governance.ReinstateOrg, governance.SetPower, governance.RemoveOrg} {
		if r := g.send(t, adminA, governance.Propose{Kind: kind, Org: identity.GenesisOrg{ID: "new-lab", Power: 5}, Deadline: 10}); r.Code != tx.CodeInvalid {
			t.Errorf("%s of a removed organization: %v (%s); want invalid", kind, r.Code, r.Log)
		}
	}
	if o, err := identity.LoadOrg(a.State(), "new-lab"); err != nil || !o.Removed || !o.Suspended || o.Power != 0 {
		t.Errorf("removed organization: %+v, %v; want removed, suspended, no power", o, err)
	}

	// Evidence of its misbehavior while it validated, committed after its
	// removal, still names it.
	h := apptest.Height(t, a) + 1
	labAddr := ed25519.PubKey(apptest.Pub(labVal)).Address()
	if _, err := a.FinalizeBlock(context.Background(), &abci.RequestFinalizeBlock{Height: h, Time: apptest.BlockTime(h), Misbehavior: []abci.Misbehavior{{
		Type: abci.MisbehaviorType_DUPLICATE_VOTE, Validator: abci.Validator{Address: labAddr, Power: 5}, Height: h - 4, Time: apptest.BlockTime(h - 4), TotalVotingPower: 20,
	}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Commit(context.Background(), &abci.RequestCommit{}); err != nil {
		t.Fatal(err)
	}
	if ev := rec.blocks[len(rec.blocks)-1].Events; len(ev) != 1 || ev[0].Attrs[0].Value != "new-lab" {
		t.Errorf("late evidence of new-lab's validator: events %+v; want it named", ev)
	}
}

// TestSetPower changes a validator organization's power by proposal, and
// refuses power to an organization without a validator key or that does
// not exist.
func TestSetPower(t *testing.T) {
	a, rec := newRecordedChain(t)
	g := &govChain{app: a, rec: rec}
	adminA, adminB := apptest.Key("admin-a"), apptest.Key("admin-b")

	g.send(t, adminA, governance.Propose{Kind: governance.SetPower, Org: identity.GenesisOrg{ID: apptest.OrgB, Power: 7}, Deadline: 10})
	g.send(t, adminB, governance.Vote{Proposal: 1, Yes: true})
	if p := proposal(t, a, 1); p.Status != governance.Passed {
		t.Fatalf("set_power: %s; want passed", p.Status)
	}
	if u := g.last.ValidatorUpdates; len(u) != 1 || u[0].Power != 7 {
		t.Errorf("validator updates after set_power: %v; want %s's with power 7", u, apptest.OrgB)
	}
	if o, err := identity.LoadOrg(a.State(), apptest.OrgB); err != nil || o.Power != 7 {
		t.Errorf("%s after set_power: %+v, %v; want power 7", apptest.OrgB, o, err)
	}

	for _, tc := range []struct {
		org  string
		code tx.Code
	}{{apptest.OrgC, tx.CodeInvalid}, {"no-such-org", tx.CodeNotFound}} {
		if r := g.send(t, adminA, governance.Propose{Kind: governance.SetPower, Org: identity.GenesisOrg{ID: tc.org, Power: 3}, Deadline: 10}); r.Code != tc.code {
			t.Errorf("set_power for %s: %v (%s); want %v", tc.org, r.Code, r.Log, tc.code)
		}
	}
}

// TestProposalFails checks what could not be carried out: a proposal that
// could not be is refused, and one that no longer can when it passes ends
// failed, with the reason, changing nothing.
func TestProposalFails(t *testing.T) {
	a, rec := newRecordedChain(t)
	g := &govChain{app: a, rec: rec}
	adminA, adminB := apptest.Key("admin-a"), apptest.Key("admin-b")

	bad := governance.Propose{Kind: governance.SetParams, Deadline: 10, Params: governance.Params{DefaultPolicy: "request.purpose =="}}
	if r := g.send(t, adminA, bad); r.Code != tx.CodeInvalid {
		t.Errorf("proposing a policy that does not compile: %v (%s); want invalid", r.Code, r.Log)
	}

	// Suspending apptest.OrgC, then, before that passes, removing it.
	g.send(t, adminA, governance.Propose{Kind: governance.SuspendOrg, Org: identity.GenesisOrg{ID: apptest.OrgC}, Deadline: 10})
	g.send(t, adminA, governance.Propose{Kind: governance.RemoveOrg, Org: identity.GenesisOrg{ID: apptest.OrgC}, Deadline: 10})
	g.send(t, adminB, governance.Vote{Proposal: 2, Yes: true})
	before := apptest.Dump(t, a.State())
	r := g.send(t, adminB, governance.Vote{Proposal: 1, Yes: true})
	if r.Code != tx.CodeOK {
		t.Fatalf("deciding vote on a proposal that can no longer be carried out: %v (%s); want ok", r.Code, r.Log)
	}
	if p := proposal(t, a, 1); p.Status != governance.Failed || len(p.Yes) != 2 {
		t.Errorf("proposal 1: %s, yes %v; want failed with both votes", p.Status, p.Yes)
	}
	var reason string
	for _, e := range r.Events {
		if e.Type == "governance.failed" {
			for _, at := range e.Attrs {
				if at.Key == "reason" {
					reason = at.Value
				}
			}
		}
	}
	if !strings.Contains(reason, "was removed") {
		t.Errorf("events %+v; want governance.failed with the reason", r.Events)
	}
	// Nothing changed but the proposal, the voter's sequence and the audit
	// log, which every event extends.
	after := apptest.Dump(t, a.State())
	apptest.IgnoreSequence(t, before, after, apptest.Addr(adminB))
	delete(before, "l/log")
	delete(after, "l/log")
	if changed := apptest.DiffKeys(before, after); len(changed) != 1 || !strings.HasPrefix(changed[0], `"y/`) {
		t.Errorf("state keys changed by the failed proposal: %v; want only the proposal", changed)
	}
	if r := g.send(t, adminA, governance.Vote{Proposal: 1, Yes: true}); r.Code != tx.CodeInvalid {
		t.Errorf("vote on a failed proposal: %v; want invalid", r.Code)
	}
}

// TestMisbehavior gives FinalizeBlock the evidence of a validator that
// signed twice: the block records it, naming the organization, for
// governance to act on.
func TestMisbehavior(t *testing.T) {
	a, rec := newRecordedChain(t)
	h := apptest.Height(t, a) + 1
	valB := ed25519.PubKey(apptest.Pub(apptest.Key("val-b")))
	res, err := a.FinalizeBlock(context.Background(), &abci.RequestFinalizeBlock{Height: h, Time: apptest.BlockTime(h), Misbehavior: []abci.Misbehavior{{
		Type: abci.MisbehaviorType_DUPLICATE_VOTE, Validator: abci.Validator{Address: valB.Address(), Power: 5}, Height: h - 1, Time: apptest.BlockTime(h - 1), TotalVotingPower: 15,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Commit(context.Background(), &abci.RequestCommit{}); err != nil {
		t.Fatal(err)
	}
	b := rec.blocks[len(rec.blocks)-1]
	if len(b.Events) != 1 || b.Events[0].Type != "consensus.misbehavior" || b.Events[0].Attrs[0].Value != apptest.OrgB {
		t.Fatalf("block events %+v; want the misbehavior of %s", b.Events, apptest.OrgB)
	}
	if res.AppHash == nil {
		t.Fatal("no app hash")
	}
}
