package vault

import (
	"errors"
	"slices"
	"testing"
)

func tok(v *Vault, s string) [TokenSize]byte { return v.KeyedHash("search/Patient.family", []byte(s)) }

// TestIndexLookup checks that tokens find their records, that Index
// replaces a record's tokens, and that a record not stored has none.
func TestIndexLookup(t *testing.T) {
	v, err := Open(t.TempDir(), testKey(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	p1, p2 := testPatient(1), testPatient(2)
	if err := v.Put(testRecord(p1, "Patient", "a", 1), testRecord(p2, "Patient", "b", 1)); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(v.Index("Patient", "a", [][TokenSize]byte{tok(v, "smith"), tok(v, "s"), tok(v, "s")}))
	must(v.Index("Patient", "b", [][TokenSize]byte{tok(v, "stone"), tok(v, "s")}))
	lookup := func(s string) []string {
		t.Helper()
		ids, err := v.Lookup("Patient", tok(v, s))
		must(err)
		return ids
	}
	if got := lookup("s"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Lookup(s) = %v; want [a b]", got)
	}
	if got := lookup("smith"); !slices.Equal(got, []string{"a"}) {
		t.Errorf("Lookup(smith) = %v; want [a]", got)
	}
	if got, _ := v.Lookup("Practitioner", tok(v, "s")); len(got) != 0 {
		t.Errorf("Lookup of another type = %v; want none", got)
	}
	// An update replaces the tokens: the old name no longer finds a.
	must(v.Index("Patient", "a", [][TokenSize]byte{tok(v, "jones")}))
	if got := lookup("smith"); len(got) != 0 {
		t.Errorf("after the update, Lookup(smith) = %v; want none", got)
	}
	if got := lookup("s"); !slices.Equal(got, []string{"b"}) {
		t.Errorf("after the update, Lookup(s) = %v; want [b]", got)
	}
	must(v.Index("Patient", "a", nil))
	if got := lookup("jones"); len(got) != 0 {
		t.Errorf("after indexing nothing, Lookup(jones) = %v; want none", got)
	}
	if err := v.Index("Patient", "nobody", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("Index of a record not stored = %v; want ErrNotFound", err)
	}
}

// TestEraseRemovesTokens checks that erasing a patient or a record deletes
// its index entries, leaves the others', refuses tokens for it later, and
// leaves no token of it in any file of the vault.
func TestEraseRemovesTokens(t *testing.T) {
	p1, p2 := testPatient(1), testPatient(2)
	for _, tt := range []struct {
		name  string
		erase func(v *Vault) error
	}{
		{"patient", func(v *Vault) error { return v.ErasePatient(p1) }},
		{"record", func(v *Vault) error { return v.EraseRecord("Patient", "a") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, kw := t.TempDir(), testKey(t, 1)
			v, err := Open(dir, kw)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Put(testRecord(p1, "Patient", "a", 1), testRecord(p1, "Observation", "o", 1), testRecord(p2, "Patient", "b", 1)); err != nil {
				t.Fatal(err)
			}
			gone := tok(v, "erased-family-name")
			kept := tok(v, "kept-family-name")
			shared := tok(v, "shared")
			if err := v.Index("Patient", "a", [][TokenSize]byte{gone, shared}); err != nil {
				t.Fatal(err)
			}
			if err := v.Index("Patient", "b", [][TokenSize]byte{kept, shared}); err != nil {
				t.Fatal(err)
			}
			// A reopening, so that the entries are in tables too.
			v.Close()
			if v, err = Open(dir, kw); err != nil {
				t.Fatal(err)
			}
			onDisk := map[string][]byte{"token": gone[:]}
			if found := findOnDisk(t, dir, onDisk); len(found) == 0 {
				t.Fatal("before erasure the token is not on disk; the check would prove nothing")
			}
			if err := tt.erase(v); err != nil {
				t.Fatal(err)
			}
			if ids, _ := v.Lookup("Patient", gone); len(ids) != 0 {
				t.Errorf("after erasure Lookup(erased token) = %v; want none", ids)
			}
			if ids, _ := v.Lookup("Patient", shared); !slices.Equal(ids, []string{"b"}) {
				t.Errorf("after erasure Lookup(shared token) = %v; want [b]", ids)
			}
			if err := v.Index("Patient", "a", [][TokenSize]byte{gone}); !errors.Is(err, ErrErased) {
				t.Errorf("Index of an erased record = %v; want ErrErased", err)
			}
			v.Close()
			if found := findOnDisk(t, dir, onDisk); len(found) > 0 {
				t.Errorf("after erasure and Close, the erased record's token is on disk: %v", found)
			}
			if found := findOnDisk(t, dir, map[string][]byte{"kept": kept[:]}); len(found) == 0 {
				t.Error("after erasure the other patient's token is gone too")
			}
		})
	}
}

func FuzzDecodeTokens(f *testing.F) {
	f.Add([]byte{formatV1})
	f.Add(append([]byte{formatV1}, make([]byte, TokenSize)...))
	f.Add([]byte{2, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, err := decodeTokens(b)
		if err == nil && string(encodeTokens(ts)) != string(b) {
			t.Fatalf("decodeTokens(%x) does not encode back", b)
		}
	})
}
