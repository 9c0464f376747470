package apptest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/governance"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/records"
	"github.com/careledger/careledger/tx"
)

// The scripted chain: enough blocks and transactions to touch every message
// and every envelope check, small enough to run in well under a second.
const (
	ScriptBlocks = 76
	ScriptSeed   = 20250301
)

// ScriptTx is one transaction of the script and the code the rules give it.
type ScriptTx struct {
	Raw  []byte
	Want tx.Code
	What string // the generator's intent, for failure messages
}

// modelAccount is the generator's picture of one account.
type modelAccount struct {
	key       ed25519.PrivKey
	addr      tx.Address
	kind      identity.Kind
	org       string
	admin     bool
	service   bool
	privacy   bool         // holds the privacy officer role
	claims    bool         // holds the claims agent role
	covered   bool         // a patient the claims script has covered
	delegates []tx.Address // a patient's delegates
	genesis   bool
	suspended bool
	seq       uint64
	accepted  [][]byte // sequenced transactions signed with the current key
}

// scriptGen generates a deterministic block sequence from a seeded PRNG,
// tracking a model of the identity state so that it knows the next sequence
// of every account and the code every transaction must get.
type scriptGen struct {
	t      testing.TB
	rng    *rand.Rand
	accts  []*modelAccount // in creation order, so that choices are deterministic
	byKey  map[string]*modelAccount
	fresh  int
	height int64 // of the block being generated

	consent  consentModel
	recovery recoveryModel
	supply   supplyModel
	claims   claimsModel
	sched    scheduleModel
	trials   trialsModel
}

func newScriptGen(t testing.TB, seed uint64) *scriptGen {
	g := &scriptGen{t: t, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), byKey: map[string]*modelAccount{}}
	gen, _ := Genesis()
	for _, o := range gen.Organizations {
		for _, k := range o.Admins {
			for _, name := range []string{"admin-a", "admin-a2", "admin-b", "admin-c", "admin-d"} {
				if key := Key(name); bytes.Equal(Pub(key), k) {
					g.add(&modelAccount{key: key, kind: identity.Member, org: o.ID, admin: true, genesis: true})
				}
			}
		}
	}
	return g
}

func (g *scriptGen) add(a *modelAccount) {
	a.addr = Addr(a.key)
	g.accts = append(g.accts, a)
	g.byKey[string(Pub(a.key))] = a
}

func (g *scriptGen) freshKey(kind string) ed25519.PrivKey {
	g.fresh++
	return Key(fmt.Sprintf("%s-%d", kind, g.fresh))
}

// pick returns a random account satisfying ok, or nil.
func (g *scriptGen) pick(ok func(*modelAccount) bool) *modelAccount {
	var c []*modelAccount
	for _, a := range g.accts {
		if ok(a) {
			c = append(c, a)
		}
	}
	if len(c) == 0 {
		return nil
	}
	return c[g.rng.IntN(len(c))]
}

func active(a *modelAccount) bool      { return !a.suspended }
func activeAdmin(a *modelAccount) bool { return !a.suspended && a.admin }

func (g *scriptGen) roles() []identity.Role {
	all := identity.Roles()
	n := 1 + g.rng.IntN(3)
	rs := make([]identity.Role, n)
	for i := range rs {
		rs[i] = all[g.rng.IntN(len(all))]
	}
	return rs
}

// sign signs msgs as a with sequence seq on chain.
func (g *scriptGen) sign(a *modelAccount, chain string, seq uint64, msgs ...tx.Msg) []byte {
	return SignTx(g.t, chain, a.key, seq, msgs...)
}

// next returns a's next transaction carrying msgs; consumed tells whether
// the rules advance a's sequence (a message that fails after the envelope
// checks still consumes it).
func (g *scriptGen) next(a *modelAccount, consumed bool, msgs ...tx.Msg) []byte {
	raw := g.sign(a, ChainID, a.seq, msgs...)
	if consumed {
		a.seq++
		a.accepted = append(a.accepted, raw)
	}
	return raw
}

// genOp builds one transaction. It returns ok=false when the model has no
// account to do it with, and the caller picks another.
type genOp func(g *scriptGen) (ScriptTx, bool)

var scriptOps = []struct {
	weight int
	op     genOp
}{
	{6, (*scriptGen).registerPatient},
	{5, (*scriptGen).registerMember},
	{3, (*scriptGen).setRoles},
	{3, (*scriptGen).setStatus},
	{3, (*scriptGen).rotate},
	{1, (*scriptGen).badSignature},
	{1, (*scriptGen).replay},
	{1, (*scriptGen).skip},
	{1, (*scriptGen).unknownMessage},
	{1, (*scriptGen).wrongChain},
	{1, (*scriptGen).unknownSigner},
	{1, (*scriptGen).unauthorized},
	{1, (*scriptGen).wrongOrg},
	{1, (*scriptGen).suspendedActs},
	{1, (*scriptGen).keyInUse},
	{1, (*scriptGen).invalidRoles},
	{1, (*scriptGen).malformed},
	{3, (*scriptGen).grant},
	{1, (*scriptGen).revoke},
	{2, (*scriptGen).request},
	{2, (*scriptGen).answer},
	{3, (*scriptGen).access},
	{2, (*scriptGen).anchor},
	{1, (*scriptGen).erase},
	{1, (*scriptGen).badCondition},
	{1, (*scriptGen).propose},
	{2, (*scriptGen).voteNo},
	{1, (*scriptGen).setDelegate},
	{1, (*scriptGen).review},
	{1, (*scriptGen).setTeam},
	{2, (*scriptGen).setGuardians},
	{2, (*scriptGen).proposeRecovery},
	{3, (*scriptGen).approveRecovery},
	{1, (*scriptGen).cancelRecovery},
	{2, (*scriptGen).completeRecovery},
	{1, (*scriptGen).registerProduct},
	{8, (*scriptGen).supplyRecord},
	{6, (*scriptGen).supplyRelease},
	{1, (*scriptGen).supplyRecall},
	{2, (*scriptGen).supplyVerifications},
	{3, (*scriptGen).supplyParties},
	{2, (*scriptGen).claimsSetup},
	{2, (*scriptGen).claimsCoverage},
	{4, (*scriptGen).claimsSubmit},
	{1, (*scriptGen).claimsDeposit},
	{3, (*scriptGen).claimsAuthorize},
	{2, (*scriptGen).ledgerFund},
	{3, (*scriptGen).scheduleOpen},
	{4, (*scriptGen).scheduleBook},
	{1, (*scriptGen).scheduleCancel},
	{3, (*scriptGen).scheduleReschedule},
	{3, (*scriptGen).scheduleMark},
	{1, (*scriptGen).rewardsCreate},
	{1, (*scriptGen).rewardsClose},
	{1, (*scriptGen).rewardsRedeem},
	{3, (*scriptGen).claimsAppeal},
	{2, (*scriptGen).claimsDecideAppeal},
	{1, (*scriptGen).trialsSetup},
	{1, (*scriptGen).trialsAmend},
	{2, (*scriptGen).trialsConsent},
	{2, (*scriptGen).trialsEnroll},
	{1, (*scriptGen).trialsWithdraw},
	{2, (*scriptGen).trialsCommitData},
	{1, (*scriptGen).trialsReport},
	{1, (*scriptGen).trialsCriteria},
	{1, (*scriptGen).trialsContact},
	{1, (*scriptGen).trialsMatchCount},
	{1, (*scriptGen).setDevice},
	{1, (*scriptGen).claimsRead},
}

func (g *scriptGen) registerPatient() (ScriptTx, bool) {
	p := &modelAccount{key: g.freshKey("patient"), kind: identity.Patient}
	g.add(p)
	return ScriptTx{g.next(p, true, contract.Encode(identity.RegisterPatient{})), tx.CodeOK, "register patient"}, true
}

func (g *scriptGen) registerMember() (ScriptTx, bool) {
	admin := g.pick(activeAdmin)
	if admin == nil {
		return ScriptTx{}, false
	}
	m := &modelAccount{key: g.freshKey("member"), kind: identity.Member, org: admin.org}
	rs := g.roles()
	m.admin = slices.Contains(rs, identity.Admin)
	m.service = slices.Contains(rs, identity.Service)
	m.privacy = slices.Contains(rs, identity.PrivacyOfficer)
	m.claims = slices.Contains(rs, identity.ClaimsAgent)
	raw := g.next(admin, true, contract.Encode(identity.RegisterMember{Org: admin.org, PubKey: Pub(m.key), Roles: rs}))
	g.add(m)
	return ScriptTx{raw, tx.CodeOK, "register member"}, true
}

// target picks a member registered by the script (never a genesis admin,
// so that every organization keeps an admin) in admin's organization.
func (g *scriptGen) target(admin *modelAccount) *modelAccount {
	return g.pick(func(a *modelAccount) bool {
		return a.kind == identity.Member && !a.genesis && a.org == admin.org && a != admin
	})
}

func (g *scriptGen) setRoles() (ScriptTx, bool) {
	admin := g.pick(activeAdmin)
	if admin == nil {
		return ScriptTx{}, false
	}
	m := g.target(admin)
	if m == nil {
		return ScriptTx{}, false
	}
	rs := g.roles()
	m.admin = slices.Contains(rs, identity.Admin)
	m.service = slices.Contains(rs, identity.Service)
	m.privacy = slices.Contains(rs, identity.PrivacyOfficer)
	m.claims = slices.Contains(rs, identity.ClaimsAgent)
	return ScriptTx{g.next(admin, true, contract.Encode(identity.SetMemberRoles{Member: m.addr, Roles: rs})), tx.CodeOK, "set roles"}, true
}

func (g *scriptGen) setStatus() (ScriptTx, bool) {
	admin := g.pick(activeAdmin)
	if admin == nil {
		return ScriptTx{}, false
	}
	m := g.target(admin)
	if m == nil {
		return ScriptTx{}, false
	}
	m.suspended = !m.suspended
	return ScriptTx{g.next(admin, true, contract.Encode(identity.SetMemberStatus{Member: m.addr, Suspended: m.suspended})), tx.CodeOK, "set status"}, true
}

func (g *scriptGen) rotate() (ScriptTx, bool) {
	a := g.pick(active)
	nk := g.freshKey("rotated")
	raw := g.next(a, true, Rotation(g.t, a.addr, nk, nk))
	delete(g.byKey, string(Pub(a.key)))
	a.key, a.accepted = nk, nil
	g.byKey[string(Pub(nk))] = a
	return ScriptTx{raw, tx.CodeOK, "rotate key"}, true
}

func (g *scriptGen) badSignature() (ScriptTx, bool) {
	a := g.pick(active)
	raw := g.next(a, false, contract.Encode(identity.RegisterPatient{}))
	raw[len(raw)-1-g.rng.IntN(tx.SignatureSize)] ^= 1 << g.rng.IntN(8)
	return ScriptTx{raw, tx.CodeBadSignature, "bad signature"}, true
}

func (g *scriptGen) replay() (ScriptTx, bool) {
	a := g.pick(func(a *modelAccount) bool { return active(a) && len(a.accepted) > 0 })
	if a == nil {
		return ScriptTx{}, false
	}
	return ScriptTx{a.accepted[g.rng.IntN(len(a.accepted))], tx.CodeSequenceReplayed, "replay"}, true
}

func (g *scriptGen) skip() (ScriptTx, bool) {
	a := g.pick(active)
	raw := g.sign(a, ChainID, a.seq+1+uint64(g.rng.IntN(5)), contract.Encode(identity.RegisterPatient{}))
	return ScriptTx{raw, tx.CodeSequenceSkipped, "skipped sequence"}, true
}

func (g *scriptGen) unknownMessage() (ScriptTx, bool) {
	a := g.pick(active)
	raw := g.next(a, false, tx.Msg{Type: 1000 + uint64(g.rng.IntN(1000)), Body: []byte{1, 2, 3}})
	return ScriptTx{raw, tx.CodeUnknownMessage, "unknown message"}, true
}

func (g *scriptGen) wrongChain() (ScriptTx, bool) {
	a := g.pick(active)
	raw := g.sign(a, "careledger-other", a.seq, contract.Encode(identity.RegisterPatient{}))
	return ScriptTx{raw, tx.CodeWrongChain, "wrong chain"}, true
}

func (g *scriptGen) unknownSigner() (ScriptTx, bool) {
	stranger := &modelAccount{key: g.freshKey("stranger")}
	victim := g.pick(func(a *modelAccount) bool { return a.kind == identity.Member })
	raw := g.sign(stranger, ChainID, 0, contract.Encode(identity.SetMemberStatus{Member: victim.addr, Suspended: true}))
	return ScriptTx{raw, tx.CodeUnknownSigner, "unknown signer"}, true
}

func (g *scriptGen) unauthorized() (ScriptTx, bool) {
	a := g.pick(func(a *modelAccount) bool { return active(a) && !a.admin })
	if a == nil {
		return ScriptTx{}, false
	}
	var msg tx.Msg
	if a.kind == identity.Patient {
		victim := g.pick(func(a *modelAccount) bool { return a.kind == identity.Member })
		msg = contract.Encode(identity.SetMemberStatus{Member: victim.addr, Suspended: true})
	} else {
		msg = contract.Encode(identity.RegisterMember{Org: a.org, PubKey: Pub(g.freshKey("unauthorized")), Roles: []identity.Role{identity.Admin}})
	}
	return ScriptTx{g.next(a, true, msg), tx.CodeUnauthorized, "unauthorized"}, true
}

func (g *scriptGen) wrongOrg() (ScriptTx, bool) {
	admin := g.pick(activeAdmin)
	orgs := []string{OrgA, OrgB, OrgC}
	other := orgs[g.rng.IntN(len(orgs))]
	if admin == nil || other == admin.org {
		return ScriptTx{}, false
	}
	raw := g.next(admin, true, contract.Encode(identity.RegisterMember{Org: other, PubKey: Pub(g.freshKey("intruder")), Roles: []identity.Role{identity.Nurse}}))
	return ScriptTx{raw, tx.CodeWrongOrganization, "wrong organization"}, true
}

func (g *scriptGen) suspendedActs() (ScriptTx, bool) {
	a := g.pick(func(a *modelAccount) bool { return a.suspended })
	if a == nil {
		return ScriptTx{}, false
	}
	nk := g.freshKey("escape")
	raw := g.next(a, false, Rotation(g.t, a.addr, nk, nk))
	return ScriptTx{raw, tx.CodeSuspended, "suspended signer"}, true
}

func (g *scriptGen) keyInUse() (ScriptTx, bool) {
	a := g.pick(active)
	other := g.pick(func(b *modelAccount) bool { return b != a })
	return ScriptTx{g.next(a, true, Rotation(g.t, a.addr, other.key, other.key)), tx.CodeKeyInUse, "key in use"}, true
}

func (g *scriptGen) invalidRoles() (ScriptTx, bool) {
	admin := g.pick(activeAdmin)
	if admin == nil {
		return ScriptTx{}, false
	}
	// An unknown role is refused without state, before the sequence.
	raw := g.next(admin, false, contract.Encode(identity.RegisterMember{Org: admin.org, PubKey: Pub(g.freshKey("surgeon")), Roles: []identity.Role{"surgeon"}}))
	return ScriptTx{raw, tx.CodeInvalid, "invalid roles"}, true
}

func (g *scriptGen) malformed() (ScriptTx, bool) {
	raw := make([]byte, 1+g.rng.IntN(200))
	for i := range raw {
		raw[i] = byte(g.rng.Uint32())
	}
	raw[0] = 2 // an unsupported envelope version, so that it never decodes
	return ScriptTx{raw, tx.CodeMalformed, "malformed"}, true
}

// block generates the transactions of one block.
func (g *scriptGen) block() []ScriptTx {
	total := 0
	for _, o := range scriptOps {
		total += o.weight
	}
	n := 4 + g.rng.IntN(12)
	var out []ScriptTx
	for len(out) < n {
		w := g.rng.IntN(total)
		for _, o := range scriptOps {
			if w -= o.weight; w < 0 {
				if st, ok := o.op(g); ok {
					out = append(out, st)
				}
				break
			}
		}
	}
	return out
}

// Script returns the deterministic block sequence: the same on every call.
func Script(t testing.TB) [][]ScriptTx {
	t.Helper()
	g := newScriptGen(t, ScriptSeed)
	blocks := make([][]ScriptTx, ScriptBlocks)
	for i := range blocks {
		g.height = int64(i + 1)
		if i == len(blocks)-1 {
			blocks[i] = g.sweep()
		} else {
			blocks[i] = g.block()
		}
	}
	return blocks
}

// sweep builds a block that tries every operation once, in table order, so
// that each message the model can make by then appears in the script
// however the random blocks fell.
func (g *scriptGen) sweep() []ScriptTx {
	var out []ScriptTx
	for _, o := range scriptOps {
		if st, ok := o.op(g); ok {
			out = append(out, st)
		}
	}
	return out
}

// RawTxs returns the transactions of a scripted block.
func RawTxs(b []ScriptTx) [][]byte {
	out := make([][]byte, len(b))
	for i, st := range b {
		out[i] = st.Raw
	}
	return out
}

// consentModel is the script generator's picture of the consent state: the
// numbers the contract will give grants and requests, and which are open.
type consentModel struct {
	grants   uint64 // grants created so far
	live     []grantModel
	requests uint64
	pending  []requestModel
	teams    []*modelAccount // each care team's patient, by number - 1
	records  int
	// governance proposals, in order
	proposals []proposalModel
}

type proposalModel struct {
	id     uint64
	org    string // the proposer's organization, which voted yes
	ends   int64  // the last height votes count at
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

func (g *scriptGen) grant() (ScriptTx, bool) {
	p := g.pick(patient)
	if p == nil {
		return ScriptTx{}, false
	}
	orgs := []string{OrgA, OrgB, OrgC}
	m := consent.Grant{
		Patient:   p.addr,
		Grantee:   consent.Grantee{Org: orgs[g.rng.IntN(len(orgs))]},
		Scope:     consent.Scope{Types: []string{"Observation", "Condition"}[:1+g.rng.IntN(2)]},
		Purposes:  []string{"TREAT"},
		NotAfter:  BlockTime(int64(1 + g.rng.IntN(2*ScriptBlocks))).Unix(),
		Condition: []string{"", `purpose == "TREAT"`}[g.rng.IntN(2)],
	}
	if t := g.teamOf(p); t != 0 && g.rng.IntN(2) == 0 {
		m.Grantee = consent.Grantee{Team: t}
	}
	g.consent.grants++
	g.consent.live = append(g.consent.live, grantModel{g.consent.grants, p})
	return ScriptTx{g.next(p, true, contract.Encode(m)), tx.CodeOK, "grant"}, true
}

// teamOf returns the number of one of p's care teams, or 0.
func (g *scriptGen) teamOf(p *modelAccount) uint64 {
	var mine []uint64
	for i, owner := range g.consent.teams {
		if owner == p {
			mine = append(mine, uint64(i+1))
		}
	}
	if len(mine) == 0 {
		return 0
	}
	return mine[g.rng.IntN(len(mine))]
}

// setTeam has a patient form a care team of a member, or name another
// member to one of their teams.
func (g *scriptGen) setTeam() (ScriptTx, bool) {
	p, m := g.pick(patient), g.pick(func(a *modelAccount) bool { return a.kind == identity.Member })
	if p == nil || m == nil {
		return ScriptTx{}, false
	}
	team := g.teamOf(p)
	if team == 0 {
		g.consent.teams = append(g.consent.teams, p)
	}
	msg := consent.SetTeam{Patient: p.addr, Team: team, Members: []tx.Address{m.addr}}
	return ScriptTx{g.next(p, true, contract.Encode(msg)), tx.CodeOK, "set care team"}, true
}

func (g *scriptGen) revoke() (ScriptTx, bool) {
	c := &g.consent
	if len(c.live) == 0 {
		return ScriptTx{}, false
	}
	i := g.rng.IntN(len(c.live))
	gm := c.live[i]
	c.live = append(c.live[:i], c.live[i+1:]...)
	return ScriptTx{g.next(gm.patient, true, contract.Encode(consent.Revoke{Grant: gm.id})), tx.CodeOK, "revoke"}, true
}

func (g *scriptGen) request() (ScriptTx, bool) {
	m, p := g.pick(activeMember), g.pick(patient)
	if m == nil || p == nil {
		return ScriptTx{}, false
	}
	q := consent.Request{Patient: p.addr, Scope: consent.Scope{Types: []string{"*"}}, Purpose: "TREAT", Duration: 3600, Reason: "referral"}
	g.consent.requests++
	g.consent.pending = append(g.consent.pending, requestModel{g.consent.requests, p})
	return ScriptTx{g.next(m, true, contract.Encode(q)), tx.CodeOK, "request access"}, true
}

// answer answers a pending request. The contract checks the requester no
// further, so an approval always creates a grant.
func (g *scriptGen) answer() (ScriptTx, bool) {
	c := &g.consent
	if len(c.pending) == 0 {
		return ScriptTx{}, false
	}
	rm := c.pending[0]
	c.pending = c.pending[1:]
	approve := g.rng.IntN(2) == 0
	if approve {
		c.grants++
		c.live = append(c.live, grantModel{c.grants, rm.patient})
	}
	raw := g.next(rm.patient, true, contract.Encode(consent.Answer{Request: rm.id, Approve: approve}))
	return ScriptTx{raw, tx.CodeOK, "answer request"}, true
}

func (g *scriptGen) access() (ScriptTx, bool) {
	svc, req, p := g.pick(func(a *modelAccount) bool { return activeMember(a) && a.service }), g.pick(activeMember), g.pick(patient)
	if svc == nil || req == nil || p == nil {
		return ScriptTx{}, false
	}
	m := consent.Access{
		Requester: req.addr, Patient: p.addr, Purpose: []string{"TREAT", "ETREAT"}[g.rng.IntN(2)], BreakGlass: g.rng.IntN(3) == 0,
		Items: []consent.Item{{Type: "Observation"}, {Type: "Condition", ID: fmt.Sprint(g.rng.IntN(5)), Categories: []string{"problem-list-item"}}},
	}
	if m.BreakGlass { // the reason from the patient's address: another draw would change the rest of the script
		m.GlassReason = consent.GlassReasons[int(p.addr[0])%len(consent.GlassReasons)]
	}
	return ScriptTx{g.next(svc, true, contract.Encode(m)), tx.CodeOK, "access"}, true
}

func (g *scriptGen) anchor() (ScriptTx, bool) {
	svc, p := g.pick(func(a *modelAccount) bool { return activeMember(a) && (a.service || a.admin) }), g.pick(patient)
	if svc == nil || p == nil {
		return ScriptTx{}, false
	}
	g.consent.records++
	root, err := records.Root([]records.Leaf{{Type: "Observation", ID: fmt.Sprint(g.consent.records), Version: 1}})
	if err != nil {
		g.t.Fatal(err)
	}
	m := records.Anchor{Custodian: svc.org, Patient: p.addr, Root: root, Count: 1}
	return ScriptTx{g.next(svc, true, contract.Encode(m)), tx.CodeOK, "anchor"}, true
}

func (g *scriptGen) erase() (ScriptTx, bool) {
	p := g.pick(patient)
	if p == nil {
		return ScriptTx{}, false
	}
	g.consent.records++
	m := records.Erase{Custodian: OrgA, Patient: p.addr, Record: fmt.Sprintf("Observation/e%d", g.consent.records)}
	return ScriptTx{g.next(p, true, contract.Encode(m)), tx.CodeOK, "erase"}, true
}

// badCondition is a grant whose condition does not compile: refused before
// the sequence, like every stateless error.
func (g *scriptGen) badCondition() (ScriptTx, bool) {
	p := g.pick(patient)
	if p == nil {
		return ScriptTx{}, false
	}
	m := consent.Grant{Patient: p.addr, Grantee: consent.Grantee{Org: OrgA}, Scope: consent.Scope{Types: []string{"*"}}, Purposes: []string{"TREAT"}, Condition: "purpose =="}
	return ScriptTx{g.next(p, false, contract.Encode(m)), tx.CodeInvalid, "bad condition"}, true
}

// validatorAdmin picks an active genesis admin of a validator organization
// (OrgA or OrgB) other than not.
func (g *scriptGen) validatorAdmin(not string) *modelAccount {
	return g.pick(func(a *modelAccount) bool {
		return a.genesis && !a.suspended && (a.org == OrgA || a.org == OrgB) && a.org != not
	})
}

// propose opens a parameter proposal; its proposer's organization votes
// yes with it.
func (g *scriptGen) propose() (ScriptTx, bool) {
	a := g.validatorAdmin("")
	if a == nil {
		return ScriptTx{}, false
	}
	m := governance.Propose{Kind: governance.SetParams, Deadline: uint64(1 + g.rng.IntN(20)),
		Params: governance.Params{CELCostLimit: uint64(1000 + g.rng.IntN(1000))}}
	g.consent.proposals = append(g.consent.proposals, proposalModel{
		id: uint64(len(g.consent.proposals) + 1), org: a.org, ends: g.height + int64(m.Deadline),
	})
	return ScriptTx{g.next(a, true, contract.Encode(m)), tx.CodeOK, "propose"}, true
}

// voteNo votes against an open proposal, before its deadline, from the
// other validator organization: 5 or 10 of 15 against, which rejects it
// either way.
func (g *scriptGen) voteNo() (ScriptTx, bool) {
	ps := g.consent.proposals
	if len(ps) == 0 || ps[len(ps)-1].closed || g.height > ps[len(ps)-1].ends {
		return ScriptTx{}, false
	}
	p := &ps[len(ps)-1]
	a := g.validatorAdmin(p.org)
	if a == nil {
		return ScriptTx{}, false
	}
	p.closed = true
	return ScriptTx{g.next(a, true, contract.Encode(governance.Vote{Proposal: p.id})), tx.CodeOK, "vote no"}, true
}

// setDelegate has a patient name another account as a delegate, or name
// one already named again (with a new relation), never more than the limit.
func (g *scriptGen) setDelegate() (ScriptTx, bool) {
	p := g.pick(func(a *modelAccount) bool { return patient(a) && len(a.delegates) < identity.MaxDelegates })
	if p == nil {
		return ScriptTx{}, false
	}
	d := g.pick(func(a *modelAccount) bool { return a != p })
	if !slices.Contains(p.delegates, d.addr) {
		p.delegates = append(p.delegates, d.addr)
	}
	rel := []identity.Relation{identity.Parent, identity.Caregiver}[g.rng.IntN(2)]
	raw := g.next(p, true, contract.Encode(identity.SetDelegate{Delegate: d.addr, Relation: rel}))
	return ScriptTx{raw, tx.CodeOK, "set delegate"}, true
}

// setDevice has a patient authorize a new monitoring device at OrgA, and
// half the time revoke it in the same transaction. The device's account is
// not in the model: it signs nothing, nor may it be named where accounts
// are picked (a delegate, a guardian, a team member).
func (g *scriptGen) setDevice() (ScriptTx, bool) {
	p := g.pick(patient)
	if p == nil {
		return ScriptTx{}, false
	}
	pub := Pub(g.freshKey("device"))
	msgs := []tx.Msg{contract.Encode(identity.SetDevice{Patient: p.addr, PubKey: pub, Custodian: OrgA,
		Codes: identity.CommitCodes([]byte("the script's salt"), []string{"8867-4", "2339-0"})})}
	if g.rng.IntN(2) == 0 {
		msgs = append(msgs, contract.Encode(identity.SetDevice{Patient: p.addr, PubKey: pub, Remove: true}))
	}
	return ScriptTx{g.next(p, true, msgs...), tx.CodeOK, "set device"}, true
}

// review has a privacy officer close the review of an access that broke no
// glass at their organization: the model does not follow which accesses
// break the glass, so it reviews one that cannot be pending (accesses are
// numbered from 1), which the contract refuses as not found.
func (g *scriptGen) review() (ScriptTx, bool) {
	po := g.pick(func(a *modelAccount) bool { return activeMember(a) && a.privacy })
	if po == nil {
		return ScriptTx{}, false
	}
	raw := g.next(po, true, contract.Encode(consent.Review{Access: 1 << 40, Justified: g.rng.IntN(2) == 0}))
	return ScriptTx{raw, tx.CodeNotFound, "review break-the-glass"}, true
}
