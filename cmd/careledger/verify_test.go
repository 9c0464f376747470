package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/audit"
	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/node"
)

// TestVerifyBundle gets a proof bundle of an audit event from a running
// node, stops the node, and verifies the bundle offline with the genesis
// as the trusted validator set; then tampers with it in every way a forger
// might and sees each refused with a clear message and a non-zero exit.
func TestVerifyBundle(t *testing.T) {
	home, url := initHome(t)
	p := startNode(t, home)
	c := client.New(url)
	ctx := context.Background()
	waitFor(t, func() bool { _, err := c.Status(ctx); return err == nil })
	for range 9 { // a log of 9 events: the proof of event 1 has 4 hashes
		if _, err := c.Send(ctx, ed25519.GenPrivKey(), contract.Encode(identity.RegisterPatient{})); err != nil {
			t.Fatal(err)
		}
	}
	var bundle audit.Bundle
	waitFor(t, func() bool {
		var err error
		bundle, err = c.AuditBundle(ctx, tokenOf(t, c, adminKey(t, home)), 1)
		return err == nil
	})
	// The proofs the API and CLI give verify with the log's roots.
	size := bundle.LogSize
	var ev struct{ Leaf []byte }
	mustJSON(t, careledgerEnv(t, home, url, "query", "audit-event", "--key", "admin", "1"), &ev)
	var inc struct {
		Root  []byte
		Proof [][]byte
	}
	mustJSON(t, careledgerEnv(t, home, url, "query", "inclusion", "--key", "admin", "1", fmt.Sprint(size)), &inc)
	if err := audit.VerifyInclusion(ev.Leaf, 1, size, inc.Proof, inc.Root); err != nil || !bytes.Equal(inc.Root, bundle.LogRoot) {
		t.Errorf("query inclusion 1 %d: %v; root %x, bundle's %x", size, err, inc.Root, bundle.LogRoot)
	}
	var cons struct {
		FromRoot []byte `json:"from_root"`
		ToRoot   []byte `json:"to_root"`
		Proof    [][]byte
	}
	mustJSON(t, careledgerEnv(t, home, url, "query", "consistency", "--key", "admin", "3", fmt.Sprint(size)), &cons)
	if err := audit.VerifyConsistency(3, size, cons.Proof, cons.FromRoot, cons.ToRoot); err != nil {
		t.Errorf("query consistency 3 %d: %v", size, err)
	}
	p.stop(t)

	genesis := filepath.Join(home, "config", "genesis.json")
	verify := func(b audit.Bundle, genesisPath string) (string, error) {
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), "bundle.json")
		if err := os.WriteFile(f, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(binary, "verify", "bundle", "--genesis", genesisPath, f).CombinedOutput()
		return string(out), err
	}
	out, err := verify(bundle, genesis)
	if err != nil || !strings.Contains(out, "identity.patient_registered") {
		t.Fatalf("verify bundle: %v\n%s", err, out)
	}

	// Another network's genesis: the same chain ID, other validators.
	other := t.TempDir()
	if err := node.Init(other, node.InitOptions{ChainID: bundle.ChainID}); err != nil {
		t.Fatal(err)
	}
	clone := func() audit.Bundle {
		b := bundle
		b.Leaf = append([]byte{}, bundle.Leaf...)
		b.Inclusion = append([][]byte{}, bundle.Inclusion...)
		return b
	}
	for _, tc := range []struct {
		name, want string
		tamper     func(b *audit.Bundle) string
	}{
		{"altered event", "", func(b *audit.Bundle) string { b.Leaf[len(b.Leaf)-1] ^= 1; b.Event = nil; return genesis }},
		{"event shown differs", "differs", func(b *audit.Bundle) string { e := *b.Event; e.TxIndex++; b.Event = &e; return genesis }},
		{"other index", "not in the log", func(b *audit.Bundle) string { b.Index++; return genesis }},
		{"truncated proof", "not in the log", func(b *audit.Bundle) string { b.Inclusion = b.Inclusion[:len(b.Inclusion)-1]; return genesis }},
		{"reordered proof", "not in the log", func(b *audit.Bundle) string {
			b.Inclusion[0], b.Inclusion[1] = b.Inclusion[1], b.Inclusion[0]
			return genesis
		}},
		{"other log size", "", func(b *audit.Bundle) string { b.LogSize++; return genesis }},
		{"other state root", "app hash", func(b *audit.Bundle) string { b.StateRoot = make([]byte, 32); return genesis }},
		{"other chain", "chain", func(b *audit.Bundle) string { b.ChainID = "careledger-other"; return genesis }},
		{"untrusted validators", "two thirds", func(b *audit.Bundle) string { return filepath.Join(other, "config", "genesis.json") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := clone()
			g := tc.tamper(&b)
			out, err := verify(b, g)
			if err == nil || !strings.Contains(out, "NOT VERIFIED") || !strings.Contains(out, tc.want) {
				t.Errorf("verify: %v\n%s\nwant a non-zero exit and NOT VERIFIED ... %s", err, out, tc.want)
			}
		})
	}
}

// careledgerEnv runs the command against the node at url.
func careledgerEnv(t *testing.T, home, url string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "CARELEDGER_NODE="+url, "CARELEDGER_KEYS="+filepath.Join(home, "keys"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("careledger %v: %v", args, err)
	}
	return string(out)
}
