package apptest

import (
	"slices"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

// MinRecoveryDelay is the test network's least recovery delay, in seconds:
// two blocks, so that the script sees recoveries complete.
const MinRecoveryDelay = 10

// RecoveryProposal returns the ProposeRecovery by which a guardian proposes
// moving patient to newKey, with newKey's proof.
func RecoveryProposal(t testing.TB, patient tx.Address, newKey ed25519.PrivKey) identity.ProposeRecovery {
	t.Helper()
	proof, err := newKey.Sign(identity.RotationSignBytes(ChainID, patient, Pub(newKey)))
	if err != nil {
		t.Fatal(err)
	}
	return identity.ProposeRecovery{Patient: patient, NewPubKey: Pub(newKey), Proof: proof}
}

// recoveryModel is the script generator's picture of recoveries: each
// patient's guardians and pending recovery, and the numbers the contract
// gives recoveries.
type recoveryModel struct {
	sets map[*modelAccount]*guardianModel
	ids  uint64
}

type guardianModel struct {
	guardians []*modelAccount
	threshold int
	delay     int64
	pending   *pendingModel
}

type pendingModel struct {
	id          uint64
	key         ed25519.PrivKey
	approvals   []*modelAccount
	effectiveAt int64 // Unix seconds; 0 until approved
}

func (g *scriptGen) guardianSet(p *modelAccount) *guardianModel {
	if g.recovery.sets == nil {
		g.recovery.sets = map[*modelAccount]*guardianModel{}
	}
	return g.recovery.sets[p]
}

// setGuardians has a patient name one to three guardians, replacing any
// set before and so cancelling a pending recovery.
func (g *scriptGen) setGuardians() (ScriptTx, bool) {
	p := g.pick(patient)
	if p == nil {
		return ScriptTx{}, false
	}
	set := &guardianModel{delay: MinRecoveryDelay + int64(g.rng.IntN(20))}
	for range 1 + g.rng.IntN(3) {
		c := g.pick(func(a *modelAccount) bool { return a != p && !slices.Contains(set.guardians, a) })
		if c != nil {
			set.guardians = append(set.guardians, c)
		}
	}
	set.threshold = 1 + g.rng.IntN(len(set.guardians))
	m := identity.SetGuardians{Threshold: uint64(set.threshold), Delay: uint64(set.delay)}
	for _, a := range set.guardians {
		m.Guardians = append(m.Guardians, a.addr)
	}
	g.guardianSet(p) // allocates the map
	g.recovery.sets[p] = set
	return ScriptTx{g.next(p, true, contract.Encode(m)), tx.CodeOK, "set guardians"}, true
}

// activeGuardian picks a guardian of set that may sign and, unless
// approved is nil, has not approved yet.
func (g *scriptGen) activeGuardian(set *guardianModel, approved []*modelAccount) *modelAccount {
	return g.pick(func(a *modelAccount) bool {
		return slices.Contains(set.guardians, a) && active(a) && !slices.Contains(approved, a)
	})
}

// proposeRecovery has a guardian propose moving a patient to a fresh key,
// replacing a proposal not yet approved.
func (g *scriptGen) proposeRecovery() (ScriptTx, bool) {
	p := g.pick(func(a *modelAccount) bool {
		s := g.guardianSet(a)
		return s != nil && (s.pending == nil || s.pending.effectiveAt == 0)
	})
	if p == nil {
		return ScriptTx{}, false
	}
	set := g.guardianSet(p)
	by := g.activeGuardian(set, nil)
	if by == nil {
		return ScriptTx{}, false
	}
	g.recovery.ids++
	set.pending = &pendingModel{id: g.recovery.ids, key: g.freshKey("recovered")}
	raw := g.next(by, true, contract.Encode(RecoveryProposal(g.t, p.addr, set.pending.key)))
	g.approve(set, by)
	return ScriptTx{raw, tx.CodeOK, "propose recovery"}, true
}

// approve records by's approval in the model.
func (g *scriptGen) approve(set *guardianModel, by *modelAccount) {
	r := set.pending
	r.approvals = append(r.approvals, by)
	if r.effectiveAt == 0 && len(r.approvals) >= set.threshold {
		r.effectiveAt = BlockTime(g.height).Add(time.Duration(set.delay) * time.Second).Unix()
	}
}

// pendingPatient picks a patient with a recovery pending that ok accepts.
func (g *scriptGen) pendingPatient(ok func(*guardianModel) bool) *modelAccount {
	return g.pick(func(a *modelAccount) bool {
		s := g.guardianSet(a)
		return s != nil && s.pending != nil && ok(s)
	})
}

func (g *scriptGen) approveRecovery() (ScriptTx, bool) {
	p := g.pendingPatient(func(*guardianModel) bool { return true })
	if p == nil {
		return ScriptTx{}, false
	}
	set := g.guardianSet(p)
	by := g.activeGuardian(set, set.pending.approvals)
	if by == nil {
		return ScriptTx{}, false
	}
	raw := g.next(by, true, contract.Encode(identity.ApproveRecovery{Patient: p.addr, Recovery: set.pending.id}))
	g.approve(set, by)
	return ScriptTx{raw, tx.CodeOK, "approve recovery"}, true
}

// cancelRecovery has the patient or one of their delegates cancel.
func (g *scriptGen) cancelRecovery() (ScriptTx, bool) {
	p := g.pendingPatient(func(*guardianModel) bool { return true })
	if p == nil {
		return ScriptTx{}, false
	}
	by := g.pick(func(a *modelAccount) bool { return a == p || (active(a) && slices.Contains(p.delegates, a.addr)) })
	set := g.guardianSet(p)
	raw := g.next(by, true, contract.Encode(identity.CancelRecovery{Patient: p.addr, Recovery: set.pending.id}))
	set.pending = nil
	return ScriptTx{raw, tx.CodeOK, "cancel recovery"}, true
}

// completeRecovery has the new key, not yet registered, complete a recovery
// that is due; one that is not is refused to a guardian who tries early.
func (g *scriptGen) completeRecovery() (ScriptTx, bool) {
	now := BlockTime(g.height).Unix()
	p := g.pendingPatient(func(s *guardianModel) bool { return s.pending.effectiveAt != 0 })
	if p == nil {
		return ScriptTx{}, false
	}
	set := g.guardianSet(p)
	m := contract.Encode(identity.CompleteRecovery{Patient: p.addr, Recovery: set.pending.id})
	if now < set.pending.effectiveAt {
		by := g.activeGuardian(set, nil)
		if by == nil {
			return ScriptTx{}, false
		}
		return ScriptTx{g.next(by, true, m), tx.CodeInvalid, "complete recovery early"}, true
	}
	// The new key signs at sequence 0, as an unregistered key; the
	// patient's own sequence goes on unchanged.
	nk := set.pending.key
	raw := g.sign(&modelAccount{key: nk}, ChainID, 0, m)
	delete(g.byKey, string(Pub(p.key)))
	p.key, p.accepted = nk, [][]byte{raw}
	g.byKey[string(Pub(nk))] = p
	set.pending = nil
	return ScriptTx{raw, tx.CodeOK, "complete recovery"}, true
}
