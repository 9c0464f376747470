package main

import (
	"context"
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
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
)

// netns is a test network: four network namespaces joined by veth pairs to
// a bridge in the test's own namespace, on addresses the test creates.
type netns struct {
	t      *testing.T
	prefix string // names of the namespaces, links and bridge
	subnet string // the first three octets
}

func (n *netns) run(args ...string) {
	n.t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		n.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (n *netns) ns(i int) string   { return fmt.Sprintf("%s%d", n.prefix, i) }
func (n *netns) link(i int) string { return fmt.Sprintf("%sb%d", n.prefix, i) } // the bridge's end
func (n *netns) addr(i int) string { return fmt.Sprintf("%s.%d", n.subnet, i+1) }

// newNetns builds the network, or skips the test where namespaces cannot
// be made (not root, no iproute2).
func newNetns(t *testing.T, nodes int) *netns {
	prefix := fmt.Sprintf("cl%d", os.Getpid()%10000)
	if out, err := exec.Command("ip", "netns", "add", prefix+"probe").CombinedOutput(); err != nil {
		t.Skipf("network namespaces unavailable here (%v: %s); the partition test needs root and iproute2", err, strings.TrimSpace(string(out)))
	}
	exec.Command("ip", "netns", "del", prefix+"probe").Run()
	n := &netns{t: t, prefix: prefix, subnet: fmt.Sprintf("10.%d.%d", 100+os.Getpid()%100, os.Getpid()/100%250)}
	br := prefix + "br"
	t.Cleanup(func() {
		for i := range nodes {
			exec.Command("ip", "netns", "del", n.ns(i)).Run()
		}
		exec.Command("ip", "link", "del", br).Run()
	})
	n.run("ip", "link", "add", br, "type", "bridge")
	n.run("ip", "addr", "add", n.subnet+".254/24", "dev", br)
	n.run("ip", "link", "set", br, "up")
	for i := range nodes {
		inner := fmt.Sprintf("%sv%d", prefix, i)
		n.run("ip", "netns", "add", n.ns(i))
		n.run("ip", "link", "add", n.link(i), "type", "veth", "peer", "name", inner)
		n.run("ip", "link", "set", inner, "netns", n.ns(i))
		n.run("ip", "link", "set", n.link(i), "master", br)
		n.run("ip", "link", "set", n.link(i), "up")
		n.run("ip", "netns", "exec", n.ns(i), "ip", "addr", "add", n.addr(i)+"/24", "dev", inner)
		n.run("ip", "netns", "exec", n.ns(i), "ip", "link", "set", inner, "up")
		n.run("ip", "netns", "exec", n.ns(i), "ip", "link", "set", "lo", "up")
	}
	return n
}

// cut and heal take node i's link down and up: it is alone on its side.
func (n *netns) cut(i int)  { n.run("ip", "link", "set", n.link(i), "down") }
func (n *netns) heal(i int) { n.run("ip", "link", "set", n.link(i), "up") }

// TestPartition runs four validators in their own network namespaces.
// With one of them cut off, the three others (three quarters of the power)
// keep committing and the one alone stalls; after the link heals it
// converges on the same chain. Then latency and loss on every link (tc
// netem) slow commits down, which the test reports, but do not stop them.
func TestPartition(t *testing.T) {
	n := newNetns(t, 4)
	out := filepath.Join(t.TempDir(), "net")
	careledger(t, "testnet", "--validators", "4", "--out", out, "--p2p-port", "26656", "--http-port", "8080")
	homes := make([]string, 4)
	for i := range 4 {
		homes[i] = filepath.Join(out, fmt.Sprintf("node%d", i))
		c, err := node.LoadConfig(homes[i])
		if err != nil {
			t.Fatal(err)
		}
		c.P2PAddr, c.HTTPAddr = n.addr(i)+":26656", n.addr(i)+":8080"
		var peers []string
		for _, p := range strings.Split(c.Peers, ",") {
			id, hostport, _ := strings.Cut(p, "@")
			j := int(hostport[len(hostport)-1] - '6') // testnet ports 26656 + j
			peers = append(peers, fmt.Sprintf("%s@%s:26656", id, n.addr(j)))
		}
		c.Peers = strings.Join(peers, ",")
		if err := node.SaveConfig(homes[i], c); err != nil {
			t.Fatal(err)
		}
	}
	clients := make([]*client.Client, 4)
	for i := range 4 {
		p := startProcess(t, "ip", "netns", "exec", n.ns(i), binary, "node", "--home", homes[i])
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("node%d's output:\n%s", i, readFile(t, p.log))
			}
		})
		clients[i] = client.New("http://" + n.addr(i) + ":8080")
	}
	for _, c := range clients {
		nodetest.WaitHeight(t, c, 2)
	}
	ctx := context.Background()
	// inside asks node i for its height from within its own namespace,
	// which still reaches it when its link is cut.
	inside := func(i int) int64 {
		t.Helper()
		b, err := exec.Command("ip", "netns", "exec", n.ns(i), binary, "query", "status", "--node", "http://"+n.addr(i)+":8080").Output()
		if err != nil {
			t.Fatalf("node%d status from inside: %v", i, err)
		}
		var st struct{ Height int64 }
		mustJSON(t, string(b), &st)
		return st.Height
	}

	n.cut(3)
	alone := inside(3)
	res, err := clients[0].Send(ctx, ed25519.GenPrivKey(), contract.Encode(identity.RegisterPatient{}))
	if err != nil {
		t.Fatalf("the majority does not commit: %v", err)
	}
	nodetest.WaitHeight(t, clients[1], res.Height+3)
	if h := inside(3); h > alone+1 {
		t.Fatalf("node3, cut off alone, went from height %d to %d", alone, h)
	}
	n.heal(3)
	nodetest.WaitHeight(t, clients[3], res.Height+3)
	admin := adminKey(t, homes[0])
	for ht := int64(1); ht <= res.Height+2; ht++ {
		want, err := clients[0].Block(ctx, tokenOf(t, clients[0], admin), ht)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := clients[3].Block(ctx, tokenOf(t, clients[3], admin), ht); err != nil || got.Hash != want.Hash {
			t.Fatalf("after healing, node3's block %d = %s, %v; node0's %s", ht, got.Hash, err, want.Hash)
		}
	}

	// Latency and loss on every link: commits go on, slower.
	t.Run("netem", func(t *testing.T) {
		measure := func(what string) time.Duration {
			start := time.Now()
			for range 5 {
				if _, err := clients[0].Send(ctx, ed25519.GenPrivKey(), contract.Encode(identity.RegisterPatient{})); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
			}
			d := time.Since(start) / 5
			t.Logf("%s: %v per committed transaction (sent one after the other)", what, d)
			return d
		}
		clean := measure("no netem")
		for i := range 4 {
			args := []string{"qdisc", "add", "dev", n.link(i), "root", "netem", "delay", "50ms", "10ms", "loss", "2%"}
			if out, err := exec.Command("tc", args...).CombinedOutput(); err != nil {
				t.Skipf("tc netem is unavailable here (%v: %s): latency and loss not measured", err, strings.TrimSpace(string(out)))
			}
		}
		if slow := measure("netem 50ms ±10ms, 2% loss on every link"); slow <= clean {
			t.Logf("netem did not slow commits (%v, then %v)", clean, slow)
		}
	})
}
