package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cometbft/cometbft/p2p"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/node"
)

// JoinOptions configure a join benchmark.
type JoinOptions struct {
	// Txs is how many transactions (patient registrations) the network
	// commits before a node joins. Default 1,000,000.
	Txs int
	// Dir holds the nodes' homes. Default a temporary directory, removed
	// after the run.
	Dir string
	// Log receives progress lines. Default io.Discard.
	Log io.Writer
}

// JoinReport is the time a new node takes to join a network that has
// committed Txs transactions: by state sync, and, as the baseline, by
// replaying every block from genesis (block sync).
type JoinReport struct {
	Machine string `json:"machine"`
	Txs     int    `json:"txs"`
	// Height is the validator's height when the nodes started to join.
	Height int64 `json:"height"`
	// SnapshotHeight and SnapshotBytes describe the snapshot restored.
	SnapshotHeight uint64 `json:"snapshot_height"`
	SnapshotBytes  int64  `json:"snapshot_bytes"`
	SnapshotChunks int    `json:"snapshot_chunks"`
	// StateSync and BlockSync are the times from a node's start until it
	// holds the state at Height.
	StateSync time.Duration `json:"state_sync_ns"`
	BlockSync time.Duration `json:"block_sync_ns"`
	// Ratio is BlockSync over StateSync.
	Ratio float64 `json:"ratio"`
}

// snapshotInterval is the validator's snapshot interval in the benchmark:
// a snapshot follows the load within seconds.
const snapshotInterval = 100

// Join loads one validator with o.Txs transactions, then starts a node
// that joins by state sync and, after it, one that replays every block,
// and times both. The nodes run in this process; all are stopped at the
// end.
func Join(ctx context.Context, o JoinOptions) (JoinReport, error) {
	if o.Txs == 0 {
		o.Txs = 1_000_000
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	r := JoinReport{Machine: machine(), Txs: o.Txs}
	if o.Dir == "" {
		dir, err := os.MkdirTemp("", "careledger-join-")
		if err != nil {
			return r, err
		}
		defer os.RemoveAll(dir)
		o.Dir = dir
	}
	v, err := startValidator(filepath.Join(o.Dir, "validator"))
	if err != nil {
		return r, err
	}
	// The joined nodes stop first, then the validator, before their homes
	// are removed.
	stops := []func() error{v.node.Stop}
	defer func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}()
	start := time.Now()
	if err := loadTxs(ctx, v.node, o.Txs, o.Log); err != nil {
		return r, err
	}
	fmt.Fprintf(o.Log, "join: %d transactions committed in %s\n", o.Txs, time.Since(start).Round(time.Second))
	loaded := v.node.App().State().Version()
	snapDir := filepath.Join(v.home, "data", "snapshots")
	var snap uint64
	for snap < uint64(loaded) || v.node.App().State().Version() < int64(snap)+2 {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		time.Sleep(100 * time.Millisecond)
		snap = newestSnapshot(snapDir)
	}
	r.SnapshotHeight = snap
	r.SnapshotBytes, r.SnapshotChunks = dirSize(filepath.Join(snapDir, strconv.FormatUint(snap, 10)))
	fmt.Fprintf(o.Log, "join: snapshot at %d, %d MB in %d chunks\n", snap, r.SnapshotBytes>>20, r.SnapshotChunks)

	r.Height = v.node.App().State().Version()
	if r.StateSync, err = timeJoin(ctx, v, filepath.Join(o.Dir, "statesync"), r.Height, true, &stops); err != nil {
		return r, fmt.Errorf("state sync: %w", err)
	}
	fmt.Fprintf(o.Log, "join: state sync to height %d in %s\n", r.Height, r.StateSync.Round(time.Millisecond))
	if r.BlockSync, err = timeJoin(ctx, v, filepath.Join(o.Dir, "blocksync"), r.Height, false, &stops); err != nil {
		return r, fmt.Errorf("block sync: %w", err)
	}
	fmt.Fprintf(o.Log, "join: block sync to height %d in %s\n", r.Height, r.BlockSync.Round(time.Millisecond))
	r.Ratio = r.BlockSync.Seconds() / r.StateSync.Seconds()
	return r, nil
}

func machine() string {
	return fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
}

type validator struct {
	home, p2p, rpc string
	node           *node.Node
	chainID        string
	trustHash      string
}

// startValidator starts a one-validator network that snapshots every
// snapshotInterval blocks and serves CometBFT's RPC for light clients.
func startValidator(home string) (*validator, error) {
	port, err := freePort(2)
	if err != nil {
		return nil, err
	}
	v := &validator{home: home, p2p: fmt.Sprintf("127.0.0.1:%d", port), rpc: fmt.Sprintf("127.0.0.1:%d", port+1)}
	c := node.Config{
		HTTPAddr: "127.0.0.1:0", P2PAddr: v.p2p, CometRPCAddr: v.rpc, LogLevel: "none", LocalNetwork: true,
		EmptyBlockInterval: node.Duration(200 * time.Millisecond), SnapshotInterval: snapshotInterval,
	}
	if err := node.Init(home, node.InitOptions{Config: c}); err != nil {
		return nil, err
	}
	n, err := node.Open(home)
	if err != nil {
		return nil, err
	}
	if err := n.Start(); err != nil {
		n.Stop()
		return nil, err
	}
	v.node, v.chainID = n, n.ChainID()
	admin, err := node.KeysDir(home).Load("admin", nil)
	if err != nil {
		return nil, err
	}
	api := client.New("http://" + n.HTTPAddr())
	block1 := func() (v1.BlockAnswer, error) {
		tok, err := api.Token(context.Background(), admin)
		if err != nil {
			return v1.BlockAnswer{}, err
		}
		return api.Block(context.Background(), tok, 1)
	}
	b, err := block1()
	for i := 0; err != nil && i < 100; i++ {
		time.Sleep(100 * time.Millisecond)
		b, err = block1()
	}
	v.trustHash = b.Hash
	return v, err
}

// loadTxs submits count patient registrations as fast as the node takes
// them and waits until all committed.
func loadTxs(ctx context.Context, n *node.Node, count int, log io.Writer) error {
	var committed atomic.Int64
	n.App().Listen(listener(func(b *app.Block) { committed.Add(int64(len(b.Txs))) }))
	const batch = 50_000
	tr := n.Tracker()
	for done := 0; done < count; done += batch {
		txs := registrations(n.ChainID(), min(batch, count-done))
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				const n = 64
				for i := int(next.Add(n)) - n; i < len(txs) && ctx.Err() == nil; i = int(next.Add(n)) - n {
					part := txs[i:min(i+n, len(txs))]
					for {
						rs, err := tr.SubmitAll(part...)
						if err == nil {
							part, err = offerAgain(part, rs) // the busy ones
						}
						if err != nil {
							errs <- err
							return
						}
						if len(part) == 0 {
							break
						}
						time.Sleep(5 * time.Millisecond)
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			return err
		}
		fmt.Fprintf(log, "join: %d of %d submitted\n", done+len(txs), count)
	}
	for committed.Load() < int64(count) {
		if err := ctx.Err(); err != nil {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// timeJoin starts a new node that follows v, by state sync or by replaying
// every block, adds its Stop to stops, and returns the time until its
// state reaches height.
func timeJoin(ctx context.Context, v *validator, home string, height int64, stateSync bool, stops *[]func() error) (time.Duration, error) {
	key, err := p2p.LoadNodeKey(filepath.Join(v.home, "config", "node_key.json"))
	if err != nil {
		return 0, err
	}
	port, err := freePort(1)
	if err != nil {
		return 0, err
	}
	c := node.Config{
		HTTPAddr: "127.0.0.1:0", P2PAddr: fmt.Sprintf("127.0.0.1:%d", port), LogLevel: "none",
		Peers: fmt.Sprintf("%s@%s", key.ID(), v.p2p), LocalNetwork: true, Org: "observer",
		SnapshotInterval: -1, SkipStateCheck: true,
	}
	if stateSync {
		c.StateSync = &node.StateSync{RPCServers: []string{v.rpc}, TrustHeight: 1, TrustHash: v.trustHash}
	}
	if err := node.Init(home, node.InitOptions{Config: c}); err != nil {
		return 0, err
	}
	genesis, err := os.ReadFile(filepath.Join(v.home, "config", "genesis.json"))
	if err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(home, "config", "genesis.json"), genesis, 0o644); err != nil {
		return 0, err
	}
	start := time.Now()
	n, err := node.Open(home)
	if err != nil {
		return 0, err
	}
	if err := n.Start(); err != nil {
		n.Stop()
		return 0, err
	}
	*stops = append(*stops, n.Stop)
	for n.App().State().Version() < height {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start), nil
}

// newestSnapshot returns the height of the newest complete snapshot in
// dir, or 0.
func newestSnapshot(dir string) uint64 {
	entries, _ := os.ReadDir(dir)
	var newest uint64
	for _, e := range entries {
		if h, err := strconv.ParseUint(e.Name(), 10, 64); err == nil {
			newest = max(newest, h)
		}
	}
	return newest
}

func dirSize(dir string) (bytes int64, files int) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && e.Name() != "metadata" {
			bytes += info.Size()
			files++
		}
	}
	return bytes, files
}
