package vault

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syndtr/goleveldb/leveldb"
)

// storedDir returns a directory holding a closed vault with a few records,
// and its key wrapper: Observation/a (versions 1 and 2) and Observation/b
// of patient 1, Observation/c of patient 2, and Organization/o of no patient.
func storedDir(t *testing.T) (string, *masterKey) {
	t.Helper()
	dir, kw := t.TempDir(), testKey(t, 1)
	v, err := Open(dir, kw)
	if err != nil {
		t.Fatal(err)
	}
	p1, p2 := testPatient(1), testPatient(2)
	err = v.Put(
		testRecord(p1, "Observation", "a", 1), testRecord(p1, "Observation", "a", 2),
		testRecord(p1, "Observation", "b", 1), testRecord(p2, "Observation", "c", 1),
		testRecord("", "Organization", "o", 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, kw
}

// alterDB opens the vault's LevelDB directly and lets alter change it.
func alterDB(t *testing.T, dir string, alter func(db *leveldb.DB) error) {
	t.Helper()
	db, err := leveldb.OpenFile(filepath.Join(dir, "vault.db"), nil)
	if err != nil {
		t.Fatalf("open vault db: %v", err)
	}
	defer db.Close()
	if err := alter(db); err != nil {
		t.Fatalf("alter vault db: %v", err)
	}
}

// change returns an alteration of the value at k.
func change(k []byte, f func(v []byte) []byte) func(db *leveldb.DB) error {
	return func(db *leveldb.DB) error {
		v, err := db.Get(k, nil)
		if err != nil {
			return err
		}
		return db.Put(k, f(bytes.Clone(v)), nil)
	}
}

func flip(i int) func(v []byte) []byte {
	return func(v []byte) []byte {
		if i < 0 {
			i += len(v)
		}
		v[i] ^= 0x01
		return v
	}
}

func truncate(n int) func(v []byte) []byte {
	return func(v []byte) []byte { return v[:n] }
}

func replace(with []byte) func(v []byte) []byte {
	return func([]byte) []byte { return with }
}

// swap returns an alteration exchanging the values at j and k.
func swap(j, k []byte) func(db *leveldb.DB) error {
	return func(db *leveldb.DB) error {
		a, err := db.Get(j, nil)
		if err != nil {
			return err
		}
		b, err := db.Get(k, nil)
		if err != nil {
			return err
		}
		batch := new(leveldb.Batch)
		batch.Put(j, b)
		batch.Put(k, a)
		return db.Write(batch, nil)
	}
}

// copyValue returns an alteration writing the value at from to to.
func copyValue(from, to []byte) func(db *leveldb.DB) error {
	return func(db *leveldb.DB) error {
		v, err := db.Get(from, nil)
		if err != nil {
			return err
		}
		return db.Put(to, v, nil)
	}
}

// TestTamper checks that altered, moved and torn values give ErrCorrupt,
// with a message that names the record and holds no content.
func TestTamper(t *testing.T) {
	p1, p2 := testPatient(1), testPatient(2)
	va1, va2 := versionKey(p1, "Observation", "a", 1), versionKey(p1, "Observation", "a", 2)
	vb1, vc1 := versionKey(p1, "Observation", "b", 1), versionKey(p2, "Observation", "c", 1)
	ra, rb := recordKey(p1, "Observation", "a"), recordKey(p1, "Observation", "b")
	readA1 := func(v *Vault) error { _, err := v.Version("Observation", "a", 1); return err }
	latestA := func(v *Vault) error { _, err := v.Latest("Observation", "a"); return err }
	historyA := func(v *Vault) error { _, err := v.History("Observation", "a"); return err }
	listP1 := func(v *Vault) error { _, err := v.List(p1, ""); return err }
	putA := func(v *Vault) error { return v.Put(testRecord(p1, "Observation", "a", 3)) }
	tests := []struct {
		name  string
		alter func(db *leveldb.DB) error
		read  []func(v *Vault) error
	}{
		{"ciphertext byte flipped", change(va1, flip(-1)), []func(*Vault) error{readA1, historyA}},
		{"ciphertext byte flipped, latest", change(va2, flip(-20)), []func(*Vault) error{latestA, listP1}},
		{"nonce byte flipped", change(va1, flip(versionHeaderLen)), []func(*Vault) error{readA1}},
		{"updated time changed", change(va1, flip(8)), []func(*Vault) error{readA1}},
		{"deleted flag set", change(va2, flip(9)), []func(*Vault) error{latestA, listP1}},
		{"unknown flag set", change(va1, func(v []byte) []byte { v[9] |= 0x80; return v }), []func(*Vault) error{readA1}},
		{"format changed", change(va1, flip(0)), []func(*Vault) error{readA1}},
		{"version truncated", change(va1, truncate(40)), []func(*Vault) error{readA1}},
		{"version truncated by one byte", change(va1, func(v []byte) []byte { return v[:len(v)-1] }), []func(*Vault) error{readA1}},
		{"version emptied", change(va1, truncate(0)), []func(*Vault) error{readA1}},
		{"versions of two records swapped", swap(va1, vb1), []func(*Vault) error{readA1, listP1}},
		{"two versions of one record swapped", swap(va1, va2), []func(*Vault) error{readA1, latestA}},
		{"version of another patient copied", copyValue(vc1, va1), []func(*Vault) error{readA1}},
		{"version deleted", func(db *leveldb.DB) error { return db.Delete(va1, nil) }, []func(*Vault) error{readA1, historyA}},
		{"wrapped data key flipped", change(ra, flip(-1)), []func(*Vault) error{latestA, listP1, putA}},
		{"record values swapped", swap(ra, rb), []func(*Vault) error{latestA, listP1, putA}},
		{"record value truncated", change(ra, truncate(10)), []func(*Vault) error{latestA, listP1, putA}},
		{"latest version raised", change(ra, func(v []byte) []byte { v[4] = 9; return v }), []func(*Vault) error{latestA, historyA}},
		{"record value deleted", func(db *leveldb.DB) error { return db.Delete(ra, nil) }, []func(*Vault) error{latestA, putA}},
		{"wrapped patient key flipped", change(patientKeyKey(p1), flip(20)), []func(*Vault) error{latestA, listP1, putA}},
		{"patient keys swapped", swap(patientKeyKey(p1), patientKeyKey(p2)), []func(*Vault) error{latestA, listP1, putA}},
		{"patient key of the directory copied", copyValue(patientKeyKey(""), patientKeyKey(p1)), []func(*Vault) error{latestA}},
		{"patient key value erased", change(patientKeyKey(p1), replace(encodePatientKey(nil))), []func(*Vault) error{latestA, listP1, putA}},
		{"patient key value emptied", change(patientKeyKey(p1), truncate(0)), []func(*Vault) error{latestA, listP1, putA}},
		{"locator to another patient", change(locatorKey("Observation", "a"), replace(locator{patient: p2}.encode())), []func(*Vault) error{latestA, putA}},
		{"locator garbled", change(locatorKey("Observation", "a"), replace([]byte("\x01Observation/a"))), []func(*Vault) error{latestA, putA}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, kw := storedDir(t)
			alterDB(t, dir, tt.alter)
			v, err := Open(dir, kw)
			if err != nil {
				t.Fatalf("Open = %v; want nil", err)
			}
			defer v.Close()
			for i, read := range tt.read {
				err := read(v)
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("read %d = %v; want ErrCorrupt", i, err)
				}
				if msg := err.Error(); !strings.Contains(msg, "Observation/") || strings.Contains(msg, "plaintext") || strings.Contains(msg, "resourceType") {
					t.Errorf("read %d: error %q should name the record and hold no content", i, msg)
				}
			}
			// The other patient's records are untouched.
			if _, err := v.Latest("Organization", "o"); err != nil {
				t.Errorf("Latest(Organization/o) = %v; want nil", err)
			}
		})
	}
}

func TestOpenTampered(t *testing.T) {
	tests := []struct {
		name  string
		alter func(db *leveldb.DB) error
		want  error
	}{
		{"key check flipped", change(metaKey(), flip(-1)), ErrWrongKey},
		{"key check truncated", change(metaKey(), truncate(10)), ErrWrongKey},
		{"key check deleted", func(db *leveldb.DB) error { return db.Delete(metaKey(), nil) }, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, kw := storedDir(t)
			alterDB(t, dir, tt.alter)
			v, err := Open(dir, kw)
			if err == nil {
				v.Close()
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open = %v; want %v", err, tt.want)
			}
		})
	}
}

// TestWrongKeyReads checks that records wrapped under one master key do not
// decrypt under another, even past Open's key check.
func TestWrongKeyReads(t *testing.T) {
	dir, kw := storedDir(t)
	v, err := Open(dir, kw)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	v.kw = testKey(t, 2)
	for _, r := range [][2]string{{"Observation", "a"}, {"Organization", "o"}} {
		if _, err := v.Latest(r[0], r[1]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Latest(%s/%s) under another master key = %v; want ErrCorrupt", r[0], r[1], err)
		}
	}
}
