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
	scope := scopeFlag(fs)
	if err := parse(fs, args, 0, ""); err != nil {
		return err
	}
	key, err := loadKey(*keyName, *keyDir)
	if err != nil {
		return err
	}
	tok, err := client.New(*nodeURL).ScopedToken(ctx, key, *scope)
	if err != nil {
		return err
	}
	return printJSON(tok)
}

// scopeFlag adds --scope: the SMART v2 scopes to limit a token to.
func scopeFlag(fs *flag.FlagSet) *string {
	return fs.String("scope", "", `SMART v2 scopes to limit the token to, space-separated, such as "patient/Observation.rs" (default: not limited)`)
}
