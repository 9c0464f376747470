package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyDataset commits a dataset file as a sponsor would (dataset root,
// dataset leaves) and checks it, then a changed, an added and a removed row,
// with the CLI a verifier runs, offline.
func TestVerifyDataset(t *testing.T) {
	dir := t.TempDir()
	var rows bytes.Buffer
	rows.WriteString("subject,visit,hba1c_pct,weight_kg\n")
	for i := range 40 {
		fmt.Fprintf(&rows, "P-%04d,visit-1,%d.%d,%d\n", i%8, 5+i%4, i%10, 60+i)
	}
	orig := rows.Bytes()
	file := filepath.Join(dir, "visit-1.csv")
	if err := os.WriteFile(file, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	root, n, _ := strings.Cut(strings.TrimSpace(careledger(t, "dataset", "root", file)), " ")
	if n != "41" || len(root) != 64 {
		t.Fatalf("dataset root = %q %q; want 64 hex digits and 41 rows", root, n)
	}
	leaves := filepath.Join(dir, "visit-1.leaves")
	if err := os.WriteFile(leaves, []byte(careledger(t, "dataset", "leaves", file)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := careledger(t, "verify", "dataset", "--root", root, "--rows", n, file); !strings.HasPrefix(out, "verified: 41 rows") {
		t.Fatalf("verify dataset of the committed file = %q; want verified", out)
	}

	lines := strings.SplitAfter(string(orig), "\n")
	tests := []struct {
		name, file, want string
	}{
		{"changed", strings.Replace(string(orig), "P-0004,visit-1,5.4,64", "P-0004,visit-1,5.4,46", 1), "row 5 changed"},
		{"added", strings.Join(lines[:9], "") + "P-0009,visit-1,6.1,70\n" + strings.Join(lines[9:], ""), "row 9 added"},
		{"removed", strings.Join(lines[:12], "") + strings.Join(lines[13:], ""), "row 12 removed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "visit-1.csv")
			if err := os.WriteFile(f, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(binary, "verify", "dataset", "--root", root, "--rows", n, "--leaves", leaves, f).CombinedOutput()
			if err == nil || !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), "NOT VERIFIED") {
				t.Fatalf("verify dataset of a file with a row %s = %v\n%s\nwant a non-zero exit saying %q", tc.name, err, out, tc.want)
			}
		})
	}
}
