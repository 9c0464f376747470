package vault_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/careledger/careledger/vault"
)

func TestCreateMasterKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "master.key")
	if err := vault.CreateMasterKey(path); err != nil {
		t.Fatalf("CreateMasterKey(%q) = %v; want nil", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("master key mode = %v; want 0600", fi.Mode().Perm())
	}
	if fi.Size() != 32 {
		t.Errorf("master key size = %d; want 32", fi.Size())
	}
	before, _ := os.ReadFile(path)
	if err := vault.CreateMasterKey(path); !errors.Is(err, fs.ErrExist) {
		t.Errorf("CreateMasterKey over an existing key = %v; want fs.ErrExist", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("CreateMasterKey over an existing key changed it")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after CreateMasterKey; want only the key", len(entries))
	}
	// Two keys differ.
	other := filepath.Join(dir, "other.key")
	if err := vault.CreateMasterKey(other); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(other); bytes.Equal(b, before) {
		t.Error("two master keys are equal")
	}
}

func TestLoadMasterKeyRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte, mode os.FileMode) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return path
	}
	key := bytes.Repeat([]byte{7}, 32)
	tests := []struct {
		name string
		path string
	}{
		{"missing", filepath.Join(dir, "missing.key")},
		{"empty", write("empty.key", nil, 0o600)},
		{"short", write("short.key", key[:31], 0o600)},
		{"long", write("long.key", append(key, '\n'), 0o600)},
		{"directory", dir},
	}
	if runtime.GOOS != "windows" {
		tests = append(tests,
			struct{ name, path string }{"readable by others", write("open.key", key, 0o644)},
			struct{ name, path string }{"writable by group", write("group.key", key, 0o620)})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if kw, err := vault.LoadMasterKey(tt.path); err == nil {
				t.Errorf("LoadMasterKey(%s) = %v, nil; want an error", tt.name, kw)
			}
		})
	}
	if _, err := vault.LoadMasterKey(write("good.key", key, 0o600)); err != nil {
		t.Errorf("LoadMasterKey of a good key = %v; want nil", err)
	}
}

func TestMasterKeyWrap(t *testing.T) {
	kw, other := newKey(t), newKey(t)
	secret, aad := []byte("a patient key of 32 bytes, say.."), []byte("careledger/test\x00patient")
	w, err := kw.Wrap(secret, aad)
	if err != nil {
		t.Fatalf("Wrap = %v; want nil", err)
	}
	if bytes.Contains(w, secret) {
		t.Fatal("wrapped key holds the plaintext")
	}
	if w2, _ := kw.Wrap(secret, aad); bytes.Equal(w, w2) {
		t.Error("two wraps of the same key are equal; want random nonces")
	}
	got, err := kw.Unwrap(w, aad)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Unwrap(Wrap(k)) = %q, %v; want k, nil", got, err)
	}
	tests := []struct {
		name    string
		kw      vault.KeyWrapper
		wrapped []byte
		aad     []byte
	}{
		{"other key", other, w, aad},
		{"other additional data", kw, w, []byte("careledger/test\x00other")},
		{"flipped", kw, append(bytes.Clone(w[:len(w)-1]), w[len(w)-1]^1), aad},
		{"truncated", kw, w[:len(w)-1], aad},
		{"shorter than a nonce", kw, w[:5], aad},
		{"empty", kw, nil, aad},
	}
	for _, tt := range tests {
		if _, err := tt.kw.Unwrap(tt.wrapped, tt.aad); !errors.Is(err, vault.ErrCorrupt) {
			t.Errorf("Unwrap, %s = %v; want ErrCorrupt", tt.name, err)
		}
	}
}
