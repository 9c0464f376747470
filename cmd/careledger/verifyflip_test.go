package main

import (
	uvarint "encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/verify"
)

// TestVerifyDataEveryFile builds a demo home that has been restarted once
// (so that its LevelDB stores hold tables as well as journals), stops it,
// and flips one byte at several offsets of every file of the home, each in
// a fresh copy: verify data must report every flip that changes stored
// content, naming the damaged part. The flips it may leave unreported are
// exactly these, by design:
//   - the files verify data names as not checked (LevelDB's LOG and
//     CURRENT.bak, config/addrbook.json, config/auth_secret: nothing reads
//     them, or any value is valid) and, beyond their form,
//     config/careledger.json (the operator's settings) and
//     config/node_key.json (any key is a valid p2p key);
//   - the zero padding of a LevelDB table's footer, which LevelDB never
//     reads: the stored content is the same.
func TestVerifyDataEveryFile(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	httpAddr := fmt.Sprintf("127.0.0.1:%d", nodetest.FreePort(t))
	careledger(t, "init", "--demo", "--home", home, "--http", httpAddr, "--p2p", fmt.Sprintf("127.0.0.1:%d", nodetest.FreePort(t)))
	for range 2 { // the second start turns the first run's journals into tables
		p := startNodeArgs(t, "node", "--demo", "--home", home)
		waitFor(t, func() bool { return strings.Contains(readFile(t, p.log), "press Ctrl-C") })
		p.stop(t)
	}
	intact, err := verify.Home(home, io.Discard)
	if err != nil {
		t.Fatalf("verify data of an intact home: %v", err)
	}
	formOnly := map[string]bool{"config/careledger.json": true, "config/node_key.json": true}
	for _, nc := range intact.NotChecked {
		rel, _, _ := strings.Cut(nc, ": ")
		base := filepath.Base(rel)
		if !formOnly[rel] && base != "LOG" && base != "LOCK" && base != "CURRENT.bak" &&
			rel != "node.pid" && rel != "config/addrbook.json" && rel != "config/auth_secret" {
			t.Errorf("verify data does not check %s", nc)
		}
	}
	type flip struct {
		rel string
		off int64
	}
	var flips []flip
	tables, files := 0, 0
	err = filepath.WalkDir(home, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(home, p)
		rel = filepath.ToSlash(rel)
		st, err := d.Info()
		if err != nil || st.Size() == 0 {
			return err
		}
		if strings.HasSuffix(rel, ".ldb") {
			tables++
		}
		if notChecked(intact, rel) && !formOnly[rel] {
			return nil
		}
		files++
		for _, off := range offsets(rel, st.Size()) {
			flips = append(flips, flip{rel, off})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if tables == 0 {
		t.Fatal("the home holds no LevelDB table: the restart did not flush a journal")
	}
	var mu sync.Mutex
	unreported := map[string]int{} // form-only files: flips left unreported
	work := make(chan flip)
	var wg sync.WaitGroup
	for range 4 { // verify waits on the disk more than on the CPU
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				h, err := copyTree(t.TempDir(), home)
				if err != nil {
					t.Error(err)
					continue
				}
				b, err := os.ReadFile(filepath.Join(h, f.rel))
				if err != nil {
					t.Error(err)
					continue
				}
				if strings.HasSuffix(f.rel, ".ldb") && inFooterPadding(b, f.off) {
					continue // LevelDB never reads these bytes
				}
				b[f.off] ^= 0x01
				if err := os.WriteFile(filepath.Join(h, f.rel), b, 0o600); err != nil {
					t.Error(err)
					continue
				}
				sum, err := verify.Home(h, io.Discard)
				os.RemoveAll(h)
				if reported(err, f.rel) {
					continue
				}
				mu.Lock()
				if formOnly[f.rel] && notChecked(sum, f.rel) {
					unreported[f.rel]++
				} else {
					t.Errorf("a byte flipped at offset %d of %s: verify data = %v; want it reported", f.off, f.rel, err)
				}
				mu.Unlock()
			}
		}()
	}
	for _, f := range flips {
		work <- f
	}
	close(work)
	wg.Wait()
	t.Logf("%d flips in %d files; left unreported in files checked for form only: %v; not flipped: %d files verify data names as not checked",
		len(flips), files, unreported, len(intact.NotChecked)-len(formOnly))
}

// offsets returns where the file rel of size n is flipped: its first byte
// (a header or a length), its middle, and its last (often a checksum or a
// magic number); and two more in the files the issue found unchecked (the
// WAL, the state store's tables, the index's journal). Every offset of
// every file would take minutes on two cores.
func offsets(rel string, n int64) []int64 {
	at := []int64{0, n / 2, n - 1}
	if rel == "data/cs.wal/wal" || strings.HasPrefix(rel, "data/state.db/") && strings.HasSuffix(rel, ".ldb") ||
		strings.HasPrefix(rel, "data/app/index.db/") && strings.HasSuffix(rel, ".log") {
		at = []int64{0, n / 4, n / 2, 3 * n / 4, n - 1}
	}
	var out []int64
	for _, o := range at {
		if len(out) == 0 || out[len(out)-1] != o {
			out = append(out, o)
		}
	}
	return out
}

// reported reports whether err is verify data's report of damage to the
// file rel: a damaged part that is the file or the store holding it. A
// changed genesis, the trust anchor, fails whichever check uses the value.
func reported(err error, rel string) bool {
	var ds verify.Damaged
	if !errors.As(err, &ds) {
		return false
	}
	if rel == "config/genesis.json" {
		return true
	}
	for _, d := range ds {
		if rel == d.Part || strings.HasPrefix(rel, d.Part+"/") {
			return true
		}
	}
	return false
}

// notChecked reports whether verify data names rel as not checked.
func notChecked(sum *verify.Summary, rel string) bool {
	if sum == nil {
		return false
	}
	for _, nc := range sum.NotChecked {
		if strings.HasPrefix(nc, rel+": ") {
			return true
		}
	}
	return false
}

// inFooterPadding reports whether off is in the zero padding of a LevelDB
// table's 48-byte footer: after the metaindex and index block handles
// (four uvarints) and before the 8-byte magic number.
func inFooterPadding(b []byte, off int64) bool {
	start := int64(len(b)) - 48
	if off < start || off >= int64(len(b))-8 {
		return false
	}
	p := b[start:]
	used := 0
	for range 4 {
		_, n := uvarint.Uvarint(p[used:])
		if n <= 0 {
			return false
		}
		used += n
	}
	return off >= start+int64(used)
}

// copyTree copies the directory tree at src into dir/home and returns it.
func copyTree(dir, src string) (string, error) {
	dst := filepath.Join(dir, "home")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	return dst, err
}
