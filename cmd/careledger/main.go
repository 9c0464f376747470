// Command careledger runs a CareLedger node and talks to one: keys,
// transactions, queries, authentication and benchmarks.
//
// It is the only package that reads flags, environment variables and the
// terminal; everything else takes its configuration as values.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"syscall"
)

// command is a subcommand: its name, a one-line summary and what it runs.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string) error
}

func commands() []command {
	return []command{
		{"node", "run a node (creates ./careledger-data on first run)", runNode},
		{"init", "create a node home without starting it", runInit},
		{"genesis", "start a network of organizations on separate machines: genesis entry, assemble, install", runGenesis},
		{"testnet", "write the homes of an N-validator network on 127.0.0.1", runTestnet},
		{"keys", "manage key files: new, list, show", runKeys},
		{"tx", "sign and submit a transaction", runTx},
		{"query", "read the ledger as --key: status, accounts, organizations, blocks, transactions", runQuery},
		{"auth", "get a bearer token for a key: auth token", runAuth},
		{"fhir", "read or write FHIR records as a key's holder: fhir METHOD PATH [FILE]", runFHIR},
		{"audit", "a patient's accounting of disclosures: audit disclosures PATIENT", runAudit},
		{"supply", "drug supply chain: register-product, claim-parties, release-parties, record, recall, release, verify, journey, lot, subscribe", runSupply},
		{"schedule", "appointments: publish, open, book, cancel, reschedule, mark, slots, list", runSchedule},
		{"rewards", "reward programs: create, attest, close, redeem, rewarded, program, list", runRewards},
		{"ledger", "payment balances: deposit, send, balance", runLedger},
		{"claims", "claims and payments: balance, history, show, deposit, policy load, appeal, decide-appeal, x12", runClaims},
		{"trials", "recruitment without exposure: criteria, contact yes|no, recruitment, recruit, invitations", runTrials},
		{"dataset", "a trial dataset file's commitment: dataset root FILE, dataset leaves FILE", runDataset},
		{"verify", "check offline, with no node: verify bundle FILE, verify report FILE, verify trial-report FILE, verify dataset FILE", runVerify},
		{"rebuild", "rebuild a stopped node's index and audit log from its blocks", runRebuild},
		{"bench", "measure committed tx/s and latency beside CometBFT's kvstore; bench join: a node's join time", runBench},
	}
}

func main() {
	if os.Getenv("GOGC") == "" {
		// A node keeps hundreds of megabytes live (decoded state buckets,
		// LevelDB write buffers, the mempool). Collecting when the heap has
		// grown by twice that, not once, halves how often the collector
		// runs, which competes with the consensus path for two cores
		// (docs/BENCHMARKS.md). GOGC overrides it.
		debug.SetGCPercent(200)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "careledger:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitCode is 2 for usage errors and 1 for everything else.
func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

type usageError string

func (u usageError) Error() string { return string(u) }

func run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(os.Stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:])
		}
	}
	usage(os.Stderr)
	return usageError(fmt.Sprintf("unknown command %q", args[0]))
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: careledger COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun careledger COMMAND -h for a command's flags.")
}

// subcommand dispatches to one of subs by the first argument.
func subcommand(ctx context.Context, group string, args []string, subs map[string]func(context.Context, []string) error) error {
	var names []string
	for n := range subs {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(args) == 0 {
		return usageError(fmt.Sprintf("usage: careledger %s %v", group, names))
	}
	f, ok := subs[args[0]]
	if !ok {
		return usageError(fmt.Sprintf("unknown %s command %q; want one of %v", group, args[0], names))
	}
	return f(ctx, args[1:])
}

// parse parses flags and requires exactly nargs positional arguments
// (any number if nargs < 0).
func parse(fs *flag.FlagSet, args []string, nargs int, argsUsage string) error {
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: careledger %s [flags] %s\n", fs.Name(), argsUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if nargs >= 0 && fs.NArg() != nargs {
		fs.Usage()
		return usageError(fmt.Sprintf("%s takes %d argument(s): %s", fs.Name(), nargs, argsUsage))
	}
	return nil
}

// printJSON writes v as indented JSON on standard output.
func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// envOr returns the environment variable name, or def if it is unset.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
