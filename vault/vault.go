package vault

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/filter"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// Errors that callers test with errors.Is.
var (
	// ErrNotFound: the vault holds no such record or version.
	ErrNotFound = errors.New("record not found")
	// ErrErased: the record, or its patient, was erased (FHIR: 410 Gone).
	ErrErased = errors.New("record erased")
	// ErrCorrupt: stored bytes were altered, moved or torn, or were
	// encrypted under another key. The record is never served.
	ErrCorrupt = errors.New("stored record is corrupt")
	// ErrVersionConflict: a version put is not the record's latest + 1.
	ErrVersionConflict = errors.New("version conflict")
	// ErrInvalid: a record or an argument is malformed.
	ErrInvalid = errors.New("invalid input")
	// ErrWrongKey: Open was given a KeyWrapper that does not open the
	// vault's keys (or the vault's key check value was damaged).
	ErrWrongKey = errors.New("the key wrapper does not open this vault")
)

// Record is one version of a FHIR resource.
type Record struct {
	Patient string    // pseudonym (40 lowercase hex digits), or "" for a resource about no patient
	Type    string    // FHIR resource type, e.g. "Observation"
	ID      string    // the record's name: a FHIR logical id, or the custodian's ref for it
	Version int       // 1, 2, ...
	Updated time.Time // meta.lastUpdated as the FHIR server set it; read back in UTC, to the nanosecond
	Deleted bool      // a FHIR delete: a version with no content
	Salt    [32]byte  // salt of the on-chain commitment
	Content []byte    // canonical resource JSON (nil when Deleted)
}

// commitmentDomain separates record commitments from every other hash.
const commitmentDomain = "careledger/record/v1\n"

// Commitment is the salted commitment anchored on the chain:
// SHA-256("careledger/record/v1\n" || salt || content). The salt keeps
// anyone who guesses a resource's content from confirming the guess
// against the chain.
func Commitment(salt [32]byte, content []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(commitmentDomain))
	h.Write(salt[:])
	h.Write(content)
	var c [32]byte
	h.Sum(c[:0])
	return c
}

// NewSalt returns a random commitment salt.
func NewSalt() ([32]byte, error) {
	var s [32]byte
	if _, err := rand.Read(s[:]); err != nil {
		return s, fmt.Errorf("new salt: %w", err)
	}
	return s, nil
}

// Vault is a custodian's encrypted record store. Its methods are safe for
// concurrent use.
type Vault struct {
	path string // of the database
	db   *leveldb.DB
	kw   KeyWrapper
	// nameKey keys KeyedHash (namekey.go).
	nameKey []byte

	// wmu serializes the writers: Put reads a record's latest version and
	// writes the next in one step, and erasure must not interleave.
	wmu sync.Mutex
	// rmu is held shared by every read and exclusively by erasure, so
	// that a read never sees half an erasure and no read's iterator (a
	// LevelDB snapshot) keeps erased values alive through the compaction.
	rmu sync.RWMutex
}

var syncWrite = &opt.WriteOptions{Sync: true}

// dbOptions are LevelDB's options. Put looks up records that do not exist
// yet, which a Bloom filter answers without reading a table, as long as the
// filter blocks stay in the block cache: with goleveldb's 8 MiB default,
// BenchmarkPut read them from disk for most lookups and took 1.5 to 2
// times as long. A larger write buffer means fewer, larger compactions.
// Ciphertext does not compress.
func dbOptions() *opt.Options {
	return &opt.Options{
		Filter:             filter.NewBloomFilter(10),
		Compression:        opt.NoCompression,
		BlockCacheCapacity: 64 << 20,
		WriteBuffer:        16 << 20,
	}
}

// Open opens or creates the vault in dir (its database is dir/vault.db),
// whose keys kw wraps. It returns an error wrapping ErrWrongKey if kw is not
// the key wrapper the vault was created with. It finishes any erasure that
// a crash interrupted before its compaction.
func Open(dir string, kw KeyWrapper) (*Vault, error) {
	return openDB(dir, kw, dbOptions())
}

// OpenReadOnly opens the vault in dir for reading only, as an offline
// check does: nothing in dir is written (LevelDB's read-only mode), a vault
// that does not exist or was never opened for writing is an error, every
// write fails, and an erasure a crash interrupted is left for the node to
// finish.
func OpenReadOnly(dir string, kw KeyWrapper) (*Vault, error) {
	o := dbOptions()
	o.ReadOnly, o.ErrorIfMissing = true, true
	return openDB(dir, kw, o)
}

func openDB(dir string, kw KeyWrapper, o *opt.Options) (*Vault, error) {
	if kw == nil {
		return nil, errors.New("open vault: no key wrapper")
	}
	path := filepath.Join(dir, "vault.db")
	db, err := leveldb.OpenFile(path, o)
	if err != nil {
		return nil, fmt.Errorf("open vault: %w", err)
	}
	v := &Vault{path: path, db: db, kw: kw}
	if err := v.checkKey(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open vault: %w", err)
	}
	if err := v.loadNameKey(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open vault: %w", err)
	}
	if o.ReadOnly {
		return v, nil
	}
	if err := v.resumeErasures(); err != nil {
		v.db.Close()
		return nil, fmt.Errorf("open vault: %w", err)
	}
	return v, nil
}

// checkKey checks that kw unwraps the vault's check value, or writes one
// in a new vault.
func (v *Vault) checkKey() error {
	val, err := v.db.Get(metaKey(), nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		it := v.db.NewIterator(nil, nil)
		used := it.First()
		it.Release()
		if err := it.Error(); err != nil {
			return err
		}
		if used {
			return fmt.Errorf("the database holds entries but no key check: %w", ErrCorrupt)
		}
		w, err := v.kw.Wrap([]byte(checkPlaintext), []byte(aadCheck))
		if err != nil {
			return fmt.Errorf("wrap key check: %w", err)
		}
		return v.db.Put(metaKey(), encodeMeta(w), syncWrite)
	}
	if err != nil {
		return err
	}
	w, err := decodeMeta(val)
	if err != nil {
		return fmt.Errorf("key check: %v: %w", err, ErrCorrupt)
	}
	pt, err := v.kw.Unwrap(w, []byte(aadCheck))
	if errors.Is(err, ErrCorrupt) || err == nil && string(pt) != checkPlaintext {
		return ErrWrongKey
	}
	if err != nil {
		return fmt.Errorf("unwrap key check: %w", err)
	}
	return nil
}

// Close closes the vault, after any write or erasure in progress.
func (v *Vault) Close() error {
	v.wmu.Lock()
	defer v.wmu.Unlock()
	return v.db.Close()
}

// corrupt wraps ErrCorrupt with the record and what is wrong. what comes
// from this package's decoders, which never quote stored bytes.
func corrupt(op, typ, id string, what error) error {
	return fmt.Errorf("%s %s/%s: %v: %w", op, typ, id, what, ErrCorrupt)
}

// openRecord is a record ready to be read: where it is, its latest
// version and its data key.
type openRecord struct {
	patient, typ, id string
	latest           int
	wrappedKey       []byte // the data key, sealed under the patient key
	aead             cipher.AEAD
}

// locate returns the patient who holds a record, or an error wrapping
// ErrNotFound or ErrErased.
func (v *Vault) locate(op, typ, id string) (string, error) {
	val, err := v.db.Get(locatorKey(typ, id), nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return "", fmt.Errorf("%s %s/%s: %w", op, typ, id, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("%s %s/%s: %w", op, typ, id, err)
	}
	loc, err := decodeLocator(val)
	if err != nil {
		return "", corrupt(op, typ, id, err)
	}
	if loc.erased {
		return "", fmt.Errorf("%s %s/%s: %w", op, typ, id, ErrErased)
	}
	return loc.patient, nil
}

// open finds a record and unwraps its keys. The caller holds rmu.
func (v *Vault) open(op, typ, id string) (*openRecord, error) {
	patient, err := v.locate(op, typ, id)
	if err != nil {
		return nil, err
	}
	pk, err := v.patientKey(patient)
	if err != nil {
		return nil, fmt.Errorf("%s %s/%s: %w", op, typ, id, err)
	}
	return v.openWith(op, pk, patient, typ, id)
}

// openWith is open given the record's patient and patient key.
func (v *Vault) openWith(op string, pk cipher.AEAD, patient, typ, id string) (*openRecord, error) {
	val, err := v.db.Get(recordKey(patient, typ, id), nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil, corrupt(op, typ, id, errors.New("located record is missing"))
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s/%s: %w", op, typ, id, err)
	}
	rv, err := decodeRecordValue(val)
	if err != nil {
		return nil, corrupt(op, typ, id, err)
	}
	dk, err := open(pk, rv.wrappedKey, recordKeyAAD(patient, typ, id))
	if err != nil {
		return nil, fmt.Errorf("%s %s/%s: data key: %w", op, typ, id, err)
	}
	defer clear(dk)
	aead, err := newAEAD(dk)
	if err != nil {
		return nil, corrupt(op, typ, id, err)
	}
	return &openRecord{patient: patient, typ: typ, id: id, latest: rv.latest, wrappedKey: rv.wrappedKey, aead: aead}, nil
}

// patientKey unwraps the key of a patient who has records.
func (v *Vault) patientKey(patient string) (cipher.AEAD, error) {
	val, err := v.db.Get(patientKeyKey(patient), nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil, fmt.Errorf("patient key is missing: %w", ErrCorrupt)
	}
	if err != nil {
		return nil, err
	}
	return v.unwrapPatientKey(patient, val)
}

// unwrapPatientKey unwraps a stored patient key value.
func (v *Vault) unwrapPatientKey(patient string, val []byte) (cipher.AEAD, error) {
	w, err := decodePatientKey(val)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, ErrCorrupt)
	}
	if w == nil {
		return nil, fmt.Errorf("patient key is erased but records are not: %w", ErrCorrupt)
	}
	pk, err := v.kw.Unwrap(w, patientKeyAAD(patient))
	if err != nil {
		return nil, fmt.Errorf("patient key: %w", err)
	}
	defer clear(pk)
	aead, err := newAEAD(pk)
	if err != nil {
		return nil, fmt.Errorf("patient key: %v: %w", err, ErrCorrupt)
	}
	return aead, nil
}

// version reads and decrypts one version of r.
func (v *Vault) version(op string, r *openRecord, version int) (Record, error) {
	val, err := v.db.Get(versionKey(r.patient, r.typ, r.id, version), nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return Record{}, corrupt(op, r.typ, r.id, fmt.Errorf("version %d of %d is missing", version, r.latest))
	}
	if err != nil {
		return Record{}, fmt.Errorf("%s %s/%s: %w", op, r.typ, r.id, err)
	}
	vv, err := decodeVersionValue(val)
	if err != nil {
		return Record{}, corrupt(op, r.typ, r.id, fmt.Errorf("version %d: %v", version, err))
	}
	pt, err := open(r.aead, vv.sealed, contentAAD(r.patient, r.typ, r.id, version, vv.header()))
	if err != nil {
		return Record{}, fmt.Errorf("%s %s/%s: version %d: %w", op, r.typ, r.id, version, err)
	}
	if len(pt) < saltSize || vv.deleted != (len(pt) == saltSize) {
		// Only a writer holding the data key can get here.
		return Record{}, corrupt(op, r.typ, r.id, fmt.Errorf("version %d: content does not match the deleted flag", version))
	}
	rec := Record{
		Patient: r.patient,
		Type:    r.typ,
		ID:      r.id,
		Version: version,
		Updated: time.Unix(0, vv.updated).UTC(),
		Deleted: vv.deleted,
	}
	copy(rec.Salt[:], pt)
	if !vv.deleted {
		rec.Content = pt[saltSize:]
	}
	return rec, nil
}

// PatientOf returns the patient who holds a record, or held it before it
// was erased: an erasure destroys content, not the accounting of who read
// it. It returns an error wrapping ErrNotFound for a record never stored,
// and ErrErased for an erased record about no patient (or one erased
// before tombstones kept the patient).
func (v *Vault) PatientOf(typ, id string) (string, error) {
	if err := checkRef(typ, id); err != nil {
		return "", fmt.Errorf("read: %w", err)
	}
	v.rmu.RLock()
	defer v.rmu.RUnlock()
	val, err := v.db.Get(locatorKey(typ, id), nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return "", fmt.Errorf("read %s/%s: %w", typ, id, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("read %s/%s: %w", typ, id, err)
	}
	loc, err := decodeLocator(val)
	if err != nil {
		return "", corrupt("read", typ, id, err)
	}
	if loc.erased && loc.patient == "" {
		return "", fmt.Errorf("read %s/%s: %w", typ, id, ErrErased)
	}
	return loc.patient, nil
}

// Latest returns the latest version of a record, which may be a deletion
// (Deleted set, no content).
func (v *Vault) Latest(typ, id string) (Record, error) {
	if err := checkRef(typ, id); err != nil {
		return Record{}, fmt.Errorf("read: %w", err)
	}
	v.rmu.RLock()
	defer v.rmu.RUnlock()
	r, err := v.open("read", typ, id)
	if err != nil {
		return Record{}, err
	}
	return v.version("read", r, r.latest)
}

// Version returns one version of a record.
func (v *Vault) Version(typ, id string, version int) (Record, error) {
	if err := checkRef(typ, id); err != nil {
		return Record{}, fmt.Errorf("read: %w", err)
	}
	if err := checkVersion(version); err != nil {
		return Record{}, fmt.Errorf("read %s/%s: %w", typ, id, err)
	}
	v.rmu.RLock()
	defer v.rmu.RUnlock()
	r, err := v.open("read", typ, id)
	if err != nil {
		return Record{}, err
	}
	if version > r.latest {
		return Record{}, fmt.Errorf("read %s/%s version %d: %w", typ, id, version, ErrNotFound)
	}
	return v.version("read", r, version)
}

// History returns every version of a record, newest first, deletions
// included.
func (v *Vault) History(typ, id string) ([]Record, error) {
	if err := checkRef(typ, id); err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	v.rmu.RLock()
	defer v.rmu.RUnlock()
	r, err := v.open("read history", typ, id)
	if err != nil {
		return nil, err
	}
	recs := make([]Record, 0, r.latest)
	for ver := r.latest; ver >= 1; ver-- {
		rec, err := v.version("read history", r, ver)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// List returns the latest version of each of the patient's records of type
// typ ("" for every type) that is not a deletion, ordered by type then id.
// patient "" lists the resources about no patient. A patient of whom the
// vault holds nothing, or who was erased, has no records.
func (v *Vault) List(patient, typ string) ([]Record, error) {
	if err := checkPatient(patient); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	if typ != "" {
		if err := checkType(typ); err != nil {
			return nil, fmt.Errorf("list: %w", err)
		}
	}
	v.rmu.RLock()
	defer v.rmu.RUnlock()
	var pk cipher.AEAD
	recs := []Record{}
	it := v.db.NewIterator(util.BytesPrefix(recordsPrefix(patient, typ)), nil)
	defer it.Release()
	for it.Next() {
		t, id, err := decodeRecordKey(it.Key(), patient)
		if err != nil {
			return nil, fmt.Errorf("list: %v: %w", err, ErrCorrupt)
		}
		if pk == nil {
			if pk, err = v.patientKey(patient); err != nil {
				return nil, fmt.Errorf("list %s/%s: %w", t, id, err)
			}
		}
		r, err := v.openWith("list", pk, patient, t, id)
		if err != nil {
			return nil, err
		}
		rec, err := v.version("list", r, r.latest)
		if err != nil {
			return nil, err
		}
		if !rec.Deleted {
			recs = append(recs, rec)
		}
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	return recs, nil
}

// Put stores new versions in one durable (synced) batch: all or nothing.
// A version must be exactly its record's latest + 1 (1 for a new record),
// counting earlier versions in the same call, or Put returns an error
// wrapping ErrVersionConflict and stores nothing. A record keeps the
// patient of its first version: its data key is wrapped by that patient's
// key. Put refuses (ErrErased) a record that was erased, and a new record
// of a patient who was erased.
func (v *Vault) Put(recs ...Record) error {
	for i := range recs {
		if err := checkRecord(&recs[i]); err != nil {
			return fmt.Errorf("put record %d of %d: %w", i+1, len(recs), err)
		}
	}
	if len(recs) == 0 {
		return nil
	}
	v.wmu.Lock()
	defer v.wmu.Unlock()
	b := &putBatch{
		v:        v,
		batch:    new(leveldb.Batch),
		patients: make(map[string]cipher.AEAD),
		records:  make(map[string]*putRecord),
	}
	for i := range recs {
		if err := b.add(&recs[i]); err != nil {
			return err
		}
	}
	for _, r := range b.order {
		b.batch.Put(recordKey(r.patient, r.typ, r.id), recordValue{latest: r.latest, wrappedKey: r.wrappedKey}.encode())
		if r.created {
			b.batch.Put(locatorKey(r.typ, r.id), locator{patient: r.patient}.encode())
		}
	}
	if err := v.db.Write(b.batch, syncWrite); err != nil {
		return fmt.Errorf("put: %w", err)
	}
	return nil
}

// putBatch is a Put in progress.
type putBatch struct {
	v        *Vault
	batch    *leveldb.Batch
	patients map[string]cipher.AEAD // patient keys, unwrapped or created
	records  map[string]*putRecord  // by type and id
	order    []*putRecord           // records in the order first put
}

// putRecord is a record that a Put writes to.
type putRecord struct {
	openRecord
	created bool // by this Put
}

func (b *putBatch) add(rec *Record) error {
	r, err := b.record(rec)
	if err != nil {
		return err
	}
	if r.patient != rec.Patient {
		return fmt.Errorf("put %s/%s: the record belongs to another patient: %w", rec.Type, rec.ID, ErrInvalid)
	}
	if rec.Version != r.latest+1 {
		return fmt.Errorf("put %s/%s version %d: latest is %d: %w", rec.Type, rec.ID, rec.Version, r.latest, ErrVersionConflict)
	}
	vv := versionValue{updated: rec.Updated.UnixNano(), deleted: rec.Deleted}
	pt := make([]byte, 0, saltSize+len(rec.Content))
	pt = append(pt, rec.Salt[:]...)
	pt = append(pt, rec.Content...)
	vv.sealed, err = seal(r.aead, pt, contentAAD(r.patient, r.typ, r.id, rec.Version, vv.header()))
	clear(pt)
	if err != nil {
		return fmt.Errorf("put %s/%s: %w", rec.Type, rec.ID, err)
	}
	b.batch.Put(versionKey(r.patient, r.typ, r.id, rec.Version), vv.encode())
	r.latest = rec.Version
	return nil
}

// record returns the record that rec is a version of: already in the
// batch, stored, or new.
func (b *putBatch) record(rec *Record) (*putRecord, error) {
	k := rec.Type + "\x00" + rec.ID
	if r, ok := b.records[k]; ok {
		return r, nil
	}
	r, err := b.load(rec.Type, rec.ID)
	if err != nil {
		return nil, err
	}
	if r == nil {
		if r, err = b.create(rec.Patient, rec.Type, rec.ID); err != nil {
			return nil, err
		}
	}
	b.records[k] = r
	b.order = append(b.order, r)
	return r, nil
}

// load returns a stored record, or nil if there is none.
func (b *putBatch) load(typ, id string) (*putRecord, error) {
	patient, err := b.v.locate("put", typ, id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	pk, err := b.patientKey(patient, true)
	if err != nil {
		return nil, fmt.Errorf("put %s/%s: %w", typ, id, err)
	}
	r, err := b.v.openWith("put", pk, patient, typ, id)
	if err != nil {
		return nil, err
	}
	return &putRecord{openRecord: *r}, nil
}

// create makes a new record with a new data key.
func (b *putBatch) create(patient, typ, id string) (*putRecord, error) {
	pk, err := b.patientKey(patient, false)
	if err != nil {
		return nil, fmt.Errorf("put %s/%s: %w", typ, id, err)
	}
	dk := make([]byte, keySize)
	defer clear(dk)
	if _, err := rand.Read(dk); err != nil {
		return nil, fmt.Errorf("put %s/%s: new data key: %w", typ, id, err)
	}
	wrapped, err := seal(pk, dk, recordKeyAAD(patient, typ, id))
	if err != nil {
		return nil, fmt.Errorf("put %s/%s: wrap data key: %w", typ, id, err)
	}
	aead, err := newAEAD(dk)
	if err != nil {
		return nil, fmt.Errorf("put %s/%s: %w", typ, id, err)
	}
	return &putRecord{
		openRecord: openRecord{patient: patient, typ: typ, id: id, wrappedKey: wrapped, aead: aead},
		created:    true,
	}, nil
}

// patientKey returns the key of a patient: one who has a stored record
// (stored), or the patient of a new record, whose key it creates if the
// patient is new to the vault, unless the patient was erased.
func (b *putBatch) patientKey(patient string, stored bool) (cipher.AEAD, error) {
	if pk, ok := b.patients[patient]; ok {
		return pk, nil
	}
	val, err := b.v.db.Get(patientKeyKey(patient), nil)
	missing := errors.Is(err, leveldb.ErrNotFound)
	var pk cipher.AEAD
	switch {
	case err != nil && !missing:
		return nil, err
	case missing && stored:
		return nil, fmt.Errorf("patient key is missing: %w", ErrCorrupt)
	case !missing && !stored && bytes.Equal(val, encodePatientKey(nil)):
		return nil, fmt.Errorf("the patient was erased: %w", ErrErased)
	case !missing:
		// A patient key erased while a record is stored is corrupt.
		if pk, err = b.v.unwrapPatientKey(patient, val); err != nil {
			return nil, err
		}
	default:
		key := make([]byte, keySize)
		defer clear(key)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("new patient key: %w", err)
		}
		w, err := b.v.kw.Wrap(key, patientKeyAAD(patient))
		if err != nil {
			return nil, fmt.Errorf("wrap patient key: %w", err)
		}
		if pk, err = newAEAD(key); err != nil {
			return nil, err
		}
		b.batch.Put(patientKeyKey(patient), encodePatientKey(w))
	}
	b.patients[patient] = pk
	return pk, nil
}

// EraseRecord crypto-shreds every version of a record: it deletes the
// record's wrapped data key, its ciphertexts and its locator, leaves a
// tombstone (later reads and puts get ErrErased), and compacts the
// database ranges that held them. Erasing an erased record does nothing.
// See the package comment for what this guarantees.
func (v *Vault) EraseRecord(typ, id string) error {
	if err := checkRef(typ, id); err != nil {
		return fmt.Errorf("erase: %w", err)
	}
	v.wmu.Lock()
	defer v.wmu.Unlock()
	v.rmu.Lock()
	defer v.rmu.Unlock()
	e, err := v.eraseRecord(typ, id)
	if err != nil || e == nil {
		return err
	}
	if err := v.compact(*e); err != nil {
		return fmt.Errorf("erase %s/%s: erased, but compacting failed (Open will retry): %w", typ, id, err)
	}
	if err := v.reopen(); err != nil {
		return fmt.Errorf("erase %s/%s: erased and compacted, but reopening the database failed: %w", typ, id, err)
	}
	return nil
}

// eraseRecord writes a record's erasure batch and returns the erasure to
// compact, or nil if the record was already erased. The caller holds wmu
// and rmu.
func (v *Vault) eraseRecord(typ, id string) (*pendingErasure, error) {
	// A locator that does not decode is an error: without the patient the
	// record's other entries cannot be found.
	patient, err := v.locate("erase", typ, id)
	if errors.Is(err, ErrErased) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	batch := new(leveldb.Batch)
	batch.Put(locatorKey(typ, id), locator{patient: patient, erased: true}.encode())
	batch.Delete(recordKey(patient, typ, id))
	if err := v.deleteRange(batch, versionsPrefix(patient, typ, id)); err != nil {
		return nil, fmt.Errorf("erase %s/%s: %w", typ, id, err)
	}
	if err := v.unindex(batch, tokensKey(patient, typ, id), typ, id); err != nil {
		return nil, fmt.Errorf("erase %s/%s: %w", typ, id, err)
	}
	e := pendingErasure{patient: patient, typ: typ, id: id}
	batch.Put(e.key(), nil)
	if err := v.db.Write(batch, syncWrite); err != nil {
		return nil, fmt.Errorf("erase %s/%s: %w", typ, id, err)
	}
	return &e, nil
}

// ErasePatient crypto-shreds all of a patient's records, as EraseRecord
// does for each, and deletes the patient key. Later puts of new records of
// the patient get ErrErased. Erasing an erased patient does nothing;
// erasing a patient of whom the vault holds nothing returns ErrNotFound.
// The resources about no patient (patient "") are erased one at a time
// with EraseRecord.
func (v *Vault) ErasePatient(patient string) error {
	if patient == "" {
		return fmt.Errorf("erase patient: resources about no patient are erased one at a time: %w", ErrInvalid)
	}
	if err := checkPatient(patient); err != nil {
		return fmt.Errorf("erase patient: %w", err)
	}
	v.wmu.Lock()
	defer v.wmu.Unlock()
	v.rmu.Lock()
	defer v.rmu.Unlock()
	e, err := v.erasePatient(patient)
	if err != nil || e == nil {
		return err
	}
	if err := v.compact(*e); err != nil {
		return fmt.Errorf("erase patient: erased, but compacting failed (Open will retry): %w", err)
	}
	if err := v.reopen(); err != nil {
		return fmt.Errorf("erase patient: erased and compacted, but reopening the database failed: %w", err)
	}
	return nil
}

// erasePatient writes a patient's erasure batch and returns the erasure to
// compact, or nil if the patient was already erased. The caller holds wmu
// and rmu.
func (v *Vault) erasePatient(patient string) (*pendingErasure, error) {
	val, err := v.db.Get(patientKeyKey(patient), nil)
	hasKey := err == nil
	if err != nil && !errors.Is(err, leveldb.ErrNotFound) {
		return nil, fmt.Errorf("erase patient: %w", err)
	}
	if hasKey && bytes.Equal(val, encodePatientKey(nil)) {
		return nil, nil
	}
	batch := new(leveldb.Batch)
	it := v.db.NewIterator(util.BytesPrefix(recordsPrefix(patient, "")), nil)
	for it.Next() {
		batch.Delete(bytes.Clone(it.Key()))
		// A key that does not decode still goes, but has no locator to
		// turn into a tombstone.
		if typ, id, err := decodeRecordKey(it.Key(), patient); err == nil {
			batch.Put(locatorKey(typ, id), locator{patient: patient, erased: true}.encode())
		}
	}
	it.Release()
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("erase patient: %w", err)
	}
	if err := v.deleteRange(batch, versionsPrefix(patient, "", "")); err != nil {
		return nil, fmt.Errorf("erase patient: %w", err)
	}
	if err := v.unindexPatient(batch, patient); err != nil {
		return nil, fmt.Errorf("erase patient: %w", err)
	}
	if batch.Len() == 0 && !hasKey {
		return nil, fmt.Errorf("erase patient: %w", ErrNotFound)
	}
	batch.Put(patientKeyKey(patient), encodePatientKey(nil))
	e := pendingErasure{patient: patient}
	batch.Put(e.key(), nil)
	if err := v.db.Write(batch, syncWrite); err != nil {
		return nil, fmt.Errorf("erase patient: %w", err)
	}
	return &e, nil
}

// deleteRange adds to batch the deletion of every key with the prefix.
func (v *Vault) deleteRange(batch *leveldb.Batch, prefix []byte) error {
	it := v.db.NewIterator(util.BytesPrefix(prefix), nil)
	defer it.Release()
	for it.Next() {
		batch.Delete(bytes.Clone(it.Key()))
	}
	return it.Error()
}

// ranges returns the key ranges that held what the erasure deleted. A
// patient's locators are spread over the key space and hold no secret (a
// pseudonym, no key material): they are left to LevelDB's own compactions.
func (e pendingErasure) ranges() []util.Range {
	if e.typ == "" {
		return append([]util.Range{
			exactly(patientKeyKey(e.patient)),
			*util.BytesPrefix(recordsPrefix(e.patient, "")),
			*util.BytesPrefix(versionsPrefix(e.patient, "", "")),
		}, indexRanges(e.patient, "", "")...)
	}
	return append([]util.Range{
		exactly(recordKey(e.patient, e.typ, e.id)),
		*util.BytesPrefix(versionsPrefix(e.patient, e.typ, e.id)),
		exactly(locatorKey(e.typ, e.id)),
	}, indexRanges(e.patient, e.typ, e.id)...)
}

// exactly is the range holding only key k.
func exactly(k []byte) util.Range {
	return util.Range{Start: k, Limit: append(bytes.Clone(k), 0)}
}

// compact rewrites the LevelDB tables holding the erasure's ranges, so
// that the deleted values leave the live files, then drops its
// pending-erasure entry. The caller holds rmu exclusively (or no one else
// has the vault yet): an open iterator would keep the old values alive.
func (v *Vault) compact(e pendingErasure) error {
	for _, r := range e.ranges() {
		if err := v.db.CompactRange(r); err != nil {
			return err
		}
	}
	return v.db.Delete(e.key(), syncWrite)
}

// reopen closes and reopens the database, so that the table files that a
// compaction replaced are gone from the disk when erasure returns.
// goleveldb unlinks a replaced table only once no version of its state
// refers to it, which can take minutes (it batches version references for
// up to 5 minutes); opening deletes every file the current state does not
// list. The caller holds wmu and rmu exclusively. If opening fails, the
// vault is left closed: every later call fails.
func (v *Vault) reopen() error {
	if err := v.db.Close(); err != nil {
		return err
	}
	db, err := leveldb.OpenFile(v.path, dbOptions())
	if err != nil {
		return err
	}
	v.db = db
	return nil
}

// resumeErasures finishes the erasures whose compaction a crash
// interrupted. An entry that does not decode leads to compacting the
// whole database, since what it covered is unknown.
func (v *Vault) resumeErasures() error {
	var pending []pendingErasure
	var undecodable [][]byte
	it := v.db.NewIterator(util.BytesPrefix([]byte{tagPendingErasure}), nil)
	for it.Next() {
		e, err := decodePendingKey(it.Key())
		if err != nil {
			undecodable = append(undecodable, bytes.Clone(it.Key()))
			continue
		}
		pending = append(pending, e)
	}
	it.Release()
	if err := it.Error(); err != nil {
		return fmt.Errorf("read pending erasures: %w", err)
	}
	for _, e := range pending {
		if err := v.compact(e); err != nil {
			return fmt.Errorf("finish erasure: %w", err)
		}
	}
	if len(undecodable) > 0 {
		if err := v.db.CompactRange(util.Range{}); err != nil {
			return fmt.Errorf("finish erasure: %w", err)
		}
		for _, k := range undecodable {
			if err := v.db.Delete(k, syncWrite); err != nil {
				return fmt.Errorf("finish erasure: %w", err)
			}
		}
	}
	if len(pending) > 0 || len(undecodable) > 0 {
		if err := v.reopen(); err != nil {
			return fmt.Errorf("finish erasure: reopen: %w", err)
		}
	}
	return nil
}
