package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/audit"
	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/tx"
)

// consecutivePorts returns the first of n consecutive ports that were free,
// as `careledger testnet` numbers its nodes' ports.
func consecutivePorts(t *testing.T, n int) int {
	t.Helper()
	for range 100 {
		base, ok := nodetest.FreePort(t), true
		for i := 1; i < n && ok; i++ {
			ok = nodetest.FreePort(t) == base+i
		}
		if ok {
			return base
		}
	}
	t.Fatal("no consecutive free ports")
	return 0
}

// editConfig changes a home's careledger.json.
func editConfig(t *testing.T, home string, edit func(c *node.Config)) {
	t.Helper()
	c, err := node.LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	edit(&c)
	if err := node.SaveConfig(home, c); err != nil {
		t.Fatal(err)
	}
}

// TestStateSyncJoin has an auditor's observer node join a running network
// of two validators by state sync: it restores a snapshot that its light
// client checks against a header, holds no block before it, and then
// serves the same chain, state and audit log (with proofs of events from
// before it joined) as the validators. Restarted, it resumes from its own
// state; restarted without CometBFT's stores, it restores a snapshot again.
func TestStateSyncJoin(t *testing.T) {
	out := filepath.Join(t.TempDir(), "net")
	p2p, http := consecutivePorts(t, 2), consecutivePorts(t, 2)
	rpc := fmt.Sprintf("127.0.0.1:%d", nodetest.FreePort(t))
	careledger(t, "testnet", "--validators", "2", "--out", out,
		"--p2p-port", fmt.Sprint(p2p), "--http-port", fmt.Sprint(http))
	var peers []string
	for i := range 2 {
		home := filepath.Join(out, fmt.Sprintf("node%d", i))
		editConfig(t, home, func(c *node.Config) {
			c.SnapshotInterval = 10
			if i == 0 {
				c.CometRPCAddr = rpc // what the joining node's light client asks
			}
			peers = append(peers, strings.Split(c.Peers, ",")...)
		})
		startNode(t, home)
	}
	v0 := client.New(fmt.Sprintf("http://127.0.0.1:%d", http))
	ctx := context.Background()
	nodetest.WaitHeight(t, v0, 2)
	admin := adminKey(t, filepath.Join(out, "node0"))
	trusted, err := v0.Block(ctx, tokenOf(t, v0, admin), 2)
	if err != nil {
		t.Fatal(err)
	}
	// An auditor reads the accounts at the observer.
	auditor := ed25519.GenPrivKey()
	if _, err := v0.Send(ctx, admin, contract.Encode(identity.RegisterMember{
		Org: "org0", PubKey: auditor.PubKey().Bytes(), Roles: []identity.Role{identity.Auditor},
	})); err != nil {
		t.Fatalf("register auditor: %v", err)
	}
	// Load until three registrations committed (they are checked on the
	// joining node), however long a loaded machine takes.
	var count atomic.Int64
	loadCtx, stop := context.WithCancel(ctx)
	defer stop()
	loaded := make(chan []tx.Hash)
	go func() { loaded <- load(loadCtx, v0, 8, &count) }()
	waitFor(t, func() bool { return count.Load() >= 3 })
	stop()
	registered := <-loaded
	st, err := v0.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A snapshot at a multiple of ten past the load, and the two headers
	// after it that the light client needs.
	nodetest.WaitHeight(t, v0, (st.Height/10+1)*10+3)

	obs := filepath.Join(t.TempDir(), "auditor")
	obsURL := fmt.Sprintf("127.0.0.1:%d", nodetest.FreePort(t))
	careledger(t, "init", "--home", obs, "--org-id", "state-auditor", "--org-type", "regulator", "--http", obsURL,
		"--p2p", fmt.Sprintf("127.0.0.1:%d", nodetest.FreePort(t)))
	genesis, err := os.ReadFile(filepath.Join(out, "node0", "config", "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(obs, "config", "genesis.json"), genesis, 0o644); err != nil {
		t.Fatal(err)
	}
	editConfig(t, obs, func(c *node.Config) {
		c.Org, c.Peers, c.LocalNetwork = "state-auditor", strings.Join(peers, ","), true
		c.StateSync = &node.StateSync{RPCServers: []string{rpc}, TrustHeight: 2, TrustHash: trusted.Hash}
	})
	p := startNode(t, obs)
	co := client.New("http://" + obsURL)
	nodetest.WaitHeight(t, co, st.Height+5)

	coTok := tokenOf(t, co, auditor)
	if _, err := co.Block(ctx, coTok, 1); !client.IsCode(err, tx.CodeNotFound) {
		t.Error("the observer holds block 1: it replayed the chain instead of restoring a snapshot")
	}
	ost, err := co.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Its height may be the snapshot's, whose block it never holds: compare
	// the block after it, once the observer holds it.
	held := ost.Height + 1
	checkSameChain(t, admin, v0, co, held)
	for _, h := range registered[:3] {
		res, err := v0.Tx(ctx, tokenOf(t, v0, admin), h)
		if err != nil || res.Detail == nil {
			t.Fatalf("tx %s at the validator: %+v, %v", h, res, err)
		}
		if _, err := co.Account(ctx, coTok, res.Detail.Signer); err != nil {
			t.Errorf("the observer does not hold the account %s registered before it joined: %v", res.Detail.Signer, err)
		}
	}
	// The audit log's first event, from long before the snapshot, proven
	// against the observer's own checkpoint.
	cp, err := co.Checkpoint(ctx, coTok, held)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := co.AuditEvent(ctx, coTok, 0)
	if err != nil {
		t.Fatal(err)
	}
	proof, err := co.InclusionProof(ctx, coTok, 0, cp.Size)
	if err == nil {
		err = audit.VerifyInclusion(ev.Leaf, 0, cp.Size, proof.Proof, cp.Root)
	}
	if err != nil {
		t.Fatalf("the observer's proof of event 0: %v", err)
	}

	// Its home verifies offline from the snapshot on; restarted, it
	// resumes from its state: no second state sync.
	p.stop(t)
	if out := careledger(t, "verify", "data", "--home", obs); !strings.Contains(out, "joined by state sync") {
		t.Errorf("verify data of the observer:\n%s\nwant it to say the node joined by state sync", out)
	}
	p = startNode(t, obs)
	nodetest.WaitHeight(t, co, ost.Height+3)
	checkSameChain(t, admin, v0, co, ost.Height+2)

	// A crash after a restore and before CometBFT recorded the state sync
	// leaves state that CometBFT does not know, as losing CometBFT's stores
	// does: the node restores a snapshot again instead of waiting for ever.
	p.stop(t)
	for _, name := range []string{"blockstore.db", "state.db", "evidence.db", "cs.wal"} {
		if err := os.RemoveAll(filepath.Join(obs, "data", name)); err != nil {
			t.Fatal(err)
		}
	}
	p = startNode(t, obs)
	if st, err = v0.Status(ctx); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitHeight(t, co, st.Height+2)
	if ost, err = co.Status(ctx); err != nil {
		t.Fatal(err)
	}
	checkSameChain(t, admin, v0, co, ost.Height+1) // past whichever snapshot it restored
	if log := readFile(t, p.log); !strings.Contains(log, "restoring a snapshot again") {
		t.Errorf("the restarted observer's log does not say it restores a snapshot again:\n%s", log)
	}
}

// checkSameChain requires the same block and app hash at height at both
// nodes, once both hold it.
func checkSameChain(t *testing.T, key ed25519.PrivKey, a, b *client.Client, height int64) {
	t.Helper()
	nodetest.WaitHeight(t, a, height)
	nodetest.WaitHeight(t, b, height)
	ba, errA := a.Block(context.Background(), tokenOf(t, a, key), height)
	bb, errB := b.Block(context.Background(), tokenOf(t, b, key), height)
	if errA != nil || errB != nil || ba.Hash != bb.Hash || ba.AppHash != bb.AppHash {
		t.Fatalf("block %d: %+v, %v / %+v, %v; want the same block", height, ba, errA, bb, errB)
	}
}
