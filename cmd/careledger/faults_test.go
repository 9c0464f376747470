package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/nodetest"
)

// TestTestnetFaults runs four validators as separate processes (power 10
// each). Governance passes a proposal with three votes; with one node
// stopped the others commit, and the node catches up when it comes back;
// with two stopped, no block commits, and commits resume when they return;
// a node whose state was altered on disk refuses to start. At every height,
// every node holds the same block.
func TestTestnetFaults(t *testing.T) {
	out := filepath.Join(t.TempDir(), "net")
	base := 31650 + os.Getpid()%250*4 // below the ephemeral range, apart from TestTestnetCommits
	careledger(t, "testnet", "--validators", "4", "--out", out,
		"--p2p-port", fmt.Sprint(base), "--http-port", fmt.Sprint(base+10))
	homes := make([]string, 4)
	procs := make([]*process, 4)
	clients := make([]*client.Client, 4)
	urls := make([]string, 4)
	for i := range 4 {
		homes[i] = filepath.Join(out, fmt.Sprintf("node%d", i))
		urls[i] = fmt.Sprintf("http://127.0.0.1:%d", base+10+i)
		procs[i] = startNode(t, homes[i])
		clients[i] = client.New(urls[i])
	}
	for _, c := range clients {
		nodetest.WaitHeight(t, c, 2)
	}
	ctx := context.Background()
	height := func(i int) int64 {
		st, err := clients[i].Status(ctx)
		if err != nil {
			t.Fatalf("node%d status: %v", i, err)
		}
		return st.Height
	}
	// cli runs the command as node i's admin, at node i.
	cli := func(i int, args ...string) string {
		t.Helper()
		cmd := exec.Command(binary, args...)
		cmd.Env = append(os.Environ(), "CARELEDGER_NODE="+urls[i], "CARELEDGER_KEYS="+filepath.Join(homes[i], "keys"))
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("careledger %v at node%d: %v\n%s", args, i, err, b)
		}
		return string(b)
	}

	// Governance: org0 proposes a new CEL cost limit; org1 and org2 make
	// it 30 of 40.
	cli(0, "tx", "propose", "--key", "admin", "--kind", "set_params", "--cel-cost-limit", "3000", "--deadline", "50")
	cli(1, "tx", "vote", "--key", "admin", "1")
	if got := cli(2, "query", "proposal", "--key", "admin", "1"); !strings.Contains(got, `"open"`) {
		t.Fatalf("proposal after 20 of 40: %s; want open", got)
	}
	cli(2, "tx", "vote", "--key", "admin", "1")
	// The vote returns once node2 committed it; node3 may be a block behind.
	var p struct{ Status string }
	waitFor(t, func() bool {
		return json.Unmarshal([]byte(cli(3, "query", "proposal", "--key", "admin", "1")), &p) == nil && p.Status == "passed"
	})

	register := func(i int) int64 {
		t.Helper()
		res, err := clients[i].Send(ctx, ed25519.GenPrivKey(), contract.Encode(identity.RegisterPatient{}))
		if err != nil {
			t.Fatalf("register at node%d: %v", i, err)
		}
		return res.Height
	}

	// One of four down: the others commit; back up, it catches up.
	procs[3].stop(t)
	h := register(0)
	procs[3] = startNode(t, homes[3])
	nodetest.WaitHeight(t, clients[3], h+1)

	// Two of four down: nothing commits.
	procs[2].stop(t)
	procs[3].stop(t)
	stalled := height(0)
	time.Sleep(4 * time.Second) // longer than the empty-block interval
	// One block already precommitted may still reach node 0; no later one.
	if now := height(0); now > stalled+1 {
		t.Fatalf("with two of four validators down, height went from %d to %d", stalled, now)
	}
	procs[2], procs[3] = startNode(t, homes[2]), startNode(t, homes[3])
	h = register(1)
	for _, c := range clients {
		nodetest.WaitHeight(t, c, h+1)
	}

	// A validator whose state was altered on disk refuses to start: it
	// never signs a state the others do not hold. The others go on.
	procs[3].stop(t)
	rewriteFirst(t, filepath.Join(homes[3], "data", "app", "state.db"), "d")
	badCtx, cancelBad := context.WithTimeout(ctx, time.Minute) // in case it starts after all
	defer cancelBad()
	bad := exec.CommandContext(badCtx, binary, "node", "--home", homes[3])
	outBad, err := bad.CombinedOutput()
	if err == nil || !strings.Contains(string(outBad), "does not verify") {
		t.Fatalf("node3 with an altered state: %v\n%s\nwant a refusal to start", err, outBad)
	}
	h = register(0)
	for _, c := range clients[:3] {
		nodetest.WaitHeight(t, c, h)
	}

	// Safety: one block per height, the same everywhere.
	admin := adminKey(t, homes[0])
	for ht := int64(1); ht <= h; ht++ {
		want, err := clients[0].Block(ctx, tokenOf(t, clients[0], admin), ht)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < 3; i++ {
			got, err := clients[i].Block(ctx, tokenOf(t, clients[i], admin), ht)
			if err != nil || got.Hash != want.Hash || got.AppHash != want.AppHash {
				t.Fatalf("node%d block %d = %s (app hash %s), %v; node0 has %s (%s)", i, ht, got.Hash, got.AppHash, err, want.Hash, want.AppHash)
			}
		}
	}
	for i := range 3 {
		procs[i].stop(t)
	}
}
