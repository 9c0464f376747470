package identity

import (
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// Message types owned by the identity contract. Numbers are append-only.
const (
	TypeRegisterPatient  uint64 = 1
	TypeRegisterMember   uint64 = 2
	TypeSetMemberRoles   uint64 = 3
	TypeSetMemberStatus  uint64 = 4
	TypeRotateKey        uint64 = 5
	TypeSetDelegate      uint64 = 6
	TypeSetGuardians     uint64 = 7
	TypeProposeRecovery  uint64 = 8
	TypeApproveRecovery  uint64 = 9
	TypeCancelRecovery   uint64 = 10
	TypeCompleteRecovery uint64 = 11
	TypeSetDevice        uint64 = 12
)

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

// SetGuardians names the signing patient's guardians (replacing any named
// before, and cancelling a recovery pending), the number of them that must
// approve a recovery, and its delay in seconds of block time. No guardians,
// with threshold and delay 0, removes them.
type SetGuardians struct {
	Guardians []tx.Address
	Threshold uint64
	Delay     uint64
}

// ProposeRecovery, signed by one of Patient's guardians, proposes moving
// Patient's account to NewPubKey, and counts as the signer's approval.
// Proof is NewPubKey's signature over RotationSignBytes for Patient, as for
// RotateKey: the new key's holder asked for this account.
type ProposeRecovery struct {
	Patient   tx.Address
	NewPubKey []byte
	Proof     []byte
}

// ApproveRecovery is a guardian's approval of Patient's pending recovery
// numbered Recovery.
type ApproveRecovery struct {
	Patient  tx.Address
	Recovery uint64
}

// CancelRecovery, signed by Patient (with their current key) or a delegate,
// cancels the pending recovery numbered Recovery before it completes.
type CancelRecovery struct {
	Patient  tx.Address
	Recovery uint64
}

// CompleteRecovery carries out Patient's recovery numbered Recovery once its
// delay has passed: the new key signs for the account, the old one no
// longer. Anyone may send it, including the new key before it is registered.
type CompleteRecovery struct {
	Patient  tx.Address
	Recovery uint64
}

// SetDevice, signed by Patient or one of their delegates, authorizes the
// monitoring device holding PubKey to write Observations about Patient to
// Custodian's FHIR API, of the LOINC codes whose commitments under the
// device's salt Codes holds (CommitCodes; at most MaxDeviceCodes), or
// changes what it may write; with Remove (and no Custodian or Codes), it
// revokes the device at once. The device's key becomes an account of kind
// Device, which signs no transaction and never acts for the patient.
type SetDevice struct {
	Patient   tx.Address
	PubKey    []byte
	Custodian string
	Codes     []string
	Remove    bool
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

func (RegisterPatient) Type() uint64  { return TypeRegisterPatient }
func (RegisterMember) Type() uint64   { return TypeRegisterMember }
func (SetMemberRoles) Type() uint64   { return TypeSetMemberRoles }
func (SetMemberStatus) Type() uint64  { return TypeSetMemberStatus }
func (RotateKey) Type() uint64        { return TypeRotateKey }
func (SetDelegate) Type() uint64      { return TypeSetDelegate }
func (SetGuardians) Type() uint64     { return TypeSetGuardians }
func (ProposeRecovery) Type() uint64  { return TypeProposeRecovery }
func (ApproveRecovery) Type() uint64  { return TypeApproveRecovery }
func (CancelRecovery) Type() uint64   { return TypeCancelRecovery }
func (CompleteRecovery) Type() uint64 { return TypeCompleteRecovery }
func (SetDevice) Type() uint64        { return TypeSetDevice }

func (RegisterPatient) EncodeTo(*wire.Writer) {}

func (m RegisterMember) EncodeTo(w *wire.Writer) {
	w.String(m.Org)
	w.Raw(m.PubKey)
	writeRoles(w, m.Roles)
}

func (m SetMemberRoles) EncodeTo(w *wire.Writer) {
	w.Raw(m.Member[:])
	writeRoles(w, m.Roles)
}

func (m SetMemberStatus) EncodeTo(w *wire.Writer) {
	w.Raw(m.Member[:])
	w.Bool(m.Suspended)
}

func (m RotateKey) EncodeTo(w *wire.Writer) {
	w.Raw(m.NewPubKey)
	w.Raw(m.Proof)
}

func (m SetDelegate) EncodeTo(w *wire.Writer) {
	w.Raw(m.Delegate[:])
	w.String(string(m.Relation))
	w.Bool(m.Remove)
}

func (m SetGuardians) EncodeTo(w *wire.Writer) {
	writeAddresses(w, m.Guardians)
	w.Uint(m.Threshold)
	w.Uint(m.Delay)
}

func (m ProposeRecovery) EncodeTo(w *wire.Writer) {
	w.Raw(m.Patient[:])
	w.Raw(m.NewPubKey)
	w.Raw(m.Proof)
}

func (m ApproveRecovery) EncodeTo(w *wire.Writer)  { encodeRecoveryRef(w, m.Patient, m.Recovery) }
func (m CancelRecovery) EncodeTo(w *wire.Writer)   { encodeRecoveryRef(w, m.Patient, m.Recovery) }
func (m CompleteRecovery) EncodeTo(w *wire.Writer) { encodeRecoveryRef(w, m.Patient, m.Recovery) }

func (m SetDevice) EncodeTo(w *wire.Writer) {
	w.Raw(m.Patient[:])
	w.Raw(m.PubKey)
	w.String(m.Custodian)
	w.Strings(m.Codes)
	w.Bool(m.Remove)
}

func encodeRecoveryRef(w *wire.Writer, patient tx.Address, id uint64) {
	w.Raw(patient[:])
	w.Uint(id)
}

func readAddress(r *wire.Reader) tx.Address {
	var a tx.Address
	copy(a[:], r.Raw(tx.AddressSize))
	return a
}

// Describe returns the identity contract's description.
func Describe() contract.Contract {
	register := contract.Message("identity/register_patient",
		func(*wire.Reader) RegisterPatient { return RegisterPatient{} }, nil, registerPatient)
	register.Open = true
	complete := contract.Message("identity/complete_recovery", readCompleteRecovery, nil, completeRecovery)
	complete.Open = true // the recovery's new key may send it before it is registered
	return contract.Contract{
		Name: "identity",
		Msgs: []contract.MsgSpec{
			register,
			contract.Message("identity/register_member", readRegisterMember, RegisterMember.validate, registerMember),
			contract.Message("identity/set_member_roles", readSetMemberRoles, SetMemberRoles.validate, setMemberRoles),
			contract.Message("identity/set_member_status", readSetMemberStatus, nil, setMemberStatus),
			contract.Message("identity/rotate_key", readRotateKey, nil, rotateKey),
			contract.Message("identity/set_delegate", readSetDelegate, SetDelegate.validate, setDelegate),
			contract.Message("identity/set_guardians", readSetGuardians, SetGuardians.validate, setGuardians),
			contract.Message("identity/propose_recovery", readProposeRecovery, nil, proposeRecovery),
			contract.Message("identity/approve_recovery", readApproveRecovery, nil, approveRecovery),
			contract.Message("identity/cancel_recovery", readCancelRecovery, nil, cancelRecovery),
			complete,
			contract.Message("identity/set_device", readSetDevice, SetDevice.validate, setDevice),
		},
		Events: []contract.EventSpec{
			{Type: EventPatientRegistered}, {Type: EventMemberRegistered}, {Type: EventMemberRolesSet},
			{Type: EventMemberSuspended}, {Type: EventMemberReinstated}, {Type: EventKeyRotated},
			{Type: EventDelegateSet}, {Type: EventDelegateRemoved},
			{Type: EventGuardiansSet}, {Type: EventGuardiansRemoved}, {Type: EventRecoveryProposed},
			{Type: EventRecoveryApproved}, {Type: EventRecoveryCancelled}, {Type: EventRecoveryCompleted},
			{Type: EventDeviceSet}, {Type: EventDeviceRemoved},
		},
		Genesis: initGenesis,
	}
}

func readRegisterMember(r *wire.Reader) RegisterMember {
	return RegisterMember{Org: r.String(64), PubKey: r.Raw(tx.PubKeySize), Roles: readRoles(r)}
}

func readSetMemberRoles(r *wire.Reader) SetMemberRoles {
	return SetMemberRoles{Member: readAddress(r), Roles: readRoles(r)}
}

func readSetMemberStatus(r *wire.Reader) SetMemberStatus {
	return SetMemberStatus{Member: readAddress(r), Suspended: r.Bool()}
}

func readRotateKey(r *wire.Reader) RotateKey {
	return RotateKey{NewPubKey: r.Raw(tx.PubKeySize), Proof: r.Raw(tx.SignatureSize)}
}

func readSetDelegate(r *wire.Reader) SetDelegate {
	return SetDelegate{Delegate: readAddress(r), Relation: Relation(r.String(maxRoleLen)), Remove: r.Bool()}
}

func readSetGuardians(r *wire.Reader) SetGuardians {
	return SetGuardians{Guardians: readAddresses(r), Threshold: r.Uint(), Delay: r.Uint()}
}

func readProposeRecovery(r *wire.Reader) ProposeRecovery {
	return ProposeRecovery{Patient: readAddress(r), NewPubKey: r.Raw(tx.PubKeySize), Proof: r.Raw(tx.SignatureSize)}
}

func readApproveRecovery(r *wire.Reader) ApproveRecovery {
	return ApproveRecovery{Patient: readAddress(r), Recovery: r.Uint()}
}

func readCancelRecovery(r *wire.Reader) CancelRecovery {
	return CancelRecovery{Patient: readAddress(r), Recovery: r.Uint()}
}

func readCompleteRecovery(r *wire.Reader) CompleteRecovery {
	return CompleteRecovery{Patient: readAddress(r), Recovery: r.Uint()}
}

func readSetDevice(r *wire.Reader) SetDevice {
	return SetDevice{Patient: readAddress(r), PubKey: r.Raw(tx.PubKeySize), Custodian: r.String(64),
		Codes: r.Strings(MaxDeviceCodes, 32), Remove: r.Bool()}
}

func (m RegisterMember) validate() error {
	if err := ValidateOrgID(m.Org); err != nil {
		return err
	}
	_, err := normalizeRoles(m.Roles)
	return err
}

func (m SetMemberRoles) validate() error {
	_, err := normalizeRoles(m.Roles)
	return err
}

func (m SetDelegate) validate() error { return validateRelation(m.Relation) }
