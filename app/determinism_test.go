package app_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/careledger/careledger/apptest"
	"github.com/careledger/careledger/contract"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/state"
	"github.com/careledger/careledger/tx"
)

var update = flag.Bool("update", false, "rewrite testdata/script.golden")

// run is what one instance produced for the script.
type run struct {
	genesisHash []byte
	hashes      [][]byte               // app hash after block i+1
	results     [][]*abci.ExecTxResult // results of block i+1
}

// replay applies blocks from height from+1 on, appending to r.
func replay(t testing.TB, a *app.App, blocks [][]apptest.ScriptTx, from int, r *run) {
	t.Helper()
	for i := from; i < len(blocks); i++ {
		res := apptest.ApplyBlock(t, a, int64(i+1), apptest.RawTxs(blocks[i]))
		r.hashes = append(r.hashes, res.AppHash)
		r.results = append(r.results, res.TxResults)
	}
}

// TestDeterminism replays the scripted chain into two independent instances
// — one in memory verifying signatures on one goroutine, one on disk with
// four verifiers and a signature cache warmed by CheckTx — and requires the
// same app hash at every height and the same result for every transaction,
// each with the code the rules give it.
func TestDeterminism(t *testing.T) {
	blocks := apptest.Script(t)

	mem := apptest.NewApp(t, state.OpenMemory(), app.Config{VerifyWorkers: 1})
	disk := apptest.NewApp(t, apptest.OpenStore(t, t.TempDir()), app.Config{VerifyWorkers: 4})
	var rm, rd run
	rm.genesisHash, rd.genesisHash = apptest.InitChain(t, mem), apptest.InitChain(t, disk)
	if !bytes.Equal(rm.genesisHash, rd.genesisHash) {
		t.Fatalf("InitChain app hash = %X (memory), %X (disk); want equal", rm.genesisHash, rd.genesisHash)
	}
	replay(t, mem, blocks, 0, &rm)
	for i, b := range blocks {
		for _, st := range b {
			apptest.CheckTx(t, disk, st.Raw) // as the mempool would, caching valid signatures
		}
		res := apptest.ApplyBlock(t, disk, int64(i+1), apptest.RawTxs(b))
		rd.hashes = append(rd.hashes, res.AppHash)
		rd.results = append(rd.results, res.TxResults)
	}

	codes := map[tx.Code]int{}
	for i, b := range blocks {
		h := i + 1
		if !bytes.Equal(rm.hashes[i], rd.hashes[i]) {
			t.Fatalf("app hash at height %d = %X (memory), %X (disk); want equal", h, rm.hashes[i], rd.hashes[i])
		}
		for j, st := range b {
			gm, gd := rm.results[i][j], rd.results[i][j]
			if !reflect.DeepEqual(gm, gd) {
				t.Errorf("height %d tx %d (%s): result %v (memory), %v (disk); want equal", h, j, st.What, gm, gd)
			}
			if got := tx.Code(gm.Code); got != st.Want {
				t.Errorf("height %d tx %d (%s): code = %v (%s); want %v", h, j, st.What, got, gm.Log, st.Want)
			}
			codes[tx.Code(gm.Code)]++
		}
	}
	t.Logf("codes: %v", codes)
	checkGolden(t, filepath.Join("testdata", "script.golden"), blocks, &rm)
	// The script must exercise what it claims to: every envelope check and
	// every registered message type.
	checkCoverage(t, blocks)
	for _, c := range []tx.Code{tx.CodeOK, tx.CodeMalformed, tx.CodeWrongChain, tx.CodeBadSignature,
		tx.CodeSequenceReplayed, tx.CodeSequenceSkipped, tx.CodeUnknownMessage, tx.CodeUnknownSigner,
		tx.CodeUnauthorized, tx.CodeWrongOrganization, tx.CodeInvalid, tx.CodeSuspended, tx.CodeKeyInUse, tx.CodeNotFound} {
		if codes[c] == 0 {
			t.Errorf("script produced no transaction with code %v; codes = %v", c, codes)
		}
	}
}

// checkCoverage fails for a registered message type that no transaction of
// the script carries, so that a message added later without a script
// operation (apptest/script.go) fails this test.
func checkCoverage(t *testing.T, blocks [][]apptest.ScriptTx) {
	t.Helper()
	router, err := app.NewRouter()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	for _, b := range blocks {
		for _, st := range b {
			if d, err := tx.Decode(st.Raw, tx.DefaultLimits); err == nil {
				for _, m := range d.Msgs {
					seen[m.Type] = true
				}
			}
		}
	}
	for _, m := range router.Msgs() {
		if !seen[m.Type] {
			t.Errorf("the script has no %s (type %d) message; add an operation in apptest/script.go", m.Name, m.Type)
		}
	}
}

// TestDivergence changes one transaction of one block and requires the app
// hash to agree before that block and differ at it.
func TestDivergence(t *testing.T) {
	blocks := apptest.Script(t)
	const at = apptest.ScriptBlocks / 2 // index of the changed block
	changed := slices.Clone(blocks)
	changed[at] = slices.Clone(blocks[at])
	i := slices.IndexFunc(changed[at], func(st apptest.ScriptTx) bool { return st.Want == tx.CodeOK })
	if i < 0 {
		t.Fatalf("block %d has no successful transaction to change", at+1)
	}
	changed[at][i] = apptest.ScriptTx{
		Raw:  apptest.SignTx(t, apptest.ChainID, apptest.Key("divergent"), 0, contract.Encode(identity.RegisterPatient{})),
		Want: tx.CodeOK,
		What: "register a different patient",
	}

	var want, got run
	a := apptest.NewChain(t)
	b := apptest.NewChain(t)
	replay(t, a, blocks[:at+1], 0, &want)
	replay(t, b, changed[:at+1], 0, &got)
	for h := 1; h <= at; h++ {
		if !bytes.Equal(want.hashes[h-1], got.hashes[h-1]) {
			t.Fatalf("app hash at height %d, before the change = %X and %X; want equal", h, want.hashes[h-1], got.hashes[h-1])
		}
	}
	if bytes.Equal(want.hashes[at], got.hashes[at]) {
		t.Errorf("app hash at height %d, with tx %d changed = %X, same as the original; want different", at+1, i, got.hashes[at])
	}
}

// TestRestart closes an instance's store midway, reopens it, and requires
// the reopened application to report the same height and hash and to
// continue with the hashes of an instance that never stopped.
func TestRestart(t *testing.T) {
	blocks := apptest.Script(t)
	const stopAt = apptest.ScriptBlocks / 3

	var want run
	ref := apptest.NewChain(t)
	replay(t, ref, blocks, 0, &want)

	dir := t.TempDir()
	s, err := state.Open(dir, state.Options{})
	if err != nil {
		t.Fatalf("state.Open(%q) = %v; want nil", dir, err)
	}
	a := apptest.NewApp(t, s, app.Config{})
	apptest.InitChain(t, a)
	var got run
	replay(t, a, blocks[:stopAt], 0, &got)
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}

	a = apptest.NewApp(t, apptest.OpenStore(t, dir), app.Config{})
	info, err := a.Info(context.Background(), &abci.RequestInfo{})
	if err != nil || info.LastBlockHeight != stopAt || !bytes.Equal(info.LastBlockAppHash, want.hashes[stopAt-1]) {
		t.Fatalf("Info() after reopening = %+v, %v; want height %d, app hash %X", info, err, stopAt, want.hashes[stopAt-1])
	}
	if info.AppVersion != app.AppVersion {
		t.Errorf("Info().AppVersion = %d; want %d", info.AppVersion, app.AppVersion)
	}
	if got, want := a.Params(), app.DefaultParams(); got != want {
		t.Errorf("Params() after reopening = %+v; want %+v", got, want)
	}
	replay(t, a, blocks, stopAt, &got)
	for i := range blocks {
		if !bytes.Equal(got.hashes[i], want.hashes[i]) {
			t.Fatalf("app hash at height %d with a restart after %d = %X; want %X", i+1, stopAt, got.hashes[i], want.hashes[i])
		}
		if !reflect.DeepEqual(got.results[i], want.results[i]) {
			t.Errorf("results at height %d with a restart after %d = %v; want %v", i+1, stopAt, got.results[i], want.results[i])
		}
	}
}

// checkGolden compares the script's app hashes and codes with the golden
// file, so that a change of the rules or of the state encoding, which would
// make old blocks produce different results (and needs a new AppVersion),
// shows up as a reviewed diff. go test ./app -run TestDeterminism -update
// rewrites it.
func checkGolden(t *testing.T, path string, blocks [][]apptest.ScriptTx, r *run) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "# scripted chain, seed %d: height, app hash, then each transaction's intent and code, and its events\n", apptest.ScriptSeed)
	fmt.Fprintf(&b, "genesis %X\n", r.genesisHash)
	for i, blk := range blocks {
		fmt.Fprintf(&b, "%d %X\n", i+1, r.hashes[i])
		for j, st := range blk {
			res := r.results[i][j]
			fmt.Fprintf(&b, "  %s: %v\n", st.What, tx.Code(res.Code))
			for _, e := range res.Events {
				fmt.Fprintf(&b, "    %s", e.Type)
				for _, a := range e.Attributes {
					fmt.Fprintf(&b, " %s=%s", a.Key, a.Value)
				}
				b.WriteByte('\n')
			}
		}
	}
	got := b.String()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file: %v (run with -update to create it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < min(len(gl), len(wl)); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("%s line %d = %q; want %q (run with -update if the change is intended)", path, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s has %d lines; want %d (run with -update if the change is intended)", path, len(gl), len(wl))
	}
}
