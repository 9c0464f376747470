package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/tx"
)

// binary is the careledger command built once for the tests that run it as
// separate processes, as an operator would.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "careledger-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "careledger")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build careledger:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// careledger runs the command to completion and returns its output.
func careledger(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(binary, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("careledger %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// process is a running careledger node.
type process struct {
	cmd *exec.Cmd
	log string
}

// startNode starts `careledger node --home home` as a separate process.
func startNode(t *testing.T, home string) *process {
	t.Helper()
	return startNodeArgs(t, "node", "--home", home)
}

// waitFor polls cond for up to a minute.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 600 {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("condition not met within a minute")
}

func (p *process) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	}
}

// stop sends SIGTERM and requires a clean exit.
func (p *process) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		b, _ := os.ReadFile(p.log)
		t.Fatalf("node did not stop cleanly: %v\n%s", err, b)
	}
}

// adminKey returns the key of the first admin of home's organization.
func adminKey(t testing.TB, home string) ed25519.PrivKey {
	t.Helper()
	key, err := node.KeysDir(home).Load("admin", nil)
	if err != nil {
		t.Fatalf("load admin key of %s: %v", home, err)
	}
	return key
}

// tokenOf logs in as key at the node behind c, for the client's methods
// that need a token (the API answers a registered account only).
func tokenOf(t testing.TB, c *client.Client, key ed25519.PrivKey) string {
	t.Helper()
	tok, err := c.Token(context.Background(), key)
	if err != nil {
		t.Fatalf("log in as %X: %v", key.PubKey().Bytes(), err)
	}
	return tok
}

func initHome(t *testing.T) (home, url string) {
	t.Helper()
	home = filepath.Join(t.TempDir(), "home")
	httpAddr := fmt.Sprintf("127.0.0.1:%d", nodetest.FreePort(t))
	careledger(t, "init", "--home", home, "--http", httpAddr, "--p2p", fmt.Sprintf("127.0.0.1:%d", nodetest.FreePort(t)))
	return home, "http://" + httpAddr
}

// load registers patients from workers goroutines until ctx ends and
// returns the hashes the API reported committed.
func load(ctx context.Context, c *client.Client, workers int, count *atomic.Int64) []tx.Hash {
	var mu sync.Mutex
	var committed []tx.Hash
	var wg sync.WaitGroup
	chainID, _ := c.ChainID(ctx)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				key := ed25519.GenPrivKey()
				t := &tx.Tx{ChainID: chainID, Signer: key.PubKey().Bytes(), Msgs: []tx.Msg{contract.Encode(identity.RegisterPatient{})}}
				t.Sign(key)
				res, err := c.Submit(ctx, t.Encode(), true, 10*time.Second)
				if err == nil && res.Status == "committed" && res.Code == tx.CodeOK {
					mu.Lock()
					committed = append(committed, res.Hash)
					mu.Unlock()
					count.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return committed
}

// TestRestartResumes stops a node cleanly under load and starts it again:
// it resumes at the height it stopped with the same app hash, and every
// transaction reported committed is there.
func TestRestartResumes(t *testing.T) {
	testCrashRecovery(t, func(t *testing.T, p *process) { p.stop(t) })
}

// TestKill9Recovers kills a node with SIGKILL under load: on restart
// CometBFT's handshake replays what the application missed, the app hash
// agrees with the chain, and nothing reported committed is lost.
func TestKill9Recovers(t *testing.T) {
	testCrashRecovery(t, func(t *testing.T, p *process) { p.kill() })
}

func testCrashRecovery(t *testing.T, halt func(*testing.T, *process)) {
	home, url := initHome(t)
	p := startNode(t, home)
	c := client.New(url)
	nodetest.WaitHeight(t, c, 1)

	ctx, cancel := context.WithCancel(context.Background())
	var committed []tx.Hash
	done := make(chan struct{})
	var count atomic.Int64
	go func() { committed = load(ctx, c, 32, &count); close(done) }()
	// Stop once transactions are committing, however long a loaded machine
	// takes to get there.
	waitFor(t, func() bool { return count.Load() >= 50 })
	before, err := c.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	halt(t, p)
	cancel()
	<-done
	if len(committed) == 0 {
		t.Fatal("no transaction committed under load before the node stopped")
	}

	startNode(t, home)
	nodetest.WaitHeight(t, c, before.Height+2)
	tok := tokenOf(t, c, adminKey(t, home))
	// Block h+1's header certifies the app hash after block h: the chain
	// went on from the state reported before the stop, and the restarted
	// node's own state agrees with the chain.
	assertCertified(t, c, tok, before)
	after, err := c.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	nodetest.WaitHeight(t, c, after.Height+1)
	assertCertified(t, c, tok, after)
	for _, h := range committed {
		res, err := c.Tx(context.Background(), tok, h)
		if err != nil || res.Status != "committed" || res.Code != tx.CodeOK {
			t.Fatalf("transaction %s reported committed before the stop: now %+v, %v", h, res, err)
		}
	}
	t.Logf("%d transactions committed before the stop at height >= %d; resumed to height %d", len(committed), before.Height, after.Height)
}

// assertCertified requires the block after st.Height to carry st.AppHash.
func assertCertified(t *testing.T, c *client.Client, token string, st v1.Status) {
	t.Helper()
	next, err := c.Block(context.Background(), token, st.Height+1)
	if err != nil {
		t.Fatal(err)
	}
	if next.AppHash != st.AppHash {
		t.Fatalf("block %d certifies app hash %s; the node reported %s after block %d", next.Height, next.AppHash, st.AppHash, st.Height)
	}
}

// TestTestnetCommits starts the four homes `careledger testnet` writes as
// four processes and sees every validator sign the same blocks.
func TestTestnetCommits(t *testing.T) {
	out := filepath.Join(t.TempDir(), "net")
	// Ports below the ephemeral range and above those nodetest.FreePort
	// hands out, apart for each run of the test.
	base := 30000 + os.Getpid()%800*2
	careledger(t, "testnet", "--validators", "4", "--out", out,
		"--p2p-port", fmt.Sprint(base), "--http-port", fmt.Sprint(base+10))
	var clients []*client.Client
	for i := range 4 {
		startNode(t, filepath.Join(out, fmt.Sprintf("node%d", i)))
		clients = append(clients, client.New(fmt.Sprintf("http://127.0.0.1:%d", base+10+i)))
	}
	for _, c := range clients {
		nodetest.WaitHeight(t, c, 2)
	}

	// A patient registered at node 0 is visible at node 3.
	key := ed25519.GenPrivKey()
	res, err := clients[0].Send(context.Background(), key, contract.Encode(identity.RegisterPatient{}))
	if err != nil {
		t.Fatalf("register patient at node0: %v", err)
	}
	nodetest.WaitHeight(t, clients[3], res.Height+1)
	if _, err := clients[3].Account(context.Background(), tokenOf(t, clients[3], key), tx.AddressOf(key.PubKey().Bytes())); err != nil {
		t.Fatalf("patient registered at node0 not found at node3: %v", err)
	}

	// Every node has the same block at that height, signed by all four.
	want, err := clients[0].Block(context.Background(), tokenOf(t, clients[0], key), res.Height)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range clients {
		nodetest.WaitHeight(t, c, res.Height+1)
		got, err := c.Block(context.Background(), tokenOf(t, c, key), res.Height)
		if err != nil || got.Hash != want.Hash || got.AppHash != want.AppHash {
			t.Fatalf("node%d block %d = %+v, %v; want hash %s", i, res.Height, got, err, want.Hash)
		}
		if len(got.Signatures) < 3 {
			t.Errorf("node%d block %d has %d commit signatures; want at least 3 of 4", i, res.Height, len(got.Signatures))
		}
	}
	orgs, err := clients[2].Orgs(context.Background(), tokenOf(t, clients[2], key))
	if err != nil || len(orgs) != 4 {
		t.Fatalf("Orgs() = %v, %v; want org0..org3", orgs, err)
	}
}

// TestKill9KeepsAccepted kills a node right after it accepted transactions
// it has not committed: after the restart each of them commits; none is
// forgotten (reported unknown), though the mempool did not survive.
func TestKill9KeepsAccepted(t *testing.T) {
	home, url := initHome(t)
	// Slow blocks, so that the node is killed with the transactions still
	// in its mempool.
	cfg, err := node.LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	cfg.TimeoutCommit = node.Duration(3 * time.Second)
	if err := node.SaveConfig(home, cfg); err != nil {
		t.Fatal(err)
	}
	p := startNode(t, home)
	c := client.New(url)
	nodetest.WaitHeight(t, c, 1)
	ctx := context.Background()
	chainID, err := c.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var accepted []tx.Hash
	pending := 0
	for range 300 {
		key := ed25519.GenPrivKey()
		t1 := &tx.Tx{ChainID: chainID, Signer: key.PubKey().Bytes(), Msgs: []tx.Msg{contract.Encode(identity.RegisterPatient{})}}
		if err := t1.Sign(key); err != nil {
			t.Fatal(err)
		}
		res, err := c.Submit(ctx, t1.Encode(), false, 0)
		if err != nil || (res.Status != "pending" && res.Status != "committed") {
			t.Fatalf("Submit = %+v, %v; want accepted", res, err)
		}
		accepted = append(accepted, res.Hash)
		if res.Status == "pending" {
			pending++
		}
	}
	p.kill()
	if pending == 0 {
		t.Fatal("every transaction committed before the kill; the test needs some pending")
	}
	t.Logf("%d of %d transactions pending at the kill", pending, len(accepted))

	startNode(t, home)
	nodetest.WaitHeight(t, c, 1)
	admin := adminKey(t, home)
	for _, h := range accepted {
		waitFor(t, func() bool {
			res, err := c.Tx(ctx, tokenOf(t, c, admin), h)
			return err == nil && res.Status == "committed" && res.Code == tx.CodeOK
		})
	}
}
