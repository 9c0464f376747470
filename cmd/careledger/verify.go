package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/audit"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/disclosure"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/trialreport"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/verify"
)

func runVerify(ctx context.Context, args []string) error {
	return subcommand(ctx, "verify", args, map[string]func(context.Context, []string) error{
		"bundle":       verifyBundle,
		"report":       verifyReport,
		"trial-report": verifyTrialReport,
		"dataset":      verifyDataset,
		"data":         verifyData,
	})
}

// trustFlag names the genesis file whose chain ID and validators are
// trusted.
func trustFlag(fs *flag.FlagSet) *string {
	return fs.String("genesis", filepath.Join(envOr("CARELEDGER_HOME", "./careledger-data"), "config", "genesis.json"),
		"the genesis file whose chain ID and validator set are trusted")
}

// trust is what a genesis file makes trusted: the chain ID, the validator
// set, and the organizations' node keys.
type trust struct {
	chainID  string
	vals     *cmttypes.ValidatorSet
	nodeKeys []tx.PubKey
}

// trusted reads a genesis file.
func trusted(path string) (*trust, error) {
	gen, err := cmttypes.GenesisDocFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("trusted genesis: %w", err)
	}
	vals := make([]*cmttypes.Validator, len(gen.Validators))
	for i, v := range gen.Validators {
		vals[i] = cmttypes.NewValidator(v.PubKey, v.Power)
	}
	g, err := app.ParseGenesis(gen.AppState)
	if err != nil {
		return nil, fmt.Errorf("trusted genesis: %w", err)
	}
	tr := &trust{chainID: gen.ChainID, vals: cmttypes.NewValidatorSet(vals)}
	for _, o := range g.Organizations {
		tr.nodeKeys = append(tr.nodeKeys, o.Nodes...)
	}
	return tr, nil
}

// readTrusted parses a verify command's flags and its one file argument,
// decodes the file into v (what names it in errors), and returns what the
// genesis makes trusted.
func readTrusted(name, argsUsage, what string, args []string, v any) (*trust, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	genesis := trustFlag(fs)
	if err := parse(fs, args, 1, argsUsage); err != nil {
		return nil, err
	}
	tr, err := trusted(*genesis)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("%s is not %s: %w", fs.Arg(0), what, err)
	}
	return tr, nil
}

// verifyBundle checks a proof bundle offline, with no node running, and
// prints the verified event.
func verifyBundle(_ context.Context, args []string) error {
	var bundle audit.Bundle
	tr, err := readTrusted("verify bundle", "BUNDLE.json", "a proof bundle", args, &bundle)
	if err != nil {
		return err
	}
	ev, err := bundle.Verify(tr.chainID, tr.vals)
	if err != nil {
		return errors.New("NOT VERIFIED: " + err.Error())
	}
	fmt.Fprintf(os.Stderr, "verified: event %d of %d, block %d, certified by block %d's validators\n", bundle.Index, bundle.LogSize, ev.Height, bundle.Height+1)
	return printJSON(ev)
}

// verifyReport checks an accounting of disclosures offline and prints a
// summary.
func verifyReport(_ context.Context, args []string) error {
	var r disclosure.Report
	tr, err := readTrusted("verify report", "REPORT.json", "an accounting of disclosures", args, &r)
	if err != nil {
		return err
	}
	if err := r.Verify(tr.chainID, tr.vals, tr.nodeKeys); err != nil {
		return errors.New("NOT VERIFIED: " + err.Error())
	}
	fmt.Printf("verified: %d disclosures of patient %s from %s to %s, proven in the log of %d events certified by block %d\n",
		len(r.Entries), r.Patient, r.From.Format("2006-01-02"), r.To.Format("2006-01-02"), r.LogSize, r.Height+1)
	return nil
}

// verifyTrialReport checks a trial's outcome-switching report offline and
// prints its findings.
func verifyTrialReport(_ context.Context, args []string) error {
	var r trialreport.Report
	tr, err := readTrusted("verify trial-report", "REPORT.json", "an outcome-switching report", args, &r)
	if err != nil {
		return err
	}
	if r.Findings == nil {
		return errors.New("NOT VERIFIED: the report has no findings")
	}
	if err := r.Verify(tr.chainID, tr.vals, tr.nodeKeys); err != nil {
		return errors.New("NOT VERIFIED: " + err.Error())
	}
	f := r.Findings
	fmt.Printf("verified: trial %s of %s, %d events proven in the log of %d events certified by block %d\n",
		r.Trial, r.Sponsor, len(r.Leaves), r.LogSize, r.Height+1)
	fmt.Printf("pre-specified (version %d): %d outcomes; %d results reports\n", f.Baseline, len(outcomesOf(f.Baseline, f)), len(f.Results))
	for _, x := range f.NotReported {
		fmt.Printf("not reported: %s (%s)\n", x.Outcome, x.Role)
	}
	for _, x := range f.NotPreSpecified {
		fmt.Printf("not pre-specified: %s (%s in version %d, reported at block %d)\n", x.Outcome, x.Role, x.At.Version, x.At.Height)
	}
	for _, c := range f.Changed {
		fmt.Printf("changed after data capture: %s from %q in version %d to %q in version %d (approved at block %d)\n",
			c.Outcome, c.From, c.Previous, c.To, c.Version, c.At.Height)
	}
	if !f.Switched() {
		fmt.Println("no switched outcome")
	}
	return nil
}

// outcomesOf returns the outcomes version n of the report pre-specifies.
func outcomesOf(n uint64, f *trials.Switching) []string {
	for _, v := range f.Versions {
		if v.Number == n {
			return append(append([]string{}, v.Primary...), v.Secondary...)
		}
	}
	return nil
}

// verifyData checks a stopped node's whole home directory.
func verifyData(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("verify data", flag.ContinueOnError)
	home := homeFlag(fs)
	if err := parse(fs, args, 0, ""); err != nil {
		return err
	}
	// A running node's stores are locked, and change as it runs: it is
	// checked stopped, and none starts while it is checked.
	unlock, err := node.LockHome(*home)
	if err != nil {
		return fmt.Errorf("verify data: %w", err)
	}
	defer unlock()
	sum, err := verify.Home(*home, os.Stdout)
	if err != nil {
		return errors.New("NOT VERIFIED: " + err.Error())
	}
	fmt.Printf("verified: chain %s, %d blocks, %d audit events, state version %d, %d record versions\n",
		sum.ChainID, sum.Blocks, sum.Events, sum.StateVersion, sum.Versions)
	return nil
}

// runRebuild rebuilds a stopped node's index and audit log from its blocks.
func runRebuild(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("rebuild", flag.ContinueOnError)
	home := homeFlag(fs)
	if err := parse(fs, args, 0, ""); err != nil {
		return err
	}
	unlock, err := node.LockHome(*home)
	if err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	defer unlock()
	_, err = node.Rebuild(*home, os.Stdout)
	return err
}
