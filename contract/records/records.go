// Package records is the records contract: it anchors the health records an
// organization holds off the chain, and records their erasure.
//
// An anchor names the custodian organization, the patient's pseudonym, and
// the RFC 6962 Merkle root over the anchored record versions (see Leaf): one
// record for a FHIR create or update, thousands for a bulk import, in one
// transaction either way. The leaves, their salts and the content stay in
// the custodian's vault; a custodian proves a record was anchored with the
// leaf and its inclusion proof. Nothing on the chain is health data.
//
// Erasure (GDPR art. 17) is crypto-shredding at the custodian: the erase
// message commits a tombstone, and the custodian's node destroys the keys
// when it sees it committed. The chain itself stays intact.
//
// records imports contract, identity, tx, wire and transparency-dev/merkle.
package records

import (
	"fmt"
	"strings"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// Message types owned by the records contract. Numbers are append-only.
const (
	TypeAnchor uint64 = 16
	TypeErase  uint64 = 17
)

// Limits on message fields.
const (
	MaxRecordRef = 160     // "Type/id": FHIR ids are at most 64 characters
	MaxCount     = 1 << 24 // leaves in one anchor
)

// Anchor commits Count record versions that Custodian holds about Patient
// (the zero address for records about no patient, such as an Organization).
// The signer must be a service or admin member of Custodian.
type Anchor struct {
	Custodian string
	Patient   tx.Address
	Root      [32]byte
	Count     uint64
}

// Erase records the erasure of one record ("Type/id") of Patient at
// Custodian, or of all of them when Record is empty. The signer must be the
// patient or a delegate, or a privacy officer or admin of Custodian.
type Erase struct {
	Custodian string
	Patient   tx.Address
	Record    string
}

func (Anchor) Type() uint64 { return TypeAnchor }
func (Erase) Type() uint64  { return TypeErase }

func (m Anchor) EncodeTo(w *wire.Writer) {
	w.String(m.Custodian)
	w.Raw(m.Patient[:])
	w.Raw(m.Root[:])
	w.Uint(m.Count)
}

func (m Erase) EncodeTo(w *wire.Writer) {
	w.String(m.Custodian)
	w.Raw(m.Patient[:])
	w.String(m.Record)
}

// Describe returns the records contract's description.
func Describe() contract.Contract {
	return contract.Contract{
		Name: "records",
		Msgs: []contract.MsgSpec{
			contract.Message("records/anchor", readAnchor, Anchor.validate, anchor),
			contract.Message("records/erase", readErase, Erase.validate, erase),
		},
		Events: []contract.EventSpec{
			{Type: EventAnchored, Action: "C"},
			{Type: EventErased, ByType: true, Action: "D"}, // a node carries out its erasures again when it starts
		},
	}
}

func readAnchor(r *wire.Reader) Anchor {
	a := Anchor{Custodian: r.String(64)}
	copy(a.Patient[:], r.Raw(tx.AddressSize))
	copy(a.Root[:], r.Raw(32))
	a.Count = r.Uint()
	return a
}

func readErase(r *wire.Reader) Erase {
	e := Erase{Custodian: r.String(64)}
	copy(e.Patient[:], r.Raw(tx.AddressSize))
	e.Record = r.String(MaxRecordRef)
	return e
}

func (m Anchor) validate() error {
	if err := identity.ValidateOrgID(m.Custodian); err != nil {
		return err
	}
	if m.Count == 0 || m.Count > MaxCount {
		return tx.Rejectf(tx.CodeInvalid, "an anchor covers 1 to %d records", MaxCount)
	}
	return nil
}

func (m Erase) validate() error {
	if err := identity.ValidateOrgID(m.Custodian); err != nil {
		return err
	}
	if m.Patient == (tx.Address{}) {
		return tx.Rejectf(tx.CodeInvalid, "erasure names no patient")
	}
	if m.Record != "" {
		return ValidateRef(m.Record)
	}
	return nil
}

// ValidateRef checks a record reference "Type/id".
func ValidateRef(ref string) error {
	typ, id, ok := strings.Cut(ref, "/")
	if !ok || typ == "" || id == "" || strings.Contains(id, "/") || len(ref) > MaxRecordRef {
		return tx.Rejectf(tx.CodeInvalid, "record reference must be Type/id of at most %d bytes", MaxRecordRef)
	}
	return nil
}

// AnchorRecord is an anchor as the state keeps it.
type AnchorRecord struct {
	Root      tx.Hash    `json:"root"` // the RFC 6962 root, in hex
	Custodian string     `json:"custodian"`
	Patient   tx.Address `json:"patient"`
	Count     uint64     `json:"count"`
	Height    int64      `json:"height"`
}

func anchorKey(root [32]byte) []byte { return append([]byte("r/"), root[:]...) }

// LoadAnchor returns the anchor with root, or nil.
func LoadAnchor(s identity.Reader, root [32]byte) (*AnchorRecord, error) {
	b, err := s.Get(anchorKey(root))
	if err != nil || b == nil {
		return nil, err
	}
	r := wire.NewReader(b)
	a := &AnchorRecord{Root: tx.Hash(root), Custodian: r.String(64)}
	copy(a.Patient[:], r.Raw(tx.AddressSize))
	a.Count = r.Uint()
	a.Height = int64(r.Uint())
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode anchor: %w", err)
	}
	return a, nil
}

func anchor(ctx *contract.Context, m Anchor) error {
	if _, err := identity.RequireRole(ctx, m.Custodian, identity.Service, identity.Admin); err != nil {
		return err
	}
	if old, err := LoadAnchor(ctx.Store, m.Root); err != nil {
		return err
	} else if old != nil {
		return tx.Rejectf(tx.CodeAlreadyExists, "root is already anchored at height %d", old.Height)
	}
	w := wire.NewWriter(64)
	w.String(m.Custodian)
	w.Raw(m.Patient[:])
	w.Uint(m.Count)
	w.Uint(uint64(ctx.Height))
	if err := ctx.Store.Set(anchorKey(m.Root), w.Bytes()); err != nil {
		return err
	}
	ev := contract.Event{
		Type: EventAnchored,
		Attrs: []contract.Attr{
			{Key: "custodian", Value: m.Custodian},
			{Key: "root", Value: fmt.Sprintf("%x", m.Root)},
			{Key: "count", Value: fmt.Sprint(m.Count)},
		},
	}
	if m.Patient != (tx.Address{}) {
		ev.Attrs = append(ev.Attrs, contract.Attr{Key: "patient", Value: m.Patient.String()})
		ev.Accounts = []tx.Address{m.Patient}
	}
	ctx.Emit(ev)
	return nil
}

func tombstoneKey(custodian string, patient tx.Address, record string) []byte {
	k := append([]byte("x/"), custodian...)
	k = append(k, 0)
	k = append(k, patient[:]...)
	return append(k, record...)
}

// Erased reports whether record ("Type/id") of patient at custodian, or all
// of the patient's records there, were erased.
func Erased(s identity.Reader, custodian string, patient tx.Address, record string) (bool, error) {
	for _, ref := range []string{record, ""} {
		b, err := s.Get(tombstoneKey(custodian, patient, ref))
		if err != nil || b != nil {
			return b != nil, err
		}
	}
	return false, nil
}

func erase(ctx *contract.Context, m Erase) error {
	if ok, err := identity.ActsFor(ctx.Store, ctx.Signer, m.Patient); err != nil {
		return err
	} else if !ok {
		if _, err := identity.RequireRole(ctx, m.Custodian, identity.PrivacyOfficer, identity.Admin); err != nil {
			return tx.Rejectf(tx.CodeUnauthorized, "only the patient, a delegate, or a privacy officer or admin of %s may erase", m.Custodian)
		}
	}
	if done, err := Erased(ctx.Store, m.Custodian, m.Patient, m.Record); err != nil {
		return err
	} else if done {
		return tx.Rejectf(tx.CodeAlreadyExists, "already erased")
	}
	w := wire.NewWriter(32)
	w.Uint(uint64(ctx.Height))
	w.Raw(ctx.Signer[:])
	if err := ctx.Store.Set(tombstoneKey(m.Custodian, m.Patient, m.Record), w.Bytes()); err != nil {
		return err
	}
	record := m.Record
	if record == "" {
		record = "*"
	}
	ctx.Emit(contract.Event{
		Type: EventErased,
		Attrs: []contract.Attr{
			{Key: "custodian", Value: m.Custodian},
			{Key: "patient", Value: m.Patient.String()},
			{Key: "record", Value: record},
			{Key: "by", Value: ctx.Signer.String()},
		},
		Accounts: []tx.Address{m.Patient, ctx.Signer},
	})
	return nil
}
