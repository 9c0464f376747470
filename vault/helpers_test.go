package vault_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/careledger/careledger/vault"
)

// newKey creates a master key file in a temporary directory and loads it.
func newKey(t testing.TB) vault.KeyWrapper {
	t.Helper()
	path := filepath.Join(t.TempDir(), "master.key")
	if err := vault.CreateMasterKey(path); err != nil {
		t.Fatalf("CreateMasterKey(%q) = %v; want nil", path, err)
	}
	kw, err := vault.LoadMasterKey(path)
	if err != nil {
		t.Fatalf("LoadMasterKey(%q) = %v; want nil", path, err)
	}
	return kw
}

// openVault opens the vault in dir and closes it when the test ends.
func openVault(t testing.TB, dir string, kw vault.KeyWrapper) *vault.Vault {
	t.Helper()
	v, err := vault.Open(dir, kw)
	if err != nil {
		t.Fatalf("Open(%q) = %v; want nil", dir, err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// newVault opens a vault in a new directory under a new master key.
func newVault(t testing.TB) *vault.Vault {
	t.Helper()
	return openVault(t, t.TempDir(), newKey(t))
}

// patient returns the i-th test pseudonym.
func patient(i int) string {
	h := sha256.Sum256(fmt.Appendf(nil, "patient %d", i))
	return hex.EncodeToString(h[:20])
}

var epoch = time.Date(2025, 3, 1, 9, 30, 0, 123456789, time.UTC)

// rec returns a version with content that names it, so that a test can
// look for it on disk or in an error message.
func rec(p, typ, id string, version int) vault.Record {
	r := vault.Record{
		Patient: p,
		Type:    typ,
		ID:      id,
		Version: version,
		Updated: epoch.Add(time.Duration(version) * time.Minute),
		Content: fmt.Appendf(nil, `{"resourceType":%q,"id":%q,"note":"secret content of %s/%s v%d"}`, typ, id, typ, id, version),
	}
	r.Salt = sha256.Sum256(r.Content)
	return r
}

// deleted returns a deletion version.
func deleted(p, typ, id string, version int) vault.Record {
	r := rec(p, typ, id, version)
	r.Deleted = true
	r.Content = nil
	return r
}

func put(t testing.TB, v *vault.Vault, recs ...vault.Record) {
	t.Helper()
	if err := v.Put(recs...); err != nil {
		t.Fatalf("Put(%s) = %v; want nil", names(recs), err)
	}
}

func names(recs []vault.Record) string {
	var b bytes.Buffer
	for i, r := range recs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s/%s v%d", r.Type, r.ID, r.Version)
	}
	return b.String()
}

// equal reports whether two records are the same version with the same
// content.
func equal(a, b vault.Record) bool {
	return a.Patient == b.Patient && a.Type == b.Type && a.ID == b.ID && a.Version == b.Version &&
		a.Updated.Equal(b.Updated) && a.Deleted == b.Deleted && a.Salt == b.Salt &&
		bytes.Equal(a.Content, b.Content)
}

func checkRecords(t *testing.T, what string, got, want []vault.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s = %s; want %s", what, names(got), names(want))
	}
	for i := range got {
		if !equal(got[i], want[i]) {
			t.Fatalf("%s[%d] = %s/%s v%d (updated %v, deleted %v); want %s/%s v%d (updated %v, deleted %v) with the content put",
				what, i, got[i].Type, got[i].ID, got[i].Version, got[i].Updated, got[i].Deleted,
				want[i].Type, want[i].ID, want[i].Version, want[i].Updated, want[i].Deleted)
		}
	}
}
