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

// Msg is a records message.
type Msg interface {
	Type() uint64
	encode(w *wire.Writer)
}

func (Anchor) Type() uint64 { return TypeAnchor }
func (Erase) Type() uint64  { return TypeErase }

func (m Anchor) encode(w *wire.Writer) {
	w.String(m.Custodian)
	w.Raw(m.Patient[:])
	w.Raw(m.Root[:])
	w.Uint(m.Count)
}

func (m Erase) encode(w *wire.Writer) {
	w.String(m.Custodian)
	w.Raw(m.Patient[:])
	w.String(m.Record)
}

// Encode wraps m as a transaction message.
func Encode(m Msg) tx.Msg {
	w := wire.NewWriter(96)
	m.encode(w)
	return tx.Msg{Type: m.Type(), Body: w.Bytes()}
}

// Decode parses a records message body. Its errors are *tx.Rejection values.
func Decode(typ uint64, body []byte) (Msg, error) {
	r := wire.NewReader(body)
	var m Msg
	switch typ {
	case TypeAnchor:
		a := Anchor{Custodian: r.String(64)}
		copy(a.Patient[:], r.Raw(tx.AddressSize))
		copy(a.Root[:], r.Raw(32))
		a.Count = r.Uint()
		m = a
	case TypeErase:
		e := Erase{Custodian: r.String(64)}
		copy(e.Patient[:], r.Raw(tx.AddressSize))
		e.Record = r.String(MaxRecordRef)
		m = e
	default:
		return nil, tx.Rejectf(tx.CodeUnknownMessage, "unknown records message type %d", typ)
	}
	if err := r.Done(); err != nil {
		return nil, tx.Rejectf(tx.CodeMalformed, "decode %s: %v", Name(typ), err)
	}
	return m, nil
}

// Check decodes a message and validates what needs no state.
func Check(typ uint64, body []byte) error {
	m, err := Decode(typ, body)
	if err != nil {
		return err
	}
	return validate(m)
}

// validate checks what needs no state.
func validate(m Msg) error {
	switch m := m.(type) {
	case Anchor:
		if err := identity.ValidateOrgID(m.Custodian); err != nil {
			return err
		}
		if m.Count == 0 || m.Count > MaxCount {
			return tx.Rejectf(tx.CodeInvalid, "an anchor covers 1 to %d records", MaxCount)
		}
	case Erase:
		if err := identity.ValidateOrgID(m.Custodian); err != nil {
			return err
		}
		if m.Patient == (tx.Address{}) {
			return tx.Rejectf(tx.CodeInvalid, "erasure names no patient")
		}
		if m.Record != "" {
			return ValidateRef(m.Record)
		}
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

// Name returns the stable name of a message type.
func Name(typ uint64) string {
	switch typ {
	case TypeAnchor:
		return "records/anchor"
	case TypeErase:
		return "records/erase"
	}
	return ""
}

// Types lists the message types of this contract.
func Types() []uint64 { return []uint64{TypeAnchor, TypeErase} }

// Handle decodes and executes one records message.
func Handle(ctx *contract.Context, typ uint64, body []byte) error {
	m, err := Decode(typ, body)
	if err != nil {
		return err
	}
	if err := validate(m); err != nil {
		return err
	}
	switch m := m.(type) {
	case Anchor:
		return anchor(ctx, m)
	case Erase:
		return erase(ctx, m)
	}
	return tx.Rejectf(tx.CodeUnknownMessage, "unknown records message %T", m)
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
		Type: "records.anchored",
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
		Type: "records.erased",
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
