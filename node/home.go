package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/vault"
)

// Org describes an organization a new network starts with.
type Org struct {
	ID   string
	Name string
	Type identity.OrgType
}

// InitOptions configure Init.
type InitOptions struct {
	// ChainID names the network. Default "careledger-local".
	ChainID string
	// Org is the organization running the node. Default ID "local", name
	// "Local Organization", type provider.
	Org Org
	// Others are further founding organizations without a validator. Each
	// gets an admin key named "<id>-admin".
	Others []Org
	// Config is the node configuration to write. Unset fields get defaults.
	Config Config
	// MinRecoveryDelay is the genesis's least delay, in seconds, between the
	// approval of a recovery by guardians and its effect. Default (0) the
	// identity contract's, 24 hours; tests of the whole recovery set less.
	MinRecoveryDelay uint64
}

func (o *InitOptions) ensureDefaults() {
	if o.ChainID == "" {
		o.ChainID = "careledger-local"
	}
	if o.Org.ID == "" {
		o.Org = Org{ID: "local", Name: "Local Organization", Type: identity.Provider}
	}
	o.Config.EnsureDefaults()
}

// validatorPower is every founding validator's voting power.
const validatorPower = 10

// IsInitialized reports whether home holds a node configuration.
func IsInitialized(home string) bool {
	_, err := os.Stat(configPath(home))
	return err == nil
}

// serviceKeyName names the node's own key in KeysDir: a member of its
// organization with role service, which signs anchors and access decisions.
const serviceKeyName = "node"

// masterKeyPath holds the vault's master key, apart from the data it
// protects.
func masterKeyPath(home string) string { return filepath.Join(home, "config", "vault_master.key") }

// KeysDir returns the directory of the keys Init and the demo wrote.
func KeysDir(home string) keys.Dir { return keys.Dir(filepath.Join(home, "keys")) }

// Init creates a home for a single-validator network: keys, genesis and
// configuration. The organization's first admin key is keys/admin.key.
func Init(home string, o InitOptions) error {
	o.ensureDefaults()
	if IsInitialized(home) {
		return fmt.Errorf("%s is already initialized", home)
	}
	m, err := newMember(home, o.Org)
	if err != nil {
		return err
	}
	members := []*member{m}
	for _, org := range o.Others {
		admin, err := KeysDir(home).New(org.ID+"-admin", nil)
		if err != nil {
			return fmt.Errorf("admin key of %s: %w", org.ID, err)
		}
		members = append(members, &member{org: org, admin: admin})
	}
	gen, err := genesisDoc(o.ChainID, members, o.MinRecoveryDelay)
	if err != nil {
		return err
	}
	o.Config.Org = o.Org.ID
	return m.finish(gen, o.Config)
}

// TestnetOptions configure Testnet.
type TestnetOptions struct {
	// Validators is the number of validator nodes. Default 4.
	Validators int
	// ChainID names the network. Default "careledger-testnet".
	ChainID string
	// P2PBasePort and HTTPBasePort are node 0's ports; node i adds i.
	// Defaults 26656 and 8080.
	P2PBasePort, HTTPBasePort int
	// Config is the base configuration of every node.
	Config Config
	// Types are the organizations' types, node i's at i. Default provider.
	Types []identity.OrgType
}

// Testnet writes the homes of an N-validator network on 127.0.0.1 into
// out/node0 ... out/nodeN-1. Node i belongs to organization "org<i>"; each
// node knows the others' API URLs, for Patient/$everything.
func Testnet(out string, o TestnetOptions) ([]string, error) {
	if o.Validators == 0 {
		o.Validators = 4
	}
	if o.Validators < 1 || o.Validators > 64 {
		return nil, fmt.Errorf("validators must be between 1 and 64")
	}
	if o.ChainID == "" {
		o.ChainID = "careledger-testnet"
	}
	if o.P2PBasePort == 0 {
		o.P2PBasePort = 26656
	}
	if o.HTTPBasePort == 0 {
		o.HTTPBasePort = 8080
	}
	var homes []string
	var members []*member
	for i := 0; i < o.Validators; i++ {
		home := filepath.Join(out, fmt.Sprintf("node%d", i))
		if IsInitialized(home) {
			return nil, fmt.Errorf("%s is already initialized", home)
		}
		typ := identity.Provider
		if i < len(o.Types) {
			typ = o.Types[i]
		}
		m, err := newMember(home, Org{ID: fmt.Sprintf("org%d", i), Name: fmt.Sprintf("Organization %d", i), Type: typ})
		if err != nil {
			return nil, err
		}
		homes = append(homes, home)
		members = append(members, m)
	}
	gen, err := genesisDoc(o.ChainID, members, 0)
	if err != nil {
		return nil, err
	}
	for i, m := range members {
		c := o.Config
		c.Moniker = fmt.Sprintf("node%d", i)
		c.P2PAddr = fmt.Sprintf("127.0.0.1:%d", o.P2PBasePort+i)
		c.HTTPAddr = fmt.Sprintf("127.0.0.1:%d", o.HTTPBasePort+i)
		c.LocalNetwork = true
		var peers []string
		for j, p := range members {
			if j != i {
				peers = append(peers, fmt.Sprintf("%s@127.0.0.1:%d", p.nodeKey.ID(), o.P2PBasePort+j))
			}
		}
		c.Peers = strings.Join(peers, ",")
		c.Custodians = map[string]string{}
		for j, p := range members {
			if j != i {
				c.Custodians[p.org.ID] = fmt.Sprintf("http://127.0.0.1:%d", o.HTTPBasePort+j)
			}
		}
		c.EnsureDefaults()
		if err := m.finish(gen, c); err != nil {
			return nil, err
		}
	}
	return homes, nil
}

// member is a founding organization; those with a node home being created
// have a home, node key and validator key.
type member struct {
	home    string
	org     Org
	nodeKey *p2p.NodeKey
	pv      *privval.FilePV
	admin   keys.Info
	service keys.Info // the node's own key, with role service
}

func newMember(home string, org Org) (*member, error) {
	c := cometConfig(home, DefaultConfig())
	for _, dir := range []string{filepath.Join(home, "config"), c.DBDir()} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
	}
	nk, err := p2p.LoadOrGenNodeKey(c.NodeKeyFile())
	if err != nil {
		return nil, fmt.Errorf("node key: %w", err)
	}
	pv := privval.GenFilePV(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile())
	pv.Save()
	admin, err := KeysDir(home).New("admin", nil)
	if err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("admin key: %w", err)
	}
	service, err := KeysDir(home).New(serviceKeyName, nil)
	if err != nil {
		return nil, fmt.Errorf("node service key: %w", err)
	}
	if err := vault.CreateMasterKey(masterKeyPath(home)); err != nil {
		return nil, fmt.Errorf("vault master key: %w", err)
	}
	return &member{home: home, org: org, nodeKey: nk, pv: pv, admin: admin, service: service}, nil
}

// finish writes the shared genesis and the node configuration.
func (m *member) finish(gen *cmttypes.GenesisDoc, c Config) error {
	if err := gen.SaveAs(filepath.Join(m.home, "config", "genesis.json")); err != nil {
		return fmt.Errorf("write genesis: %w", err)
	}
	return SaveConfig(m.home, c)
}

func genesisDoc(chainID string, members []*member, minRecoveryDelay uint64) (*cmttypes.GenesisDoc, error) {
	g := app.Genesis{Params: app.DefaultParams()}
	g.MinRecoveryDelay = minRecoveryDelay
	doc := &cmttypes.GenesisDoc{
		GenesisTime:     time.Now().UTC().Truncate(time.Millisecond),
		ChainID:         chainID,
		InitialHeight:   1,
		ConsensusParams: consensusParams(),
	}
	for _, m := range members {
		adminKey, err := tx.ParsePubKey(m.admin.PubKey)
		if err != nil {
			return nil, err
		}
		org := identity.GenesisOrg{ID: m.org.ID, Name: m.org.Name, Type: m.org.Type, Admins: []tx.PubKey{adminKey}}
		if m.service.PubKey != "" {
			k, err := tx.ParsePubKey(m.service.PubKey)
			if err != nil {
				return nil, err
			}
			org.Nodes = []tx.PubKey{k}
		}
		if m.pv != nil {
			vk := m.pv.Key.PubKey.(ed25519.PubKey)
			org.ValidatorKey, org.Power = tx.PubKey(vk), validatorPower
			doc.Validators = append(doc.Validators, cmttypes.GenesisValidator{
				Address: vk.Address(), PubKey: vk, Power: validatorPower, Name: m.org.ID,
			})
		}
		g.Organizations = append(g.Organizations, org)
	}
	state, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return nil, err
	}
	doc.AppState = state
	return doc, doc.ValidateAndComplete()
}

// p2pRate caps each peer connection's rate in each direction, in bytes
// per second.
const p2pRate = 50 << 20

// cometConfig builds CometBFT's configuration from ours. CometBFT's own
// config.toml is not used: careledger.json is the one file to edit.
func cometConfig(home string, c Config) *cfg.Config {
	cc := cfg.DefaultConfig()
	cc.SetRoot(home)
	cc.Moniker = c.Moniker
	cc.P2P.ListenAddress = "tcp://" + c.P2PAddr
	cc.P2P.PersistentPeers = c.Peers
	// A consortium's nodes know their peers: they are configured, not
	// discovered. Without peer exchange no address book is kept (its
	// background save outlives Stop).
	cc.P2P.PexReactor = false
	// A consortium's nodes are few, on good links: CometBFT's 5 MB/s cap
	// per connection would make a joining node take a minute per 300 MB of
	// snapshot, or of blocks.
	cc.P2P.SendRate, cc.P2P.RecvRate = p2pRate, p2pRate
	if c.LocalNetwork {
		cc.P2P.AllowDuplicateIP = true
		cc.P2P.AddrBookStrict = false
	}
	cc.RPC.ListenAddress = ""
	if c.CometRPCAddr != "" {
		cc.RPC.ListenAddress = "tcp://" + c.CometRPCAddr
	}
	cc.Consensus.TimeoutCommit = time.Duration(c.TimeoutCommit)
	cc.Consensus.CreateEmptyBlocks = false
	cc.Consensus.CreateEmptyBlocksInterval = time.Duration(c.EmptyBlockInterval)
	// The application's index serves lookups; CometBFT's kv indexer would
	// cost most of the throughput for nothing.
	cc.TxIndex.Indexer = "null"
	// For the same reason CometBFT keeps only the last block's results: the
	// index has them all, and writing them twice costs compactions.
	cc.Storage.DiscardABCIResponses = true
	cc.Mempool.Size = c.MempoolSize
	// CheckTx enforces the network's own limit, which governance may raise
	// up to the ceiling; a cap below that here would make the raise void.
	cc.Mempool.MaxTxBytes = tx.MaxTxBytesCeiling
	cc.Instrumentation.Prometheus = false
	if ss := c.StateSync; ss != nil {
		cc.StateSync.Enable = true
		cc.StateSync.RPCServers = ss.RPCServers
		if len(ss.RPCServers) == 1 {
			// CometBFT wants a witness beside the primary; one server may
			// be both.
			cc.StateSync.RPCServers = []string{ss.RPCServers[0], ss.RPCServers[0]}
		}
		cc.StateSync.TrustHeight = ss.TrustHeight
		cc.StateSync.TrustHash = ss.TrustHash
		cc.StateSync.TrustPeriod = time.Duration(ss.TrustPeriod)
		// A consortium's peers are configured: they answer at once.
		cc.StateSync.DiscoveryTime = 5 * time.Second
	}
	return cc
}
