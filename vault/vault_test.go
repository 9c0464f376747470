package vault_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/careledger/careledger/vault"
)

func TestPutRead(t *testing.T) {
	v := newVault(t)
	p := patient(1)
	obs := []vault.Record{rec(p, "Observation", "bp", 1), rec(p, "Observation", "bp", 2), rec(p, "Observation", "bp", 3)}
	gone := []vault.Record{rec(p, "Condition", "flu", 1), deleted(p, "Condition", "flu", 2)}
	org := rec("", "Organization", "hospital-1", 1)
	// Versions of one record in one Put, and across Puts.
	put(t, v, obs[0], obs[1], gone[0])
	put(t, v, obs[2], gone[1], org)

	tests := []struct {
		typ, id string
		history []vault.Record // oldest first
	}{
		{"Observation", "bp", obs},
		{"Condition", "flu", gone},
		{"Organization", "hospital-1", []vault.Record{org}},
	}
	for _, tt := range tests {
		t.Run(tt.typ+"/"+tt.id, func(t *testing.T) {
			latest := tt.history[len(tt.history)-1]
			got, err := v.Latest(tt.typ, tt.id)
			if err != nil {
				t.Fatalf("Latest(%q, %q) = %v; want nil", tt.typ, tt.id, err)
			}
			checkRecords(t, fmt.Sprintf("Latest(%q, %q)", tt.typ, tt.id), []vault.Record{got}, []vault.Record{latest})
			for _, want := range tt.history {
				got, err := v.Version(tt.typ, tt.id, want.Version)
				if err != nil {
					t.Fatalf("Version(%q, %q, %d) = %v; want nil", tt.typ, tt.id, want.Version, err)
				}
				checkRecords(t, fmt.Sprintf("Version(%q, %q, %d)", tt.typ, tt.id, want.Version), []vault.Record{got}, []vault.Record{want})
			}
			hist, err := v.History(tt.typ, tt.id)
			if err != nil {
				t.Fatalf("History(%q, %q) = %v; want nil", tt.typ, tt.id, err)
			}
			var newestFirst []vault.Record
			for i := len(tt.history) - 1; i >= 0; i-- {
				newestFirst = append(newestFirst, tt.history[i])
			}
			checkRecords(t, fmt.Sprintf("History(%q, %q)", tt.typ, tt.id), hist, newestFirst)
			next := len(tt.history) + 1
			if _, err := v.Version(tt.typ, tt.id, next); !errors.Is(err, vault.ErrNotFound) {
				t.Errorf("Version(%q, %q, %d) = %v; want ErrNotFound", tt.typ, tt.id, next, err)
			}
		})
	}
	if got, err := v.Latest("Observation", "missing"); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Latest of a missing record = %s/%s, %v; want ErrNotFound", got.Type, got.ID, err)
	}
	if got, _ := v.Latest("Condition", "flu"); got.Content != nil {
		t.Errorf("Latest of a deleted record has content %q; want nil", got.Content)
	}
}

func TestList(t *testing.T) {
	v := newVault(t)
	p1, p2 := patient(1), patient(2)
	// Put out of order: List sorts by type, then id.
	put(t, v,
		rec(p1, "Observation", "b", 1),
		rec(p1, "Observation", "a", 1),
		rec(p1, "Condition", "c", 1),
		rec(p1, "Obs", "x", 1), // a type that is a prefix of another
		rec(p1, "Observation", "a.1", 1),
		rec(p1, "Observation", "gone", 1),
		rec(p2, "Observation", "other", 1),
		rec("", "Practitioner", "dr", 1),
	)
	put(t, v, rec(p1, "Observation", "a", 2), deleted(p1, "Observation", "gone", 2))

	tests := []struct {
		patient, typ string
		want         []vault.Record
	}{
		{p1, "", []vault.Record{
			rec(p1, "Condition", "c", 1), rec(p1, "Obs", "x", 1),
			rec(p1, "Observation", "a", 2), rec(p1, "Observation", "a.1", 1), rec(p1, "Observation", "b", 1),
		}},
		{p1, "Observation", []vault.Record{rec(p1, "Observation", "a", 2), rec(p1, "Observation", "a.1", 1), rec(p1, "Observation", "b", 1)}},
		{p1, "Obs", []vault.Record{rec(p1, "Obs", "x", 1)}},
		{p1, "Patient", nil},
		{p2, "", []vault.Record{rec(p2, "Observation", "other", 1)}},
		{"", "", []vault.Record{rec("", "Practitioner", "dr", 1)}},
		{patient(3), "", nil},
	}
	for _, tt := range tests {
		got, err := v.List(tt.patient, tt.typ)
		if err != nil {
			t.Fatalf("List(%q, %q) = %v; want nil", tt.patient, tt.typ, err)
		}
		checkRecords(t, fmt.Sprintf("List(%.8s…, %q)", tt.patient, tt.typ), got, tt.want)
	}
	for _, bad := range [][2]string{{"ABC", ""}, {p1, "observation"}, {strings.ToUpper(p1), ""}} {
		if _, err := v.List(bad[0], bad[1]); !errors.Is(err, vault.ErrInvalid) {
			t.Errorf("List(%q, %q) = %v; want ErrInvalid", bad[0], bad[1], err)
		}
	}
}

// TestPutAtomic checks that a Put with one bad version stores nothing, not
// even the versions before it or a new patient's key.
func TestPutAtomic(t *testing.T) {
	p, q := patient(1), patient(2)
	tests := []struct {
		name string
		recs []vault.Record
		want error
	}{
		{"version skipped", []vault.Record{rec(q, "Observation", "new", 1), rec(p, "Observation", "a", 3)}, vault.ErrVersionConflict},
		{"version repeated", []vault.Record{rec(q, "Observation", "new", 1), rec(p, "Observation", "a", 2), rec(p, "Observation", "a", 2)}, vault.ErrVersionConflict},
		{"existing version", []vault.Record{rec(q, "Observation", "new", 1), rec(p, "Observation", "a", 1)}, vault.ErrVersionConflict},
		{"new record not at 1", []vault.Record{rec(q, "Observation", "new", 2)}, vault.ErrVersionConflict},
		{"same record twice at 1", []vault.Record{rec(q, "Observation", "new", 1), rec(q, "Observation", "new", 1)}, vault.ErrVersionConflict},
		{"invalid last", []vault.Record{rec(q, "Observation", "new", 1), rec(p, "Observation", "a", 2), rec(p, "Observation", "bad id!", 1)}, vault.ErrInvalid},
		{"patient changed", []vault.Record{rec(q, "Observation", "new", 1), rec(q, "Observation", "a", 2)}, vault.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVault(t)
			put(t, v, rec(p, "Observation", "a", 1))
			if err := v.Put(tt.recs...); !errors.Is(err, tt.want) {
				t.Fatalf("Put(%s) = %v; want %v", names(tt.recs), err, tt.want)
			}
			if got, err := v.Latest("Observation", "a"); err != nil || got.Version != 1 {
				t.Errorf("after the failed Put, Latest(Observation/a) = v%d, %v; want v1, nil", got.Version, err)
			}
			if _, err := v.Latest("Observation", "new"); !errors.Is(err, vault.ErrNotFound) {
				t.Errorf("after the failed Put, Latest(Observation/new) = %v; want ErrNotFound", err)
			}
			if got, err := v.List(q, ""); err != nil || len(got) != 0 {
				t.Errorf("after the failed Put, List(q) = %s, %v; want none", names(got), err)
			}
		})
	}
}

// TestPutInvalid checks what Put refuses, and that the error message
// repeats none of the bad input, which may be health data.
func TestPutInvalid(t *testing.T) {
	const secret = "Jane Doe 1970-01-01"
	p := patient(1)
	mod := func(f func(r *vault.Record)) vault.Record {
		r := rec(p, "Observation", "a", 1)
		f(&r)
		return r
	}
	tests := []struct {
		name string
		rec  vault.Record
	}{
		{"patient not a pseudonym", mod(func(r *vault.Record) { r.Patient = secret })},
		{"patient upper case", mod(func(r *vault.Record) { r.Patient = strings.ToUpper(p) })},
		{"type empty", mod(func(r *vault.Record) { r.Type = "" })},
		{"type lower case", mod(func(r *vault.Record) { r.Type = "observation" })},
		{"type with space", mod(func(r *vault.Record) { r.Type = secret })},
		{"id empty", mod(func(r *vault.Record) { r.ID = "" })},
		{"id with space", mod(func(r *vault.Record) { r.ID = secret })},
		{"id with 0 byte", mod(func(r *vault.Record) { r.ID = "a\x00b" })},
		{"id too long", mod(func(r *vault.Record) { r.ID = strings.Repeat("a", 65) })},
		{"version 0", mod(func(r *vault.Record) { r.Version = 0 })},
		{"version negative", mod(func(r *vault.Record) { r.Version = -1 })},
		{"no updated time", mod(func(r *vault.Record) { r.Updated = time.Time{} })},
		{"updated time out of range", mod(func(r *vault.Record) { r.Updated = r.Updated.AddDate(-3000, 0, 0) })},
		{"no content", mod(func(r *vault.Record) { r.Content = nil })},
		{"deleted with content", mod(func(r *vault.Record) { r.Deleted = true; r.Content = []byte(secret) })},
	}
	v := newVault(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.Put(tt.rec)
			if !errors.Is(err, vault.ErrInvalid) {
				t.Fatalf("Put = %v; want ErrInvalid", err)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "Jane") {
				t.Errorf("Put error %q repeats the input", err)
			}
		})
	}
	// The reads check their arguments too.
	if _, err := v.Latest("Observation", "a/../b"); !errors.Is(err, vault.ErrInvalid) {
		t.Errorf("Latest with an invalid id = %v; want ErrInvalid", err)
	}
	if _, err := v.Version("Observation", "a", 0); !errors.Is(err, vault.ErrInvalid) {
		t.Errorf("Version 0 = %v; want ErrInvalid", err)
	}
}

func TestReopen(t *testing.T) {
	dir, kw := t.TempDir(), newKey(t)
	v, err := vault.Open(dir, kw)
	if err != nil {
		t.Fatalf("Open = %v; want nil", err)
	}
	p := patient(1)
	want := []vault.Record{rec(p, "Observation", "a", 1), rec(p, "Observation", "a", 2), rec("", "Location", "ward", 1)}
	if err := v.Put(want...); err != nil {
		t.Fatalf("Put = %v; want nil", err)
	}
	if err := v.Close(); err != nil {
		t.Fatalf("Close = %v; want nil", err)
	}

	v = openVault(t, dir, kw)
	hist, err := v.History("Observation", "a")
	if err != nil {
		t.Fatalf("History after reopening = %v; want nil", err)
	}
	checkRecords(t, "History after reopening", hist, []vault.Record{want[1], want[0]})
	got, err := v.List("", "")
	if err != nil {
		t.Fatalf("List after reopening = %v; want nil", err)
	}
	checkRecords(t, "List(\"\") after reopening", got, want[2:])
	// New versions continue from the stored ones.
	if err := v.Put(rec(p, "Observation", "a", 2)); !errors.Is(err, vault.ErrVersionConflict) {
		t.Errorf("Put of a stored version after reopening = %v; want ErrVersionConflict", err)
	}
	put(t, v, rec(p, "Observation", "a", 3))
}

func TestWrongMasterKey(t *testing.T) {
	dir := t.TempDir()
	v := openVault(t, dir, newKey(t))
	put(t, v, rec(patient(1), "Observation", "a", 1))
	v.Close()
	if v, err := vault.Open(dir, newKey(t)); !errors.Is(err, vault.ErrWrongKey) {
		if err == nil {
			v.Close()
		}
		t.Fatalf("Open with another master key = %v; want ErrWrongKey", err)
	}
}

func TestErase(t *testing.T) {
	p1, p2 := patient(1), patient(2)
	setup := func(t *testing.T) *vault.Vault {
		v := newVault(t)
		put(t, v,
			rec(p1, "Observation", "a", 1), rec(p1, "Observation", "a", 2), rec(p1, "Condition", "c", 1),
			rec(p2, "Observation", "b", 1), rec("", "Practitioner", "dr", 1))
		return v
	}
	erased := func(t *testing.T, v *vault.Vault, typ, id string, versions int) {
		t.Helper()
		if _, err := v.Latest(typ, id); !errors.Is(err, vault.ErrErased) {
			t.Errorf("Latest(%s/%s) = %v; want ErrErased", typ, id, err)
		}
		if _, err := v.PatientOf(typ, id); err != nil && typ != "Practitioner" { // about no patient
			t.Errorf("PatientOf(%s/%s) = %v; want the patient, kept for the audit trail", typ, id, err)
		}
		for ver := 1; ver <= versions+1; ver++ {
			if _, err := v.Version(typ, id, ver); !errors.Is(err, vault.ErrErased) {
				t.Errorf("Version(%s/%s, %d) = %v; want ErrErased", typ, id, ver, err)
			}
		}
		if _, err := v.History(typ, id); !errors.Is(err, vault.ErrErased) {
			t.Errorf("History(%s/%s) = %v; want ErrErased", typ, id, err)
		}
	}
	readable := func(t *testing.T, v *vault.Vault, typ, id string) {
		t.Helper()
		if _, err := v.Latest(typ, id); err != nil {
			t.Errorf("Latest(%s/%s) = %v; want nil", typ, id, err)
		}
	}
	list := func(t *testing.T, v *vault.Vault, p string, want ...vault.Record) {
		t.Helper()
		got, err := v.List(p, "")
		if err != nil {
			t.Fatalf("List(%.8s…) = %v; want nil", p, err)
		}
		checkRecords(t, fmt.Sprintf("List(%.8s…)", p), got, want)
	}

	t.Run("record", func(t *testing.T) {
		v := setup(t)
		if err := v.EraseRecord("Observation", "a"); err != nil {
			t.Fatalf("EraseRecord = %v; want nil", err)
		}
		erased(t, v, "Observation", "a", 2)
		readable(t, v, "Condition", "c")
		readable(t, v, "Observation", "b")
		list(t, v, p1, rec(p1, "Condition", "c", 1))
		for _, r := range []vault.Record{rec(p1, "Observation", "a", 3), rec(p1, "Observation", "a", 1)} {
			if err := v.Put(r); !errors.Is(err, vault.ErrErased) {
				t.Errorf("Put(%s) after erasure = %v; want ErrErased", names([]vault.Record{r}), err)
			}
		}
		if err := v.EraseRecord("Observation", "a"); err != nil {
			t.Errorf("EraseRecord again = %v; want nil", err)
		}
		// The patient keeps their key: new records are welcome.
		put(t, v, rec(p1, "Observation", "new", 1))
		// The directory's records are erased one by one.
		if err := v.EraseRecord("Practitioner", "dr"); err != nil {
			t.Fatalf("EraseRecord(Practitioner/dr) = %v; want nil", err)
		}
		erased(t, v, "Practitioner", "dr", 1)
	})
	t.Run("patient", func(t *testing.T) {
		v := setup(t)
		if err := v.ErasePatient(p1); err != nil {
			t.Fatalf("ErasePatient = %v; want nil", err)
		}
		erased(t, v, "Observation", "a", 2)
		erased(t, v, "Condition", "c", 1)
		readable(t, v, "Observation", "b")
		readable(t, v, "Practitioner", "dr")
		list(t, v, p1)
		list(t, v, p2, rec(p2, "Observation", "b", 1))
		if err := v.Put(rec(p1, "Observation", "new", 1)); !errors.Is(err, vault.ErrErased) {
			t.Errorf("Put of a new record of an erased patient = %v; want ErrErased", err)
		}
		if err := v.Put(rec(p2, "Observation", "a", 1)); !errors.Is(err, vault.ErrErased) {
			t.Errorf("Put, for another patient, of an erased record's id = %v; want ErrErased", err)
		}
		if err := v.ErasePatient(p1); err != nil {
			t.Errorf("ErasePatient again = %v; want nil", err)
		}
		if err := v.EraseRecord("Condition", "c"); err != nil {
			t.Errorf("EraseRecord of a record of an erased patient = %v; want nil", err)
		}
	})
	t.Run("nothing to erase", func(t *testing.T) {
		v := setup(t)
		if err := v.EraseRecord("Observation", "missing"); !errors.Is(err, vault.ErrNotFound) {
			t.Errorf("EraseRecord of a missing record = %v; want ErrNotFound", err)
		}
		if err := v.ErasePatient(patient(9)); !errors.Is(err, vault.ErrNotFound) {
			t.Errorf("ErasePatient of an unknown patient = %v; want ErrNotFound", err)
		}
		if err := v.ErasePatient(""); !errors.Is(err, vault.ErrInvalid) {
			t.Errorf("ErasePatient(\"\") = %v; want ErrInvalid", err)
		}
		list(t, v, p1, rec(p1, "Condition", "c", 1), rec(p1, "Observation", "a", 2))
	})
	t.Run("survives reopening", func(t *testing.T) {
		dir, kw := t.TempDir(), newKey(t)
		v := openVault(t, dir, kw)
		put(t, v, rec(p1, "Observation", "a", 1), rec(p2, "Observation", "b", 1))
		if err := v.ErasePatient(p1); err != nil {
			t.Fatalf("ErasePatient = %v; want nil", err)
		}
		v.Close()
		v = openVault(t, dir, kw)
		erased(t, v, "Observation", "a", 1)
		readable(t, v, "Observation", "b")
	})
}

// TestConcurrent runs puts, reads, lists and erasures at once, for the race
// detector and for Put's version check.
func TestConcurrent(t *testing.T) {
	v := newVault(t)
	const writers, versions = 4, 20
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := patient(w)
			for ver := 1; ver <= versions; ver++ {
				// Two writers race on the shared record; exactly one
				// wins each version.
				err := v.Put(rec(patient(100), "Observation", "shared", ver))
				if err != nil && !errors.Is(err, vault.ErrVersionConflict) {
					errs <- err
				}
				if err := v.Put(rec(p, "Observation", fmt.Sprint("w", w), ver)); err != nil {
					errs <- err
				}
				if _, err := v.List(p, ""); err != nil {
					errs <- err
				}
			}
			if w%2 == 1 {
				if err := v.ErasePatient(p); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 100 {
			if _, err := v.History("Observation", "shared"); err != nil && !errors.Is(err, vault.ErrNotFound) {
				errs <- err
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	hist, err := v.History("Observation", "shared")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range hist {
		if want := len(hist) - i; r.Version != want {
			t.Fatalf("History(shared)[%d].Version = %d; want %d", i, r.Version, want)
		}
	}
}

func TestCommitment(t *testing.T) {
	var salt [32]byte
	for i := range salt {
		salt[i] = byte(i)
	}
	content := []byte(`{"resourceType":"Patient","id":"example"}`)
	c := vault.Commitment(salt, content)
	// The same hash computed independently of the function.
	want := sha256.Sum256(append(append([]byte("careledger/record/v1\n"), salt[:]...), content...))
	if c != want {
		t.Errorf("Commitment = %x; want %x", c, want)
	}
	salt2, err := vault.NewSalt()
	if err != nil {
		t.Fatalf("NewSalt = %v", err)
	}
	if salt2 == ([32]byte{}) || vault.Commitment(salt2, content) == c {
		t.Errorf("NewSalt gave %x; want 32 random bytes", salt2)
	}
}

// flakyKMS is a KeyWrapper standing in for a KMS that can be unreachable.
type flakyKMS struct {
	vault.KeyWrapper
	down bool
}

var errKMSDown = errors.New("kms unreachable")

func (k *flakyKMS) Unwrap(ciphertext, aad []byte) ([]byte, error) {
	if k.down {
		return nil, errKMSDown
	}
	return k.KeyWrapper.Unwrap(ciphertext, aad)
}

// TestKeyWrapperError checks that a KeyWrapper's own failure reaches the
// caller as it is, not as ErrCorrupt: the stored record is fine.
func TestKeyWrapperError(t *testing.T) {
	kms := &flakyKMS{KeyWrapper: newKey(t)}
	dir := t.TempDir()
	v := openVault(t, dir, kms)
	put(t, v, rec(patient(1), "Observation", "a", 1))
	kms.down = true
	for name, err := range map[string]error{
		"Latest": func() error { _, err := v.Latest("Observation", "a"); return err }(),
		"List":   func() error { _, err := v.List(patient(1), ""); return err }(),
		"Put":    v.Put(rec(patient(1), "Observation", "a", 2)),
	} {
		if !errors.Is(err, errKMSDown) || errors.Is(err, vault.ErrCorrupt) {
			t.Errorf("%s with the KMS down = %v; want the KMS's error, not ErrCorrupt", name, err)
		}
	}
	v.Close()
	if _, err := vault.Open(dir, kms); !errors.Is(err, errKMSDown) || errors.Is(err, vault.ErrWrongKey) {
		t.Errorf("Open with the KMS down = %v; want the KMS's error, not ErrWrongKey", err)
	}
	kms.down = false
	v = openVault(t, dir, kms)
	if _, err := v.Latest("Observation", "a"); err != nil {
		t.Errorf("Latest with the KMS back = %v; want nil", err)
	}
}
