package apptest

import (
	"crypto/sha256"
	"fmt"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

// claimsModel is the script generator's picture of the claims state: OrgB
// is the payer, OrgA the provider.
type claimsModel struct {
	payerReady bool // plan, policy and funds in place, and OrgB's claims agent registered
	agentA     bool // OrgA's claims agent registered
	covered    []*modelAccount
	claims     int
	preauths   []preauthModel
	denied     []deniedModel
}

// deniedModel is a claim whose every line the policy denies (99999 is not
// in the fee schedule), and its appeals.
type deniedModel struct {
	id         [32]byte
	appeals    int  // filed so far
	open       bool // the latest appeal awaits a decision
	overturned bool // no denied line is left to appeal
}

// preauthModel is a preauthorization whose line 0 the model knows the state
// of: one for 70553 is approved by the rules, one for 99999 (not in the fee
// schedule) denied until a claims agent authorizes it.
type preauthModel struct {
	id         [32]byte
	patient    *modelAccount
	authorized bool
}

// scriptPolicy is the payer's policy version 1, from 2025-01-01.
var scriptPolicy = claims.PolicyLoad{
	Payer: OrgB, Version: 1,
	Fees:  []claims.Fee{{Code: "99213", Allowed: 10_000}, {Code: "36415", Allowed: 1_000}, {Code: "70553", Allowed: 200_000}},
	Pairs: []claims.CodePair{{Column1: "99213", Column2: "36415", Modifier: 1}},
	Units: []claims.UnitLimit{{Code: "36415", Max: 1}},
	Rules: []claims.Rule{
		{ID: "office", Action: claims.Deny, Reason: "58", Expr: `code == "99213" && place != "11"`},
		{ID: "mri", Action: claims.RequireAuth, Expr: `code == "70553"`},
	},
}

// claimsSetup readies the payer (plan, policy, publication, funds and a
// claims agent, in one transaction), then the provider's claims agent.
func (g *scriptGen) claimsSetup() (ScriptTx, bool) {
	m := &g.claims
	if !m.payerReady {
		admin := g.orgAdmin(OrgB)
		if admin == nil {
			return ScriptTx{}, false
		}
		m.payerReady = true
		agent := g.claimsAgent(OrgB)
		raw := g.next(admin, true,
			contract.Encode(claims.RegisterPlan{Payer: OrgB, Plan: "basic", Deductible: 20_000, Coinsurance: 2_000, Copay: 1_500, OOPMax: 300_000, YearStart: 101}),
			contract.Encode(scriptPolicy),
			contract.Encode(claims.PolicyPublish{Payer: OrgB, Version: 1, Effective: 20250101}),
			contract.Encode(claims.Deposit{Payer: OrgB, Amount: 30_000}),
			contract.Encode(identity.RegisterMember{Org: OrgB, PubKey: Pub(agent.key), Roles: []identity.Role{identity.ClaimsAgent}}))
		g.add(agent)
		return ScriptTx{raw, tx.CodeOK, "claims payer setup"}, true
	}
	if g.pick(func(a *modelAccount) bool { return active(a) && a.org == OrgB && a.claims }) == nil {
		// The payer's agent lost its role or was suspended: another.
		if admin := g.orgAdmin(OrgB); admin != nil {
			agent := g.claimsAgent(OrgB)
			raw := g.next(admin, true, contract.Encode(identity.RegisterMember{Org: OrgB, PubKey: Pub(agent.key), Roles: []identity.Role{identity.ClaimsAgent}}))
			g.add(agent)
			return ScriptTx{raw, tx.CodeOK, "claims agent of the payer"}, true
		}
	}
	if m.agentA {
		return ScriptTx{}, false
	}
	admin := g.orgAdmin(OrgA)
	if admin == nil {
		return ScriptTx{}, false
	}
	m.agentA = true
	agent := g.claimsAgent(OrgA)
	raw := g.next(admin, true, contract.Encode(identity.RegisterMember{Org: OrgA, PubKey: Pub(agent.key), Roles: []identity.Role{identity.ClaimsAgent}}))
	g.add(agent)
	return ScriptTx{raw, tx.CodeOK, "claims agent of the provider"}, true
}

func (g *scriptGen) claimsAgent(org string) *modelAccount {
	return &modelAccount{key: g.freshKey("claims-agent"), kind: identity.Member, org: org, claims: true}
}

// activeAgent returns an active member of org that may act on claims.
func (g *scriptGen) activeAgent(org string) *modelAccount {
	return g.pick(func(a *modelAccount) bool { return active(a) && a.org == org && (a.claims || a.service) })
}

func (g *scriptGen) claimsCoverage() (ScriptTx, bool) {
	admin := g.orgAdmin(OrgB)
	p := g.pick(func(a *modelAccount) bool { return a.kind == identity.Patient && !a.covered })
	if admin == nil || p == nil || !g.claims.payerReady {
		return ScriptTx{}, false
	}
	p.covered = true
	g.claims.covered = append(g.claims.covered, p)
	m := claims.RegisterCoverage{Payer: OrgB, Coverage: covID(p), Plan: "basic", Patient: p.addr, Start: 20250101, End: 20251231}
	return ScriptTx{g.next(admin, true, contract.Encode(m)), tx.CodeOK, "register coverage"}, true
}

func covID(p *modelAccount) string { return fmt.Sprintf("cov-%x", p.addr[:4]) }

// claimsSubmit submits a claim or preauthorization for a covered patient;
// adjudication denies or approves lines, and the message applies either
// way. One in eight names a coverage that does not exist.
func (g *scriptGen) claimsSubmit() (ScriptTx, bool) {
	agent := g.activeAgent(OrgA)
	if agent == nil || len(g.claims.covered) == 0 {
		return ScriptTx{}, false
	}
	p := g.claims.covered[g.rng.IntN(len(g.claims.covered))]
	g.claims.claims++
	m := claims.Submit{
		Claim: sha256.Sum256(fmt.Appendf(nil, "script claim %d", g.claims.claims)), Use: claims.UseClaim,
		Patient: p.addr, Provider: OrgA, Payer: OrgB, Coverage: covID(p), Age: 30, Place: "11", Diagnoses: []string{"I10"},
	}
	date := uint32(20250000 + 100*(1+g.rng.IntN(12)) + 1 + g.rng.IntN(28))
	switch g.rng.IntN(8) {
	case 0:
		m.Coverage = "cov-none"
		m.Lines = []claims.Line{{Code: "99213", Units: 1, Charge: 12_000, Date: date}}
		return ScriptTx{g.next(agent, true, contract.Encode(m)), tx.CodeNotFound, "claim of an unknown coverage"}, true
	case 1, 2:
		m.Use = claims.UsePreauth
		code := []string{"70553", "99999"}[g.rng.IntN(2)]
		m.Lines = []claims.Line{{Code: code, Units: 1, Charge: 250_000, Date: date}}
		g.claims.preauths = append(g.claims.preauths, preauthModel{id: m.Claim, patient: p, authorized: code == "70553"})
		return ScriptTx{g.next(agent, true, contract.Encode(m)), tx.CodeOK, "preauthorization"}, true
	case 3:
		m.Lines = []claims.Line{{Code: "99999", Units: 1, Charge: 8_000, Date: date}}
		g.claims.denied = append(g.claims.denied, deniedModel{id: m.Claim})
		return ScriptTx{g.next(agent, true, contract.Encode(m)), tx.CodeOK, "denied claim"}, true
	}
	for _, code := range []string{"99213", "36415", "70553"}[:1+g.rng.IntN(3)] {
		l := claims.Line{Code: code, Units: uint64(1 + g.rng.IntN(2)), Charge: uint64(5_000 + g.rng.IntN(300_000)), Date: date, Pointers: []uint64{1}}
		if code == "70553" {
			for _, pa := range g.claims.preauths {
				if pa.patient == p {
					l.Auth = pa.id
				}
			}
		}
		m.Lines = append(m.Lines, l)
	}
	return ScriptTx{g.next(agent, true, contract.Encode(m)), tx.CodeOK, "claim"}, true
}

func (g *scriptGen) claimsDeposit() (ScriptTx, bool) {
	admin := g.orgAdmin(OrgB)
	if admin == nil || !g.claims.payerReady {
		return ScriptTx{}, false
	}
	m := claims.Deposit{Payer: OrgB, Amount: uint64(1 + g.rng.IntN(200_000))}
	return ScriptTx{g.next(admin, true, contract.Encode(m)), tx.CodeOK, "claims deposit"}, true
}

// claimsAuthorize has the payer's claims agent authorize line 0 of a
// preauthorization: applied once for one the rules denied, already_exists
// after that or for one they approved.
func (g *scriptGen) claimsAuthorize() (ScriptTx, bool) {
	agent := g.pick(func(a *modelAccount) bool { return active(a) && a.org == OrgB && a.claims })
	if agent == nil || len(g.claims.preauths) == 0 {
		return ScriptTx{}, false
	}
	pa := &g.claims.preauths[g.rng.IntN(len(g.claims.preauths))]
	code := tx.CodeOK
	if pa.authorized {
		code = tx.CodeAlreadyExists
	}
	pa.authorized = true
	return ScriptTx{g.next(agent, true, contract.Encode(claims.Authorize{Claim: pa.id, Lines: []uint64{0}})), code, "authorize"}, true
}

// claimsAppeal has the provider's agent appeal a denied claim: applied
// unless it was overturned or three appeals were filed (invalid), or an
// appeal is open (already_exists).
func (g *scriptGen) claimsAppeal() (ScriptTx, bool) {
	agent := g.activeAgent(OrgA)
	if agent == nil || len(g.claims.denied) == 0 {
		return ScriptTx{}, false
	}
	d := &g.claims.denied[g.rng.IntN(len(g.claims.denied))]
	code := tx.CodeOK
	switch {
	case d.overturned:
		code = tx.CodeInvalid
	case d.open:
		code = tx.CodeAlreadyExists
	case d.appeals >= claims.MaxAppeals:
		code = tx.CodeInvalid
	default:
		d.appeals++
		d.open = true
	}
	m := claims.Appeal{Claim: d.id, Reason: "coding-corrected", Letter: sha256.Sum256(d.id[:])}
	return ScriptTx{g.next(agent, true, contract.Encode(m)), code, "appeal"}, true
}

// claimsDecideAppeal has the payer's claims agent uphold or overturn a
// denied claim's appeal: applied when one is open, not_found before any
// appeal, already_exists once decided. An overturn pays, or queues.
func (g *scriptGen) claimsDecideAppeal() (ScriptTx, bool) {
	agent := g.pick(func(a *modelAccount) bool { return active(a) && a.org == OrgB && a.claims })
	if agent == nil || len(g.claims.denied) == 0 {
		return ScriptTx{}, false
	}
	d := &g.claims.denied[g.rng.IntN(len(g.claims.denied))]
	code := tx.CodeOK
	switch {
	case d.appeals == 0:
		code = tx.CodeNotFound
	case !d.open:
		code = tx.CodeAlreadyExists
	}
	m := claims.DecideAppeal{Claim: d.id, Overturn: g.rng.IntN(2) == 0, Reason: "reviewed"}
	d.overturned = d.overturned || d.open && m.Overturn
	d.open = false
	return ScriptTx{g.next(agent, true, contract.Encode(m)), code, "decide appeal"}, true
}

// claimsRead has a node's service key receipt a read of a denied claim by
// a member of the payer: applied; or of a claim never submitted:
// not_found.
func (g *scriptGen) claimsRead() (ScriptTx, bool) {
	node := g.pick(func(a *modelAccount) bool { return activeMember(a) && a.service })
	reader := g.pick(func(a *modelAccount) bool { return activeMember(a) && a.org == OrgB })
	if node == nil || reader == nil || len(g.claims.denied) == 0 {
		return ScriptTx{}, false
	}
	m := claims.Read{Reader: reader.addr, Purpose: "HPAYMT", View: "ClaimResponse",
		Claims: [][32]byte{g.claims.denied[g.rng.IntN(len(g.claims.denied))].id}}
	if g.rng.IntN(3) == 0 {
		m.Claims[0] = sha256.Sum256([]byte("never submitted"))
		return ScriptTx{g.next(node, true, contract.Encode(m)), tx.CodeNotFound, "read of an unknown claim"}, true
	}
	return ScriptTx{g.next(node, true, contract.Encode(m)), tx.CodeOK, "claim read"}, true
}
