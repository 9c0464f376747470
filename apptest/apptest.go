// Package apptest is an in-process harness for the application, as etcd's
// rafttest is for raft: a test network (its organizations, deterministic
// keys and genesis), applications over real stores, blocks finalized and
// committed, transactions signed, and a scripted chain that touches every
// registered message type (script.go). The app's tests, its determinism
// test and the benchmarks use it; nothing in the node imports it.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/state"
	"github.com/careledger/careledger/tx"
)

// The test network: three organizations, two of which run validators.
const (
	ChainID = "careledger-test"
	OrgA    = "general-hospital" // provider, validator, admins admin-a and admin-a2
	OrgB    = "acme-insurance"   // payer, validator, admin admin-b
	OrgC    = "city-pharmacy"    // pharma, no validator, admin admin-c
	OrgD    = "acme-research"    // research (a trial sponsor), no validator, admin admin-d
)

var GenesisTime = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// Key returns the deterministic key called name, so that every run (and
// every instance within a run) sees the same accounts.
func Key(name string) ed25519.PrivKey {
	return ed25519.GenPrivKeyFromSecret([]byte("careledger-test/" + name))
}

func Pub(k ed25519.PrivKey) []byte      { return k.PubKey().Bytes() }
func Addr(k ed25519.PrivKey) tx.Address { return tx.AddressOf(Pub(k)) }

// Genesis returns the app genesis state and the validators CometBFT
// would pass to InitChain with it.
func Genesis() (app.Genesis, []abci.ValidatorUpdate) {
	g := app.Genesis{Params: app.DefaultParams(), Genesis: identity.Genesis{Organizations: []identity.GenesisOrg{
		{ID: OrgA, Name: "General Hospital", Type: identity.Provider,
			ValidatorKey: Pub(Key("val-a")), Power: 10,
			Admins: []tx.PubKey{Pub(Key("admin-a")), Pub(Key("admin-a2"))}},
		{ID: OrgB, Name: "Acme Insurance", Type: identity.Payer,
			ValidatorKey: Pub(Key("val-b")), Power: 5,
			Admins: []tx.PubKey{Pub(Key("admin-b"))}},
		{ID: OrgC, Name: "City Pharmacy", Type: identity.Pharma,
			Admins: []tx.PubKey{Pub(Key("admin-c"))}},
		{ID: OrgD, Name: "Acme Research", Type: identity.Research,
			Admins: []tx.PubKey{Pub(Key("admin-d"))}},
	}, MinRecoveryDelay: MinRecoveryDelay}}
	var vals []abci.ValidatorUpdate
	for _, o := range g.Validators() {
		vals = append(vals, abci.Ed25519ValidatorUpdate(o.ValidatorKey, o.Power))
	}
	return g, vals
}

// OpenStore opens an on-disk store in dir that the test's cleanup closes.
func OpenStore(t testing.TB, dir string) *state.Store {
	t.Helper()
	s, err := state.Open(dir, state.Options{})
	if err != nil {
		t.Fatalf("state.Open(%q) = %v; want nil", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// NewApp returns an application over s that has not seen InitChain.
func NewApp(t testing.TB, s *state.Store, cfg app.Config) *app.App {
	t.Helper()
	if cfg.ChainID == "" {
		cfg.ChainID = ChainID
	}
	a, err := app.New(s, cfg)
	if err != nil {
		t.Fatalf("app.New(%+v) = %v; want nil", cfg, err)
	}
	return a
}

// InitChain applies the test genesis and returns the genesis app hash.
func InitChain(t testing.TB, a *app.App) []byte {
	t.Helper()
	g, vals := Genesis()
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.InitChain(context.Background(), &abci.RequestInitChain{
		Time: GenesisTime, ChainId: ChainID, InitialHeight: 1, Validators: vals, AppStateBytes: b,
	})
	if err != nil {
		t.Fatalf("InitChain = %v; want nil", err)
	}
	return res.AppHash
}

// NewChain returns an application over a fresh in-memory store, after
// genesis.
func NewChain(t testing.TB) *app.App {
	t.Helper()
	a := NewApp(t, state.OpenMemory(), app.Config{})
	InitChain(t, a)
	return a
}

// BlockTime is the header time of block h.
func BlockTime(h int64) time.Time { return GenesisTime.Add(time.Duration(h) * 5 * time.Second) }

// ApplyBlock finalizes and commits block h, checking that the committed
// state is the one FinalizeBlock announced.
func ApplyBlock(t testing.TB, a *app.App, h int64, txs [][]byte) *abci.ResponseFinalizeBlock {
	t.Helper()
	ctx := context.Background()
	res, err := a.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: h, Time: BlockTime(h), Txs: txs})
	if err != nil {
		t.Fatalf("FinalizeBlock(height %d) = %v; want nil", h, err)
	}
	if len(res.TxResults) != len(txs) {
		t.Fatalf("FinalizeBlock(height %d) gave %d results; want %d", h, len(res.TxResults), len(txs))
	}
	if _, err := a.Commit(ctx, &abci.RequestCommit{}); err != nil {
		t.Fatalf("Commit(height %d) = %v; want nil", h, err)
	}
	info, err := a.Info(ctx, &abci.RequestInfo{})
	if err != nil || info.LastBlockHeight != h || !bytes.Equal(info.LastBlockAppHash, res.AppHash) {
		t.Fatalf("Info() after block %d = %+v, %v; want height %d and app hash %X", h, info, err, h, res.AppHash)
	}
	return res
}

// Height returns the last committed height of a.
func Height(t testing.TB, a *app.App) int64 {
	t.Helper()
	info, err := a.Info(context.Background(), &abci.RequestInfo{})
	if err != nil {
		t.Fatalf("Info() = %v", err)
	}
	return info.LastBlockHeight
}

// Deliver applies one block holding txs on top of a's state.
func Deliver(t testing.TB, a *app.App, txs ...[]byte) []*abci.ExecTxResult {
	t.Helper()
	return ApplyBlock(t, a, Height(t, a)+1, txs).TxResults
}

// CheckTx runs CheckTx on raw and returns its code.
func CheckTx(t testing.TB, a *app.App, raw []byte) tx.Code {
	t.Helper()
	res, err := a.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: raw, Type: abci.CheckTxType_New})
	if err != nil {
		t.Fatalf("CheckTx = %v; want a response", err)
	}
	return tx.Code(res.Code)
}

// SignTx encodes and signs a transaction of key on chain.
func SignTx(t testing.TB, chain string, key ed25519.PrivKey, seq uint64, msgs ...tx.Msg) []byte {
	t.Helper()
	tr := &tx.Tx{ChainID: chain, Signer: Pub(key), Sequence: seq, Msgs: msgs}
	if err := tr.Sign(key); err != nil {
		t.Fatal(err)
	}
	return tr.Encode()
}

// Rotation returns the RotateKey message by which the account at acct
// moves to newKey, its proof signed by prover (newKey unless the test
// forges it).
func Rotation(t testing.TB, acct tx.Address, newKey, prover ed25519.PrivKey) tx.Msg {
	t.Helper()
	proof, err := prover.Sign(identity.RotationSignBytes(ChainID, acct, Pub(newKey)))
	if err != nil {
		t.Fatal(err)
	}
	return contract.Encode(identity.RotateKey{NewPubKey: Pub(newKey), Proof: proof})
}

// Dump returns every key and value of a committed state view.
func Dump(t testing.TB, v state.View) map[string]string {
	t.Helper()
	m := make(map[string]string)
	if err := v.Iterate(nil, func(k, val []byte) bool {
		m[string(k)] = string(val)
		return true
	}); err != nil {
		t.Fatalf("Iterate(state) = %v", err)
	}
	return m
}

// DiffKeys returns the keys whose values differ between two dumps.
func DiffKeys(before, after map[string]string) []string {
	var out []string
	for k, v := range before {
		if w, ok := after[k]; !ok || w != v {
			out = append(out, fmt.Sprintf("%q", k))
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			out = append(out, fmt.Sprintf("%q", k))
		}
	}
	return out
}

// IgnoreSequence removes the account at addr from two dumps of the state,
// after checking that it differs between them in its sequence number at
// most.
func IgnoreSequence(t testing.TB, before, after map[string]string, addr tx.Address) {
	t.Helper()
	key := "a/" + string(addr[:])
	was, now := AccountIn(t, before, addr), AccountIn(t, after, addr)
	if was == nil || now == nil {
		return // created or never there: DiffKeys reports it
	}
	now.Sequence = was.Sequence
	if !reflect.DeepEqual(was, now) {
		t.Errorf("account %s changed beyond its sequence: %+v; was %+v", addr, now, was)
	}
	delete(before, key)
	delete(after, key)
}

// AccountIn decodes the account at addr from a dump of the state.
func AccountIn(t testing.TB, dump map[string]string, addr tx.Address) *identity.Account {
	t.Helper()
	acct, err := identity.LoadAccount(dumpReader(dump), addr)
	if err != nil {
		t.Fatalf("account %s in dump: %v", addr, err)
	}
	return acct
}

type dumpReader map[string]string

func (d dumpReader) Get(key []byte) ([]byte, error) {
	v, ok := d[string(key)]
	if !ok {
		return nil, nil
	}
	return []byte(v), nil
}

// Sequence returns the next sequence number of addr in committed state.
func Sequence(t testing.TB, a *app.App, addr tx.Address) uint64 {
	t.Helper()
	n, err := a.Sequence(addr)
	if err != nil {
		t.Fatalf("Sequence(%s) = %v", addr, err)
	}
	return n
}

// RequireOK fails the test unless every result succeeded.
func RequireOK(t testing.TB, what string, res []*abci.ExecTxResult) {
	t.Helper()
	for i, r := range res {
		if r.Code != uint32(tx.CodeOK) {
			t.Fatalf("%s: tx %d code = %v (%s); want ok", what, i, tx.Code(r.Code), r.Log)
		}
	}
}
