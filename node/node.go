package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtnode "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/careledger/careledger/api"
	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/audit"
	"github.com/careledger/careledger/audit/auditdb"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/records"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/custodian"
	"github.com/careledger/careledger/dscsa"
	"github.com/careledger/careledger/durable"
	"github.com/careledger/careledger/epcisapi"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/fhirapi"
	"github.com/careledger/careledger/index"
	"github.com/careledger/careledger/recruit"
	"github.com/careledger/careledger/sender"
	"github.com/careledger/careledger/snapshot"
	"github.com/careledger/careledger/state"
	"github.com/careledger/careledger/tracker"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/vault"
	"github.com/careledger/careledger/web"
)

// Version is the software version reported by the API.
var Version = "0.1.0-dev"

// Node is a running CareLedger node.
type Node struct {
	home    string
	lock    *homeLock // held from Open until the stores are closed
	cfg     Config
	store   *state.Store
	index   *index.Index
	audit   *auditdb.Store
	app     *app.App
	comet   *cmtnode.Node
	tracker *tracker.Tracker
	journal *tracker.FileJournal
	api     *api.Server
	vault   *vault.Vault
	records *custodian.Custodian
	// recruiter evaluates trials' eligibility over the custodian's
	// opted-in patients; invitations keeps what it told them.
	recruiter   *recruit.Recruiter
	invitations *recruit.Inbox
	fhirAPI     *fhirapi.Server
	// org is the organization the node's service key belongs to, and
	// sender signs that key's transactions for every HTTP face.
	org    string
	sender *sender.Sender
	// supply answers DSCSA verifications and delivers subscriptions.
	supply *dscsa.Server
	// epcis captures and queries EPCIS events at /epcis.
	epcis *epcisapi.Server
	// snapshots writes snapshots for state sync; nil if they are off.
	snapshots *snapshotter
	http      *http.Server
	httpLn    net.Listener
	// metrics serves /metrics on cfg.MetricsAddr; nil if that is off.
	metrics   *http.Server
	metricsLn net.Listener
	cancel    context.CancelFunc
	done      chan struct{}
	// stopping is set when Stop begins: CometBFT's logger then takes the
	// errors of closing connections and stopping services for information.
	stopping atomic.Bool
}

// Open opens the node in home, which Init or Testnet created. It does not
// start it.
func Open(home string) (*Node, error) {
	c, cc, gen, err := loadHome(home)
	if err != nil {
		return nil, err
	}
	lock, err := lockHome(home)
	if err != nil {
		return nil, err
	}
	n := &Node{home: home, cfg: c, lock: lock, done: make(chan struct{})}
	if err := n.open(cc, gen); err != nil {
		n.closeStores()
		return nil, err
	}
	return n, nil
}

func (n *Node) open(cc *cfg.Config, gen *cmttypes.GenesisDoc) error {
	var err error
	stateDir := filepath.Join(cc.DBDir(), "app")
	if forgot, err := forgetUnrecordedRestore(cc, stateDir); err != nil {
		return err
	} else if forgot {
		fmt.Fprintln(os.Stderr, "the state on disk is of a state sync that CometBFT never recorded: restoring a snapshot again")
	}
	n.store, err = state.Open(stateDir, state.Options{Verify: !n.cfg.SkipStateCheck})
	if errors.Is(err, state.ErrCorrupt) {
		return fmt.Errorf("the state on disk does not verify, so this node will not sign with it: %w", err)
	}
	if err != nil {
		return err
	}
	if n.index, err = index.Open(filepath.Join(cc.DBDir(), "app")); err != nil {
		return err
	}
	if n.audit, err = openAudit(filepath.Join(cc.DBDir(), "app", "audit.db")); err != nil {
		return err
	}
	snaps, err := snapshot.Open(filepath.Join(cc.DBDir(), "snapshots"), n.cfg.SnapshotKeep)
	if err != nil {
		return err
	}
	if n.app, err = app.New(n.store, app.Config{ChainID: gen.ChainID, Indexer: n.index, AuditLog: auditLog{n.audit}, Snapshots: snaps}); err != nil {
		return err
	}
	if n.cfg.SnapshotInterval > 0 {
		n.snapshots = &snapshotter{app: n.app, audit: n.audit, store: snaps, interval: n.cfg.SnapshotInterval}
		n.app.Listen(n.snapshots)
	}
	if n.comet, err = newComet(cc, n.cfg, gen, n.app, &n.stopping); err != nil {
		return err
	}
	if n.journal, err = tracker.OpenJournal(filepath.Join(cc.DBDir(), "journal")); err != nil {
		return err
	}
	n.tracker = tracker.New(n.comet.Mempool(), n.app, n.index, tracker.Options{Journal: n.journal})
	n.app.Listen(n.tracker)
	secret, err := loadAuthSecret(n.home)
	if err != nil {
		return err
	}
	key, err := KeysDir(n.home).Load(serviceKeyName, nil)
	if err != nil {
		return fmt.Errorf("node service key: %w", err)
	}
	n.api, err = api.New(api.Backend{
		App: n.app, Tracker: n.tracker, Index: n.index, Audit: n.audit, ReportKey: key,
		Blocks: n.comet.BlockStore(), Mempool: n.comet.Mempool(),
		AuthSecret: secret, Version: Version, Streams: n.cfg.EventStreams.options(),
		ClaimReads: func(ctx context.Context, who *identity.Account, purpose, view string, ids [][32]byte) error {
			return n.records.ReceiptClaimReads(ctx, who, purpose, view, ids)
		},
	})
	if err != nil {
		return err
	}
	if n.fhirAPI, err = n.openRecords(cc, gen, key); err != nil {
		return err
	}
	if n.supply, err = dscsa.New(dscsa.Options{
		Auth: n.api.Auth(), State: func() dscsa.State { return n.app.State() }, Sender: n.sender, Org: n.org,
		Logf:              func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) },
		SubscriptionsFile: filepath.Join(cc.DBDir(), "dscsa", "subscriptions.json"),
		Blocks:            committedBlocks{n.comet.BlockStore(), n.index},
	}); err != nil {
		return err
	}
	n.app.Listen(n.supply)
	if n.epcis, err = n.openEPCIS(cc, gen.ChainID, key); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", n.api.Handler())
	mux.Handle("/epcis", n.epcis.Handler())
	mux.Handle("/epcis/", n.epcis.Handler())
	mux.Handle("/fhir", n.fhirAPI.Handler())
	mux.Handle("/fhir/", n.fhirAPI.Handler())
	for _, p := range dscsa.Prefixes {
		mux.Handle(p, n.supply.Handler())
	}
	// The portal: its page at / and its files under /portal/; every other
	// path stays the JSON API's (and its JSON 404).
	portal := web.Handler()
	mux.Handle("GET /{$}", portal)
	mux.Handle("GET "+web.Prefix, portal)
	n.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if n.cfg.MetricsAddr != "" {
		mm := http.NewServeMux()
		mm.Handle("GET /metrics", n.api.Metrics().Handler())
		n.metrics = &http.Server{Handler: mm, ReadHeaderTimeout: 10 * time.Second}
	}
	return nil
}

// openRecords opens the vault and the custodian of the organization this
// node belongs to (its service key's), and returns the FHIR API over them.
func (n *Node) openRecords(cc *cfg.Config, gen *cmttypes.GenesisDoc, key ed25519.PrivKey) (*fhirapi.Server, error) {
	master, err := vault.LoadMasterKey(masterKeyPath(n.home))
	if err != nil {
		return nil, err
	}
	if n.vault, err = vault.Open(filepath.Join(cc.DBDir(), "vault"), master); err != nil {
		return nil, err
	}
	org := n.cfg.Org
	if org == "" {
		if org, err = serviceOrg(gen, key.PubKey().Bytes()); err != nil {
			return nil, err
		}
	}
	var validator *fhir.Validator
	if path := n.cfg.FHIRSchema; path != "" {
		if !filepath.IsAbs(path) {
			path = filepath.Join(n.home, path)
		}
		schema, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("fhir schema: %w", err)
		}
		if validator, err = fhir.NewValidator(schema); err != nil {
			return nil, err
		}
	}
	// One sender signs every transaction of the node's service key, so
	// that the key's sequence numbers are kept in one place.
	n.org, n.sender = org, sender.New(gen.ChainID, key, n.tracker, chainReader{n.app, n.index})
	n.records, err = custodian.New(custodian.Options{
		Org: org, Vault: n.vault, Validator: validator, Sender: n.sender,
		ProofsDir: filepath.Join(cc.DBDir(), "vault", "proofs.db"),
	})
	if err != nil {
		return nil, err
	}
	n.app.Listen(n.records)
	if err := n.openRecruiter(cc); err != nil {
		return nil, err
	}
	peers := &fhirapi.Peers{Key: key, URLs: n.cfg.Custodians, Holders: n.holders}
	return fhirapi.New(fhirapi.Options{
		Custodian: n.records, ChainID: gen.ChainID, Auth: n.api.Auth(), State: func() identity.Iterator { return n.app.State() },
		Validates: validator != nil, Peers: peers, Audit: n.audit, Events: n.app.Router(),
		ExportDir: filepath.Join(cc.DBDir(), "exports"),
	}), nil
}

// openRecruiter opens recruitment over the custodian's records: it
// listens for criteria that commit and serves its routes through the API,
// which notifies the matching patients on their own streams.
func (n *Node) openRecruiter(cc *cfg.Config) error {
	var err error
	if n.invitations, err = recruit.OpenInbox(filepath.Join(cc.DBDir(), "invitations")); err != nil {
		return err
	}
	n.recruiter, err = recruit.New(recruit.Options{
		Org: n.org, Records: n.vault, State: func() identity.Reader { return n.app.State() }, Sender: n.sender,
		Inbox: n.invitations, Notify: n.notifyInvitation,
	})
	if err != nil {
		return err
	}
	n.app.Listen(n.recruiter)
	n.api.SetRecruiter(n.recruiter)
	return nil
}

// notifyInvitation tells patient to of an invitation on the streams of
// their own token only.
func (n *Node) notifyInvitation(to tx.Address, inv recruit.Invitation) {
	n.api.NotifyAccount(to, v1.StreamEvent{Time: inv.Time, Type: recruit.EventInvitation, Accounts: []tx.Address{to},
		Attrs: []contract.Attr{{Key: "trial", Value: inv.Trial}, {Key: "revision", Value: strconv.FormatUint(inv.Revision, 10)},
			{Key: "custodian", Value: inv.Custodian}}})
}

// openEPCIS opens EPCIS capture and query (/epcis) for the custodian's
// organization, its event bodies sealed under the vault's master key, and
// others' fetched from the nodes that custodians names.
func (n *Node) openEPCIS(cc *cfg.Config, chainID string, key ed25519.PrivKey) (*epcisapi.Server, error) {
	master, err := vault.LoadMasterKey(masterKeyPath(n.home))
	if err != nil {
		return nil, err
	}
	return epcisapi.New(epcisapi.Options{
		Org: n.records.Org(), Sender: n.sender, Auth: n.api.Auth(), Keys: master,
		State:      func() identity.Iterator { return n.app.State() },
		Dir:        filepath.Join(cc.DBDir(), "epcis"),
		Parties:    n.cfg.EPCISParties,
		MaxTxBytes: func() int { return n.app.Params().MaxTxBytes },
		Peers:      &epcisapi.Peers{Key: key, ChainID: chainID, URLs: n.cfg.Custodians},
		Logf:       func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) },
	})
}

// replayErasures gives the custodian every erasure the chain ordered of
// this organization's records, from the audit log's index.
func (n *Node) replayErasures() {
	idx, err := n.audit.TypeEvents(records.EventErased, 0, math.MaxInt)
	if err != nil {
		fmt.Fprintln(os.Stderr, "replay erasures:", err)
		return
	}
	for _, i := range idx {
		leaf, err := n.audit.Leaf(i)
		if err != nil {
			fmt.Fprintln(os.Stderr, "replay erasures:", err)
			return
		}
		if ev, err := audit.DecodeEvent(leaf); err == nil {
			n.records.Erasures([]contract.Event{ev.Event})
		}
	}
}

// replayRecruitment gives the recruiter every trial whose criteria
// committed, from the audit log's index; it evaluates those whose current
// revision this custodian has not counted yet (criteria that committed
// while the node was down, or queued when it stopped).
func (n *Node) replayRecruitment() {
	idx, err := n.audit.TypeEvents(trials.EventCriteria, 0, math.MaxInt)
	if err != nil {
		fmt.Fprintln(os.Stderr, "replay recruitment:", err)
		return
	}
	for _, i := range idx {
		leaf, err := n.audit.Leaf(i)
		if err != nil {
			fmt.Fprintln(os.Stderr, "replay recruitment:", err)
			return
		}
		if ev, err := audit.DecodeEvent(leaf); err == nil {
			n.recruiter.Replay(ev.Event)
		}
	}
}

// holders returns the organizations that anchored records of patient (a
// pseudonym), read from the index of the patient's transactions.
func (n *Node) holders(patient string) ([]string, error) {
	addr, err := tx.ParseAddress(patient)
	if err != nil {
		return nil, err
	}
	txs, err := n.index.AccountTxs(addr, 0, math.MaxInt)
	if err != nil {
		return nil, err
	}
	var orgs []string
	for _, r := range txs {
		for _, e := range r.Events {
			if a, ok := records.AnchoringOf(e); ok && !slices.Contains(orgs, a.Custodian) {
				orgs = append(orgs, a.Custodian)
			}
		}
	}
	return orgs, nil
}

// serviceOrg returns the organization whose genesis node keys hold key.
func serviceOrg(gen *cmttypes.GenesisDoc, key []byte) (string, error) {
	g, err := app.ParseGenesis(gen.AppState)
	if err != nil {
		return "", err
	}
	for _, o := range g.Organizations {
		for _, k := range o.Nodes {
			if bytes.Equal(k, key) {
				return o.ID, nil
			}
		}
	}
	return "", fmt.Errorf("the node's service key is not among any organization's genesis nodes")
}

// chainReader reads sequences from the app and results from the index.
type chainReader struct {
	*app.App
	*index.Index
}

// NewComet returns CometBFT, not started, configured from home exactly as a
// node's, running any ABCI application: the benchmark runs CometBFT's
// kvstore example with it as its baseline.
func NewComet(home string, application abci.Application) (*cmtnode.Node, error) {
	c, cc, gen, err := loadHome(home)
	if err != nil {
		return nil, err
	}
	return newComet(cc, c, gen, application, new(atomic.Bool))
}

// loadHome reads a home's configuration, CometBFT's derived from it, and
// the genesis.
func loadHome(home string) (Config, *cfg.Config, *cmttypes.GenesisDoc, error) {
	c, err := LoadConfig(home)
	if err != nil {
		return c, nil, nil, err
	}
	cc := cometConfig(home, c)
	gen, err := cmttypes.GenesisDocFromFile(cc.GenesisFile())
	if err != nil {
		return c, nil, nil, fmt.Errorf("read genesis: %w", err)
	}
	return c, cc, gen, nil
}

// newComet creates CometBFT; its logger takes errors known to come of a
// stop for information once stopping is set.
func newComet(cc *cfg.Config, c Config, gen *cmttypes.GenesisDoc, application abci.Application, stopping *atomic.Bool) (*cmtnode.Node, error) {
	nodeKey, err := p2p.LoadNodeKey(cc.NodeKeyFile())
	if err != nil {
		return nil, fmt.Errorf("node key: %w", err)
	}
	pv := privval.LoadFilePV(cc.PrivValidatorKeyFile(), cc.PrivValidatorStateFile())
	cn, err := cmtnode.NewNode(cc, pv, nodeKey,
		proxy.NewConnSyncLocalClientCreator(application),
		func() (*cmttypes.GenesisDoc, error) { return gen, nil },
		openStore, cmtnode.DefaultMetricsProvider(cc.Instrumentation),
		newLogger(c.LogLevel, os.Stderr, stopping))
	if err != nil {
		return nil, fmt.Errorf("create consensus node: %w", err)
	}
	return cn, nil
}

// Start starts consensus, the tracker and the HTTP API.
func (n *Node) Start() error {
	ln, err := net.Listen("tcp", n.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("http listen: %w", err)
	}
	var mln net.Listener
	if n.metrics != nil {
		if mln, err = net.Listen("tcp", n.cfg.MetricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("metrics listen: %w", err)
		}
	}
	if err := n.comet.Start(); err != nil {
		ln.Close()
		if mln != nil {
			mln.Close()
		}
		return fmt.Errorf("start consensus: %w", err)
	}
	n.httpLn = ln
	n.metricsLn = mln
	// Transactions accepted before the node stopped are taken up again:
	// each commits, or is reported dropped.
	if _, err := n.tracker.Recover(); err != nil {
		n.comet.Stop()
		ln.Close()
		if mln != nil {
			mln.Close()
		}
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go n.tracker.Run(ctx)
	go n.records.Run(ctx)
	go n.recruiter.Run(ctx)
	n.replayRecruitment()
	n.replayErasures()
	if mln != nil {
		go func() {
			if err := n.metrics.Serve(mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				fmt.Fprintln(os.Stderr, "metrics http:", err)
			}
		}()
	}
	go func() {
		defer close(n.done)
		if err := n.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "http:", err)
		}
	}()
	return nil
}

// Stop stops the API, then consensus, then closes the stores, so that the
// last block committed is on disk before the process ends.
func (n *Node) Stop() error {
	n.stopping.Store(true)
	var errs []error
	if n.cancel != nil {
		n.api.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, n.http.Shutdown(ctx))
		if n.metricsLn != nil {
			errs = append(errs, n.metrics.Shutdown(ctx))
		}
		cancel()
		n.fhirAPI.Close() // bulk exports read the vault, closed below
		n.cancel()
		<-n.done
	}
	if n.supply != nil {
		// Record the verification receipts still queued while consensus runs.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := n.supply.Close(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "verification receipts not all recorded before stopping:", err)
		}
		cancel()
	}
	if n.comet.IsRunning() {
		errs = append(errs, n.comet.Stop())
		n.comet.Wait()
	}
	if n.snapshots != nil {
		n.snapshots.stop()
	}
	errs = append(errs, n.closeStores())
	return errors.Join(errs...)
}

func (n *Node) closeStores() error {
	var errs []error
	if n.epcis != nil {
		errs = append(errs, n.epcis.Close()) // stops its captures first
	}
	if n.index != nil {
		errs = append(errs, n.index.Close())
	}
	if n.journal != nil {
		errs = append(errs, n.journal.Close())
	}
	if n.audit != nil {
		errs = append(errs, n.audit.Close())
	}
	if n.store != nil {
		errs = append(errs, n.store.Close())
	}
	if n.records != nil {
		errs = append(errs, n.records.Close())
	}
	if n.vault != nil {
		errs = append(errs, n.vault.Close())
	}
	if n.invitations != nil {
		errs = append(errs, n.invitations.Close())
	}
	errs = append(errs, n.lock.release())
	n.lock = nil
	return errors.Join(errs...)
}

// HTTPAddr returns the address the API listens on, once started.
func (n *Node) HTTPAddr() string {
	if n.httpLn == nil {
		return n.cfg.HTTPAddr
	}
	return n.httpLn.Addr().String()
}

// MetricsAddr returns the address /metrics is served on, once started, or
// "" if metrics are off.
func (n *Node) MetricsAddr() string {
	if n.metricsLn == nil {
		return n.cfg.MetricsAddr
	}
	return n.metricsLn.Addr().String()
}

// Tracker returns the tracker of submitted transactions.
func (n *Node) Tracker() *tracker.Tracker { return n.tracker }

// App returns the application.
func (n *Node) App() *app.App { return n.app }

// Index returns the index of committed transactions.
func (n *Node) Index() *index.Index { return n.index }

// Vault returns the node's record vault (for benchmarks' baselines).
func (n *Node) Vault() *vault.Vault { return n.vault }

// Supply returns the node's DSCSA verification and subscription server.
func (n *Node) Supply() *dscsa.Server { return n.supply }

// API returns the HTTP API server.
func (n *Node) API() *api.Server { return n.api }

// Handler returns the node's HTTP handler (the JSON API, /fhir and the
// portal at /), which
// tests may call without a connection.
func (n *Node) Handler() http.Handler { return n.http.Handler }

// ChainID returns the network's chain ID.
func (n *Node) ChainID() string { return n.app.ChainID() }

// authSecretPath holds the key of the HMAC that seals auth challenges and
// tokens. It is this node's alone: tokens are good only at the node that
// issued them.
func authSecretPath(home string) string { return filepath.Join(home, "config", "auth_secret") }

func loadAuthSecret(home string) ([]byte, error) {
	p := authSecretPath(home)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		b = make([]byte, 32)
		rand.Read(b)
		return b, durable.WriteFile(p, b, 0o600)
	}
	if err != nil {
		return nil, fmt.Errorf("read auth secret: %w", err)
	}
	if len(b) < 32 {
		return nil, fmt.Errorf("auth secret %s is shorter than 32 bytes", p)
	}
	return b, nil
}
