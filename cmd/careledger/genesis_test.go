package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/tx"
)

// TestGenesisOfSeparateOrganizations starts a network the way separate
// organizations do (docs/DEPLOYMENT.md): each initializes its own home,
// sends its entry, one assembles the genesis, each installs it; both nodes
// then validate the same chain. An observer node with the same genesis and
// no power follows it.
func TestGenesisOfSeparateOrganizations(t *testing.T) {
	dir := t.TempDir()
	orgs := []string{"mercy-hospital", "lakeside-clinic"}
	homes, urls, entries := make([]string, 2), make([]string, 2), make([]string, 2)
	for i, org := range orgs {
		homes[i] = filepath.Join(dir, org)
		http := fmt.Sprintf("127.0.0.1:%d", nodetest.FreePort(t))
		urls[i] = "http://" + http
		careledger(t, "init", "--home", homes[i], "--org-id", org, "--org-name", org, "--http", http,
			"--p2p", fmt.Sprintf("127.0.0.1:%d", nodetest.FreePort(t)))
		entries[i] = filepath.Join(dir, org+".json")
		if err := os.WriteFile(entries[i], []byte(careledger(t, "genesis", "entry", "--home", homes[i])), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	genesis := filepath.Join(dir, "genesis.json")
	doc := careledger(t, append([]string{"genesis", "assemble", "--chain-id", "careledger-pilot"}, entries...)...)
	if err := os.WriteFile(genesis, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	var procs []*process
	for _, h := range homes {
		careledger(t, append([]string{"genesis", "install", "--home", h, genesis}, entries...)...)
		procs = append(procs, startNode(t, h))
	}
	c0, c1 := client.New(urls[0]), client.New(urls[1])
	nodetest.WaitHeight(t, c0, 2)
	nodetest.WaitHeight(t, c1, 2)
	ctx := context.Background()
	key := ed25519.GenPrivKey()
	res, err := c1.Send(ctx, key, contract.Encode(identity.RegisterPatient{}))
	if err != nil {
		t.Fatal(err)
	}
	nodetest.WaitHeight(t, c0, res.Height)
	if _, err := c0.Account(ctx, tokenOf(t, c0, key), tx.AddressOf(key.PubKey().Bytes())); err != nil {
		t.Fatalf("patient registered at lakeside not found at mercy: %v", err)
	}
	vals, err := c0.Validators(ctx, tokenOf(t, c0, key))
	if err != nil || len(vals) != 2 {
		t.Fatalf("validators %v, %v; want both organizations", vals, err)
	}
	b0, err0 := c0.Block(ctx, tokenOf(t, c0, key), res.Height)
	b1, err1 := c1.Block(ctx, tokenOf(t, c1, key), res.Height)
	if err0 != nil || err1 != nil || b0.Hash != b1.Hash || len(b0.Signatures) != 2 {
		t.Fatalf("block %d: %+v / %+v (%v, %v); want the same block signed by both", res.Height, b0, b1, err0, err1)
	}

	// An observer (an auditor's node): the same genesis and peers, no
	// validator power. It follows the chain and serves it.
	obs := filepath.Join(dir, "auditor")
	obsHTTP := fmt.Sprintf("127.0.0.1:%d", nodetest.FreePort(t))
	careledger(t, "init", "--home", obs, "--org-id", "state-auditor", "--org-type", "regulator", "--http", obsHTTP,
		"--p2p", fmt.Sprintf("127.0.0.1:%d", nodetest.FreePort(t)))
	careledger(t, append([]string{"genesis", "install", "--home", obs, genesis}, entries...)...)
	procs = append(procs, startNode(t, obs))
	co := client.New("http://" + obsHTTP)
	nodetest.WaitHeight(t, co, res.Height)
	if _, err := co.Account(ctx, tokenOf(t, co, key), tx.AddressOf(key.PubKey().Bytes())); err != nil {
		t.Fatalf("the observer does not see the patient: %v", err)
	}
	if bo, err := co.Block(ctx, tokenOf(t, co, key), res.Height); err != nil || bo.Hash != b0.Hash {
		t.Fatalf("the observer's block %d: %+v, %v; want %s", res.Height, bo, err, b0.Hash)
	}
	if vals, _ := co.Validators(ctx, tokenOf(t, co, key)); len(vals) != 2 {
		t.Errorf("validators seen by the observer: %v; want the two organizations, not the observer", vals)
	}
	for _, p := range procs {
		p.stop(t)
	}
}
