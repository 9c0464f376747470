package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
)

// TestTwoNodesSideBySide starts two nodes with `careledger node`, each
// creating its own home, with distinct --http and --p2p: both run at once,
// and the addresses are kept in each home's configuration.
func TestTwoNodesSideBySide(t *testing.T) {
	var procs []*process
	var clients []*client.Client
	for i := range 2 {
		home := filepath.Join(t.TempDir(), fmt.Sprintf("node%d", i))
		httpAddr := fmt.Sprintf("127.0.0.1:%d", nodetest.FreePort(t))
		p2pAddr := fmt.Sprintf("127.0.0.1:%d", nodetest.FreePort(t))
		p := startNodeArgs(t, "node", "--home", home, "--http", httpAddr, "--p2p", p2pAddr)
		waitStarted(t, p)
		c, err := node.LoadConfig(home)
		if err != nil {
			t.Fatal(err)
		}
		if c.HTTPAddr != httpAddr || c.P2PAddr != p2pAddr {
			t.Fatalf("node%d config has http %s, p2p %s; want %s, %s", i, c.HTTPAddr, c.P2PAddr, httpAddr, p2pAddr)
		}
		procs = append(procs, p)
		clients = append(clients, client.New("http://"+httpAddr))
	}
	for _, c := range clients {
		nodetest.WaitHeight(t, c, 1)
	}
	for _, p := range procs {
		p.stop(t)
	}
}

// waitStarted waits until a node started by startNodeArgs says it runs,
// failing at once with its log if it exits with an error.
func waitStarted(t *testing.T, p *process) {
	t.Helper()
	waitFor(t, func() bool {
		log := readFile(t, p.log)
		if strings.Contains(log, "careledger: ") {
			t.Fatalf("node failed to start:\n%s", log)
		}
		return strings.Contains(log, "press Ctrl-C")
	})
}

// TestHomeInUse starts a node, then a second node, verify data and rebuild
// on its home: each says that a running node holds the home, with its PID,
// rather than LevelDB's "resource temporarily unavailable". Once the node
// stopped, verify data runs.
func TestHomeInUse(t *testing.T) {
	home, url := initHome(t)
	p := startNode(t, home)
	nodetest.WaitHeight(t, client.New(url), 1)
	want := fmt.Sprintf("home in use by a running node: %s (PID %d)", home, p.cmd.Process.Pid)
	for _, args := range [][]string{
		{"node", "--home", home},
		{"node", "--home", home, "--http", fmt.Sprintf("127.0.0.1:%d", nodetest.FreePort(t))},
		{"verify", "data", "--home", home},
		{"rebuild", "--home", home},
	} {
		out, err := exec.Command(binary, args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), want) || strings.Contains(string(out), "temporarily unavailable") {
			t.Errorf("careledger %v with the node running: %v\n%s\nwant an error saying %q", args, err, out, want)
		}
	}
	p.stop(t)
	if out := careledger(t, "verify", "data", "--home", home); !strings.Contains(out, "verified: ") {
		t.Fatalf("verify data of the stopped home: %s", out)
	}
	startNode(t, home)
	nodetest.WaitHeight(t, client.New(url), 1)
}

// TestRotatedKeyAddress rotates a patient's key twice, the second time
// signed by the first new key: after each rotation `keys show --address` of
// the new key gives the account's address, with which `query txs` finds
// the account's transactions.
func TestRotatedKeyAddress(t *testing.T) {
	home, url := initHome(t)
	startNode(t, home)
	nodetest.WaitHeight(t, client.New(url), 1)
	env := append(os.Environ(), "CARELEDGER_NODE="+url, "CARELEDGER_KEYS="+filepath.Join(t.TempDir(), "keys"))
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(binary, args...)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("careledger %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("keys", "new", "dave")
	run("tx", "register-patient", "--key", "dave")
	account := run("keys", "show", "--address", "dave")
	signer := "dave"
	for i, next := range []string{"dave-phone", "dave-tablet"} {
		run("keys", "new", next)
		run("tx", "rotate-key", "--key", signer, next)
		if got := run("keys", "show", "--address", next); got != account {
			t.Fatalf("keys show --address %s after rotating to it = %s; want the account's %s", next, got, account)
		}
		var txs []map[string]any
		mustJSON(t, run("query", "txs", "--key", next, run("keys", "show", "--address", next)), &txs)
		if len(txs) != 2+i {
			t.Errorf("query txs of %s's address: %d transactions; want %d (register and rotations)", next, len(txs), 2+i)
		}
		signer = next
	}
}

// TestCleanStopQuiet stops the two nodes of a testnet with SIGTERM, one
// after the other: a clean stop logs no error ("E[" lines of CometBFT's
// logger), though the peer connections close under the stopping node.
func TestCleanStopQuiet(t *testing.T) {
	out := filepath.Join(t.TempDir(), "net")
	// FreePort hands out ports in order: four in a row, each node's two
	// ports base+i and base+2+i, free now.
	base := nodetest.FreePort(t)
	for !nodetest.PortsFree(base, 4) {
		base = nodetest.FreePort(t)
	}
	for range 3 {
		nodetest.FreePort(t) // not to be handed out again
	}
	p2p, http := base, base+2
	careledger(t, "testnet", "--validators", "2", "--out", out, "--p2p-port", fmt.Sprint(p2p), "--http-port", fmt.Sprint(http))
	var procs []*process
	for i := range 2 {
		procs = append(procs, startNode(t, filepath.Join(out, fmt.Sprintf("node%d", i))))
	}
	for i := range 2 {
		nodetest.WaitHeight(t, client.New(fmt.Sprintf("http://127.0.0.1:%d", http+i)), 2)
	}
	for _, p := range procs {
		p.stop(t)
	}
	for i, p := range procs {
		log := readFile(t, p.log)
		for _, line := range strings.Split(log, "\n") {
			if strings.HasPrefix(line, "E[") {
				t.Errorf("node%d logged an error on a clean stop: %s", i, line)
			}
		}
		if t.Failed() {
			t.Logf("node%d log:\n%s", i, log)
		}
	}
}
