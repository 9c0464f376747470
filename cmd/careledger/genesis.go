package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	cmtjson "github.com/cometbft/cometbft/libs/json"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/careledger/careledger/node"
)

// runGenesis starts a network of organizations on separate machines; see
// docs/DEPLOYMENT.md.
func runGenesis(ctx context.Context, args []string) error {
	return subcommand(ctx, "genesis", args, map[string]func(context.Context, []string) error{
		"entry":    genesisEntry,
		"assemble": genesisAssemble,
		"install":  genesisInstall,
	})
}

// genesisEntry prints this organization's entry: public keys and address.
func genesisEntry(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("genesis entry", flag.ContinueOnError)
	home := homeFlag(fs)
	public := fs.String("p2p-address", "", "host:port at which the other organizations' nodes reach this one (default: the configured listen address)")
	if err := parse(fs, args, 0, ""); err != nil {
		return err
	}
	e, err := node.OrgEntry(*home, *public)
	if err != nil {
		return err
	}
	return printJSON(e)
}

func readEntries(paths []string) ([]node.Entry, error) {
	var es []node.Entry
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var e node.Entry
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		es = append(es, e)
	}
	return es, nil
}

// genesisAssemble prints the genesis of the entries' organizations.
func genesisAssemble(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("genesis assemble", flag.ContinueOnError)
	chainID := fs.String("chain-id", "", "the network's chain ID (required)")
	if err := parse(fs, args, -1, "ENTRY.json..."); err != nil {
		return err
	}
	if *chainID == "" || fs.NArg() == 0 {
		return usageError("genesis assemble --chain-id ID ENTRY.json...")
	}
	es, err := readEntries(fs.Args())
	if err != nil {
		return err
	}
	doc, err := node.Assemble(*chainID, es)
	if err != nil {
		return err
	}
	b, err := cmtjson.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Println(string(b))
	return err
}

// genesisInstall makes a fresh home part of the network: its genesis, and
// its peers from the entries.
func genesisInstall(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("genesis install", flag.ContinueOnError)
	home := homeFlag(fs)
	if err := parse(fs, args, -1, "GENESIS.json ENTRY.json..."); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		return usageError("genesis install --home HOME GENESIS.json ENTRY.json...")
	}
	doc, err := cmttypes.GenesisDocFromFile(fs.Arg(0))
	if err != nil {
		return err
	}
	es, err := readEntries(fs.Args()[1:])
	if err != nil {
		return err
	}
	if err := node.Install(*home, doc, es); err != nil {
		return err
	}
	fmt.Printf("installed chain %s in %s, peered with %d nodes\n", doc.ChainID, *home, len(es)-1)
	return nil
}
