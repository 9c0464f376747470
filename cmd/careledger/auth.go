package main

import (
	"context"
	"flag"

	"github.com/careledger/careledger/client"
)

func runAuth(ctx context.Context, args []string) error {
	return subcommand(ctx, "auth", args, map[string]func(context.Context, []string) error{
		"token": authToken,
	})
}

// authToken proves possession of a registered key and prints a bearer token.
func authToken(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("auth token", flag.ContinueOnError)
	keyName, keyDir := keyFlag(fs)
	nodeURL := nodeFlag(fs)
	if err := parse(fs, args, 0, ""); err != nil {
		return err
	}
	key, err := loadKey(*keyName, *keyDir)
	if err != nil {
		return err
	}
	tok, err := client.New(*nodeURL).AuthToken(ctx, key)
	if err != nil {
		return err
	}
	return printJSON(tok)
}
