package identity

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// Recovery by guardians: a patient names up to MaxGuardians accounts and a
// threshold k; any k of them can move the patient's account to a new key,
// which takes effect only a delay (in block time) after the k-th approval.
// Until then the patient's current key or a delegate can cancel it, and every
// step is an event naming the patient, so that their event stream hears it
// at once. A patient has at most one recovery pending.
//
// There is no end-of-block hook for contracts (governance, too, acts in the
// block of a transaction), so the rotation is carried out by
// identity/complete_recovery, which anyone may send once the block time
// reaches the recovery's effective time: a registered account, or the new
// key itself, unregistered (the message is open), so that a patient who has
// only the new key finishes their own recovery. Until it completes, the
// current key still signs and may still cancel: the delay is the least the
// patient is given, never less.

// Bounds of a guardian set.
const (
	MaxGuardians = 8
	// DefaultMinRecoveryDelay is the least delay a patient may choose, in
	// seconds, on a network whose genesis sets no min_recovery_delay.
	DefaultMinRecoveryDelay = 24 * 60 * 60
	// MaxRecoveryDelay is the longest delay, in seconds (90 days).
	MaxRecoveryDelay = 90 * 24 * 60 * 60
)

// GuardianSet is a patient's guardians, the number of them that must
// approve a recovery, the delay before an approved recovery takes effect,
// and the recovery pending, if any.
type GuardianSet struct {
	Guardians []tx.Address `json:"guardians"`
	Threshold uint64       `json:"threshold"`
	Delay     uint64       `json:"delay"` // seconds of block time
	Since     int64        `json:"since"` // height at which the set was named
	Pending   *Recovery    `json:"pending,omitempty"`
}

// Recovery is a proposal to move a patient's account to NewPubKey.
type Recovery struct {
	ID        uint64       `json:"id"`
	NewPubKey tx.PubKey    `json:"new_pub_key"`
	Proposer  tx.Address   `json:"proposer"`
	Approvals []tx.Address `json:"approvals"` // guardians, in the order they approved; the proposer first
	// ProposedAt is the block time of the proposal, in Unix seconds.
	ProposedAt int64 `json:"proposed_at"`
	// EffectiveAt is when the recovery may complete, in Unix seconds of
	// block time: the block time of the approval that reached the
	// threshold plus the set's delay; 0 while approvals are missing.
	EffectiveAt int64 `json:"effective_at,omitempty"`
}

// HasGuardian reports whether a is one of the set's guardians.
func (g *GuardianSet) HasGuardian(a tx.Address) bool { return slices.Contains(g.Guardians, a) }

func guardiansKey(patient tx.Address) []byte { return append([]byte("R/"), patient[:]...) }

var (
	minRecoveryDelayKey = []byte("i/recovery_min_delay")
	recoveryCounterKey  = []byte("i/recovery_next")
)

// Guardians returns the guardian set of patient, or nil if they named none.
func Guardians(s Reader, patient tx.Address) (*GuardianSet, error) {
	b, err := s.Get(guardiansKey(patient))
	if err != nil || b == nil {
		return nil, err
	}
	g, err := decodeGuardianSet(b)
	if err != nil {
		return nil, fmt.Errorf("decode guardians of %s: %w", patient, err)
	}
	return g, nil
}

func saveGuardians(s contract.Store, patient tx.Address, g *GuardianSet) error {
	return s.Set(guardiansKey(patient), g.encode())
}

// MinRecoveryDelay returns the least recovery delay the network allows, in
// seconds.
func MinRecoveryDelay(s Reader) (uint64, error) {
	b, err := s.Get(minRecoveryDelayKey)
	if err != nil || b == nil {
		return DefaultMinRecoveryDelay, err
	}
	r := wire.NewReader(b)
	v := r.Uint()
	if err := r.Done(); err != nil {
		return 0, fmt.Errorf("decode minimum recovery delay: %w", err)
	}
	return v, nil
}

// setMinRecoveryDelay stores a genesis's minimum delay; the default is not
// stored, so that a genesis without one gives the state it always gave.
func setMinRecoveryDelay(s contract.Store, seconds uint64) error {
	if seconds == 0 || seconds == DefaultMinRecoveryDelay {
		return nil
	}
	w := wire.NewWriter(8)
	w.Uint(seconds)
	return s.Set(minRecoveryDelayKey, w.Bytes())
}

// nextRecoveryID returns a number for a new recovery, unique in the
// network, so that an approval signed for one recovery never counts for
// another.
func nextRecoveryID(s contract.Store) (uint64, error) {
	var n uint64
	if b, err := s.Get(recoveryCounterKey); err != nil {
		return 0, err
	} else if b != nil {
		r := wire.NewReader(b)
		n = r.Uint()
		if err := r.Done(); err != nil {
			return 0, fmt.Errorf("decode recovery counter: %w", err)
		}
	}
	n++
	w := wire.NewWriter(8)
	w.Uint(n)
	return n, s.Set(recoveryCounterKey, w.Bytes())
}

func (g *GuardianSet) encode() []byte {
	w := wire.NewWriter(32 + tx.AddressSize*len(g.Guardians))
	writeAddresses(w, g.Guardians)
	w.Uint(g.Threshold)
	w.Uint(g.Delay)
	w.Uint(uint64(g.Since))
	w.Bool(g.Pending != nil)
	if p := g.Pending; p != nil {
		w.Uint(p.ID)
		w.Raw(p.NewPubKey)
		w.Raw(p.Proposer[:])
		writeAddresses(w, p.Approvals)
		w.Uint(uint64(p.ProposedAt))
		w.Uint(uint64(p.EffectiveAt))
	}
	return w.Bytes()
}

func decodeGuardianSet(b []byte) (*GuardianSet, error) {
	r := wire.NewReader(b)
	g := &GuardianSet{Guardians: readAddresses(r), Threshold: r.Uint(), Delay: r.Uint(), Since: int64(r.Uint())}
	if r.Bool() {
		g.Pending = &Recovery{
			ID: r.Uint(), NewPubKey: cloneBytes(r.Raw(tx.PubKeySize)), Proposer: readAddress(r),
			Approvals: readAddresses(r), ProposedAt: int64(r.Uint()), EffectiveAt: int64(r.Uint()),
		}
	}
	return g, r.Done()
}

func writeAddresses(w *wire.Writer, as []tx.Address) {
	w.Uint(uint64(len(as)))
	for _, a := range as {
		w.Raw(a[:])
	}
}

// readAddresses reads a list of at most MaxGuardians addresses; nil if
// empty.
func readAddresses(r *wire.Reader) []tx.Address {
	n := r.Count(MaxGuardians)
	if n == 0 {
		return nil
	}
	as := make([]tx.Address, n)
	for i := range as {
		as[i] = readAddress(r)
	}
	return as
}

// validate checks the set's shape: an empty set removes the patient's
// guardians and carries no threshold or delay.
func (m SetGuardians) validate() error {
	n := uint64(len(m.Guardians))
	if n == 0 {
		if m.Threshold != 0 || m.Delay != 0 {
			return tx.Rejectf(tx.CodeInvalid, "removing guardians takes threshold 0 and delay 0")
		}
		return nil
	}
	for i, a := range m.Guardians {
		if slices.Contains(m.Guardians[:i], a) {
			return tx.Rejectf(tx.CodeInvalid, "guardian %s is named twice", a)
		}
	}
	if m.Threshold < 1 || m.Threshold > n {
		return tx.Rejectf(tx.CodeInvalid, "threshold must be 1 to %d, the number of guardians", n)
	}
	if m.Delay == 0 || m.Delay > MaxRecoveryDelay {
		return tx.Rejectf(tx.CodeInvalid, "delay must be 1 to %d seconds", MaxRecoveryDelay)
	}
	return nil
}

func setGuardians(ctx *contract.Context, m SetGuardians) error {
	if _, err := RequirePatient(ctx.Store, ctx.Signer); err != nil {
		return tx.Rejectf(tx.CodeUnauthorized, "only a patient names guardians")
	}
	if err := checkGuardians(ctx, m); err != nil {
		return err
	}
	old, err := Guardians(ctx.Store, ctx.Signer)
	if err != nil {
		return err
	}
	if old == nil && len(m.Guardians) == 0 {
		return tx.Rejectf(tx.CodeNotFound, "patient %s has no guardians to remove", ctx.Signer)
	}
	if old != nil && old.Pending != nil {
		if err := emitCancelled(ctx, ctx.Signer, old, "guardians_changed"); err != nil {
			return err
		}
	}
	accounts := []tx.Address{ctx.Signer}
	if old != nil {
		accounts = appendNew(accounts, old.Guardians...)
	}
	accounts = appendNew(accounts, m.Guardians...)
	if len(m.Guardians) == 0 {
		ctx.Emit(contract.Event{Type: EventGuardiansRemoved, Attrs: []contract.Attr{{Key: "patient", Value: ctx.Signer.String()}}, Accounts: accounts})
		return ctx.Store.Delete(guardiansKey(ctx.Signer))
	}
	g := &GuardianSet{Guardians: m.Guardians, Threshold: m.Threshold, Delay: m.Delay, Since: ctx.Height}
	attrs := []contract.Attr{{Key: "patient", Value: ctx.Signer.String()}}
	for _, a := range g.Guardians {
		attrs = append(attrs, contract.Attr{Key: "guardian", Value: a.String()})
	}
	attrs = append(attrs, uintAttr("threshold", g.Threshold), uintAttr("delay", g.Delay))
	ctx.Emit(contract.Event{Type: EventGuardiansSet, Attrs: attrs, Accounts: accounts})
	return saveGuardians(ctx.Store, ctx.Signer, g)
}

// checkGuardians checks what SetGuardians needs state for: the delay against
// the network's minimum, and guardians that exist and are not the patient.
func checkGuardians(ctx *contract.Context, m SetGuardians) error {
	if len(m.Guardians) == 0 {
		return nil
	}
	minDelay, err := MinRecoveryDelay(ctx.Store)
	if err != nil {
		return err
	}
	if m.Delay < minDelay {
		return tx.Rejectf(tx.CodeInvalid, "delay %d seconds is under this network's minimum of %d", m.Delay, minDelay)
	}
	for _, a := range m.Guardians {
		if a == ctx.Signer {
			return tx.Rejectf(tx.CodeInvalid, "a patient cannot be their own guardian")
		}
		if acct, err := LoadAccount(ctx.Store, a); err != nil {
			return err
		} else if acct == nil {
			return tx.Rejectf(tx.CodeNotFound, "account %s does not exist", a)
		} else if acct.Kind == Device {
			return tx.Rejectf(tx.CodeInvalid, "account %s is a device, which cannot be a guardian", a)
		}
	}
	return nil
}

func proposeRecovery(ctx *contract.Context, m ProposeRecovery) error {
	a, g, err := loadForGuardian(ctx, m.Patient)
	if err != nil {
		return err
	}
	if err := checkNewKey(ctx, a, m.NewPubKey, m.Proof); err != nil {
		return err
	}
	if p := g.Pending; p != nil {
		if stuck, err := keyTaken(ctx.Store, p.NewPubKey, a.Address); err != nil {
			return err
		} else if p.EffectiveAt != 0 && !stuck {
			return tx.Rejectf(tx.CodeAlreadyExists, "recovery %d of %s is approved; it must complete or be cancelled first", p.ID, a.Address)
		}
		if err := emitCancelled(ctx, a.Address, g, "replaced"); err != nil {
			return err
		}
	}
	id, err := nextRecoveryID(ctx.Store)
	if err != nil {
		return err
	}
	g.Pending = &Recovery{
		ID: id, NewPubKey: m.NewPubKey, Proposer: ctx.Signer,
		Approvals: []tx.Address{ctx.Signer}, ProposedAt: ctx.Time.Unix(),
	}
	return recordApproval(ctx, a.Address, g, EventRecoveryProposed)
}

func approveRecovery(ctx *contract.Context, m ApproveRecovery) error {
	a, g, err := loadForGuardian(ctx, m.Patient)
	if err != nil {
		return err
	}
	p, err := pendingRecovery(g, a.Address, m.Recovery)
	if err != nil {
		return err
	}
	if slices.Contains(p.Approvals, ctx.Signer) {
		return tx.Rejectf(tx.CodeAlreadyExists, "guardian %s already approved recovery %d", ctx.Signer, p.ID)
	}
	p.Approvals = append(p.Approvals, ctx.Signer)
	return recordApproval(ctx, a.Address, g, EventRecoveryApproved)
}

// recordApproval starts the delay once the approvals reach the threshold,
// stores g and emits typ.
func recordApproval(ctx *contract.Context, patient tx.Address, g *GuardianSet, typ string) error {
	p := g.Pending
	if p.EffectiveAt == 0 && uint64(len(p.Approvals)) >= g.Threshold {
		p.EffectiveAt = ctx.Time.Add(time.Duration(g.Delay) * time.Second).Unix()
	}
	attrs := recoveryAttrs(patient, p)
	attrs = append(attrs,
		contract.Attr{Key: "by", Value: ctx.Signer.String()},
		uintAttr("approvals", uint64(len(p.Approvals))), uintAttr("threshold", g.Threshold))
	if p.EffectiveAt != 0 {
		attrs = append(attrs, contract.Attr{Key: "effective_at", Value: strconv.FormatInt(p.EffectiveAt, 10)})
	}
	if err := emitRecovery(ctx, typ, patient, g, attrs); err != nil {
		return err
	}
	return saveGuardians(ctx.Store, patient, g)
}

func cancelRecovery(ctx *contract.Context, m CancelRecovery) error {
	g, err := Guardians(ctx.Store, m.Patient)
	if err != nil {
		return err
	}
	if g == nil {
		return tx.Rejectf(tx.CodeNotFound, "patient %s has no guardians", m.Patient)
	}
	if err := RequireActsFor(ctx, m.Patient); err != nil {
		return err
	}
	if _, err := pendingRecovery(g, m.Patient, m.Recovery); err != nil {
		return err
	}
	if err := emitCancelled(ctx, m.Patient, g, "cancelled"); err != nil {
		return err
	}
	return saveGuardians(ctx.Store, m.Patient, g)
}

func completeRecovery(ctx *contract.Context, m CompleteRecovery) error {
	g, err := Guardians(ctx.Store, m.Patient)
	if err != nil {
		return err
	}
	if g == nil {
		return tx.Rejectf(tx.CodeNotFound, "patient %s has no guardians", m.Patient)
	}
	p, err := pendingRecovery(g, m.Patient, m.Recovery)
	if err != nil {
		return err
	}
	// An open message: a key that is not registered may send it only as
	// the recovery's new key, which signs for the patient once it is done.
	by := ctx.Signer
	if signer, err := Resolve(ctx.Store, ctx.SignerKey); err != nil {
		return err
	} else if signer == nil && !bytes.Equal(ctx.SignerKey, p.NewPubKey) {
		return tx.Rejectf(tx.CodeUnknownSigner, "signer key is neither registered nor recovery %d's new key", p.ID)
	} else if signer == nil {
		by = m.Patient
	}
	switch now := ctx.Time.Unix(); {
	case p.EffectiveAt == 0:
		return tx.Rejectf(tx.CodeInvalid, "recovery %d has %d of the %d approvals it needs", p.ID, len(p.Approvals), g.Threshold)
	case now < p.EffectiveAt:
		return tx.Rejectf(tx.CodeInvalid, "recovery %d takes effect at %d (Unix seconds of block time), %d seconds from this block", p.ID, p.EffectiveAt, p.EffectiveAt-now)
	}
	a, err := RequirePatient(ctx.Store, m.Patient)
	if err != nil {
		return err
	}
	if taken, err := keyTaken(ctx.Store, p.NewPubKey, a.Address); err != nil {
		return err
	} else if taken {
		return tx.Rejectf(tx.CodeKeyInUse, "recovery %d's new key went to another account; a guardian may propose another", p.ID)
	}
	if err := setKey(ctx.Store, a, p.NewPubKey); err != nil {
		return err
	}
	g.Pending = nil
	attrs := append(recoveryAttrs(a.Address, p), contract.Attr{Key: "by", Value: by.String()})
	if err := emitRecovery(ctx, EventRecoveryCompleted, a.Address, g, attrs); err != nil {
		return err
	}
	return saveGuardians(ctx.Store, a.Address, g)
}

// loadForGuardian returns the patient and guardian set a guardian's message
// names, rejecting a signer that is not one of its guardians or is a
// member that may not act.
func loadForGuardian(ctx *contract.Context, patient tx.Address) (*Account, *GuardianSet, error) {
	a, err := RequirePatient(ctx.Store, patient)
	if err != nil {
		return nil, nil, err
	}
	g, err := Guardians(ctx.Store, patient)
	if err != nil {
		return nil, nil, err
	}
	if g == nil {
		return nil, nil, tx.Rejectf(tx.CodeNotFound, "patient %s has no guardians", patient)
	}
	if !g.HasGuardian(ctx.Signer) {
		return nil, nil, tx.Rejectf(tx.CodeUnauthorized, "signer %s is not a guardian of %s", ctx.Signer, patient)
	}
	if signer, err := LoadAccount(ctx.Store, ctx.Signer); err != nil {
		return nil, nil, err
	} else if signer != nil && signer.Kind == Member {
		if _, _, err := ActiveMember(ctx.Store, ctx.Signer); err != nil {
			return nil, nil, err
		}
	}
	return a, g, nil
}

// pendingRecovery returns g's pending recovery if its number is id.
func pendingRecovery(g *GuardianSet, patient tx.Address, id uint64) (*Recovery, error) {
	if g.Pending == nil || g.Pending.ID != id {
		return nil, tx.Rejectf(tx.CodeNotFound, "recovery %d of %s is not pending", id, patient)
	}
	return g.Pending, nil
}

// checkNewKey checks a proposed key as rotate_key checks one: its proof of
// possession for account a, not a's key, and not another account's.
func checkNewKey(ctx *contract.Context, a *Account, newKey, proof []byte) error {
	if bytes.Equal(newKey, a.PubKey) {
		return tx.Rejectf(tx.CodeInvalid, "new key equals the current key")
	}
	if !ed25519.PubKey(newKey).VerifySignature(RotationSignBytes(ctx.ChainID, a.Address, newKey), proof) {
		return tx.Rejectf(tx.CodeBadSignature, "proof of possession of the new key does not verify")
	}
	if taken, err := keyTaken(ctx.Store, newKey, a.Address); err != nil || taken {
		if err == nil {
			err = tx.Rejectf(tx.CodeKeyInUse, "the new key is registered to another account")
		}
		return err
	}
	return nil
}

// keyTaken reports whether key signs for an account other than owner.
func keyTaken(s Reader, key []byte, owner tx.Address) (bool, error) {
	held, err := Resolve(s, key)
	return held != nil && held.Address != owner, err
}

// emitCancelled emits the cancellation of g's pending recovery and clears
// it; the caller stores g.
func emitCancelled(ctx *contract.Context, patient tx.Address, g *GuardianSet, reason string) error {
	attrs := append(recoveryAttrs(patient, g.Pending),
		contract.Attr{Key: "by", Value: ctx.Signer.String()}, contract.Attr{Key: "reason", Value: reason})
	err := emitRecovery(ctx, EventRecoveryCancelled, patient, g, attrs)
	g.Pending = nil
	return err
}

// emitRecovery emits a recovery event to the patient, their delegates and
// the guardians, whose event streams hear it at once.
func emitRecovery(ctx *contract.Context, typ string, patient tx.Address, g *GuardianSet, attrs []contract.Attr) error {
	ds, err := Delegates(ctx.Store, patient)
	if err != nil {
		return err
	}
	accounts := []tx.Address{patient}
	for _, d := range ds {
		accounts = appendNew(accounts, d.Address)
	}
	accounts = appendNew(accounts, g.Guardians...)
	ctx.Emit(contract.Event{Type: typ, Attrs: attrs, Accounts: accounts})
	return nil
}

func recoveryAttrs(patient tx.Address, p *Recovery) []contract.Attr {
	return []contract.Attr{
		{Key: "patient", Value: patient.String()},
		uintAttr("recovery", p.ID),
		{Key: "new_pub_key", Value: tx.PubKey(p.NewPubKey).String()},
	}
}

func uintAttr(key string, v uint64) contract.Attr {
	return contract.Attr{Key: key, Value: strconv.FormatUint(v, 10)}
}

// appendNew appends the addresses of add that out does not hold yet.
func appendNew(out []tx.Address, add ...tx.Address) []tx.Address {
	for _, a := range add {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}
