package bench

// Validators as separate processes on 127.0.0.1: `careledger node` for
// CareLedger, `careledger bench kvstore-node` for the baseline, on the same
// kind of homes and so the same CometBFT configuration.
//
// Both systems are loaded over HTTP from this process to node0, each
// through its fastest way to submit, answered once node0's mempool took (or
// refused) the transactions, from o.Submitters goroutines over connections
// kept open: CareLedger's POST /v1/txs/batch with o.Batch transactions,
// and the baseline's broadcast_tx_async, one per request (see
// kvstoreProcs). A transaction counts as committed when this
// process learns that node0's application committed its block: from
// CareLedger's GET /healthz, polled, and from the baseline's NewBlock
// events (see pollBlocks and newBlocks). Learning what a block held costs
// node0 a little in both: CareLedger answers GET /v1/blocks/{height}, the
// baseline encodes the block into its event.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	cmttypes "github.com/cometbft/cometbft/types"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/tracker"
	"github.com/careledger/careledger/tx"
)

const (
	// readyWait bounds how long a network of processes takes to commit its
	// first block.
	readyWait = 2 * time.Minute
	// stopWait is how long a process may take to stop before it is killed.
	stopWait = 15 * time.Second
	// pollEvery is how often CareLedger's committed height is asked for.
	pollEvery = 5 * time.Millisecond
)

// careledgerProcs runs `careledger node` processes and loads node0 through
// its JSON API: POST /v1/txs/batch (POST /v1/txs for batches of one).
func careledgerProcs(ctx context.Context, o Options, homes []string) (*system, error) {
	cfg, err := node.LoadConfig(homes[0])
	if err != nil {
		return nil, err
	}
	ps, err := startProcs(ctx, o, homes, "node")
	if err != nil {
		return nil, err
	}
	c := client.NewWithHTTP("http://"+cfg.HTTPAddr, httpClient(o))
	// Blocks answer a registered account's token: the first admin's.
	admin, err := node.KeysDir(homes[0]).Load("admin", nil)
	if err != nil {
		return nil, err
	}
	var height int64
	err = ps.wait(ctx, func() bool {
		h, err := c.Height(ctx)
		height = h
		return err == nil && h > 0
	})
	var chainID string
	if err == nil {
		chainID, err = c.ChainID(ctx)
	}
	if err != nil {
		return nil, errors.Join(err, ps.stop())
	}
	watch, cancel := context.WithCancel(ctx)
	blocks := make(chan block, 1<<14)
	go pollBlocks(watch, c, admin, height, blocks)
	return &system{
		submit: func(raws [][]byte) ([][]byte, error) {
			if len(raws) == 1 {
				a, err := c.Submit(ctx, raws[0], false, 0)
				if err != nil {
					return nil, err
				}
				return offerAgain(raws, []tracker.Result{trackerResult(a)})
			}
			as, err := c.SubmitBatch(ctx, raws, false, 0)
			if err != nil {
				return nil, err
			}
			rs := make([]tracker.Result, len(as))
			for i, a := range as {
				rs[i] = trackerResult(a)
			}
			return offerAgain(raws, rs)
		},
		makeTxs:   func(n int) [][]byte { return registrations(chainID, n) },
		committed: blocks,
		stop: func() error {
			cancel()
			return ps.stop()
		},
	}, nil
}

// pollBlocks sends each block node0 commits after height to out, until ctx
// ends. GET /healthz gives the height node0's application committed, where
// the in-process listener sees a block (GET /v1/blocks alone shows a block
// before it applies, without its results); polling it adds up to pollEvery
// to CareLedger's latencies. The event stream is not used: it drops a
// subscriber 1,024 events behind, as one saturated block puts it. A failed
// request is tried again at the next poll; a node that died fails the
// submissions.
func pollBlocks(ctx context.Context, c *client.Client, key ed25519.PrivKey, height int64, out chan<- block) {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		h, err := c.Height(ctx)
		at := time.Now()
		for err == nil && height < h {
			var b v1.BlockAnswer
			var tok string
			if tok, err = c.Token(ctx, key); err != nil {
				break
			}
			if b, err = c.Block(ctx, tok, height+1); err == nil {
				height++
				select {
				case out <- apiBlock(at, b):
				case <-ctx.Done():
					return
				}
			}
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// trackerResult reads an answer of POST /v1/txs as the tracker's result
// that it reports.
func trackerResult(a v1.TxAnswer) tracker.Result {
	return tracker.Result{Hash: a.Hash, Status: tracker.Status(a.Status), Code: a.Code, Log: a.Log, Height: a.Height, Index: a.Index}
}

func apiBlock(at time.Time, b v1.BlockAnswer) block {
	out := block{at: at, hashes: make([][32]byte, len(b.Txs))}
	for i, t := range b.Txs {
		out.hashes[i] = t.Hash
		if t.Code != tx.CodeOK {
			out.failed++
		}
	}
	return out
}

// kvstoreProcs runs `careledger bench kvstore-node` processes and loads
// node0 through CometBFT's RPC: broadcast_tx_async, which answers once the
// mempool took the transaction, as POST /v1/txs without waiting does; one
// request per transaction, since CometBFT's JSON-RPC batches were slower
// (4.0k against 5.2k tx/s, one validator). The RPC takes node0's
// http_addr, which no CareLedger API uses here.
func kvstoreProcs(ctx context.Context, o Options, homes []string) (*system, error) {
	cfg, err := node.LoadConfig(homes[0])
	if err != nil {
		return nil, err
	}
	cfg.CometRPCAddr = cfg.HTTPAddr
	if err := node.SaveConfig(homes[0], cfg); err != nil {
		return nil, err
	}
	ps, err := startProcs(ctx, o, homes, "bench", "kvstore-node")
	if err != nil {
		return nil, err
	}
	c, err := rpchttp.NewWithClient("http://"+cfg.HTTPAddr, "/websocket", httpClient(o))
	if err != nil {
		return nil, errors.Join(err, ps.stop())
	}
	err = ps.wait(ctx, func() bool {
		st, err := c.Status(ctx)
		return err == nil && st.SyncInfo.LatestBlockHeight > 0
	})
	watch, cancel := context.WithCancel(ctx)
	var blocks <-chan block
	if err == nil {
		blocks, err = newBlocks(watch, c)
	}
	if err != nil {
		c.Stop()
		cancel()
		return nil, errors.Join(err, ps.stop())
	}
	return &system{
		submit: func(raws [][]byte) ([][]byte, error) {
			var again [][]byte
			for _, raw := range raws {
				_, err := c.BroadcastTxAsync(ctx, raw)
				switch {
				case err != nil && strings.Contains(err.Error(), "mempool is full"):
					again = append(again, raw) // mempool.ErrMempoolIsFull, as text over RPC
				case err != nil:
					return nil, err
				}
			}
			return again, nil
		},
		makeTxs:   (&kvTxs{}).make,
		committed: blocks,
		stop: func() error {
			c.Stop()
			cancel()
			return ps.stop()
		},
	}, nil
}

// newBlocks returns node0's blocks from its NewBlock events, which CometBFT
// fires after the application's Commit, until ctx ends. It returns once the
// first event arrived, so that the subscription is live before any load;
// the network makes an empty block every empty_block_interval.
func newBlocks(ctx context.Context, c *rpchttp.HTTP) (<-chan block, error) {
	if err := c.Start(); err != nil {
		return nil, err
	}
	// The client drops an event only if 1,024 wait here: never, as the
	// loop below only moves them on.
	events, err := c.Subscribe(ctx, "bench", cmttypes.EventQueryNewBlock.String(), 1024)
	if err != nil {
		return nil, err
	}
	select {
	case <-events:
	case <-time.After(readyWait):
		return nil, fmt.Errorf("no NewBlock event within %s", readyWait)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	blocks := make(chan block, 1<<14)
	go func() {
		for {
			select {
			case ev := <-events:
				d, ok := ev.Data.(cmttypes.EventDataNewBlock)
				if !ok {
					continue
				}
				b := kvBlock(d.Block.Txs, d.ResultFinalizeBlock.TxResults)
				b.at = time.Now()
				select {
				case blocks <- b:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return blocks, nil
}

// httpClient keeps a connection per submitter open: Go's default keeps two
// a host, and would open a new one for most requests.
func httpClient(o Options) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = o.Submitters + 1 // and the poller's
	return &http.Client{Transport: t, Timeout: time.Minute}
}

// procs is a network's validators, each a process.
type procs struct {
	cancel context.CancelFunc
	list   []*proc
}

type proc struct {
	cmd  *exec.Cmd
	log  string        // its output
	done chan struct{} // closed when it exited
}

// startProcs runs `o.Binary args... --home HOME` for every home, with its
// output in HOME/bench.log.
func startProcs(ctx context.Context, o Options, homes []string, args ...string) (*procs, error) {
	ctx, cancel := context.WithCancel(ctx)
	ps := &procs{cancel: cancel}
	for _, h := range homes {
		p, err := startProc(ctx, o.Binary, h, args)
		if err != nil {
			return nil, errors.Join(err, ps.stop())
		}
		ps.list = append(ps.list, p)
	}
	return ps, nil
}

func startProc(ctx context.Context, binary, home string, args []string) (*proc, error) {
	p := &proc{log: filepath.Join(home, "bench.log"), done: make(chan struct{})}
	f, err := os.Create(p.log)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the process has its own descriptor
	p.cmd = exec.CommandContext(ctx, binary, append(args, "--home", home)...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.SysProcAttr = sysProcAttr()
	// The end of ctx stops the node as Ctrl-C would, so that it closes its
	// stores, and kills it if it has not exited within stopWait.
	p.cmd.Cancel = func() error { return p.cmd.Process.Signal(syscall.SIGTERM) }
	p.cmd.WaitDelay = stopWait
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// wait polls ready until it reports true, a process exits or readyWait
// passes.
func (ps *procs) wait(ctx context.Context, ready func() bool) error {
	deadline := time.Now().Add(readyWait)
	for !ready() {
		for i, p := range ps.list {
			select {
			case <-p.done:
				return fmt.Errorf("node%d exited: %v%s", i, p.cmd.ProcessState, tail(p.log))
			default:
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("node0 not ready within %s%s", readyWait, tail(ps.list[0].log))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// stop sends every process SIGTERM and waits until all exited. One that
// did not exit cleanly is an error, with the end of its log.
func (ps *procs) stop() error {
	ps.cancel()
	var errs []error
	for i, p := range ps.list {
		<-p.done
		if st := p.cmd.ProcessState; st == nil || !st.Success() {
			errs = append(errs, fmt.Errorf("node%d: %v%s", i, st, tail(p.log)))
		}
	}
	return errors.Join(errs...)
}

// tail returns the end of a process's log, to explain its failure.
func tail(log string) string {
	b, _ := os.ReadFile(log)
	if len(b) == 0 {
		return ""
	}
	return "; its log ends:\n" + string(b[max(0, len(b)-2000):])
}
