package main

import (
	"bytes"
	"context"
	"crypto/rand"
	binenc "encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/privval"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/cometbft/cometbft/types"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/state"
)

// TestDoubleSignEvidence runs four validators as separate processes. Org0's
// validator key signs two conflicting prevotes at one height; the evidence,
// submitted to node1's CometBFT RPC, is gossiped and committed, and every
// node's application records it in state and in the audit log, naming
// org0. Governance acts on it: org1 proposes to remove org0, org2 and org3
// vote for it, and CometBFT's validator set loses org0's validator while
// the other three go on committing.
func TestDoubleSignEvidence(t *testing.T) {
	out := filepath.Join(t.TempDir(), "net")
	// Ports 19000-19999, ten for each run: P2P base..base+3, API base+4..
	// base+7, CometBFT RPC base+8. They are below the ephemeral range, below
	// those nodetest.FreePort hands out to other packages' tests running at
	// the same time (20000-29999), and apart from TestTestnetCommits'
	// (30000-31611) and TestTestnetFaults' (31650-32659), in case another
	// run of this package is going on.
	base := 19000 + os.Getpid()%100*10
	careledger(t, "testnet", "--validators", "4", "--out", out,
		"--p2p-port", fmt.Sprint(base), "--http-port", fmt.Sprint(base+4))
	homes := make([]string, 4)
	procs := make([]*process, 4)
	clients := make([]*client.Client, 4)
	urls := make([]string, 4)
	for i := range 4 {
		homes[i] = filepath.Join(out, fmt.Sprintf("node%d", i))
		urls[i] = fmt.Sprintf("http://127.0.0.1:%d", base+4+i)
		clients[i] = client.New(urls[i])
	}
	// Node1 also serves CometBFT's RPC, where evidence is submitted.
	cfg, err := node.LoadConfig(homes[1])
	if err != nil {
		t.Fatal(err)
	}
	cfg.CometRPCAddr = fmt.Sprintf("127.0.0.1:%d", base+8)
	if err := node.SaveConfig(homes[1], cfg); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		procs[i] = startNode(t, homes[i])
	}
	for _, c := range clients {
		nodetest.WaitHeight(t, c, 2)
	}
	ctx := context.Background()
	comet, err := rpchttp.New("tcp://"+cfg.CometRPCAddr, "/websocket")
	if err != nil {
		t.Fatal(err)
	}

	// Org0's validator key signs a prevote for block 2 and one for another
	// block at the same height and round: a double signature. The evidence
	// must carry block 2's time and the validator set at height 2, as
	// CometBFT checks them against its own.
	var pvKey privval.FilePVKey
	if b, err := os.ReadFile(filepath.Join(homes[0], "config", "priv_validator_key.json")); err != nil {
		t.Fatal(err)
	} else if err := cmtjson.Unmarshal(b, &pvKey); err != nil {
		t.Fatal(err)
	}
	h := int64(2)
	blk, err := comet.Block(ctx, &h)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := comet.Validators(ctx, &h, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	valSet, err := types.ValidatorSetFromExistingValidators(vals.Validators)
	if err != nil {
		t.Fatal(err)
	}
	addr := pvKey.PubKey.Address()
	idx, _ := valSet.GetByAddress(addr)
	other := types.BlockID{Hash: make([]byte, 32), PartSetHeader: types.PartSetHeader{Total: 1, Hash: make([]byte, 32)}}
	rand.Read(other.Hash)
	rand.Read(other.PartSetHeader.Hash)
	signer := types.NewMockPVWithParams(pvKey.PrivKey, false, false)
	var votes []*types.Vote
	for _, id := range []types.BlockID{blk.BlockID, other} {
		v, err := types.MakeVote(signer, blk.Block.ChainID, idx, h, 0, cmtproto.PrevoteType, id, blk.Block.Time)
		if err != nil {
			t.Fatal(err)
		}
		votes = append(votes, v)
	}
	ev, err := types.NewDuplicateVoteEvidence(votes[0], votes[1], blk.Block.Time, valSet)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := comet.BroadcastEvidence(ctx, ev); err != nil {
		t.Fatalf("broadcast_evidence: %v", err)
	}

	// Every node's audit log gets the event naming org0, from the block
	// that holds the evidence.
	validator := strings.ToUpper(hex.EncodeToString(addr))
	want := map[string]string{"org": "org0", "validator": validator, "kind": "duplicate_vote", "height": "2", "power": "10"}
	found := make([]*v1.EventAnswer, 4)
	waitFor(t, func() bool {
		for i := range 4 {
			if found[i] == nil {
				found[i] = misbehavior(t, urls[i], tokenOf(t, clients[i], adminKey(t, homes[0])), "org0")
			}
			if found[i] == nil {
				return false
			}
		}
		return true
	})
	evHeight := found[0].Event.Height
	for i, e := range found {
		attrs := map[string]string{}
		for _, a := range e.Event.Event.Attrs {
			attrs[a.Key] = a.Value
		}
		if !maps.Equal(attrs, want) || e.Event.Height != evHeight || e.Index != found[0].Index {
			t.Fatalf("node%d misbehavior event %d at height %d: %v; want %v at height %d, index %d", i, e.Index, e.Event.Height, attrs, want, evHeight, found[0].Index)
		}
	}
	committed, err := comet.Block(ctx, &evHeight)
	if err != nil || len(committed.Block.Evidence.Evidence) != 1 || !bytes.Equal(committed.Block.Evidence.Evidence[0].Hash(), ev.Hash()) {
		t.Fatalf("block %d: %v; want it to hold evidence %X", evHeight, err, ev.Hash())
	}
	t.Logf("evidence of height %d committed in block %d", h, evHeight)

	// cli runs a transaction command as node i's admin, at node i, and
	// returns the height it committed at.
	cli := func(i int, args ...string) int64 {
		t.Helper()
		cmd := exec.Command(binary, args...)
		cmd.Env = append(os.Environ(), "CARELEDGER_NODE="+urls[i], "CARELEDGER_KEYS="+filepath.Join(homes[i], "keys"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		b, err := cmd.Output()
		var res v1.TxAnswer
		if err == nil {
			err = json.Unmarshal(b, &res)
		}
		if err != nil {
			t.Fatalf("careledger %v at node%d: %v\n%s%s", args, i, err, b, &stderr)
		}
		return res.Height
	}
	// Governance acts on it: org1 proposes to remove org0 (suspended, with
	// no validator power); with org2 and org3 it holds 30 of 40.
	cli(1, "tx", "propose", "--key", "admin", "--kind", "remove_org", "--org", "org0", "--deadline", "50")
	cli(2, "tx", "vote", "--key", "admin", "1")
	decided := cli(3, "tx", "vote", "--key", "admin", "1")
	for i, c := range clients {
		// The command returns once node3 committed the vote; the others
		// may be a block behind.
		nodetest.WaitHeight(t, c, decided)
		// Node1's admin reads: org0's accounts go with org0.
		tok := tokenOf(t, c, adminKey(t, homes[1]))
		if p, err := c.Proposal(ctx, tok, 1); err != nil || p.Status != "passed" {
			t.Fatalf("node%d proposal 1: %+v, %v; want passed", i, p, err)
		}
		vs, err := c.Validators(ctx, tok)
		if err != nil || len(vs) != 3 || slices.ContainsFunc(vs, func(v identity.Validator) bool { return v.Org == "org0" }) {
			t.Fatalf("node%d validators: %+v, %v; want org1..org3", i, vs, err)
		}
	}
	// CometBFT applies the change two blocks later; from then on the three
	// others sign every block (all three are needed) and org0's validator,
	// still running, signs none.
	waitFor(t, func() bool {
		vals, err := comet.Validators(ctx, nil, nil, nil)
		return err == nil && vals.Total == 3 && !slices.ContainsFunc(vals.Validators, func(v *types.Validator) bool { return bytes.Equal(v.Address, addr) })
	})
	res, err := clients[1].Send(ctx, ed25519.GenPrivKey(), contract.Encode(identity.RegisterPatient{}))
	if err != nil {
		t.Fatalf("register at node1 after the removal: %v", err)
	}
	for _, c := range clients {
		nodetest.WaitHeight(t, c, res.Height+1)
	}
	b, err := clients[2].Block(ctx, tokenOf(t, clients[2], adminKey(t, homes[1])), res.Height)
	if err != nil || len(b.Signatures) != 3 || slices.ContainsFunc(b.Signatures, func(s v1.BlockSigner) bool { return s.Validator == validator }) {
		t.Fatalf("block %d signatures: %+v, %v; want org1..org3's", res.Height, b.Signatures, err)
	}

	// Every node's state records the misbehavior under e/, naming org0
	// (the API serves no such record: read the stopped nodes' state).
	key := append(binenc.BigEndian.AppendUint64([]byte("e/"), uint64(h)), addr...)
	for i := range 4 {
		procs[i].stop(t)
		st, err := state.Open(filepath.Join(homes[i], "data", "app"), state.Options{})
		if err != nil {
			t.Fatal(err)
		}
		org, err := st.Committed().Get(key)
		st.Close()
		if err != nil || string(org) != "org0" {
			t.Fatalf("node%d state e/%d/%s = %q, %v; want org0", i, h, validator, org, err)
		}
	}
	// The home verifies offline across the validator set change.
	careledger(t, "verify", "data", "--home", homes[1])
}

// misbehavior returns the first consensus.misbehavior event in the audit
// log at url that names org, or nil, as token's holder (a member of org)
// reads it.
func misbehavior(t *testing.T, url, token, org string) *v1.EventAnswer {
	t.Helper()
	req, err := http.NewRequest("GET", url+"/v1/audit/events?limit=1000&org="+org, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var l v1.EventList
	if err := json.NewDecoder(res.Body).Decode(&l); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/v1/audit/events: %s, %v", url, res.Status, err)
	}
	for _, e := range l.Events {
		if e.Event.Event.Type == "consensus.misbehavior" {
			return &e
		}
	}
	return nil
}
