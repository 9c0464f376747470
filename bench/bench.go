// Package bench measures a CareLedger node's committed transactions per
// second and submit-to-commit latency, and in the same run CometBFT's kvstore
// example application on the same engine, configuration and machine, so that
// the result is a ratio to a baseline rather than a number alone.
//
// Each system runs twice: saturated, to find its peak rate, then paced at
// half that rate, to measure latency under load that it can sustain.
//
// With Options.Processes each validator is a separate OS process (procs.go),
// loaded over HTTP from this one.
//
// With Options.Txs each phase submits a fixed number of transactions and
// waits until they all commit, instead of submitting for a fixed time: a run
// whose outcome does not depend on how busy the machine is, for tests of the
// harness, whose figures are not the benchmark's.
//
// bench imports node, app, tracker, client and CometBFT's kvstore example.
package bench

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cometbft/cometbft/abci/example/kvstore"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/mempool"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/tracker"
	"github.com/careledger/careledger/tx"
)

// Options configure a run.
type Options struct {
	// Duration is how long each phase submits. Default 10s.
	Duration time.Duration
	// TimeoutCommit is CometBFT's timeout_commit for both systems. Default
	// 100ms.
	TimeoutCommit time.Duration
	// Submitters is the number of goroutines submitting, as many clients of
	// the API would. Default 16.
	Submitters int
	// Batch is how many transactions a submitter hands over at once, as a
	// client of POST /v1/txs/batch would; when paced, batches go evenly
	// spaced, one at a time. Default 64, at most 1,000; 1 submits one at a
	// time.
	Batch int
	// Dir holds the nodes' homes. Default a temporary directory, removed
	// after the run.
	Dir string
	// Log receives progress lines. Default io.Discard.
	Log io.Writer
	// SkipBaseline measures CareLedger alone, for profiling.
	SkipBaseline bool
	// CPUProfile, if set, receives a CPU profile of CareLedger's saturated
	// phase.
	CPUProfile io.Writer
	// Validators is the number of validators of each network, all on this
	// machine, in this process unless Processes; transactions go to the
	// first. Default 1.
	Validators int
	// Processes runs each validator as a separate process of Binary, on
	// 127.0.0.1, and loads the first over HTTP (see procs.go).
	Processes bool
	// Binary is the careledger executable the processes run; required with
	// Processes.
	Binary string
	// Txs, if set, makes each phase submit exactly this many transactions
	// and wait until every one committed or Deadline passed, instead of
	// submitting for Duration. Its rates count all of a phase's
	// transactions, from its start to its last commit, ramp-up included:
	// they show that the harness works, not how fast the node is. Default
	// 0: phases of Duration.
	Txs int
	// Workload is what CareLedger is loaded with: Registrations (the
	// default), Claims or Bookings (workload.go), with one validator in
	// this process. The baseline is the same whatever the workload.
	Workload string
	// Deadline bounds a phase of Txs transactions; those not committed by
	// then count as lost. Default 1 minute; unused without Txs.
	Deadline time.Duration
}

func (o *Options) ensureDefaults() {
	if o.Duration == 0 {
		o.Duration = 10 * time.Second
	}
	if o.TimeoutCommit == 0 {
		o.TimeoutCommit = 100 * time.Millisecond
	}
	if o.Submitters == 0 {
		o.Submitters = 16
	}
	if o.Batch <= 0 {
		o.Batch = 64
	}
	o.Batch = min(o.Batch, 1000) // POST /v1/txs/batch takes no more
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Validators == 0 {
		o.Validators = 1
	}
	if o.Deadline == 0 {
		o.Deadline = time.Minute
	}
	if o.Workload == "" {
		o.Workload = Registrations
	}
}

// Result is one system's figures.
type Result struct {
	System string `json:"system"`
	// Workload is what the system was loaded with; kvstore's is its own.
	Workload string `json:"workload,omitempty"`
	// PeakTxPerSec is the committed rate when saturated.
	PeakTxPerSec float64 `json:"peak_tx_per_sec"`
	// HalfTxPerSec is the committed rate when paced at half the peak, and
	// P50 and P99 the submit-to-commit latencies there.
	HalfTxPerSec float64       `json:"half_tx_per_sec"`
	P50          time.Duration `json:"p50_ns"`
	P99          time.Duration `json:"p99_ns"`
	// HalfInterval is the mean time between blocks there, which the
	// latency goal counts in.
	HalfInterval time.Duration `json:"half_block_interval_ns"`
	// SaturatedP50 and SaturatedP99 are the latencies when saturated.
	SaturatedP50 time.Duration `json:"saturated_p50_ns"`
	SaturatedP99 time.Duration `json:"saturated_p99_ns"`
	// Submitted counts the transactions the node took, in both phases;
	// each of them either committed (Committed) or was lost (Lost).
	Submitted int `json:"submitted"`
	Committed int `json:"committed"`
	// Failed counts transactions that committed with a non-zero code; for
	// a sound run it is zero.
	Failed int `json:"failed"`
	// Lost counts transactions the mempool accepted that never committed.
	Lost int `json:"lost"`
	// CPUPerTx is the CPU time this process spent per transaction it
	// counted when saturated: with the nodes in this process (not
	// Processes), on Linux; a figure that a busy neighbour on the machine
	// moves less than the rate.
	CPUPerTx time.Duration `json:"cpu_per_tx_ns,omitempty"`
	// Booked counts the slots booked, in the bookings workload (every other
	// booking committed was refused: Failed); no slot was booked twice, or
	// the run fails.
	Booked int `json:"booked,omitempty"`
}

// Report is a whole run.
type Report struct {
	Machine string `json:"machine"`
	// Duration is each phase's, or 0 when each phase submitted Txs
	// transactions.
	Duration      time.Duration `json:"duration_ns"`
	Txs           int           `json:"txs,omitempty"`
	TimeoutCommit time.Duration `json:"timeout_commit_ns"`
	Validators    int           `json:"validators"`
	Processes     bool          `json:"processes"`
	CareLedger    Result        `json:"careledger"`
	Baseline      Result        `json:"baseline"`
	// Ratio is CareLedger's peak rate over the baseline's.
	Ratio float64 `json:"ratio"`
}

// Run measures the baseline, then CareLedger.
func Run(ctx context.Context, o Options) (Report, error) {
	o.ensureDefaults()
	r := Report{
		Machine:  machine(),
		Duration: o.Duration, Txs: o.Txs, TimeoutCommit: o.TimeoutCommit,
		Validators: o.Validators, Processes: o.Processes,
	}
	if o.Txs > 0 {
		r.Duration = 0
	}
	if o.Txs < 0 || o.Deadline < 0 {
		return r, fmt.Errorf("txs %d and deadline %s: want neither negative", o.Txs, o.Deadline)
	}
	if o.Processes && o.Binary == "" {
		return r, fmt.Errorf("processes need the careledger binary")
	}
	if o.Processes && o.CPUProfile != nil {
		return r, fmt.Errorf("a CPU profile covers this process only: it needs the nodes in it, not in processes")
	}
	if o.Dir == "" {
		dir, err := os.MkdirTemp("", "careledger-bench-")
		if err != nil {
			return r, err
		}
		defer os.RemoveAll(dir)
		o.Dir = dir
	}
	if o.Workload != Registrations && (o.Processes || o.Validators != 1) {
		return r, fmt.Errorf("the %s workload runs on one validator in this process", o.Workload)
	}
	kv, cl := inProcess(startKVStore), inProcess(func(home string) (*system, error) { return startCareLedger(ctx, home, o.Workload) })
	if o.Processes {
		kv, cl = kvstoreProcs, careledgerProcs
	}
	var err error
	if !o.SkipBaseline {
		if r.Baseline, err = measure(ctx, o, "kvstore", kv); err != nil {
			return r, fmt.Errorf("baseline: %w", err)
		}
	}
	if r.CareLedger, err = measure(ctx, o, "careledger", cl); err != nil {
		return r, fmt.Errorf("careledger: %w", err)
	}
	if r.Baseline.PeakTxPerSec > 0 {
		r.Ratio = r.CareLedger.PeakTxPerSec / r.Baseline.PeakTxPerSec
	}
	return r, nil
}

// system is a running node under test.
type system struct {
	// submit hands transactions to the node and returns those to offer
	// again because the mempool was full.
	submit func(raws [][]byte) (busy [][]byte, err error)
	// makeTxs returns n transactions never submitted before.
	makeTxs func(n int) [][]byte
	// committed receives each committed block's transaction hashes and
	// whether each applied.
	committed <-chan block
	stop      func() error
	// check, if set, reports a broken invariant once the phases are done.
	check func() error
	// booked, if set, counts the slots booked.
	booked func() int
}

type block struct {
	at     time.Time
	hashes [][32]byte
	failed int
}

// starter runs one node in this process.
type starter func(home string) (*system, error)

// network runs the validators of homes and returns the system of the
// first, which takes the load; its stop stops them all.
type network func(ctx context.Context, o Options, homes []string) (*system, error)

// inProcess runs every validator in this process. The others run beside
// the one under load; their blocks are the same and are only drained. Its
// stop stops them all.
func inProcess(start starter) network {
	return func(_ context.Context, _ Options, homes []string) (*system, error) {
		var stops []func() error
		stopAll := func() error {
			var errs []error
			for _, stop := range stops {
				errs = append(errs, stop())
			}
			return errors.Join(errs...)
		}
		for _, h := range homes[1:] {
			other, err := start(h)
			if err != nil {
				stopAll()
				return nil, err
			}
			stops = append(stops, other.stop)
			go func() {
				for range other.committed {
				}
			}()
		}
		sys, err := start(homes[0])
		if err != nil {
			stopAll()
			return nil, err
		}
		stops = append([]func() error{sys.stop}, stops...)
		sys.stop = stopAll
		return sys, nil
	}
}

func measure(ctx context.Context, o Options, name string, start network) (Result, error) {
	res := Result{System: name}
	if name == "careledger" {
		res.Workload = o.Workload
	}
	homes, err := initHomes(filepath.Join(o.Dir, name), o)
	if err != nil {
		return res, err
	}
	sys, err := start(ctx, o, homes)
	if err != nil {
		return res, err
	}
	defer func() {
		if err := sys.stop(); err != nil {
			fmt.Fprintf(o.Log, "%s: stop: %v\n", name, err)
		}
	}()
	if o.Txs > 0 {
		fmt.Fprintf(o.Log, "%s: saturating with %d transactions\n", name, o.Txs)
	} else {
		fmt.Fprintf(o.Log, "%s: saturating for %s\n", name, o.Duration)
	}
	profile := o.CPUProfile != nil && name == "careledger"
	if profile {
		if err := pprof.StartCPUProfile(o.CPUProfile); err != nil {
			return res, err
		}
	}
	peak, err := phase(ctx, o, sys, 0)
	if err == nil {
		err = ctx.Err() // interrupted: the figures would be partial
	}
	if profile {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return res, err
	}
	res.PeakTxPerSec, res.SaturatedP50, res.SaturatedP99 = peak.rate, peak.p50, peak.p99
	res.Submitted, res.Committed = peak.submitted, peak.committed
	res.Failed, res.Lost = peak.failed, peak.lost
	if !o.Processes {
		res.CPUPerTx = peak.cpuPerTx
	}
	if o.Txs > 0 {
		fmt.Fprintf(o.Log, "%s: peak %.0f tx/s; pacing %d transactions at %.0f tx/s\n", name, peak.rate, o.Txs, peak.rate/2)
	} else {
		fmt.Fprintf(o.Log, "%s: peak %.0f tx/s; pacing at %.0f tx/s for %s\n", name, peak.rate, peak.rate/2, o.Duration)
	}
	half, err := phase(ctx, o, sys, peak.rate/2)
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return res, err
	}
	res.HalfTxPerSec, res.P50, res.P99, res.HalfInterval = half.rate, half.p50, half.p99, half.interval
	res.Submitted += half.submitted
	res.Committed += half.committed
	res.Failed += half.failed
	res.Lost += half.lost
	fmt.Fprintf(o.Log, "%s: %.0f tx/s, p50 %s, p99 %s\n", name, half.rate, half.p50, half.p99)
	if sys.check != nil {
		if err := sys.check(); err != nil {
			return res, err
		}
	}
	if sys.booked != nil {
		res.Booked = sys.booked()
	}
	return res, nil
}

// initHomes makes the homes of a network of o.Validators validators. Node i
// listens for peers on port+i and, as a process, for its API on
// port+Validators+i.
func initHomes(dir string, o Options) ([]string, error) {
	port, err := freePort(2 * o.Validators)
	if err != nil {
		return nil, err
	}
	c := node.Config{HTTPAddr: "127.0.0.1:0", TimeoutCommit: node.Duration(o.TimeoutCommit), LogLevel: "none"}
	if o.Validators == 1 {
		c.P2PAddr = fmt.Sprintf("127.0.0.1:%d", port)
		if o.Processes {
			c.HTTPAddr = fmt.Sprintf("127.0.0.1:%d", port+1)
		}
		init := node.InitOptions{Config: c}
		if o.Workload == Claims {
			init.Others = []node.Org{benchPayer}
		}
		return []string{dir}, node.Init(dir, init)
	}
	homes, err := node.Testnet(dir, node.TestnetOptions{Validators: o.Validators, P2PBasePort: port, HTTPBasePort: port + o.Validators, Config: c})
	if err != nil || o.Processes {
		return homes, err
	}
	for _, h := range homes { // any free API port: only node0's API-less paths are used
		cfg, err := node.LoadConfig(h)
		if err != nil {
			return nil, err
		}
		cfg.HTTPAddr = "127.0.0.1:0"
		if err := node.SaveConfig(h, cfg); err != nil {
			return nil, err
		}
	}
	return homes, nil
}

type phaseResult struct {
	rate      float64
	p50, p99  time.Duration
	submitted int // taken by the node: committed + lost
	committed int
	failed    int
	lost      int
	cpuPerTx  time.Duration // this process's CPU time per transaction counted
	interval  time.Duration // the mean time between the window's blocks
}

// lostAfter is how long a phase waits for its last transactions once no
// more commit.
const lostAfter = 10 * time.Second

// phase submits for o.Duration, at rate transactions per second or as fast
// as the node takes them if rate is 0, and waits until every submitted
// transaction committed. The rate counts blocks committed after the first
// fifth of the phase, to leave out the ramp-up.
//
// With o.Txs it submits that many instead, and waits until all committed
// or o.Deadline passed; the rate then counts every one, from the phase's
// start to its last commit, and so does the CPU time.
func phase(ctx context.Context, o Options, sys *system, rate float64) (phaseResult, error) {
	var pr phaseResult
	counting := o.Txs > 0
	budget := int(rate*o.Duration.Seconds()*1.2) + 1000
	if rate == 0 {
		budget = int(40_000 * o.Duration.Seconds())
	}
	if counting {
		budget = o.Txs
	}
	txs := sys.makeTxs(budget)
	submitted := newClock()
	var next, inFlight, taken atomic.Int64
	start := time.Now()
	end := start.Add(o.Duration) // submitting stops; with o.Txs, everything
	if counting {
		end = start.Add(o.Deadline)
	}
	parent := ctx
	ctx, cancel := context.WithDeadline(ctx, end)
	defer cancel()

	tokens := make(chan struct{}, 1<<16)
	if rate > 0 {
		go pace(ctx, rate/float64(o.Batch), tokens) // a token is a batch
	}
	var wg sync.WaitGroup
	errc := make(chan error, o.Submitters)
	for range o.Submitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				n := o.Batch
				if rate > 0 {
					select {
					case <-tokens:
					case <-ctx.Done():
						return
					}
				}
				i := int(next.Add(int64(n))) - n
				if i >= len(txs) {
					return
				}
				batch := txs[i:min(i+n, len(txs))]
				now := time.Now()
				for _, raw := range batch {
					submitted.set(sha256.Sum256(raw), now)
				}
				offered := len(batch)
				for {
					again, err := sys.submit(batch)
					if err != nil {
						errc <- err
						return
					}
					if batch = again; len(batch) == 0 || ctx.Err() != nil {
						break
					}
					time.Sleep(time.Millisecond)
				}
				for _, raw := range batch { // never taken: the phase ended
					submitted.forget(sha256.Sum256(raw))
				}
				inFlight.Add(int64(offered - len(batch)))
				taken.Add(int64(offered - len(batch)))
			}
		}()
	}

	var latencies []time.Duration
	var counted int
	windowStart := start.Add(o.Duration / 5)
	var cpuStart, cpuEnd atomic.Int64
	if counting {
		windowStart = start
		cpuStart.Store(int64(cpuTime()))
	} else {
		time.AfterFunc(time.Until(windowStart), func() { cpuStart.Store(int64(cpuTime())) })
		time.AfterFunc(time.Until(end), func() { cpuEnd.Store(int64(cpuTime())) })
	}
	var lastCommit time.Time
	var blocks []time.Time // commit times of the window's blocks
	collect := func(b block) {
		pr.failed += b.failed
		if b.at.After(windowStart) && !b.at.After(end) {
			blocks = append(blocks, b.at)
		}
		for _, h := range b.hashes {
			at, ok := submitted.take(h)
			if !ok {
				continue
			}
			inFlight.Add(-1)
			latencies = append(latencies, b.at.Sub(at))
			if b.at.After(windowStart) && !b.at.After(end) {
				counted++
				lastCommit = b.at
			}
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	submitting := true
	progress := time.Now()
	for submitting || inFlight.Load() > 0 {
		select {
		case b := <-sys.committed:
			before := inFlight.Load()
			collect(b)
			if inFlight.Load() < before {
				progress = b.at
			}
		case <-done:
			submitting, done = false, nil
		case err := <-errc:
			return pr, err
		case <-time.After(time.Second):
		}
		if err := parent.Err(); err != nil {
			return pr, err // interrupted: nothing more to wait for
		}
		gaveUp := time.Since(progress) > lostAfter
		if counting {
			gaveUp = !time.Now().Before(end)
		}
		if !submitting && gaveUp {
			// The mempool accepted these and dropped them: CometBFT's
			// mempool may, under saturation. The tracker resubmits
			// CareLedger's; the baseline has none.
			pr.lost = int(inFlight.Load())
			break
		}
	}
	pr.submitted, pr.committed = int(taken.Load()), len(latencies)
	window := end.Sub(windowStart)
	switch {
	case counting:
		window = lastCommit.Sub(windowStart)
		cpuEnd.Store(int64(cpuTime()))
	case lastCommit.Before(end) && rate == 0 && len(txs) == int(next.Load()):
		window = lastCommit.Sub(windowStart) // ran out of transactions
	}
	if counted > 0 {
		pr.rate = float64(counted) / window.Seconds()
	}
	if counted > 0 && cpuEnd.Load() > cpuStart.Load() {
		pr.cpuPerTx = time.Duration((cpuEnd.Load() - cpuStart.Load()) / int64(counted))
	}
	pr.p50, pr.p99 = percentile(latencies, 50), percentile(latencies, 99)
	if len(blocks) > 1 {
		pr.interval = blocks[len(blocks)-1].Sub(blocks[0]) / time.Duration(len(blocks)-1)
	}
	return pr, nil
}

// pace issues rate tokens per second until ctx ends, catching up on
// whatever a busy machine delayed.
func pace(ctx context.Context, rate float64, tokens chan<- struct{}) {
	start := time.Now()
	issued := 0
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for due := int(rate * now.Sub(start).Seconds()); issued < due; issued++ {
				select {
				case tokens <- struct{}{}:
				case <-ctx.Done():
					return
				}
			}
		}
	}
}

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[(len(ds)-1)*p/100]
}

// clock remembers when each transaction was submitted.
type clock struct {
	mu sync.Mutex
	m  map[[32]byte]time.Time
}

func newClock() *clock { return &clock{m: make(map[[32]byte]time.Time)} }

func (c *clock) set(h [32]byte, t time.Time) {
	c.mu.Lock()
	c.m[h] = t
	c.mu.Unlock()
}

func (c *clock) forget(h [32]byte) {
	c.mu.Lock()
	delete(c.m, h)
	c.mu.Unlock()
}

func (c *clock) take(h [32]byte) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.m[h]
	delete(c.m, h)
	return t, ok
}

// startCareLedger runs a CareLedger node and loads it with patient
// registrations, each from a new key: signed, so every one costs a
// signature verification, and writing an account, a key index entry and a
// sequence number. Another load (Claims, Bookings) is prepared on the node
// first (workload.go); the blocks of its preparation are not passed on.
func startCareLedger(ctx context.Context, home, load string) (*system, error) {
	n, err := node.Open(home)
	if err != nil {
		return nil, err
	}
	blocks := make(chan block, 1<<14)
	var w *workload
	loading := make(chan struct{}) // closed once w is set: the listener reads it
	n.App().Listen(listener(func(b *app.Block) {
		out := block{at: time.Now(), hashes: make([][32]byte, len(b.Txs))}
		for i, r := range b.Txs {
			out.hashes[i] = r.Hash
			if r.Code != tx.CodeOK {
				out.failed++
			}
		}
		select {
		case <-loading:
			if w != nil {
				for _, r := range b.Txs {
					w.committed(r.Hash, r.Code)
				}
			}
		default:
			return // the workload's setup: not measured
		}
		blocks <- out
	}))
	if err := n.Start(); err != nil {
		n.Stop()
		return nil, err
	}
	if load != Registrations {
		if w, err = startWorkload(ctx, n, home, load); err != nil {
			n.Stop()
			return nil, fmt.Errorf("%s workload: %w", load, err)
		}
		close(loading)
		return &system{
			submit:    w.submit,
			makeTxs:   w.makeTxs,
			committed: blocks,
			stop:      n.Stop,
			check:     w.check,
			booked:    func() int { return int(w.booked.Load()) },
		}, nil
	}
	close(loading)
	tr := n.Tracker()
	chainID := n.ChainID()
	return &system{
		submit: func(raws [][]byte) ([][]byte, error) {
			rs, err := tr.SubmitAll(raws...)
			if err != nil {
				return nil, err
			}
			return offerAgain(raws, rs)
		},
		makeTxs:   func(count int) [][]byte { return registrations(chainID, count) },
		committed: blocks,
		stop:      n.Stop,
	}, nil
}

// offerAgain reads the tracker's answers to raws: it returns those refused
// because the mempool was full, and an error if one was refused otherwise.
func offerAgain(raws [][]byte, rs []tracker.Result) ([][]byte, error) {
	var again [][]byte
	for i, r := range rs {
		busy, err := busy(r)
		if err != nil {
			return nil, err
		}
		if busy {
			again = append(again, raws[i])
		}
	}
	return again, nil
}

// busy reads the tracker's answer to a submission: busy if the mempool is
// full, an error if the transaction was refused.
func busy(r tracker.Result) (bool, error) {
	if r.Status != tracker.Rejected {
		return false, nil
	}
	if r.Code == tx.CodeBusy {
		return true, nil
	}
	return false, fmt.Errorf("transaction rejected: %s: %s", r.Code, r.Log)
}

// registrations signs count patient registrations, on every core.
func registrations(chainID string, count int) [][]byte {
	out := make([][]byte, count)
	msg := contract.Encode(identity.RegisterPatient{})
	parallel(count, func(i int) {
		key := ed25519.GenPrivKey()
		t := &tx.Tx{ChainID: chainID, Signer: key.PubKey().Bytes(), Msgs: []tx.Msg{msg}}
		if err := t.Sign(key); err != nil {
			panic(err) // signing with a well-formed key cannot fail
		}
		out[i] = t.Encode()
	})
	return out
}

type listener func(*app.Block)

func (l listener) BlockCommitted(b *app.Block) { l(b) }

// KVStore returns the baseline: CometBFT's kvstore example, persistent, in
// home. `careledger bench kvstore-node` runs it as a process.
func KVStore(home string) abci.Application {
	return kvstore.NewPersistentApplication(filepath.Join(home, "data", "kvstore"))
}

// startKVStore runs CometBFT's kvstore example on a home made like
// CareLedger's, and loads it with 200-byte key=value transactions.
func startKVStore(home string) (*system, error) {
	kv := &observed{Application: KVStore(home), blocks: make(chan block, 1<<14)}
	cn, err := node.NewComet(home, kv)
	if err != nil {
		return nil, err
	}
	if err := cn.Start(); err != nil {
		return nil, err
	}
	mp := cn.Mempool()
	gen := &kvTxs{}
	return &system{
		submit: func(raws [][]byte) ([][]byte, error) {
			var again [][]byte
			for _, raw := range raws {
				err := mp.CheckTx(raw, nil, mempool.TxInfo{})
				if _, full := err.(mempool.ErrMempoolIsFull); full {
					again = append(again, raw)
				} else if err != nil {
					return nil, err
				}
			}
			return again, nil
		},
		makeTxs:   gen.make,
		committed: kv.blocks,
		stop: func() error {
			err := cn.Stop()
			cn.Wait()
			return err
		},
	}, nil
}

// kvTxs makes the baseline's transactions: 200 bytes, key=value, every key
// new.
type kvTxs struct{ seq atomic.Int64 }

func (g *kvTxs) make(count int) [][]byte {
	out := make([][]byte, count)
	base := g.seq.Add(int64(count)) - int64(count)
	for i := range out {
		t := fmt.Appendf(nil, "k%015d=", base+int64(i))
		for len(t) < 200 {
			t = append(t, 'v')
		}
		out[i] = t
	}
	return out
}

// observed reports each committed block of the application it wraps, at the
// same point as CareLedger's listeners: after Commit.
type observed struct {
	abci.Application
	blocks  chan block
	pending block
}

func (o *observed) FinalizeBlock(ctx context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	res, err := o.Application.FinalizeBlock(ctx, req)
	if err != nil {
		return nil, err
	}
	o.pending = kvBlock(req.Txs, res.TxResults)
	return res, nil
}

// kvBlock is a kvstore block's transaction hashes and failures.
func kvBlock[T ~[]byte](txs []T, results []*abci.ExecTxResult) block {
	b := block{hashes: make([][32]byte, len(txs))}
	for i, t := range txs {
		b.hashes[i] = sha256.Sum256(t)
		if results[i].Code != abci.CodeTypeOK {
			b.failed++
		}
	}
	return b
}

func (o *observed) Commit(ctx context.Context, req *abci.RequestCommit) (*abci.ResponseCommit, error) {
	res, err := o.Application.Commit(ctx, req)
	if err == nil {
		o.pending.at = time.Now()
		o.blocks <- o.pending
	}
	return res, err
}

func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// freePort returns a port below the kernel's ephemeral range (32768 and
// up), so that no outgoing connection takes it before the node binds it,
// with the n-1 after it free too: a network's consecutive ports.
func freePort(n int) (int, error) {
	start := os.Getpid() * 7919
	for i := range 2000 {
		p := 31700 + (start+i)%1000 - (start+i)%1000%16
		if free(p, n) {
			return p, nil
		}
	}
	return 0, fmt.Errorf("no free port below the ephemeral range")
}

// free reports whether the n ports from p are free now.
func free(p, n int) bool {
	for q := p; q < p+n; q++ {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", q))
		if err != nil {
			return false
		}
		ln.Close()
	}
	return true
}
