package durable_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/careledger/careledger/durable"
)

// TestWriteFile: the file holds the new bytes with the mode asked, replaces
// the old one whole, and no temporary file is left beside it.
func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "state.json")
	for _, data := range []string{"first version", "second"} {
		if err := durable.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != data {
			t.Fatalf("read %q, %v; want %q", got, err, data)
		}
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("the directory holds %d entries; want the file alone", len(entries))
	}
}

// TestWriteFileRefused: a path whose directory cannot be made is an error,
// and nothing is written.
func TestWriteFileRefused(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := durable.WriteFile(filepath.Join(blocker, "x"), []byte("y"), 0o600); err == nil {
		t.Fatal("a file under a regular file was written")
	}
}
