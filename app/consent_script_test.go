package app_test

import (
	"fmt"

	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/governance"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/records"
	"github.com/careledger/careledger/tx"
)

// consentModel is the script generator's picture of the consent state: the
// numbers the contract will give grants and requests, and which are open.
type consentModel struct {
	grants   uint64 // grants created so far
	live     []grantModel
	requests uint64
	pending  []requestModel
	records  int
	// governance proposals, in order
	proposals []proposalModel
}

type proposalModel struct {
	id     uint64
	org    string // the proposer's organization, which voted yes
	closed bool
}

type grantModel struct {
	id      uint64
	patient *modelAccount
}

type requestModel struct {
	id      uint64
	patient *modelAccount
}

func patient(a *modelAccount) bool { return a.kind == identity.Patient }

func activeMember(a *modelAccount) bool { return a.kind == identity.Member && !a.suspended }

func (g *scriptGen) grant() (scriptTx, bool) {
	p := g.pick(patient)
	if p == nil {
		return scriptTx{}, false
	}
	orgs := []string{orgA, orgB, orgC}
	m := consent.Grant{
		Patient:   p.addr,
		Grantee:   consent.Grantee{Org: orgs[g.rng.IntN(len(orgs))]},
		Scope:     consent.Scope{Types: []string{"Observation", "Condition"}[:1+g.rng.IntN(2)]},
		Purposes:  []string{"TREAT"},
		NotAfter:  blockTime(int64(1 + g.rng.IntN(2*scriptBlocks))).Unix(),
		Condition: []string{"", `purpose == "TREAT"`}[g.rng.IntN(2)],
	}
	g.consent.grants++
	g.consent.live = append(g.consent.live, grantModel{g.consent.grants, p})
	return scriptTx{g.next(p, true, consent.Encode(m)), tx.CodeOK, "grant"}, true
}

func (g *scriptGen) revoke() (scriptTx, bool) {
	c := &g.consent
	if len(c.live) == 0 {
		return scriptTx{}, false
	}
	i := g.rng.IntN(len(c.live))
	gm := c.live[i]
	c.live = append(c.live[:i], c.live[i+1:]...)
	return scriptTx{g.next(gm.patient, true, consent.Encode(consent.Revoke{Grant: gm.id})), tx.CodeOK, "revoke"}, true
}

func (g *scriptGen) request() (scriptTx, bool) {
	m, p := g.pick(activeMember), g.pick(patient)
	if m == nil || p == nil {
		return scriptTx{}, false
	}
	q := consent.Request{Patient: p.addr, Scope: consent.Scope{Types: []string{"*"}}, Purpose: "TREAT", Duration: 3600, Reason: "referral"}
	g.consent.requests++
	g.consent.pending = append(g.consent.pending, requestModel{g.consent.requests, p})
	return scriptTx{g.next(m, true, consent.Encode(q)), tx.CodeOK, "request access"}, true
}

// answer answers a pending request. The contract checks the requester no
// further, so an approval always creates a grant.
func (g *scriptGen) answer() (scriptTx, bool) {
	c := &g.consent
	if len(c.pending) == 0 {
		return scriptTx{}, false
	}
	rm := c.pending[0]
	c.pending = c.pending[1:]
	approve := g.rng.IntN(2) == 0
	if approve {
		c.grants++
		c.live = append(c.live, grantModel{c.grants, rm.patient})
	}
	raw := g.next(rm.patient, true, consent.Encode(consent.Answer{Request: rm.id, Approve: approve}))
	return scriptTx{raw, tx.CodeOK, "answer request"}, true
}

func (g *scriptGen) access() (scriptTx, bool) {
	svc, req, p := g.pick(func(a *modelAccount) bool { return activeMember(a) && a.service }), g.pick(activeMember), g.pick(patient)
	if svc == nil || req == nil || p == nil {
		return scriptTx{}, false
	}
	m := consent.Access{
		Requester: req.addr, Patient: p.addr, Purpose: []string{"TREAT", "ETREAT"}[g.rng.IntN(2)], BreakGlass: g.rng.IntN(3) == 0,
		Items: []consent.Item{{Type: "Observation"}, {Type: "Condition", ID: fmt.Sprint(g.rng.IntN(5)), Categories: []string{"problem-list-item"}}},
	}
	return scriptTx{g.next(svc, true, consent.Encode(m)), tx.CodeOK, "access"}, true
}

func (g *scriptGen) anchor() (scriptTx, bool) {
	svc, p := g.pick(func(a *modelAccount) bool { return activeMember(a) && (a.service || a.admin) }), g.pick(patient)
	if svc == nil || p == nil {
		return scriptTx{}, false
	}
	g.consent.records++
	root, err := records.Root([]records.Leaf{{Type: "Observation", ID: fmt.Sprint(g.consent.records), Version: 1}})
	if err != nil {
		g.t.Fatal(err)
	}
	m := records.Anchor{Custodian: svc.org, Patient: p.addr, Root: root, Count: 1}
	return scriptTx{g.next(svc, true, records.Encode(m)), tx.CodeOK, "anchor"}, true
}

func (g *scriptGen) erase() (scriptTx, bool) {
	p := g.pick(patient)
	if p == nil {
		return scriptTx{}, false
	}
	g.consent.records++
	m := records.Erase{Custodian: orgA, Patient: p.addr, Record: fmt.Sprintf("Observation/e%d", g.consent.records)}
	return scriptTx{g.next(p, true, records.Encode(m)), tx.CodeOK, "erase"}, true
}

// badCondition is a grant whose condition does not compile: refused before
// the sequence, like every stateless error.
func (g *scriptGen) badCondition() (scriptTx, bool) {
	p := g.pick(patient)
	if p == nil {
		return scriptTx{}, false
	}
	m := consent.Grant{Patient: p.addr, Grantee: consent.Grantee{Org: orgA}, Scope: consent.Scope{Types: []string{"*"}}, Purposes: []string{"TREAT"}, Condition: "purpose =="}
	return scriptTx{g.next(p, false, consent.Encode(m)), tx.CodeInvalid, "bad condition"}, true
}

// validatorAdmin picks an active genesis admin of a validator organization
// (orgA or orgB) other than not.
func (g *scriptGen) validatorAdmin(not string) *modelAccount {
	return g.pick(func(a *modelAccount) bool {
		return a.genesis && !a.suspended && (a.org == orgA || a.org == orgB) && a.org != not
	})
}

// propose opens a parameter proposal; its proposer's organization votes
// yes with it.
func (g *scriptGen) propose() (scriptTx, bool) {
	a := g.validatorAdmin("")
	if a == nil {
		return scriptTx{}, false
	}
	m := governance.Propose{Kind: governance.SetParams, Deadline: uint64(1 + g.rng.IntN(20)),
		Params: governance.Params{CELCostLimit: uint64(1000 + g.rng.IntN(1000))}}
	g.consent.proposals = append(g.consent.proposals, proposalModel{id: uint64(len(g.consent.proposals) + 1), org: a.org})
	return scriptTx{g.next(a, true, governance.Encode(m)), tx.CodeOK, "propose"}, true
}

// voteNo votes against an open proposal from the other validator
// organization: 5 or 10 of 15 against, which rejects it either way, so
// that the script never depends on a deadline.
func (g *scriptGen) voteNo() (scriptTx, bool) {
	ps := g.consent.proposals
	if len(ps) == 0 || ps[len(ps)-1].closed {
		return scriptTx{}, false
	}
	p := &ps[len(ps)-1]
	a := g.validatorAdmin(p.org)
	if a == nil {
		return scriptTx{}, false
	}
	p.closed = true
	return scriptTx{g.next(a, true, governance.Encode(governance.Vote{Proposal: p.id})), tx.CodeOK, "vote no"}, true
}
