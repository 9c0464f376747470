package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/careledger/careledger/nodetest"
)

// TestVerifyData runs the demo node (blocks, identity, records, consent),
// stops it, and checks its home offline: it verifies; then, in a copy each
// time, one byte flipped in each kind of stored file, and one value
// rewritten with valid storage checksums in the log, the state and the
// vault, and a genesis naming other validators, are each reported, naming
// what does not verify.
func TestVerifyData(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	httpAddr := fmt.Sprintf("127.0.0.1:%d", nodetest.FreePort(t))
	careledger(t, "init", "--demo", "--home", home, "--http", httpAddr, "--p2p", fmt.Sprintf("127.0.0.1:%d", nodetest.FreePort(t)))
	p := startNodeArgs(t, "node", "--demo", "--home", home)
	waitFor(t, func() bool { return strings.Contains(readFile(t, p.log), "press Ctrl-C") })
	p.stop(t)

	verifyData := func(h string) (string, error) {
		out, err := exec.Command(binary, "verify", "data", "--home", h).CombinedOutput()
		return string(out), err
	}
	before := hashFiles(t, home)
	if out, err := verifyData(home); err != nil || !strings.Contains(out, "record versions") {
		t.Fatalf("verify data of an intact home: %v\n%s", err, out)
	}
	// verify writes nothing: a check must not repair, compact or log.
	after := hashFiles(t, home)
	for f, h := range before {
		if after[f] != h {
			t.Errorf("verify data changed or removed %s", f)
		}
	}
	for f := range after {
		if _, ok := before[f]; !ok {
			t.Errorf("verify data created %s", f)
		}
	}
	copyHome := func(t *testing.T) string {
		dst := filepath.Join(t.TempDir(), "home")
		if out, err := exec.Command("cp", "-r", home, dst).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v %s", err, out)
		}
		return dst
	}
	for _, kind := range []string{"blockstore.db", "app/state.db", "app/audit.db", "vault/vault.db", "vault/proofs.db"} {
		t.Run("flip a byte in "+kind, func(t *testing.T) {
			h := copyHome(t)
			f := largestFile(t, filepath.Join(h, "data", kind))
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 1
			if err := os.WriteFile(f, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := verifyData(h); err == nil || !strings.Contains(out, "NOT VERIFIED") {
				t.Errorf("verify data with a byte of %s flipped: %v\n%s", filepath.Base(f), err, out)
			}
		})
	}
	t.Run("rebuild a lost index and audit log", func(t *testing.T) {
		h := copyHome(t)
		for _, db := range []string{"index.db", "audit.db"} {
			if err := os.RemoveAll(filepath.Join(h, "data", "app", db)); err != nil {
				t.Fatal(err)
			}
		}
		if out, err := exec.Command(binary, "rebuild", "--home", h).CombinedOutput(); err != nil {
			t.Fatalf("rebuild: %v\n%s", err, out)
		}
		// The rebuilt log gives every header's app hash again.
		if out, err := verifyData(h); err != nil || !strings.Contains(out, "audit events") {
			t.Fatalf("verify data after the rebuild: %v\n%s", err, out)
		}
	})
	t.Run("a genesis naming other validators", func(t *testing.T) {
		h := copyHome(t)
		f := filepath.Join(h, "config", "genesis.json")
		gen, err := cmttypes.GenesisDocFromFile(f)
		if err != nil {
			t.Fatal(err)
		}
		pub := ed25519.GenPrivKey().PubKey()
		gen.Validators[0].PubKey, gen.Validators[0].Address = pub, pub.Address()
		if err := gen.SaveAs(f); err != nil {
			t.Fatal(err)
		}
		if out, err := verifyData(h); err == nil || !strings.Contains(out, "block 1 names validators other than") {
			t.Errorf("verify data: %v\n%s\nwant NOT VERIFIED naming block 1's validators", err, out)
		}
	})
	for _, tc := range []struct {
		name, db, prefix, want string
	}{
		{"an audit event rewritten", "app/audit.db", "l", "events 0 to 0 was changed"},
		{"a state value rewritten", "app/state.db", "d", "does not match its hash"},
		{"a vault ciphertext rewritten", "vault/vault.db", "v", "corrupt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := copyHome(t)
			rewriteFirst(t, filepath.Join(h, "data", tc.db), tc.prefix)
			if out, err := verifyData(h); err == nil || !strings.Contains(out, tc.want) {
				t.Errorf("verify data: %v\n%s\nwant NOT VERIFIED naming %q", err, out, tc.want)
			}
		})
	}
}

// hashFiles returns the SHA-256 of every file under dir, by path.
func hashFiles(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = sha256.Sum256(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// largestFile returns the largest table or journal file of a LevelDB.
func largestFile(t *testing.T, dir string) string {
	var files []string
	for _, pat := range []string{"*.ldb", "*.log"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatalf("no LevelDB files in %s", dir)
	}
	size := func(f string) int64 { st, _ := os.Stat(f); return st.Size() }
	sort.Slice(files, func(i, j int) bool { return size(files[i]) > size(files[j]) })
	return files[0]
}

// rewriteFirst changes the last byte of the first value under prefix,
// through LevelDB, so that the storage's own checksums hold.
func rewriteFirst(t *testing.T, dir, prefix string) {
	db, err := leveldb.OpenFile(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	it := db.NewIterator(util.BytesPrefix([]byte(prefix)), nil)
	if !it.Next() {
		t.Fatalf("nothing under %q in %s", prefix, dir)
	}
	k, v := bytes.Clone(it.Key()), bytes.Clone(it.Value())
	it.Release()
	v[len(v)-1] ^= 1
	if err := db.Put(k, v, nil); err != nil {
		t.Fatal(err)
	}
}
