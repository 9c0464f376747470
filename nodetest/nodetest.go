// Package nodetest starts real CareLedger nodes, CometBFT included, in the
// test's process and temporary directory, for the tests of every package
// that needs a running node.
package nodetest

import (
	"context"
	"fmt"
	"net"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/node"
)

// Node is a running node and a client of its API.
type Node struct {
	*node.Node
	Home string
	URL  string
	// MetricsURL is where /metrics is served (tests' nodes serve it on
	// a port of their own); "" if a Testnet's configuration turned it off.
	MetricsURL string
	Client     *client.Client
	// Admin is the key of the node organization's first admin.
	Admin ed25519.PrivKey

	stop func() error
}

// Init creates a single-validator home in a temporary directory with free
// ports and a short block interval.
func Init(t testing.TB, o node.InitOptions) string {
	t.Helper()
	home := t.TempDir()
	o.Config.HTTPAddr = "127.0.0.1:0"
	o.Config.MetricsAddr = "127.0.0.1:0"
	o.Config.P2PAddr = fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	if o.Config.TimeoutCommit == 0 {
		o.Config.TimeoutCommit = node.Duration(20 * time.Millisecond)
	}
	if o.Config.EmptyBlockInterval == 0 {
		o.Config.EmptyBlockInterval = node.Duration(200 * time.Millisecond)
	}
	if o.Config.LogLevel == "" {
		o.Config.LogLevel = "none"
	}
	if err := node.Init(home, o); err != nil {
		t.Fatalf("init node: %v", err)
	}
	return home
}

// Start initializes and starts a node; the test's cleanup stops it.
func Start(t testing.TB, o node.InitOptions) *Node {
	t.Helper()
	return Open(t, Init(t, o))
}

// Open starts the node in an existing home and waits for its first block.
func Open(t testing.TB, home string) *Node {
	t.Helper()
	tn := start(t, home)
	WaitHeight(t, tn.Client, 1)
	return tn
}

// Testnet starts a network of n validators, each node in its own
// organization ("org0" ...), in the test's process, and waits until each has
// committed its first block. c is every node's base configuration.
func Testnet(t testing.TB, n int, c node.Config) []*Node {
	t.Helper()
	return TestnetOf(t, make([]identity.OrgType, n), c)
}

// TestnetOf starts a network as Testnet does, of one validator per entry
// of types, node i's organization ("org<i>") of type types[i] (provider
// when empty).
func TestnetOf(t testing.TB, types []identity.OrgType, c node.Config) []*Node {
	t.Helper()
	n := len(types)
	types = slices.Clone(types)
	for i, typ := range types {
		if typ == "" {
			types[i] = identity.Provider
		}
	}
	if c.TimeoutCommit == 0 {
		c.TimeoutCommit = node.Duration(20 * time.Millisecond)
	}
	if c.EmptyBlockInterval == 0 {
		c.EmptyBlockInterval = node.Duration(200 * time.Millisecond)
	}
	if c.LogLevel == "" {
		c.LogLevel = "none"
	}
	// Testnet gives node i the base ports plus i: take n ports from
	// FreePort's sequence for each base, and check that they are free.
	take := func() int {
		base := FreePort(t)
		for range n - 1 {
			FreePort(t)
		}
		return base
	}
	var homes []string
	var err error
	for range 20 {
		o := node.TestnetOptions{Validators: n, ChainID: "careledger-testnet", Config: c, P2PBasePort: take(), HTTPBasePort: take(), Types: types}
		if !PortsFree(o.P2PBasePort, n) || !PortsFree(o.HTTPBasePort, n) {
			continue
		}
		homes, err = node.Testnet(t.TempDir(), o)
		break
	}
	if err != nil || homes == nil {
		t.Fatalf("testnet homes: %v", err)
	}
	nodes := make([]*Node, n)
	for i, h := range homes {
		nodes[i] = start(t, h)
	}
	for _, tn := range nodes {
		WaitHeight(t, tn.Client, 1)
	}
	return nodes
}

// PortsFree reports whether the n ports from base on are free now.
func PortsFree(base, n int) bool {
	for p := base; p < base+n; p++ {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			return false
		}
		ln.Close()
	}
	return true
}

// start starts the node in home without waiting for a block.
func start(t testing.TB, home string) *Node {
	t.Helper()
	n, err := node.Open(home)
	if err != nil {
		t.Fatalf("open node: %v", err)
	}
	if err := n.Start(); err != nil {
		n.Stop()
		t.Fatalf("start node: %v", err)
	}
	tn := &Node{Node: n, Home: home, URL: "http://" + n.HTTPAddr()}
	if a := n.MetricsAddr(); a != "" {
		tn.MetricsURL = "http://" + a + "/metrics"
	}
	tn.Client = client.New(tn.URL)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			n.Stop()
		}
	})
	tn.stop = func() error { stopped = true; return n.Stop() }
	if tn.Admin, err = node.KeysDir(home).Load("admin", nil); err != nil {
		t.Fatalf("load admin key: %v", err)
	}
	return tn
}

// Token returns a bearer token of key's account at this node, for the
// client's methods that take one.
func (n *Node) Token(t testing.TB, key ed25519.PrivKey) string {
	t.Helper()
	tok, err := n.Client.Token(context.Background(), key)
	if err != nil {
		t.Fatalf("log in as %X: %v", key.PubKey().Bytes(), err)
	}
	return tok
}

// Stop stops the node before the test ends.
func (n *Node) Stop(t testing.TB) {
	t.Helper()
	if err := n.stop(); err != nil {
		t.Fatalf("stop node: %v", err)
	}
}

// WaitHeight waits until the node behind c has committed height h.
func WaitHeight(t testing.TB, c *client.Client, h int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		s, err := c.Status(ctx)
		if err == nil && s.Height >= h {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("node did not reach height %d: status %+v, %v", h, s, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Ports handed out by FreePort: below the kernel's ephemeral range (32768
// and up), where a port found free could be handed to another connection
// before the node binds it. Each test process starts at its own offset.
const (
	portLow, portHigh = 20000, 30000
)

var nextPort atomic.Int64

func init() { nextPort.Store(int64(os.Getpid()) * 7919) }

// FreePort returns a TCP port on 127.0.0.1, below the ephemeral range, that
// was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	for range portHigh - portLow {
		p := portLow + int(nextPort.Add(1)%(portHigh-portLow))
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			ln.Close()
			return p
		}
	}
	t.Fatal("no free port below the ephemeral range")
	return 0
}
