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

	"github.com/careledger/careledger/audit"
)

func runVerify(ctx context.Context, args []string) error {
	return subcommand(ctx, "verify", args, map[string]func(context.Context, []string) error{
		"bundle": verifyBundle,
	})
}

// trustFlag names the genesis file whose chain ID and validators are
// trusted.
func trustFlag(fs *flag.FlagSet) *string {
	return fs.String("genesis", filepath.Join(envOr("CARELEDGER_HOME", "./careledger-data"), "config", "genesis.json"),
		"the genesis file whose chain ID and validator set are trusted")
}

// trusted reads the chain ID and validator set of a genesis file.
func trusted(path string) (string, *cmttypes.ValidatorSet, error) {
	gen, err := cmttypes.GenesisDocFromFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("trusted genesis: %w", err)
	}
	vals := make([]*cmttypes.Validator, len(gen.Validators))
	for i, v := range gen.Validators {
		vals[i] = cmttypes.NewValidator(v.PubKey, v.Power)
	}
	return gen.ChainID, cmttypes.NewValidatorSet(vals), nil
}

// verifyBundle checks a proof bundle offline, with no node running, and
// prints the verified event.
func verifyBundle(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("verify bundle", flag.ContinueOnError)
	genesis := trustFlag(fs)
	if err := parse(fs, args, 1, "BUNDLE.json"); err != nil {
		return err
	}
	chainID, vals, err := trusted(*genesis)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	var bundle audit.Bundle
	if err := json.Unmarshal(b, &bundle); err != nil {
		return fmt.Errorf("%s is not a proof bundle: %w", fs.Arg(0), err)
	}
	ev, err := bundle.Verify(chainID, vals)
	if err != nil {
		return errors.New("NOT VERIFIED: " + err.Error())
	}
	fmt.Fprintf(os.Stderr, "verified: event %d of %d, block %d, certified by block %d's validators\n", bundle.Index, bundle.LogSize, ev.Height, bundle.Height+1)
	return printJSON(ev)
}
