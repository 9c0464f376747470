package app_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/state"
	"github.com/careledger/careledger/tx"
)

var update = flag.Bool("update", false, "rewrite testdata/script.golden")

// The scripted chain: enough blocks and transactions to touch every message
// and every envelope check, small enough to run in well under a second.
const (
	scriptBlocks = 30
	scriptSeed   = 20250301
)

// scriptTx is one transaction of the script and the code the rules give it.
type scriptTx struct {
	raw  []byte
	want tx.Code
	what string // the generator's intent, for failure messages
}

// modelAccount is the generator's picture of one account.
type modelAccount struct {
	key       ed25519.PrivKey
	addr      tx.Address
	kind      identity.Kind
	org       string
	admin     bool
	service   bool
	genesis   bool
	suspended bool
	seq       uint64
	accepted  [][]byte // sequenced transactions signed with the current key
}

// scriptGen generates a deterministic block sequence from a seeded PRNG,
// tracking a model of the identity state so that it knows the next sequence
// of every account and the code every transaction must get.
type scriptGen struct {
	t     testing.TB
	rng   *rand.Rand
	accts []*modelAccount // in creation order, so that choices are deterministic
	byKey map[string]*modelAccount
	fresh int

	consent consentModel
}

func newScriptGen(t testing.TB, seed uint64) *scriptGen {
	g := &scriptGen{t: t, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), byKey: map[string]*modelAccount{}}
	gen, _ := testGenesis()
	for _, o := range gen.Organizations {
		for _, k := range o.Admins {
			for _, name := range []string{"admin-a", "admin-a2", "admin-b", "admin-c"} {
				if key := testKey(name); bytes.Equal(pubOf(key), k) {
					g.add(&modelAccount{key: key, kind: identity.Member, org: o.ID, admin: true, genesis: true})
				}
			}
		}
	}
	return g
}

func (g *scriptGen) add(a *modelAccount) {
	a.addr = addrOf(a.key)
	g.accts = append(g.accts, a)
	g.byKey[string(pubOf(a.key))] = a
}

func (g *scriptGen) freshKey(kind string) ed25519.PrivKey {
	g.fresh++
	return testKey(fmt.Sprintf("%s-%d", kind, g.fresh))
}

// pick returns a random account satisfying ok, or nil.
func (g *scriptGen) pick(ok func(*modelAccount) bool) *modelAccount {
	var c []*modelAccount
	for _, a := range g.accts {
		if ok(a) {
			c = append(c, a)
		}
	}
	if len(c) == 0 {
		return nil
	}
	return c[g.rng.IntN(len(c))]
}

func active(a *modelAccount) bool      { return !a.suspended }
func activeAdmin(a *modelAccount) bool { return !a.suspended && a.admin }

func (g *scriptGen) roles() []identity.Role {
	all := identity.Roles()
	n := 1 + g.rng.IntN(3)
	rs := make([]identity.Role, n)
	for i := range rs {
		rs[i] = all[g.rng.IntN(len(all))]
	}
	return rs
}

// sign signs msgs as a with sequence seq on chain.
func (g *scriptGen) sign(a *modelAccount, chain string, seq uint64, msgs ...tx.Msg) []byte {
	return signTx(g.t, chain, a.key, seq, msgs...)
}

// next returns a's next transaction carrying msgs; consumed tells whether
// the rules advance a's sequence (a message that fails after the envelope
// checks still consumes it).
func (g *scriptGen) next(a *modelAccount, consumed bool, msgs ...tx.Msg) []byte {
	raw := g.sign(a, testChainID, a.seq, msgs...)
	if consumed {
		a.seq++
		a.accepted = append(a.accepted, raw)
	}
	return raw
}

// genOp builds one transaction. It returns ok=false when the model has no
// account to do it with, and the caller picks another.
type genOp func(g *scriptGen) (scriptTx, bool)

var scriptOps = []struct {
	weight int
	op     genOp
}{
	{6, (*scriptGen).registerPatient},
	{5, (*scriptGen).registerMember},
	{3, (*scriptGen).setRoles},
	{3, (*scriptGen).setStatus},
	{3, (*scriptGen).rotate},
	{1, (*scriptGen).badSignature},
	{1, (*scriptGen).replay},
	{1, (*scriptGen).skip},
	{1, (*scriptGen).unknownMessage},
	{1, (*scriptGen).wrongChain},
	{1, (*scriptGen).unknownSigner},
	{1, (*scriptGen).unauthorized},
	{1, (*scriptGen).wrongOrg},
	{1, (*scriptGen).suspendedActs},
	{1, (*scriptGen).keyInUse},
	{1, (*scriptGen).invalidRoles},
	{1, (*scriptGen).malformed},
	{3, (*scriptGen).grant},
	{1, (*scriptGen).revoke},
	{2, (*scriptGen).request},
	{2, (*scriptGen).answer},
	{3, (*scriptGen).access},
	{2, (*scriptGen).anchor},
	{1, (*scriptGen).erase},
	{1, (*scriptGen).badCondition},
	{1, (*scriptGen).propose},
	{1, (*scriptGen).voteNo},
}

func (g *scriptGen) registerPatient() (scriptTx, bool) {
	p := &modelAccount{key: g.freshKey("patient"), kind: identity.Patient}
	g.add(p)
	return scriptTx{g.next(p, true, identity.Encode(identity.RegisterPatient{})), tx.CodeOK, "register patient"}, true
}

func (g *scriptGen) registerMember() (scriptTx, bool) {
	admin := g.pick(activeAdmin)
	if admin == nil {
		return scriptTx{}, false
	}
	m := &modelAccount{key: g.freshKey("member"), kind: identity.Member, org: admin.org}
	rs := g.roles()
	m.admin = slices.Contains(rs, identity.Admin)
	m.service = slices.Contains(rs, identity.Service)
	raw := g.next(admin, true, identity.Encode(identity.RegisterMember{Org: admin.org, PubKey: pubOf(m.key), Roles: rs}))
	g.add(m)
	return scriptTx{raw, tx.CodeOK, "register member"}, true
}

// target picks a member registered by the script (never a genesis admin,
// so that every organization keeps an admin) in admin's organization.
func (g *scriptGen) target(admin *modelAccount) *modelAccount {
	return g.pick(func(a *modelAccount) bool {
		return a.kind == identity.Member && !a.genesis && a.org == admin.org && a != admin
	})
}

func (g *scriptGen) setRoles() (scriptTx, bool) {
	admin := g.pick(activeAdmin)
	if admin == nil {
		return scriptTx{}, false
	}
	m := g.target(admin)
	if m == nil {
		return scriptTx{}, false
	}
	rs := g.roles()
	m.admin = slices.Contains(rs, identity.Admin)
	m.service = slices.Contains(rs, identity.Service)
	return scriptTx{g.next(admin, true, identity.Encode(identity.SetMemberRoles{Member: m.addr, Roles: rs})), tx.CodeOK, "set roles"}, true
}

func (g *scriptGen) setStatus() (scriptTx, bool) {
	admin := g.pick(activeAdmin)
	if admin == nil {
		return scriptTx{}, false
	}
	m := g.target(admin)
	if m == nil {
		return scriptTx{}, false
	}
	m.suspended = !m.suspended
	return scriptTx{g.next(admin, true, identity.Encode(identity.SetMemberStatus{Member: m.addr, Suspended: m.suspended})), tx.CodeOK, "set status"}, true
}

func (g *scriptGen) rotate() (scriptTx, bool) {
	a := g.pick(active)
	nk := g.freshKey("rotated")
	raw := g.next(a, true, rotation(g.t, a.addr, nk, nk))
	delete(g.byKey, string(pubOf(a.key)))
	a.key, a.accepted = nk, nil
	g.byKey[string(pubOf(nk))] = a
	return scriptTx{raw, tx.CodeOK, "rotate key"}, true
}

func (g *scriptGen) badSignature() (scriptTx, bool) {
	a := g.pick(active)
	raw := g.next(a, false, identity.Encode(identity.RegisterPatient{}))
	raw[len(raw)-1-g.rng.IntN(tx.SignatureSize)] ^= 1 << g.rng.IntN(8)
	return scriptTx{raw, tx.CodeBadSignature, "bad signature"}, true
}

func (g *scriptGen) replay() (scriptTx, bool) {
	a := g.pick(func(a *modelAccount) bool { return active(a) && len(a.accepted) > 0 })
	if a == nil {
		return scriptTx{}, false
	}
	return scriptTx{a.accepted[g.rng.IntN(len(a.accepted))], tx.CodeSequenceReplayed, "replay"}, true
}

func (g *scriptGen) skip() (scriptTx, bool) {
	a := g.pick(active)
	raw := g.sign(a, testChainID, a.seq+1+uint64(g.rng.IntN(5)), identity.Encode(identity.RegisterPatient{}))
	return scriptTx{raw, tx.CodeSequenceSkipped, "skipped sequence"}, true
}

func (g *scriptGen) unknownMessage() (scriptTx, bool) {
	a := g.pick(active)
	raw := g.next(a, false, tx.Msg{Type: 1000 + uint64(g.rng.IntN(1000)), Body: []byte{1, 2, 3}})
	return scriptTx{raw, tx.CodeUnknownMessage, "unknown message"}, true
}

func (g *scriptGen) wrongChain() (scriptTx, bool) {
	a := g.pick(active)
	raw := g.sign(a, "careledger-other", a.seq, identity.Encode(identity.RegisterPatient{}))
	return scriptTx{raw, tx.CodeWrongChain, "wrong chain"}, true
}

func (g *scriptGen) unknownSigner() (scriptTx, bool) {
	stranger := &modelAccount{key: g.freshKey("stranger")}
	victim := g.pick(func(a *modelAccount) bool { return a.kind == identity.Member })
	raw := g.sign(stranger, testChainID, 0, identity.Encode(identity.SetMemberStatus{Member: victim.addr, Suspended: true}))
	return scriptTx{raw, tx.CodeUnknownSigner, "unknown signer"}, true
}

func (g *scriptGen) unauthorized() (scriptTx, bool) {
	a := g.pick(func(a *modelAccount) bool { return active(a) && !a.admin })
	if a == nil {
		return scriptTx{}, false
	}
	var msg tx.Msg
	if a.kind == identity.Patient {
		victim := g.pick(func(a *modelAccount) bool { return a.kind == identity.Member })
		msg = identity.Encode(identity.SetMemberStatus{Member: victim.addr, Suspended: true})
	} else {
		msg = identity.Encode(identity.RegisterMember{Org: a.org, PubKey: pubOf(g.freshKey("unauthorized")), Roles: []identity.Role{identity.Admin}})
	}
	return scriptTx{g.next(a, true, msg), tx.CodeUnauthorized, "unauthorized"}, true
}

func (g *scriptGen) wrongOrg() (scriptTx, bool) {
	admin := g.pick(activeAdmin)
	orgs := []string{orgA, orgB, orgC}
	other := orgs[g.rng.IntN(len(orgs))]
	if admin == nil || other == admin.org {
		return scriptTx{}, false
	}
	raw := g.next(admin, true, identity.Encode(identity.RegisterMember{Org: other, PubKey: pubOf(g.freshKey("intruder")), Roles: []identity.Role{identity.Nurse}}))
	return scriptTx{raw, tx.CodeWrongOrganization, "wrong organization"}, true
}

func (g *scriptGen) suspendedActs() (scriptTx, bool) {
	a := g.pick(func(a *modelAccount) bool { return a.suspended })
	if a == nil {
		return scriptTx{}, false
	}
	nk := g.freshKey("escape")
	raw := g.next(a, false, rotation(g.t, a.addr, nk, nk))
	return scriptTx{raw, tx.CodeSuspended, "suspended signer"}, true
}

func (g *scriptGen) keyInUse() (scriptTx, bool) {
	a := g.pick(active)
	other := g.pick(func(b *modelAccount) bool { return b != a })
	return scriptTx{g.next(a, true, rotation(g.t, a.addr, other.key, other.key)), tx.CodeKeyInUse, "key in use"}, true
}

func (g *scriptGen) invalidRoles() (scriptTx, bool) {
	admin := g.pick(activeAdmin)
	if admin == nil {
		return scriptTx{}, false
	}
	// An unknown role is refused without state, before the sequence.
	raw := g.next(admin, false, identity.Encode(identity.RegisterMember{Org: admin.org, PubKey: pubOf(g.freshKey("surgeon")), Roles: []identity.Role{"surgeon"}}))
	return scriptTx{raw, tx.CodeInvalid, "invalid roles"}, true
}

func (g *scriptGen) malformed() (scriptTx, bool) {
	raw := make([]byte, 1+g.rng.IntN(200))
	for i := range raw {
		raw[i] = byte(g.rng.Uint32())
	}
	raw[0] = 2 // an unsupported envelope version, so that it never decodes
	return scriptTx{raw, tx.CodeMalformed, "malformed"}, true
}

// block generates the transactions of one block.
func (g *scriptGen) block() []scriptTx {
	total := 0
	for _, o := range scriptOps {
		total += o.weight
	}
	n := 4 + g.rng.IntN(12)
	var out []scriptTx
	for len(out) < n {
		w := g.rng.IntN(total)
		for _, o := range scriptOps {
			if w -= o.weight; w < 0 {
				if st, ok := o.op(g); ok {
					out = append(out, st)
				}
				break
			}
		}
	}
	return out
}

// script returns the deterministic block sequence: the same on every call.
func script(t testing.TB) [][]scriptTx {
	t.Helper()
	g := newScriptGen(t, scriptSeed)
	blocks := make([][]scriptTx, scriptBlocks)
	for i := range blocks {
		blocks[i] = g.block()
	}
	return blocks
}

func rawTxs(b []scriptTx) [][]byte {
	out := make([][]byte, len(b))
	for i, st := range b {
		out[i] = st.raw
	}
	return out
}

// run is what one instance produced for the script.
type run struct {
	genesisHash []byte
	hashes      [][]byte               // app hash after block i+1
	results     [][]*abci.ExecTxResult // results of block i+1
}

// replay applies blocks from height from+1 on, appending to r.
func replay(t testing.TB, a *app.App, blocks [][]scriptTx, from int, r *run) {
	t.Helper()
	for i := from; i < len(blocks); i++ {
		res := applyBlock(t, a, int64(i+1), rawTxs(blocks[i]))
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
	blocks := script(t)

	mem := newApp(t, state.OpenMemory(), app.Config{VerifyWorkers: 1})
	disk := newApp(t, openStore(t, t.TempDir()), app.Config{VerifyWorkers: 4})
	var rm, rd run
	rm.genesisHash, rd.genesisHash = initChain(t, mem), initChain(t, disk)
	if !bytes.Equal(rm.genesisHash, rd.genesisHash) {
		t.Fatalf("InitChain app hash = %X (memory), %X (disk); want equal", rm.genesisHash, rd.genesisHash)
	}
	replay(t, mem, blocks, 0, &rm)
	for i, b := range blocks {
		for _, st := range b {
			checkTx(t, disk, st.raw) // as the mempool would, caching valid signatures
		}
		res := applyBlock(t, disk, int64(i+1), rawTxs(b))
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
				t.Errorf("height %d tx %d (%s): result %v (memory), %v (disk); want equal", h, j, st.what, gm, gd)
			}
			if got := tx.Code(gm.Code); got != st.want {
				t.Errorf("height %d tx %d (%s): code = %v (%s); want %v", h, j, st.what, got, gm.Log, st.want)
			}
			codes[tx.Code(gm.Code)]++
		}
	}
	t.Logf("codes: %v", codes)
	checkGolden(t, filepath.Join("testdata", "script.golden"), blocks, &rm)
	// The script must exercise what it claims to.
	for _, c := range []tx.Code{tx.CodeOK, tx.CodeMalformed, tx.CodeWrongChain, tx.CodeBadSignature,
		tx.CodeSequenceReplayed, tx.CodeSequenceSkipped, tx.CodeUnknownMessage, tx.CodeUnknownSigner,
		tx.CodeUnauthorized, tx.CodeWrongOrganization, tx.CodeInvalid, tx.CodeSuspended, tx.CodeKeyInUse} {
		if codes[c] == 0 {
			t.Errorf("script produced no transaction with code %v; codes = %v", c, codes)
		}
	}
}

// TestDivergence changes one transaction of one block and requires the app
// hash to agree before that block and differ at it.
func TestDivergence(t *testing.T) {
	blocks := script(t)
	const at = scriptBlocks / 2 // index of the changed block
	changed := slices.Clone(blocks)
	changed[at] = slices.Clone(blocks[at])
	i := slices.IndexFunc(changed[at], func(st scriptTx) bool { return st.want == tx.CodeOK })
	if i < 0 {
		t.Fatalf("block %d has no successful transaction to change", at+1)
	}
	changed[at][i] = scriptTx{
		raw:  signTx(t, testChainID, testKey("divergent"), 0, identity.Encode(identity.RegisterPatient{})),
		want: tx.CodeOK,
		what: "register a different patient",
	}

	var want, got run
	a := newChain(t)
	b := newChain(t)
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
	blocks := script(t)
	const stopAt = scriptBlocks / 3

	var want run
	ref := newChain(t)
	replay(t, ref, blocks, 0, &want)

	dir := t.TempDir()
	s, err := state.Open(dir, state.Options{})
	if err != nil {
		t.Fatalf("state.Open(%q) = %v; want nil", dir, err)
	}
	a := newApp(t, s, app.Config{})
	initChain(t, a)
	var got run
	replay(t, a, blocks[:stopAt], 0, &got)
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}

	a = newApp(t, openStore(t, dir), app.Config{})
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
func checkGolden(t *testing.T, path string, blocks [][]scriptTx, r *run) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "# scripted chain, seed %d: height, app hash, then each transaction's intent and code\n", scriptSeed)
	fmt.Fprintf(&b, "genesis %X\n", r.genesisHash)
	for i, blk := range blocks {
		fmt.Fprintf(&b, "%d %X\n", i+1, r.hashes[i])
		for j, st := range blk {
			fmt.Fprintf(&b, "  %s: %v\n", st.what, tx.Code(r.results[i][j].Code))
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
