package vault

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// testKey returns a master key wrapper with a fixed key.
func testKey(t testing.TB, seed byte) *masterKey {
	t.Helper()
	k, err := newMasterKey(bytes.Repeat([]byte{seed}, keySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testPatient(i int) string {
	h := sha256.Sum256(fmt.Appendf(nil, "patient %d", i))
	return hex.EncodeToString(h[:20])
}

func testRecord(p, typ, id string, version int) Record {
	return Record{
		Patient: p, Type: typ, ID: id, Version: version,
		Updated: time.Date(2025, 3, 1, 0, 0, version, 0, time.UTC),
		Salt:    sha256.Sum256([]byte(typ + id)),
		Content: fmt.Appendf(nil, `{"resourceType":%q,"id":%q,"note":"plaintext %s/%s v%d %s"}`, typ, id, typ, id, version, bytes.Repeat([]byte("x"), 200)),
	}
}

// secrets are the byte strings of a record or patient whose presence on
// disk a test checks: stored are on disk until erasure (ciphertexts and
// wrapped keys); clear are never on disk (content and unwrapped keys).
type secrets struct {
	stored, clear map[string][]byte
}

func newSecrets() secrets {
	return secrets{stored: map[string][]byte{}, clear: map[string][]byte{}}
}

func (s secrets) add(o secrets) {
	maps.Copy(s.stored, o.stored)
	maps.Copy(s.clear, o.clear)
}

// collectSecrets reads a stored record's secrets, and its patient's,
// through the vault's own decoding. The vault must be open.
func collectSecrets(t *testing.T, v *Vault, typ, id string) (record, patient secrets) {
	t.Helper()
	record, patient = newSecrets(), newSecrets()
	name := typ + "/" + id + " "
	loc, err := v.db.Get(locatorKey(typ, id), nil)
	if err != nil {
		t.Fatalf("read locator of %s/%s: %v", typ, id, err)
	}
	l, err := decodeLocator(loc)
	if err != nil {
		t.Fatal(err)
	}
	p := l.patient
	val, err := v.db.Get(patientKeyKey(p), nil)
	if err != nil {
		t.Fatal(err)
	}
	wpk, err := decodePatientKey(val)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := v.kw.Unwrap(wpk, patientKeyAAD(p))
	if err != nil {
		t.Fatal(err)
	}
	patient.stored["wrapped patient key"], patient.clear["patient key"] = wpk, pk
	val, err = v.db.Get(recordKey(p, typ, id), nil)
	if err != nil {
		t.Fatal(err)
	}
	rv, err := decodeRecordValue(val)
	if err != nil {
		t.Fatal(err)
	}
	pka, _ := newAEAD(pk)
	dk, err := open(pka, rv.wrappedKey, recordKeyAAD(p, typ, id))
	if err != nil {
		t.Fatal(err)
	}
	record.stored[name+"wrapped data key"], record.clear[name+"data key"] = rv.wrappedKey, dk
	for ver := 1; ver <= rv.latest; ver++ {
		raw, err := v.db.Get(versionKey(p, typ, id, ver), nil)
		if err != nil {
			t.Fatal(err)
		}
		vv, err := decodeVersionValue(raw)
		if err != nil {
			t.Fatal(err)
		}
		r, err := v.Version(typ, id, ver)
		if err != nil {
			t.Fatal(err)
		}
		record.stored[fmt.Sprintf("%sv%d ciphertext", name, ver)] = vv.sealed[nonceSize:]
		record.clear[fmt.Sprintf("%sv%d content", name, ver)] = r.Content
	}
	return record, patient
}

// findOnDisk returns the names of the secrets found in any file under dir.
func findOnDisk(t *testing.T, dir string, secrets map[string][]byte) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for name, s := range secrets {
			if bytes.Contains(data, s) {
				found = append(found, fmt.Sprintf("%s in %s", name, filepath.Base(path)))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("scan %s: %v", dir, err)
	}
	slices.Sort(found)
	return found
}

// TestEraseLeavesNoBytes checks crypto-shredding at the level of the
// files: after erasure and Close, no file of the vault's directory holds
// the erased records' ciphertexts or keys, wrapped or not (nor content,
// which is never on disk in the clear), while the other records' are still
// there.
func TestEraseLeavesNoBytes(t *testing.T) {
	p1, p2 := testPatient(1), testPatient(2)
	tests := []struct {
		name  string
		erase func(v *Vault) error
		// gone and kept are the records whose secrets must be gone or
		// still found; patientGone whether p1's key must be gone.
		gone, kept  [][2]string
		patientGone bool
	}{
		{
			name:  "record",
			erase: func(v *Vault) error { return v.EraseRecord("Observation", "a") },
			gone:  [][2]string{{"Observation", "a"}},
			kept:  [][2]string{{"Condition", "c"}, {"Observation", "b"}},
		},
		{
			name:        "patient",
			erase:       func(v *Vault) error { return v.ErasePatient(p1) },
			gone:        [][2]string{{"Observation", "a"}, {"Condition", "c"}},
			kept:        [][2]string{{"Observation", "b"}},
			patientGone: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, kw := t.TempDir(), testKey(t, 1)
			v, err := Open(dir, kw)
			if err != nil {
				t.Fatal(err)
			}
			// Two Puts and a reopening, so that the records are in
			// LevelDB tables as well as in its journal.
			if err := v.Put(testRecord(p1, "Observation", "a", 1), testRecord(p1, "Condition", "c", 1), testRecord(p2, "Observation", "b", 1)); err != nil {
				t.Fatal(err)
			}
			v.Close()
			if v, err = Open(dir, kw); err != nil {
				t.Fatal(err)
			}
			if err := v.Put(testRecord(p1, "Observation", "a", 2)); err != nil {
				t.Fatal(err)
			}
			gone, kept := newSecrets(), newSecrets()
			for _, r := range tt.gone {
				rs, ps := collectSecrets(t, v, r[0], r[1])
				gone.add(rs)
				if tt.patientGone {
					gone.add(ps)
				}
			}
			for _, r := range tt.kept {
				rs, _ := collectSecrets(t, v, r[0], r[1])
				kept.add(rs)
			}
			v.Close()

			all := newSecrets()
			all.add(gone)
			all.add(kept)
			if found := findOnDisk(t, dir, all.clear); len(found) > 0 {
				t.Fatalf("before erasure, found in the clear on disk: %v", found)
			}
			// The scan finds what is there: before erasure, every
			// ciphertext and wrapped key is on disk.
			if found := findOnDisk(t, dir, all.stored); len(found) < len(all.stored) {
				t.Fatalf("before erasure, found only %v of %d values on disk; the check would prove nothing", found, len(all.stored))
			}

			if v, err = Open(dir, kw); err != nil {
				t.Fatal(err)
			}
			if err := tt.erase(v); err != nil {
				t.Fatalf("erase = %v; want nil", err)
			}
			v.Close()
			if found := findOnDisk(t, dir, gone.stored); len(found) > 0 {
				t.Errorf("after erasure and Close, found on disk: %v", found)
			}
			if found := findOnDisk(t, dir, gone.clear); len(found) > 0 {
				t.Errorf("after erasure and Close, found in the clear on disk: %v", found)
			}
			if found := findOnDisk(t, dir, kept.stored); len(found) < len(kept.stored) {
				t.Errorf("after erasure, found only %v of the other records' %d values on disk", found, len(kept.stored))
			}
		})
	}
}

// TestEraseResumed checks that an erasure interrupted between its batch
// and its compaction is finished by the next Open.
func TestEraseResumed(t *testing.T) {
	dir, kw := t.TempDir(), testKey(t, 1)
	p := testPatient(1)
	v, err := Open(dir, kw)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Put(testRecord(p, "Observation", "a", 1), testRecord(p, "Observation", "b", 1)); err != nil {
		t.Fatal(err)
	}
	v.Close()
	if v, err = Open(dir, kw); err != nil {
		t.Fatal(err)
	}
	rs, ps := collectSecrets(t, v, "Observation", "a")
	gone := maps.Clone(rs.stored)
	maps.Copy(gone, ps.stored)
	// The erasure's batch, without its compaction: as if the process
	// stopped in between.
	v.wmu.Lock()
	v.rmu.Lock()
	e, err := v.erasePatient(p)
	v.rmu.Unlock()
	v.wmu.Unlock()
	if err != nil || e == nil {
		t.Fatalf("erasePatient = %v, %v; want an erasure to compact", e, err)
	}
	v.Close()
	if found := findOnDisk(t, dir, gone); len(found) == 0 {
		t.Fatal("the deleted values left the files without the compaction: the test would prove nothing")
	}

	if v, err = Open(dir, kw); err != nil {
		t.Fatal(err)
	}
	if ok, err := v.db.Has(e.key(), nil); err != nil || ok {
		t.Errorf("after Open, pending erasure entry present = %v, %v; want false", ok, err)
	}
	if _, err := v.Latest("Observation", "b"); !errors.Is(err, ErrErased) {
		t.Errorf("Latest(Observation/b) after the resumed erasure = %v; want ErrErased", err)
	}
	v.Close()
	if found := findOnDisk(t, dir, gone); len(found) > 0 {
		t.Errorf("after the resumed erasure, found on disk: %v", found)
	}
}
