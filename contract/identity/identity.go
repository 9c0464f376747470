package identity

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/tx"
)

// Reader reads state; contract.Store and state.View both satisfy it.
type Reader interface {
	Get(key []byte) ([]byte, error)
}

// State keys. Prefixes are one byte and a slash so that every contract's keys
// are easy to tell apart in a dump of the state.
func accountKey(a tx.Address) []byte { return append([]byte("a/"), a[:]...) }
func pubKeyKey(k []byte) []byte      { return append([]byte("k/"), k...) }
func orgKey(id string) []byte        { return append([]byte("o/"), id...) }

func memberKey(org string, a tx.Address) []byte {
	k := append(memberPrefix(org), a[:]...)
	return k
}

func memberPrefix(org string) []byte {
	k := append([]byte("m/"), org...)
	return append(k, 0)
}

// LoadAccount returns the account at address a, or nil if there is none.
func LoadAccount(s Reader, a tx.Address) (*Account, error) {
	b, err := s.Get(accountKey(a))
	if err != nil || b == nil {
		return nil, err
	}
	return decodeAccount(b)
}

// Resolve returns the account whose current key is pubKey, or nil. An
// account holding the key it registered with is at the address that key
// derives; only a key rotated in has an entry in the key index, so that
// resolving most signers costs one read and registering one costs no index
// entry.
func Resolve(s Reader, pubKey []byte) (*Account, error) {
	acct, err := LoadAccount(s, tx.AddressOf(pubKey))
	if err != nil || (acct != nil && bytes.Equal(acct.PubKey, pubKey)) {
		return acct, err
	}
	b, err := s.Get(pubKeyKey(pubKey))
	if err != nil || b == nil {
		return nil, err
	}
	var a tx.Address
	if len(b) != tx.AddressSize {
		return nil, errors.New("corrupt key index entry")
	}
	copy(a[:], b)
	if acct, err = LoadAccount(s, a); err == nil && acct == nil {
		err = fmt.Errorf("key index names missing account %s", a)
	}
	return acct, err
}

// indexKey records that key resolves to the account at addr, unless addr is
// the address key derives, where Resolve looks first.
func indexKey(s contract.Store, key []byte, addr tx.Address) error {
	if tx.AddressOf(key) == addr {
		return nil
	}
	return s.Set(pubKeyKey(key), addr[:])
}

// unindexKey undoes indexKey.
func unindexKey(s contract.Store, key []byte, addr tx.Address) error {
	if tx.AddressOf(key) == addr {
		return nil
	}
	return s.Delete(pubKeyKey(key))
}

// LoadOrg returns the organization with id, or nil.
func LoadOrg(s Reader, id string) (*Organization, error) {
	b, err := s.Get(orgKey(id))
	if err != nil || b == nil {
		return nil, err
	}
	return decodeOrganization(b)
}

// SetSequence sets the sequence number the account at addr expects next.
func SetSequence(s contract.Store, addr tx.Address, next uint64) error {
	a, err := LoadAccount(s, addr)
	if err != nil {
		return err
	}
	if a == nil {
		return fmt.Errorf("set sequence: no account %s", addr)
	}
	a.Sequence = next
	return saveAccount(s, a)
}

func saveAccount(s contract.Store, a *Account) error {
	return s.Set(accountKey(a.Address), a.encode())
}

func saveOrg(s contract.Store, o *Organization) error {
	return s.Set(orgKey(o.ID), o.encode())
}

// createAccount stores a new account and indexes its key, rejecting a key
// that another account holds.
func createAccount(s contract.Store, a *Account) error {
	if held, err := Resolve(s, a.PubKey); err != nil {
		return err
	} else if held != nil {
		return tx.Rejectf(tx.CodeKeyInUse, "key is registered to account %s", held.Address)
	}
	if old, err := LoadAccount(s, a.Address); err != nil {
		return err
	} else if old != nil {
		return tx.Rejectf(tx.CodeAlreadyExists, "account %s exists", a.Address)
	}
	if err := indexKey(s, a.PubKey, a.Address); err != nil {
		return err
	}
	if a.Kind == Member {
		if err := s.Set(memberKey(a.Org, a.Address), []byte{}); err != nil {
			return err
		}
	}
	return saveAccount(s, a)
}

func registerPatient(ctx *contract.Context, _ RegisterPatient) error {
	if own, err := Resolve(ctx.Store, ctx.SignerKey); err != nil {
		return err
	} else if own != nil && own.Address == tx.AddressOf(ctx.SignerKey) {
		return tx.Rejectf(tx.CodeAlreadyExists, "key is already registered as account %s", own.Address)
	}
	a := &Account{
		Address: tx.AddressOf(ctx.SignerKey),
		PubKey:  ctx.SignerKey,
		Kind:    Patient,
		Since:   ctx.Height,
	}
	if err := createAccount(ctx.Store, a); err != nil {
		return err
	}
	ctx.Emit(contract.Event{
		Type:     EventPatientRegistered,
		Attrs:    []contract.Attr{{Key: "patient", Value: a.Address.String()}},
		Accounts: []tx.Address{a.Address},
	})
	return nil
}

// ActiveMember returns the member at addr and its organization, rejecting
// an account that is not a member or is suspended, or whose organization is.
func ActiveMember(s Reader, addr tx.Address) (*Account, *Organization, error) {
	a, err := LoadAccount(s, addr)
	if err != nil {
		return nil, nil, err
	}
	if a == nil {
		return nil, nil, tx.Rejectf(tx.CodeUnknownSigner, "account %s is not registered", addr)
	}
	if a.Kind != Member {
		return nil, nil, tx.Rejectf(tx.CodeUnauthorized, "account %s is not an organization member", addr)
	}
	if a.Suspended {
		return nil, nil, tx.Rejectf(tx.CodeSuspended, "member %s is suspended", addr)
	}
	o, err := LoadOrg(s, a.Org)
	if err != nil {
		return nil, nil, err
	}
	if o == nil {
		return nil, nil, fmt.Errorf("member %s names missing organization %s", addr, a.Org)
	}
	if o.Suspended {
		return nil, nil, tx.Rejectf(tx.CodeSuspended, "organization %s is suspended", o.ID)
	}
	return a, o, nil
}

// RequireRole returns the signer's account if it is an active member of org
// holding one of roles.
func RequireRole(ctx *contract.Context, org string, roles ...Role) (*Account, error) {
	a, _, err := ActiveMember(ctx.Store, ctx.Signer)
	if err != nil {
		return nil, err
	}
	if a.Org != org {
		return nil, tx.Rejectf(tx.CodeWrongOrganization, "signer %s belongs to %s, not %s", a.Address, a.Org, org)
	}
	return a, requireOneOf(a, roles)
}

// RequireOwnRole returns the signer's account if it is an active member of
// any organization holding one of roles.
func RequireOwnRole(ctx *contract.Context, roles ...Role) (*Account, error) {
	a, _, err := ActiveMember(ctx.Store, ctx.Signer)
	if err != nil {
		return nil, err
	}
	return a, requireOneOf(a, roles)
}

func requireOneOf(a *Account, roles []Role) error {
	if !slices.ContainsFunc(roles, a.HasRole) {
		return tx.Rejectf(tx.CodeUnauthorized, "signer %s holds none of the roles %v in %s", a.Address, roles, a.Org)
	}
	return nil
}

// requireAdmin returns the signer's account if it is an admin of org.
func requireAdmin(ctx *contract.Context, org string) (*Account, error) {
	return RequireRole(ctx, org, Admin)
}

func registerMember(ctx *contract.Context, m RegisterMember) error {
	if err := ValidateOrgID(m.Org); err != nil {
		return err
	}
	roles, err := normalizeRoles(m.Roles)
	if err != nil {
		return err
	}
	if o, err := LoadOrg(ctx.Store, m.Org); err != nil {
		return err
	} else if o == nil {
		return tx.Rejectf(tx.CodeNotFound, "organization %s does not exist", m.Org)
	}
	if _, err := requireAdmin(ctx, m.Org); err != nil {
		return err
	}
	a := &Account{
		Address: tx.AddressOf(m.PubKey),
		PubKey:  m.PubKey,
		Kind:    Member,
		Org:     m.Org,
		Roles:   roles,
		Since:   ctx.Height,
	}
	if err := createAccount(ctx.Store, a); err != nil {
		return err
	}
	ctx.Emit(memberEvent(EventMemberRegistered, a, ctx.Signer))
	return nil
}

// loadMemberAsAdmin returns the member at addr after checking that the signer
// administers the member's organization.
func loadMemberAsAdmin(ctx *contract.Context, addr tx.Address) (*Account, error) {
	a, err := LoadAccount(ctx.Store, addr)
	if err != nil {
		return nil, err
	}
	if a == nil || a.Kind != Member {
		return nil, tx.Rejectf(tx.CodeNotFound, "member %s does not exist", addr)
	}
	if _, err := requireAdmin(ctx, a.Org); err != nil {
		return nil, err
	}
	return a, nil
}

func setMemberRoles(ctx *contract.Context, m SetMemberRoles) error {
	roles, err := normalizeRoles(m.Roles)
	if err != nil {
		return err
	}
	a, err := loadMemberAsAdmin(ctx, m.Member)
	if err != nil {
		return err
	}
	if a.Address == ctx.Signer && !slices.Contains(roles, Admin) {
		return tx.Rejectf(tx.CodeInvalid, "an admin may not remove their own admin role")
	}
	a.Roles = roles
	if err := saveAccount(ctx.Store, a); err != nil {
		return err
	}
	ctx.Emit(memberEvent(EventMemberRolesSet, a, ctx.Signer))
	return nil
}

func setMemberStatus(ctx *contract.Context, m SetMemberStatus) error {
	if m.Member == ctx.Signer {
		return tx.Rejectf(tx.CodeInvalid, "an admin may not change their own status")
	}
	a, err := loadMemberAsAdmin(ctx, m.Member)
	if err != nil {
		return err
	}
	a.Suspended = m.Suspended
	if err := saveAccount(ctx.Store, a); err != nil {
		return err
	}
	typ := EventMemberReinstated
	if m.Suspended {
		typ = EventMemberSuspended
	}
	ctx.Emit(memberEvent(typ, a, ctx.Signer))
	return nil
}

func memberEvent(typ string, a *Account, by tx.Address) contract.Event {
	attrs := []contract.Attr{
		{Key: "org", Value: a.Org},
		{Key: "member", Value: a.Address.String()},
		{Key: "by", Value: by.String()},
	}
	for _, r := range a.Roles {
		attrs = append(attrs, contract.Attr{Key: "role", Value: string(r)})
	}
	return contract.Event{Type: typ, Attrs: attrs, Accounts: []tx.Address{a.Address, by}}
}

func rotateKey(ctx *contract.Context, m RotateKey) error {
	a, err := LoadAccount(ctx.Store, ctx.Signer)
	if err != nil {
		return err
	}
	if a == nil {
		return tx.Rejectf(tx.CodeUnknownSigner, "signer %s is not registered", ctx.Signer)
	}
	if bytes.Equal(m.NewPubKey, a.PubKey) {
		return tx.Rejectf(tx.CodeInvalid, "new key equals the current key")
	}
	if !ed25519.PubKey(m.NewPubKey).VerifySignature(RotationSignBytes(ctx.ChainID, a.Address, m.NewPubKey), m.Proof) {
		return tx.Rejectf(tx.CodeBadSignature, "proof of possession of the new key does not verify")
	}
	if held, err := Resolve(ctx.Store, m.NewPubKey); err != nil {
		return err
	} else if held != nil {
		return tx.Rejectf(tx.CodeKeyInUse, "key is registered to account %s", held.Address)
	}
	if err := setKey(ctx.Store, a, m.NewPubKey); err != nil {
		return err
	}
	ctx.Emit(contract.Event{
		Type:     EventKeyRotated,
		Attrs:    []contract.Attr{{Key: "account", Value: a.Address.String()}},
		Accounts: []tx.Address{a.Address},
	})
	return nil
}

// setKey makes newKey the key of account a, and its old key no key of any
// account. The caller has checked that no other account holds newKey.
func setKey(s contract.Store, a *Account, newKey []byte) error {
	if err := unindexKey(s, a.PubKey, a.Address); err != nil {
		return err
	}
	if err := indexKey(s, newKey, a.Address); err != nil {
		return err
	}
	a.PubKey = slices.Clone(newKey)
	return saveAccount(s, a)
}
