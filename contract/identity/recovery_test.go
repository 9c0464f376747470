package identity_test

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/state"
	"github.com/careledger/careledger/tx"
)

const (
	testChain = "careledger-test"
	day       = 24 * 60 * 60
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// chain drives the identity contract over an in-memory state as the app
// does: each transaction in its own overlay, kept only if it succeeds, its
// signer resolved from its key.
type chain struct {
	t      *testing.T
	st     *state.Overlay
	now    time.Time
	height int64
	keys   map[string]ed25519.PrivKey
}

func newChain(t *testing.T, g identity.Genesis) *chain {
	t.Helper()
	c := &chain{t: t, st: state.NewOverlay(state.OpenMemory().Working()), now: t0, height: 1, keys: map[string]ed25519.PrivKey{}}
	if g.Organizations == nil {
		g.Organizations = validGenesis().Organizations
		g.Organizations[0].Admins = append(g.Organizations[0].Admins, c.pub("admin"))
	}
	ctx := &contract.Context{ChainID: testChain, Height: 1, Time: t0, Store: c.st}
	if err := identity.InitGenesis(ctx, g); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *chain) key(name string) ed25519.PrivKey {
	if k, ok := c.keys[name]; ok {
		return k
	}
	k := ed25519.GenPrivKeyFromSecret([]byte(name))
	c.keys[name] = k
	return k
}

func (c *chain) pub(name string) []byte          { return c.key(name).PubKey().Bytes() }
func (c *chain) addr(name string) tx.Address     { return tx.AddressOf(c.pub(name)) }
func (c *chain) advance(d time.Duration)         { c.now, c.height = c.now.Add(d), c.height+1 }
func (c *chain) patients(names ...string) *chain { return c.each(names, identity.RegisterPatient{}) }

func (c *chain) each(names []string, m contract.Msg) *chain {
	c.t.Helper()
	for _, n := range names {
		c.ok(n, m)
	}
	return c
}

// exec executes m signed by the key named signer and returns its events.
func (c *chain) exec(signer string, m contract.Msg) ([]contract.Event, error) {
	key := c.pub(signer)
	own := c.st.Child()
	acct, err := identity.Resolve(own, key)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx := &contract.Context{ChainID: testChain, Height: c.height, Time: c.now, Store: own, Signer: tx.AddressOf(key), SignerKey: key}
	if acct != nil {
		ctx.Signer = acct.Address
	} else if spec := desc.Msg(m.Type()); spec == nil || !spec.Open {
		return nil, tx.Rejectf(tx.CodeUnknownSigner, "signer key is not registered")
	}
	if err := desc.Execute(ctx, contract.Encode(m)); err != nil {
		return nil, err
	}
	if err := own.Flush(); err != nil {
		c.t.Fatal(err)
	}
	return ctx.Events(), nil
}

// ok executes m and requires it to succeed.
func (c *chain) ok(signer string, m contract.Msg) []contract.Event {
	c.t.Helper()
	evs, err := c.exec(signer, m)
	if err != nil {
		c.t.Fatalf("%s signs %T%+v: %v; want success", signer, m, m, err)
	}
	return evs
}

// fails executes m and requires it to be rejected with want.
func (c *chain) fails(signer string, m contract.Msg, want tx.Code) {
	c.t.Helper()
	_, err := c.exec(signer, m)
	var rej *tx.Rejection
	if !errors.As(err, &rej) || rej.Code != want {
		c.t.Fatalf("%s signs %T%+v: %v; want rejection %v", signer, m, m, err, want)
	}
}

// proposal is a guardian's proposal to move patient to the key named
// newKey, with that key's proof.
func (c *chain) proposal(patient, newKey string) identity.ProposeRecovery {
	p := c.addr(patient)
	sig, err := c.key(newKey).Sign(identity.RotationSignBytes(testChain, p, c.pub(newKey)))
	if err != nil {
		c.t.Fatal(err)
	}
	return identity.ProposeRecovery{Patient: p, NewPubKey: c.pub(newKey), Proof: sig}
}

func (c *chain) guardians(patient string) *identity.GuardianSet {
	c.t.Helper()
	g, err := identity.Guardians(c.st, c.addr(patient))
	if err != nil {
		c.t.Fatal(err)
	}
	return g
}

// signsFor returns the account the key named k signs for, or nil.
func (c *chain) signsFor(k string) *tx.Address {
	c.t.Helper()
	a, err := identity.Resolve(c.st, c.pub(k))
	if err != nil {
		c.t.Fatal(err)
	}
	if a == nil {
		return nil
	}
	return &a.Address
}

// setup registers a patient "pat" with guardians g1, g2, g3 (k of them),
// a delegate "del", and a one-day delay.
func setup(t *testing.T, k uint64) *chain {
	c := newChain(t, identity.Genesis{}).patients("pat", "g1", "g2", "g3", "del", "stranger")
	c.ok("pat", identity.SetDelegate{Delegate: c.addr("del"), Relation: identity.Caregiver})
	c.ok("pat", identity.SetGuardians{Guardians: []tx.Address{c.addr("g1"), c.addr("g2"), c.addr("g3")}, Threshold: k, Delay: day})
	return c
}

func approve(c *chain, id uint64) identity.ApproveRecovery {
	return identity.ApproveRecovery{Patient: c.addr("pat"), Recovery: id}
}

func complete(c *chain, id uint64) identity.CompleteRecovery {
	return identity.CompleteRecovery{Patient: c.addr("pat"), Recovery: id}
}

func cancel(c *chain, id uint64) identity.CancelRecovery {
	return identity.CancelRecovery{Patient: c.addr("pat"), Recovery: id}
}

func TestRecoveryMovesAccountAfterDelay(t *testing.T) {
	c := setup(t, 2)
	evs := c.ok("g1", c.proposal("pat", "new"))
	if got := evs[0].Attr("effective_at"); got != "" {
		t.Fatalf("one approval of two scheduled the recovery at %s", got)
	}
	c.fails("new", complete(c, 1), tx.CodeInvalid) // one approval of two
	c.advance(time.Hour)
	evs = c.ok("g2", approve(c, 1))
	wantAt := c.now.Add(day * time.Second).Unix()
	if got := evs[0].Attr("effective_at"); got != strconv.FormatInt(wantAt, 10) {
		t.Fatalf("second approval: effective_at = %q; want %d (approval time + delay)", got, wantAt)
	}
	c.advance(day*time.Second - time.Second)
	c.fails("new", complete(c, 1), tx.CodeInvalid) // a second early
	if a := c.signsFor("pat"); a == nil || *a != c.addr("pat") {
		t.Fatalf("before completion the old key signs for %v; want the patient", a)
	}
	c.advance(time.Second)
	c.fails("stranger-key", complete(c, 1), tx.CodeUnknownSigner) // an unregistered key other than the new one
	evs = c.ok("new", complete(c, 1))
	if evs[0].Type != identity.EventRecoveryCompleted || evs[0].Attr("by") != c.addr("pat").String() {
		t.Errorf("completion emitted %+v; want %s by the patient, whose key signed", evs, identity.EventRecoveryCompleted)
	}
	if a := c.signsFor("new"); a == nil || *a != c.addr("pat") {
		t.Errorf("after completion the new key signs for %v; want the patient %s", a, c.addr("pat"))
	}
	if a := c.signsFor("pat"); a != nil {
		t.Errorf("after completion the old key signs for %s; want no account", a)
	}
	if g := c.guardians("pat"); g == nil || g.Pending != nil || len(g.Guardians) != 3 {
		t.Errorf("after completion guardians = %+v; want the same three, nothing pending", g)
	}
	// The new key acts for the patient; the old one is a stranger.
	c.ok("new", identity.SetDelegate{Delegate: c.addr("g1"), Relation: identity.Caregiver})
	c.fails("pat", identity.SetDelegate{Delegate: c.addr("g2"), Relation: identity.Caregiver}, tx.CodeUnknownSigner)
	c.fails("new", complete(c, 1), tx.CodeNotFound) // done once
}

func TestRecoveryThresholds(t *testing.T) {
	for _, k := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprintf("k=%d", k), func(t *testing.T) {
			c := setup(t, k)
			c.ok("g1", c.proposal("pat", "new"))
			for i, g := range []string{"g2", "g3"} {
				approvals := uint64(i + 1)
				c.advance(day * time.Second)
				err := c.try("new", complete(c, 1))
				if done := approvals >= k; (err == nil) != done {
					t.Fatalf("complete after %d approvals of %d waited a day: %v; want success %v", approvals, k, err, done)
				}
				if err == nil {
					return
				}
				c.ok(g, approve(c, 1))
			}
			c.advance(day * time.Second)
			c.ok("new", complete(c, 1))
		})
	}
}

// try executes m and returns its error.
func (c *chain) try(signer string, m contract.Msg) error {
	_, err := c.exec(signer, m)
	return err
}

func TestRecoveryWrongSigners(t *testing.T) {
	c := setup(t, 2)
	c.fails("stranger", c.proposal("pat", "new"), tx.CodeUnauthorized)
	c.fails("pat", c.proposal("pat", "new"), tx.CodeUnauthorized) // the patient is not their own guardian
	c.fails("unregistered", c.proposal("pat", "new"), tx.CodeUnknownSigner)
	c.ok("g1", c.proposal("pat", "new"))
	c.fails("stranger", approve(c, 1), tx.CodeUnauthorized)
	c.fails("g2", cancel(c, 1), tx.CodeUnauthorized) // guardians propose; the patient's side cancels
	c.fails("stranger", cancel(c, 1), tx.CodeUnauthorized)
	c.fails("g2", approve(c, 7), tx.CodeNotFound) // another recovery's number
	c.ok("g2", approve(c, 1))
	c.advance(day * time.Second)
	c.ok("stranger", complete(c, 1)) // anyone completes a recovery that is due
}

func TestRecoveryDuplicateApprovals(t *testing.T) {
	c := setup(t, 3)
	c.ok("g1", c.proposal("pat", "new"))
	c.fails("g1", approve(c, 1), tx.CodeAlreadyExists) // the proposal was g1's approval
	c.ok("g2", approve(c, 1))
	c.fails("g2", approve(c, 1), tx.CodeAlreadyExists)
	if p := c.guardians("pat").Pending; len(p.Approvals) != 2 || p.EffectiveAt != 0 {
		t.Errorf("pending = %+v; want two approvals, not yet effective", p)
	}
}

func TestRecoveryCancel(t *testing.T) {
	for _, by := range []string{"pat", "del"} {
		t.Run(by, func(t *testing.T) {
			c := setup(t, 2)
			c.ok("g1", c.proposal("pat", "new"))
			c.ok("g2", approve(c, 1))
			c.advance(day * time.Second) // due but not completed: still cancellable
			evs := c.ok(by, cancel(c, 1))
			if evs[0].Type != identity.EventRecoveryCancelled || evs[0].Attr("by") != c.addr(by).String() {
				t.Errorf("cancel emitted %+v; want %s by %s", evs, identity.EventRecoveryCancelled, c.addr(by))
			}
			c.fails("new", complete(c, 1), tx.CodeNotFound)
			c.fails("g3", approve(c, 1), tx.CodeNotFound)
			c.fails(by, cancel(c, 1), tx.CodeNotFound)
			if a := c.signsFor("pat"); a == nil || *a != c.addr("pat") {
				t.Errorf("after cancel the old key signs for %v; want the patient", a)
			}
			c.ok("g1", c.proposal("pat", "new")) // a new proposal, a new number
			if p := c.guardians("pat").Pending; p.ID != 2 {
				t.Errorf("new proposal numbered %d; want 2", p.ID)
			}
		})
	}
}

func TestReplacedGuardiansInvalidatePending(t *testing.T) {
	c := setup(t, 2)
	c.ok("g1", c.proposal("pat", "new"))
	c.ok("g2", approve(c, 1))
	evs := c.ok("pat", identity.SetGuardians{Guardians: []tx.Address{c.addr("g1"), c.addr("g2")}, Threshold: 2, Delay: 2 * day})
	types := []string{evs[0].Type, evs[1].Type}
	if !slices.Equal(types, []string{identity.EventRecoveryCancelled, identity.EventGuardiansSet}) || evs[0].Attr("reason") != "guardians_changed" {
		t.Errorf("replacing the set emitted %+v; want the recovery cancelled, then the set", evs)
	}
	c.advance(day * time.Second)
	c.fails("new", complete(c, 1), tx.CodeNotFound)
	c.fails("g3", c.proposal("pat", "new"), tx.CodeUnauthorized) // no longer a guardian
	c.ok("pat", identity.SetGuardians{})
	if g := c.guardians("pat"); g != nil {
		t.Errorf("after removal guardians = %+v; want none", g)
	}
	c.fails("g1", c.proposal("pat", "new"), tx.CodeNotFound)
	c.fails("pat", identity.SetGuardians{}, tx.CodeNotFound)
}

func TestProposeRecoveryChecks(t *testing.T) {
	c := setup(t, 2)
	bad := c.proposal("pat", "new")
	bad.Proof = slices.Clone(bad.Proof)
	bad.Proof[0] ^= 1
	c.fails("g1", bad, tx.CodeBadSignature)
	other := c.proposal("g2", "new")
	other.Patient = c.addr("pat") // a proof for g2 does not serve for pat
	c.fails("g1", other, tx.CodeBadSignature)
	c.fails("g1", c.proposal("pat", "stranger"), tx.CodeKeyInUse)
	c.fails("g1", c.proposal("pat", "pat"), tx.CodeInvalid)
	c.fails("g1", c.proposal("del", "new"), tx.CodeNotFound) // del has no guardians

	// An unapproved proposal gives way to another; an approved one does not.
	c.ok("g1", c.proposal("pat", "new"))
	evs := c.ok("g2", c.proposal("pat", "new2"))
	if evs[0].Type != identity.EventRecoveryCancelled || evs[0].Attr("reason") != "replaced" {
		t.Errorf("second proposal emitted %+v; want the first cancelled as replaced", evs)
	}
	c.fails("g3", approve(c, 1), tx.CodeNotFound)
	c.ok("g3", approve(c, 2))
	c.fails("g1", c.proposal("pat", "new3"), tx.CodeAlreadyExists)

	// Unless its new key went to another account meanwhile: it could never
	// complete.
	c.patients("new2")
	c.advance(day * time.Second)
	c.fails("g1", complete(c, 2), tx.CodeKeyInUse)
	c.ok("g1", c.proposal("pat", "new3"))
}

func TestSetGuardiansChecks(t *testing.T) {
	c := newChain(t, identity.Genesis{}).patients("pat", "g1", "g2")
	g1, g2 := c.addr("g1"), c.addr("g2")
	for _, tc := range []struct {
		name string
		m    identity.SetGuardians
		want tx.Code
	}{
		{"threshold zero", identity.SetGuardians{Guardians: []tx.Address{g1}, Delay: day}, tx.CodeInvalid},
		{"threshold over n", identity.SetGuardians{Guardians: []tx.Address{g1, g2}, Threshold: 3, Delay: day}, tx.CodeInvalid},
		{"named twice", identity.SetGuardians{Guardians: []tx.Address{g1, g1}, Threshold: 1, Delay: day}, tx.CodeInvalid},
		{"delay under minimum", identity.SetGuardians{Guardians: []tx.Address{g1}, Threshold: 1, Delay: day - 1}, tx.CodeInvalid},
		{"delay over maximum", identity.SetGuardians{Guardians: []tx.Address{g1}, Threshold: 1, Delay: identity.MaxRecoveryDelay + 1}, tx.CodeInvalid},
		{"removal with threshold", identity.SetGuardians{Threshold: 1}, tx.CodeInvalid},
		{"self", identity.SetGuardians{Guardians: []tx.Address{g1, c.addr("pat")}, Threshold: 1, Delay: day}, tx.CodeInvalid},
		{"no such account", identity.SetGuardians{Guardians: []tx.Address{g1, address(9)}, Threshold: 1, Delay: day}, tx.CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) { c.fails("pat", tc.m, tc.want) })
	}
	nine := make([]tx.Address, identity.MaxGuardians+1)
	for i := range nine {
		nine[i] = address(byte(i + 1))
	}
	c.fails("pat", identity.SetGuardians{Guardians: nine, Threshold: 1, Delay: day}, tx.CodeMalformed)
	c.fails("admin", identity.SetGuardians{Guardians: []tx.Address{g1}, Threshold: 1, Delay: day}, tx.CodeUnauthorized)

	evs := c.ok("pat", identity.SetGuardians{Guardians: []tx.Address{g1, g2}, Threshold: 2, Delay: 3 * day})
	want := []tx.Address{c.addr("pat"), g1, g2}
	if len(evs) != 1 || evs[0].Type != identity.EventGuardiansSet || !slices.Equal(evs[0].Accounts, want) ||
		!slices.Equal(evs[0].Values("guardian"), []string{g1.String(), g2.String()}) {
		t.Errorf("set emitted %+v; want %s naming both guardians to %v", evs, identity.EventGuardiansSet, want)
	}
}

func TestGenesisMinRecoveryDelay(t *testing.T) {
	c := newChain(t, identity.Genesis{MinRecoveryDelay: 60}).patients("pat", "g1")
	c.fails("pat", identity.SetGuardians{Guardians: []tx.Address{c.addr("g1")}, Threshold: 1, Delay: 59}, tx.CodeInvalid)
	c.ok("pat", identity.SetGuardians{Guardians: []tx.Address{c.addr("g1")}, Threshold: 1, Delay: 60})
	c.ok("g1", c.proposal("pat", "new"))
	c.advance(time.Minute)
	c.ok("new", complete(c, 1))
	if g := (identity.Genesis{Organizations: validGenesis().Organizations, MinRecoveryDelay: identity.MaxRecoveryDelay + 1}); g.Validate() == nil {
		t.Error("Validate accepted a minimum recovery delay over the maximum")
	}
}

// TestRecoveryNotifies checks that every step names the patient, their
// delegates and the guardians, whose event streams follow these accounts.
func TestRecoveryNotifies(t *testing.T) {
	c := setup(t, 2)
	want := []tx.Address{c.addr("pat"), c.addr("del"), c.addr("g1"), c.addr("g2"), c.addr("g3")}
	steps := []struct {
		signer string
		m      contract.Msg
		typ    string
	}{
		{"g1", c.proposal("pat", "new"), identity.EventRecoveryProposed},
		{"g2", approve(c, 1), identity.EventRecoveryApproved},
		{"del", cancel(c, 1), identity.EventRecoveryCancelled},
		{"g1", c.proposal("pat", "new"), identity.EventRecoveryProposed},
		{"g3", approve(c, 2), identity.EventRecoveryApproved},
	}
	for _, s := range steps {
		evs := c.ok(s.signer, s.m)
		if len(evs) != 1 || evs[0].Type != s.typ || !slices.Equal(evs[0].Accounts, want) {
			t.Errorf("%s signs %T: events %+v; want one %s to %v", s.signer, s.m, evs, s.typ, want)
		}
	}
	c.advance(day * time.Second)
	if evs := c.ok("new", complete(c, 2)); !slices.Equal(evs[0].Accounts, want) {
		t.Errorf("completion names %v; want %v", evs[0].Accounts, want)
	}
}
