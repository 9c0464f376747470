package vault

import (
	"errors"
	"testing"
)

// TestOldFormatRefused checks that a vault holding records but no name key
// (made before records were named by keyed hashes) does not open, and that
// one holding no records gets a name key.
func TestOldFormatRefused(t *testing.T) {
	for _, withRecord := range []bool{false, true} {
		dir, kw := t.TempDir(), testKey(t, 7)
		v, err := Open(dir, kw)
		if err != nil {
			t.Fatal(err)
		}
		if withRecord {
			if err := v.Put(testRecord(testPatient(1), "Patient", "MRN-1", 1)); err != nil {
				t.Fatal(err)
			}
		}
		if err := v.db.Delete([]byte{tagNameKey}, syncWrite); err != nil { // as before name keys
			t.Fatal(err)
		}
		if err := v.Close(); err != nil {
			t.Fatal(err)
		}
		v, err = Open(dir, kw)
		if withRecord {
			if !errors.Is(err, ErrOldFormat) {
				t.Errorf("Open(vault with records and no name key) = %v; want ErrOldFormat", err)
			}
			if err == nil {
				v.Close()
			}
			continue
		}
		if err != nil {
			t.Fatalf("Open(empty vault without a name key) = %v; want nil", err)
		}
		v.Close()
	}
}
