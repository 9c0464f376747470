package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/careledger/careledger/bench"
)

// runBench measures CareLedger beside CometBFT's kvstore example and prints
// the figures as a table and, with --json, as JSON.
func runBench(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "join" {
		return runJoinBench(ctx, args[1:])
	}
	if len(args) > 0 && args[0] == "kvstore-node" {
		return runKVStoreNode(ctx, args[1:])
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	d := fs.Duration("duration", 10*time.Second, "how long each phase submits")
	tc := fs.Duration("timeout-commit", 100*time.Millisecond, "CometBFT timeout_commit for both systems")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	submitters := fs.Int("submitters", 0, "goroutines submitting transactions (default 16)")
	batch := fs.Int("batch", 0, "most transactions a submitter hands over at once (default 64)")
	skipBaseline := fs.Bool("skip-baseline", false, "measure CareLedger alone (for profiling; no ratio)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of CareLedger's saturated phase to this file")
	validators := fs.Int("validators", 1, "validators of each network, all on this machine")
	dir := fs.String("dir", "", "keep the nodes' homes (and, with --processes, their logs) in this directory (default: a temporary one, removed)")
	workload := fs.String("workload", bench.Registrations, fmt.Sprintf("what CareLedger is loaded with: %v (claims and bookings on one validator in this process)", bench.Workloads))
	processes := fs.Bool("processes", false, "run each validator as a separate process, loaded over HTTP (default: all in this process)")
	if err := parse(fs, args, 0, ""); err != nil {
		return err
	}
	o := bench.Options{Duration: *d, TimeoutCommit: *tc, Log: os.Stderr, SkipBaseline: *skipBaseline, Submitters: *submitters, Batch: *batch, Validators: *validators, Dir: *dir, Workload: *workload}
	if *processes {
		if *cpuProfile != "" {
			return usageError("--cpuprofile profiles this process only: it needs the nodes in it, without --processes")
		}
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		o.Processes, o.Binary = true, exe
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		o.CPUProfile = f
	}
	r, err := bench.Run(ctx, o)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(r)
	}
	where := "in this process"
	if r.Processes {
		where = "each a process"
	}
	fmt.Printf("machine: %s; timeout_commit %s; %s per phase; %d validator(s) %s\n", r.Machine, r.TimeoutCommit, r.Duration, r.Validators, where)
	fmt.Printf("%-11s %10s %10s %10s %10s %10s %10s %8s %6s %8s\n", "system", "peak tx/s", "half tx/s", "p50", "p99", "interval", "sat. p99", "failed", "lost", "CPU/tx")
	for _, s := range []bench.Result{r.Baseline, r.CareLedger} {
		fmt.Printf("%-11s %10.0f %10.0f %10s %10s %10s %10s %8d %6d %8s\n", s.System, s.PeakTxPerSec, s.HalfTxPerSec,
			s.P50.Round(time.Millisecond), s.P99.Round(time.Millisecond), s.HalfInterval.Round(time.Millisecond),
			s.SaturatedP99.Round(time.Millisecond), s.Failed, s.Lost, s.CPUPerTx.Round(time.Microsecond))
	}
	if r.CareLedger.Workload == bench.Bookings {
		fmt.Printf("bookings: %d slots booked, none twice; %d racers refused (failed), %d racers per slot\n", r.CareLedger.Booked, r.CareLedger.Failed, bench.RacersPerSlot)
	}
	fmt.Printf("careledger (%s) / kvstore peak: %.2f\n", r.CareLedger.Workload, r.Ratio)
	return nil
}

// runJoinBench times a new node joining a loaded network by state sync,
// beside one replaying every block.
func runJoinBench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench join", flag.ContinueOnError)
	txs := fs.Int("txs", 1_000_000, "transactions the network commits before the nodes join")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, args, 0, ""); err != nil {
		return err
	}
	r, err := bench.Join(ctx, bench.JoinOptions{Txs: *txs, Log: os.Stderr})
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(r)
	}
	fmt.Printf("machine: %s; %d transactions committed, joining at height %d\n", r.Machine, r.Txs, r.Height)
	fmt.Printf("snapshot at %d: %d MB in %d chunks\n", r.SnapshotHeight, r.SnapshotBytes>>20, r.SnapshotChunks)
	fmt.Printf("state sync %s; block sync (baseline) %s; block sync / state sync: %.1f\n",
		r.StateSync.Round(time.Millisecond), r.BlockSync.Round(time.Millisecond), r.Ratio)
	return nil
}
