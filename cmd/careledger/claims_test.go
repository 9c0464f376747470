package main

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestAppealMsg: the CLI's appeal flags become the message: line indexes,
// and the letter's SHA-256, never its text.
func TestAppealMsg(t *testing.T) {
	letter := filepath.Join(t.TempDir(), "letter.txt")
	if err := os.WriteFile(letter, []byte("the letter"), 0o600); err != nil {
		t.Fatal(err)
	}
	id := strings.Repeat("ab", 32)
	m, err := appealMsg(id, "auth-on-file", "0, 2", letter)
	if err != nil || !slices.Equal(m.Lines, []uint64{0, 2}) || m.Letter != sha256.Sum256([]byte("the letter")) || m.Claim[0] != 0xab {
		t.Errorf("appealMsg = %+v, %v; want lines 0 and 2 and the letter's hash", m, err)
	}
	for _, bad := range [][2]string{{"abc", ""}, {id, "x"}} {
		if _, err := appealMsg(bad[0], "r", bad[1], ""); err == nil {
			t.Errorf("appealMsg(%q, lines %q) = nil error; want a usage error", bad[0], bad[1])
		}
	}
}
