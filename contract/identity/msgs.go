package identity

import (
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// Message types owned by the identity contract. Numbers are append-only.
const (
	TypeRegisterPatient uint64 = 1
	TypeRegisterMember  uint64 = 2
	TypeSetMemberRoles  uint64 = 3
	TypeSetMemberStatus uint64 = 4
	TypeRotateKey       uint64 = 5
	TypeSetDelegate     uint64 = 6
)

// Msg is an identity message.
type Msg interface {
	Type() uint64
	encode(w *wire.Writer)
}

// Encode wraps m as a transaction message.
func Encode(m Msg) tx.Msg {
	w := wire.NewWriter(64)
	m.encode(w)
	return tx.Msg{Type: m.Type(), Body: w.Bytes()}
}

// RegisterPatient registers the signer's key as a new patient account. It has
// no fields: the patient's pseudonym is the address derived from the key.
type RegisterPatient struct{}

// RegisterMember registers a key as a member of an organization. The signer
// must be an admin of Org.
type RegisterMember struct {
	Org    string
	PubKey []byte
	Roles  []Role
}

// SetMemberRoles replaces a member's roles. The signer must be an admin of
// the member's organization.
type SetMemberRoles struct {
	Member tx.Address
	Roles  []Role
}

// SetMemberStatus suspends or reinstates a member. A suspended member's
// transactions are rejected and their tokens refused. The signer must be an
// admin of the member's organization and may not suspend themselves.
type SetMemberStatus struct {
	Member    tx.Address
	Suspended bool
}

// RotateKey replaces the signer's key with NewPubKey. Proof is NewPubKey's
// signature over RotationSignBytes, so nobody can rotate to a key they do
// not hold.
type RotateKey struct {
	NewPubKey []byte
	Proof     []byte
}

// SetDelegate names (or, with Remove, removes) an account that may act for
// the signing patient: sign grants, answer access requests, erase records.
type SetDelegate struct {
	Delegate tx.Address
	Relation Relation
	Remove   bool
}

// RotationDomain prefixes the bytes a new key signs to prove possession.
const RotationDomain = "careledger/rotate-key/v1\n"

// RotationSignBytes returns what the new key signs when account rotates to it
// on chain chainID.
func RotationSignBytes(chainID string, account tx.Address, newPubKey []byte) []byte {
	w := wire.NewWriter(len(RotationDomain) + 64 + len(chainID))
	w.Raw([]byte(RotationDomain))
	w.String(chainID)
	w.Raw(account[:])
	w.Raw(newPubKey)
	return w.Bytes()
}

func (RegisterPatient) Type() uint64 { return TypeRegisterPatient }
func (RegisterMember) Type() uint64  { return TypeRegisterMember }
func (SetMemberRoles) Type() uint64  { return TypeSetMemberRoles }
func (SetMemberStatus) Type() uint64 { return TypeSetMemberStatus }
func (RotateKey) Type() uint64       { return TypeRotateKey }
func (SetDelegate) Type() uint64     { return TypeSetDelegate }

func (RegisterPatient) encode(*wire.Writer) {}

func (m RegisterMember) encode(w *wire.Writer) {
	w.String(m.Org)
	w.Raw(m.PubKey)
	writeRoles(w, m.Roles)
}

func (m SetMemberRoles) encode(w *wire.Writer) {
	w.Raw(m.Member[:])
	writeRoles(w, m.Roles)
}

func (m SetMemberStatus) encode(w *wire.Writer) {
	w.Raw(m.Member[:])
	w.Bool(m.Suspended)
}

func (m RotateKey) encode(w *wire.Writer) {
	w.Raw(m.NewPubKey)
	w.Raw(m.Proof)
}

func (m SetDelegate) encode(w *wire.Writer) {
	w.Raw(m.Delegate[:])
	w.String(string(m.Relation))
	w.Bool(m.Remove)
}

// Decode parses the body of an identity message of type typ. Its errors are
// *tx.Rejection values.
func Decode(typ uint64, body []byte) (Msg, error) {
	r := wire.NewReader(body)
	var m Msg
	switch typ {
	case TypeRegisterPatient:
		m = RegisterPatient{}
	case TypeRegisterMember:
		m = RegisterMember{Org: r.String(64), PubKey: r.Raw(tx.PubKeySize), Roles: readRoles(r)}
	case TypeSetMemberRoles:
		m = SetMemberRoles{Member: readAddress(r), Roles: readRoles(r)}
	case TypeSetMemberStatus:
		m = SetMemberStatus{Member: readAddress(r), Suspended: r.Bool()}
	case TypeRotateKey:
		m = RotateKey{NewPubKey: r.Raw(tx.PubKeySize), Proof: r.Raw(tx.SignatureSize)}
	case TypeSetDelegate:
		m = SetDelegate{Delegate: readAddress(r), Relation: Relation(r.String(maxRoleLen)), Remove: r.Bool()}
	default:
		return nil, tx.Rejectf(tx.CodeUnknownMessage, "unknown identity message type %d", typ)
	}
	if err := r.Done(); err != nil {
		return nil, tx.Rejectf(tx.CodeMalformed, "decode %s: %v", Name(typ), err)
	}
	return m, nil
}

// Check decodes a message body and validates what needs no state, so that
// CheckTx refuses a bad message before it reaches a block. Its errors are
// *tx.Rejection values.
func Check(typ uint64, body []byte) error {
	m, err := Decode(typ, body)
	if err != nil {
		return err
	}
	switch m := m.(type) {
	case RegisterMember:
		if err := ValidateOrgID(m.Org); err != nil {
			return err
		}
		_, err = normalizeRoles(m.Roles)
	case SetMemberRoles:
		_, err = normalizeRoles(m.Roles)
	case SetDelegate:
		err = validateRelation(m.Relation)
	}
	return err
}

func readAddress(r *wire.Reader) tx.Address {
	var a tx.Address
	copy(a[:], r.Raw(tx.AddressSize))
	return a
}

// Name returns the stable name of a message type, as shown in the API.
func Name(typ uint64) string {
	switch typ {
	case TypeRegisterPatient:
		return "identity/register_patient"
	case TypeRegisterMember:
		return "identity/register_member"
	case TypeSetMemberRoles:
		return "identity/set_member_roles"
	case TypeSetMemberStatus:
		return "identity/set_member_status"
	case TypeRotateKey:
		return "identity/rotate_key"
	case TypeSetDelegate:
		return "identity/set_delegate"
	}
	return ""
}

// Types lists the message types of this contract.
func Types() []uint64 {
	return []uint64{TypeRegisterPatient, TypeRegisterMember, TypeSetMemberRoles, TypeSetMemberStatus, TypeRotateKey, TypeSetDelegate}
}
