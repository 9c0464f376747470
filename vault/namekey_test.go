package vault_test

import (
	"testing"

	"github.com/careledger/careledger/vault"
)

// TestKeyedHash checks that keyed hashes survive a reopen, depend on the
// domain, and differ between vaults (each has its own name key).
func TestKeyedHash(t *testing.T) {
	dir := t.TempDir()
	kw := newKey(t)
	v, err := vault.Open(dir, kw)
	if err != nil {
		t.Fatal(err)
	}
	h := v.KeyedHash("record", []byte("Patient/MRN-0042"))
	if h == v.KeyedHash("search/name", []byte("Patient/MRN-0042")) {
		t.Error("two domains give one hash")
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	v, err = vault.Open(dir, kw)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if v.KeyedHash("record", []byte("Patient/MRN-0042")) != h {
		t.Error("the hash changed when the vault was reopened")
	}
	other, err := vault.Open(t.TempDir(), newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if other.KeyedHash("record", []byte("Patient/MRN-0042")) == h {
		t.Error("two vaults share a name key")
	}
}
