package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/dataset"
)

// runDataset computes what a sponsor commits of a dataset file.
func runDataset(ctx context.Context, args []string) error {
	return subcommand(ctx, "dataset", args, map[string]func(context.Context, []string) error{
		"root":   datasetRoot,
		"leaves": datasetLeaves,
	})
}

// datasetRoot prints a dataset file's RFC 6962 root and row count: the
// fields of trials/commit_data.
func datasetRoot(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("dataset root", flag.ContinueOnError)
	if err := parse(fs, args, 1, "FILE"); err != nil {
		return err
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	root, rows, err := dataset.Root(f)
	if err != nil {
		return err
	}
	fmt.Printf("%x %d\n", root, rows)
	return nil
}

// datasetLeaves writes a dataset file's leaves file to standard output:
// what a sponsor publishes so that a verifier locates changed rows.
func datasetLeaves(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("dataset leaves", flag.ContinueOnError)
	if err := parse(fs, args, 1, "FILE"); err != nil {
		return err
	}
	hs, err := readLeafHashes(fs.Arg(0))
	if err != nil {
		return err
	}
	return dataset.WriteLeaves(os.Stdout, hs)
}

func readLeafHashes(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return dataset.LeafHashes(f)
}

// verifyDataset checks a dataset file against its committed root, given
// with --root (and --rows) or read from a node with --trial and --dataset.
func verifyDataset(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("verify dataset", flag.ContinueOnError)
	rootHex := fs.String("root", "", "the committed RFC 6962 root, hex (or --trial and --dataset)")
	rows := fs.Uint64("rows", 0, "the committed row count (0: not checked)")
	leavesPath := fs.String("leaves", "", "the committed dataset's leaves file, to locate the rows that differ")
	trial := fs.String("trial", "", "read the root and rows of --dataset of this trial from --node")
	ds := fs.String("dataset", "", "the dataset's ID, with --trial")
	asJSON := fs.Bool("json", false, "print the result, with its proofs, as JSON")
	nodeURL := nodeFlag(fs)
	keyName, keyDir := keyFlag(fs)
	if err := parse(fs, args, 1, "FILE"); err != nil {
		return err
	}
	root, err := hex.DecodeString(*rootHex)
	switch {
	case *trial != "" && *ds != "":
		c := client.New(*nodeURL)
		key, err := loadKey(*keyName, *keyDir)
		if err != nil {
			return err
		}
		tok, err := c.AuthToken(ctx, key)
		if err != nil {
			return err
		}
		d, err := c.TrialDataset(ctx, tok.Token, *trial, *ds)
		if err != nil {
			return err
		}
		root, *rows = d.Root[:], d.Rows
	case err != nil || len(root) != 32:
		return usageError("verify dataset needs --root (64 hex digits) or --trial and --dataset")
	}
	file, err := readLeafHashes(fs.Arg(0))
	if err != nil {
		return err
	}
	var committed [][]byte
	if *leavesPath != "" {
		f, err := os.Open(*leavesPath)
		if err != nil {
			return err
		}
		committed, err = dataset.ReadLeaves(f)
		f.Close()
		if err != nil {
			return err
		}
	}
	res, err := dataset.Compare(file, root, *rows, committed)
	if err != nil {
		return errors.New("NOT VERIFIED: " + err.Error())
	}
	if *asJSON {
		if err := printJSON(res); err != nil {
			return err
		}
	} else {
		fmt.Print(res.String())
	}
	if !res.Match {
		return errors.New("NOT VERIFIED: the file is not the committed dataset")
	}
	return nil
}
