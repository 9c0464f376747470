package node

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/durable"
	"github.com/careledger/careledger/tx"
)

// A network of organizations on separate machines starts like this: each
// organization runs Init on its own machine (its keys never leave it) and
// sends its Entry (public keys and address) to whoever assembles the
// genesis; Assemble makes the genesis of them all; each organization
// installs it with Install, which also peers its node with the others.

// Entry is what an organization contributes to a network's genesis: its
// organization with public keys only, and where its node listens.
type Entry struct {
	Org     identity.GenesisOrg `json:"org"`
	NodeID  string              `json:"node_id"`
	P2PAddr string              `json:"p2p_addr"` // host:port the others reach it at
}

// OrgEntry returns the entry of the organization whose node home is home,
// listening at the public address p2pAddr (the configured one if empty).
func OrgEntry(home, p2pAddr string) (*Entry, error) {
	c, cc, gen, err := loadHome(home)
	if err != nil {
		return nil, err
	}
	g, err := app.ParseGenesis(gen.AppState)
	if err != nil {
		return nil, err
	}
	key, err := KeysDir(home).Load(serviceKeyName, nil)
	if err != nil {
		return nil, err
	}
	org, err := serviceOrg(gen, key.PubKey().Bytes())
	if err != nil {
		return nil, err
	}
	nk, err := p2p.LoadNodeKey(cc.NodeKeyFile())
	if err != nil {
		return nil, err
	}
	pv := privval.LoadFilePV(cc.PrivValidatorKeyFile(), cc.PrivValidatorStateFile())
	for _, o := range g.Organizations {
		if o.ID != org {
			continue
		}
		o.ValidatorKey, o.Power = tx.PubKey(pv.Key.PubKey.Bytes()), validatorPower
		if p2pAddr == "" {
			p2pAddr = c.P2PAddr
		}
		return &Entry{Org: o, NodeID: string(nk.ID()), P2PAddr: p2pAddr}, nil
	}
	return nil, fmt.Errorf("organization %s is not in its own genesis", org)
}

// maxBlockBytes caps a block at 1 MiB, about 8,000 small transactions,
// against CometBFT's default of 21 MiB. A validator must verify the
// signature of every transaction in a proposal that did not reach its own
// mempool first: with four validators sharing two cores, a proposer that
// put a full mempool of 20,000 transactions into one block took the others
// past the round's timeouts (see docs/BENCHMARKS.md). Governance can change
// it.
const maxBlockBytes = 1 << 20

// consensusParams are CometBFT's defaults with blocks capped at
// maxBlockBytes.
func consensusParams() *cmttypes.ConsensusParams {
	p := cmttypes.DefaultConsensusParams()
	p.Block.MaxBytes = maxBlockBytes
	return p
}

// Assemble returns the genesis of a network of the entries' organizations.
func Assemble(chainID string, entries []Entry) (*cmttypes.GenesisDoc, error) {
	g := app.Genesis{Params: app.DefaultParams()}
	doc := &cmttypes.GenesisDoc{
		GenesisTime: time.Now().UTC().Truncate(time.Millisecond), ChainID: chainID,
		InitialHeight: 1, ConsensusParams: consensusParams(),
	}
	for _, e := range entries {
		if e.Org.Power > 0 {
			vk := ed25519.PubKey(e.Org.ValidatorKey)
			doc.Validators = append(doc.Validators, cmttypes.GenesisValidator{Address: vk.Address(), PubKey: vk, Power: e.Org.Power, Name: e.Org.ID})
		}
		g.Organizations = append(g.Organizations, e.Org)
	}
	if err := g.Genesis.Validate(); err != nil {
		return nil, err
	}
	state, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return nil, err
	}
	doc.AppState = state
	return doc, doc.ValidateAndComplete()
}

// Install replaces the genesis of a home that has not started yet with a
// network's, and peers its node with the other entries' nodes.
func Install(home string, doc *cmttypes.GenesisDoc, entries []Entry) error {
	c, cc, _, err := loadHome(home)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(cc.DBDir(), "blockstore.db")); err == nil {
		return fmt.Errorf("%s has already run on its own genesis: install a network's genesis in a fresh home", home)
	}
	nk, err := p2p.LoadNodeKey(cc.NodeKeyFile())
	if err != nil {
		return err
	}
	var peers []string
	for _, e := range entries {
		if e.NodeID != string(nk.ID()) {
			peers = append(peers, e.NodeID+"@"+e.P2PAddr)
		}
	}
	c.Peers = strings.Join(peers, ",")
	for _, e := range entries { // nodes sharing a host (a pilot on one machine)
		if strings.HasPrefix(e.P2PAddr, "127.") || strings.HasPrefix(e.P2PAddr, "localhost:") {
			c.LocalNetwork = true
		}
	}
	b, err := cmtjson.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if err := durable.WriteFile(filepath.Join(home, "config", "genesis.json"), b, 0o644); err != nil {
		return err
	}
	return SaveConfig(home, c)
}
