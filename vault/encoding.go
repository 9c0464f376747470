package vault

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// Key tags: the first byte of every database key. See the package comment
// for the whole layout.
const (
	tagMeta            = 'm' // m → meta value
	tagLocator         = 'l' // l TYPE 0 ID → locator value: the record's patient, or erased
	tagPatientKey      = 'k' // k PATIENT → patient key value: the wrapped key, or erased
	tagRecord          = 'r' // r PATIENT 0 TYPE 0 ID → record value
	tagVersion         = 'v' // v PATIENT 0 TYPE 0 ID 0 VERSION → version value
	tagPendingErasure  = 'w' // w KIND PATIENT [0 TYPE 0 ID] → empty: compaction to do
	pendingRecordKind  = 'r' // a pending erasure of one record
	pendingPatientKind = 'p' // a pending erasure of a patient
	patientLen         = 40  // hex characters of a pseudonym
	maxTypeLen         = 64
	maxIDLen           = 64
)

// First bytes of the stored values. A locator or patient key value is
// either live or a tombstone, so that one read tells a record (or patient)
// that is there, one that never was, and one that was erased.
const (
	formatV1 = 1 // a value in this package's first format; a live locator or patient key
	erasedV1 = 2 // a tombstone: a locator or patient key value alone
)

// Sizes of the stored values.
const (
	wrappedKeySize   = nonceSize + keySize + tagSize // a data key sealed under a patient key
	recordValueSize  = 1 + 4 + wrappedKeySize
	versionHeaderLen = 1 + 8 + 1 // format, updated, flags
	minVersionValue  = versionHeaderLen + nonceSize + saltSize + tagSize
	saltSize         = 32
	flagDeleted      = 1
)

// Domain-separation prefixes of the additional data of each kind of
// ciphertext, so that no ciphertext can stand in for one of another kind.
const (
	aadCheck      = "careledger/vault/v1/check"
	aadPatientKey = "careledger/vault/v1/patient-key\x00"
	aadRecordKey  = "careledger/vault/v1/record-key\x00"
	aadContent    = "careledger/vault/v1/content\x00"
)

// checkPlaintext is what the meta value's wrapped check decrypts to.
const checkPlaintext = "careledger vault key check v1"

// errInvalid builds an error wrapping ErrInvalid. Its message never repeats
// the invalid value, which may be anything, health data included.
func errInvalid(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, ErrInvalid)...)
}

// checkPatient accepts "" (no patient) or a pseudonym: 40 lowercase hex
// digits, as tx.Address.String writes it. Requiring one spelling matters:
// a patient written two ways would have two keys, and erasing one would
// leave the other.
func checkPatient(p string) error {
	if p == "" {
		return nil
	}
	if len(p) != patientLen {
		return errInvalid("patient pseudonym is %d characters; want %d hex digits or none", len(p), patientLen)
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return errInvalid("patient pseudonym must be lowercase hex")
		}
	}
	return nil
}

// checkType accepts a FHIR resource type name: an upper-case letter then
// letters, at most 64 in all. (Every R4 resource type has this form.)
func checkType(t string) error {
	if len(t) == 0 || len(t) > maxTypeLen {
		return errInvalid("resource type is %d characters; want 1 to %d", len(t), maxTypeLen)
	}
	if c := t[0]; c < 'A' || c > 'Z' {
		return errInvalid("resource type must start with an upper-case letter")
	}
	for i := 1; i < len(t); i++ {
		if c := t[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return errInvalid("resource type must be letters only")
		}
	}
	return nil
}

// checkID accepts a FHIR logical id: [A-Za-z0-9\-\.]{1,64}.
func checkID(id string) error {
	if len(id) == 0 || len(id) > maxIDLen {
		return errInvalid("resource id is %d characters; want 1 to %d", len(id), maxIDLen)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return errInvalid("resource id may hold only letters, digits, '-' and '.'")
		}
	}
	return nil
}

func checkRef(typ, id string) error {
	if err := checkType(typ); err != nil {
		return err
	}
	return checkID(id)
}

func checkVersion(v int) error {
	if v < 1 || v > math.MaxInt32 {
		return errInvalid("version %d is out of range", v)
	}
	return nil
}

// The range of times that UnixNano represents.
var (
	minUpdated = time.Unix(0, math.MinInt64)
	maxUpdated = time.Unix(0, math.MaxInt64)
)

func checkRecord(r *Record) error {
	if err := checkPatient(r.Patient); err != nil {
		return err
	}
	if err := checkRef(r.Type, r.ID); err != nil {
		return err
	}
	if err := checkVersion(r.Version); err != nil {
		return err
	}
	if r.Updated.IsZero() || r.Updated.Before(minUpdated) || r.Updated.After(maxUpdated) {
		return errInvalid("updated time is missing or out of range")
	}
	if r.Deleted && len(r.Content) != 0 {
		return errInvalid("a deleted version has no content")
	}
	if !r.Deleted && len(r.Content) == 0 {
		return errInvalid("content is empty")
	}
	return nil
}

// Keys. Patient, type and id never hold a 0 byte (see the checks above), so
// a 0 separates them unambiguously, and byte order is type-then-id order.

// join returns the fields separated by 0 bytes.
func join(fields ...string) []byte {
	n := 0
	for _, f := range fields {
		n += len(f) + 1
	}
	b := make([]byte, 0, n+4) // room for a tag or a version number
	for i, f := range fields {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, f...)
	}
	return b
}

func key(tag byte, fields ...string) []byte {
	return append([]byte{tag}, join(fields...)...)
}

func metaKey() []byte                     { return []byte{tagMeta} }
func locatorKey(typ, id string) []byte    { return key(tagLocator, typ, id) }
func patientKeyKey(patient string) []byte { return key(tagPatientKey, patient) }
func recordKey(p, typ, id string) []byte  { return key(tagRecord, p, typ, id) }

// recordsPrefix is the prefix of the patient's record keys, of one type if
// typ is not "".
func recordsPrefix(p, typ string) []byte {
	if typ == "" {
		return append(key(tagRecord, p), 0)
	}
	return append(key(tagRecord, p, typ), 0)
}

// versionsPrefix is the prefix of a record's version keys, or of all the
// patient's version keys if typ is "".
func versionsPrefix(p, typ, id string) []byte {
	if typ == "" {
		return append(key(tagVersion, p), 0)
	}
	return append(key(tagVersion, p, typ, id), 0)
}

func versionKey(p, typ, id string, version int) []byte {
	return binary.BigEndian.AppendUint32(versionsPrefix(p, typ, id), uint32(version))
}

func pendingRecordKey(p, typ, id string) []byte {
	return append([]byte{tagPendingErasure, pendingRecordKind}, join(p, typ, id)...)
}

func pendingPatientKey(p string) []byte {
	return append([]byte{tagPendingErasure, pendingPatientKind}, p...)
}

// decodeRecordKey returns the type and id of a key under
// recordsPrefix(patient, ""). List reads these keys from the database.
func decodeRecordKey(k []byte, patient string) (typ, id string, err error) {
	rest, ok := bytes.CutPrefix(k, recordsPrefix(patient, ""))
	if !ok {
		return "", "", errors.New("record key has another prefix")
	}
	t, i, ok := bytes.Cut(rest, []byte{0})
	if !ok {
		return "", "", errors.New("record key has no id")
	}
	typ, id = string(t), string(i)
	if err := checkRef(typ, id); err != nil {
		return "", "", errors.New("record key has an invalid type or id")
	}
	return typ, id, nil
}

// pendingErasure is a decoded pending-erasure key: a patient's (typ == "")
// or one record's.
type pendingErasure struct {
	patient, typ, id string
}

func (e pendingErasure) key() []byte {
	if e.typ == "" {
		return pendingPatientKey(e.patient)
	}
	return pendingRecordKey(e.patient, e.typ, e.id)
}

// decodePendingKey decodes a key made by pendingRecordKey or
// pendingPatientKey. Open reads these keys from the database.
func decodePendingKey(k []byte) (pendingErasure, error) {
	if len(k) < 2 || k[0] != tagPendingErasure {
		return pendingErasure{}, errors.New("pending erasure key is too short or has another tag")
	}
	switch k[1] {
	case pendingPatientKind:
		p := string(k[2:])
		if p == "" || checkPatient(p) != nil {
			return pendingErasure{}, errors.New("pending erasure key has an invalid patient")
		}
		return pendingErasure{patient: p}, nil
	case pendingRecordKind:
		fields := bytes.Split(k[2:], []byte{0})
		if len(fields) != 3 {
			return pendingErasure{}, errors.New("pending erasure key does not have three fields")
		}
		e := pendingErasure{patient: string(fields[0]), typ: string(fields[1]), id: string(fields[2])}
		if checkPatient(e.patient) != nil || checkRef(e.typ, e.id) != nil {
			return pendingErasure{}, errors.New("pending erasure key has an invalid field")
		}
		return e, nil
	}
	return pendingErasure{}, errors.New("pending erasure key has an unknown kind")
}

// Values.

// The meta value is formatV1 followed by a check value wrapped by the
// KeyWrapper, with which Open tells a wrong KeyWrapper from the right one.
func encodeMeta(wrappedCheck []byte) []byte {
	return append([]byte{formatV1}, wrappedCheck...)
}

func decodeMeta(v []byte) (wrappedCheck []byte, err error) {
	if len(v) < 2 {
		return nil, fmt.Errorf("meta value is %d bytes", len(v))
	}
	if v[0] != formatV1 {
		return nil, fmt.Errorf("vault format %d is not supported (this build reads format %d)", v[0], formatV1)
	}
	return v[1:], nil
}

// locator is a decoded locator value: which patient holds a record, and
// whether the record was erased. A tombstone keeps the patient (a
// pseudonym, no health data), so that the accounting of who read an erased
// record still finds its patient's trail.
type locator struct {
	patient string
	erased  bool
}

// The locator value is formatV1 or erasedV1 followed by the patient
// pseudonym (none for the directory). Tombstones written before they kept
// the patient are erasedV1 alone.
func (l locator) encode() []byte {
	tag := byte(formatV1)
	if l.erased {
		tag = erasedV1
	}
	return append([]byte{tag}, l.patient...)
}

func decodeLocator(v []byte) (locator, error) {
	if len(v) < 1 || v[0] != formatV1 && v[0] != erasedV1 {
		return locator{}, errors.New("locator value is empty or of an unknown format")
	}
	p := string(v[1:])
	if checkPatient(p) != nil {
		return locator{}, errors.New("locator value holds an invalid patient")
	}
	return locator{patient: p, erased: v[0] == erasedV1}, nil
}

// The patient key value is formatV1 followed by the patient key as the
// KeyWrapper wrapped it (opaque, not empty), or erasedV1 alone.
func encodePatientKey(wrapped []byte) []byte {
	if wrapped == nil {
		return []byte{erasedV1}
	}
	return append([]byte{formatV1}, wrapped...)
}

// decodePatientKey returns the wrapped key, or nil if the patient was
// erased.
func decodePatientKey(v []byte) (wrapped []byte, err error) {
	switch {
	case len(v) == 1 && v[0] == erasedV1:
		return nil, nil
	case len(v) < 2 || v[0] != formatV1:
		return nil, errors.New("patient key value is too short or of an unknown format")
	}
	return bytes.Clone(v[1:]), nil
}

// recordValue is the record value: its latest version and its data key,
// sealed under the patient key.
type recordValue struct {
	latest     int
	wrappedKey []byte // wrappedKeySize bytes
}

func (r recordValue) encode() []byte {
	v := make([]byte, 0, recordValueSize)
	v = append(v, formatV1)
	v = binary.BigEndian.AppendUint32(v, uint32(r.latest))
	return append(v, r.wrappedKey...)
}

func decodeRecordValue(v []byte) (recordValue, error) {
	if len(v) != recordValueSize {
		return recordValue{}, fmt.Errorf("record value is %d bytes; want %d", len(v), recordValueSize)
	}
	if v[0] != formatV1 {
		return recordValue{}, fmt.Errorf("record value has unknown format %d", v[0])
	}
	latest := binary.BigEndian.Uint32(v[1:])
	if latest < 1 || latest > math.MaxInt32 {
		return recordValue{}, fmt.Errorf("record value has latest version %d", latest)
	}
	return recordValue{latest: int(latest), wrappedKey: bytes.Clone(v[5:])}, nil
}

// versionValue is a version value: the plaintext metadata (also bound into
// the additional data, so that changing it fails authentication) and the
// salt and content, sealed under the record's data key.
type versionValue struct {
	updated int64 // Unix nanoseconds
	deleted bool
	sealed  []byte // nonce, then ciphertext and tag of salt || content
}

// header returns the plaintext part of the value.
func (v versionValue) header() []byte {
	h := make([]byte, 0, versionHeaderLen)
	h = append(h, formatV1)
	h = binary.BigEndian.AppendUint64(h, uint64(v.updated))
	var flags byte
	if v.deleted {
		flags |= flagDeleted
	}
	return append(h, flags)
}

func (v versionValue) encode() []byte {
	return append(v.header(), v.sealed...)
}

func decodeVersionValue(b []byte) (versionValue, error) {
	if len(b) < minVersionValue {
		return versionValue{}, fmt.Errorf("version value is %d bytes; want at least %d", len(b), minVersionValue)
	}
	if b[0] != formatV1 {
		return versionValue{}, fmt.Errorf("version value has unknown format %d", b[0])
	}
	flags := b[9]
	if flags&^flagDeleted != 0 {
		return versionValue{}, fmt.Errorf("version value has unknown flags %#x", flags)
	}
	deleted := flags&flagDeleted != 0
	if deleted && len(b) != minVersionValue {
		return versionValue{}, errors.New("deleted version value has content")
	}
	return versionValue{
		updated: int64(binary.BigEndian.Uint64(b[1:])),
		deleted: deleted,
		sealed:  bytes.Clone(b[versionHeaderLen:]),
	}, nil
}

// Additional data.

func patientKeyAAD(patient string) []byte {
	return append([]byte(aadPatientKey), patient...)
}

func recordKeyAAD(patient, typ, id string) []byte {
	return append([]byte(aadRecordKey), join(patient, typ, id)...)
}

// contentAAD binds a version's ciphertext to its record, its version number
// and its plaintext metadata.
func contentAAD(patient, typ, id string, version int, header []byte) []byte {
	a := append([]byte(aadContent), join(patient, typ, id)...)
	a = append(a, 0)
	a = binary.BigEndian.AppendUint32(a, uint32(version))
	return append(a, header...)
}
