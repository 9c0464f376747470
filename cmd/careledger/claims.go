package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/claims/policycsv"
)

// policyRowsPerLoad is how many CSV rows one policy_load message carries:
// well inside the default 64 KiB transaction.
const policyRowsPerLoad = 1000

func runClaims(ctx context.Context, args []string) error {
	subs := map[string]func(context.Context, []string) error{"x12": runClaimsX12}
	for _, sc := range claimsCommands() {
		subs[sc.name] = func(ctx context.Context, args []string) error { return sc.runIn(ctx, "claims", args) }
	}
	return subcommand(ctx, "claims", args, subs)
}

// read runs a query as key with a bearer token and prints its answer.
func read[T any](ctx context.Context, c *client.Client, key ed25519.PrivKey, q func(tok string) (T, error)) error {
	tok, err := c.Token(ctx, key)
	if err != nil {
		return err
	}
	v, err := q(tok)
	if err != nil {
		return err
	}
	return printJSON(v)
}

func parseClaimID(s string) ([32]byte, error) {
	var id [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return id, usageError("a claim ID is 64 hex characters")
	}
	copy(id[:], b)
	return id, nil
}

func claimsCommands() []supplyCommand {
	var payer, reason, lines, letter *string
	var version, before *uint64
	var effective *uint
	var limit *int
	var overturn, uphold *bool
	return []supplyCommand{
		{name: "balance", argsUsage: "ORG", nargs: 1,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				return read(ctx, c, key, func(tok string) (any, error) { return c.LedgerAccount(ctx, tok, a[0]) })
			}},
		{name: "history", argsUsage: "ORG", nargs: 1,
			flags: func(fs *flag.FlagSet) {
				before = fs.Uint64("before", 0, "only entries with a seq below this one (default: from the latest)")
				limit = fs.Int("limit", 0, "at most this many entries (default: the node's, 50)")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				return read(ctx, c, key, func(tok string) (any, error) { return c.LedgerHistory(ctx, tok, a[0], *before, *limit) })
			}},
		{name: "show", argsUsage: "CLAIM", nargs: 1,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				id, err := parseClaimID(a[0])
				if err != nil {
					return err
				}
				return read(ctx, c, key, func(tok string) (any, error) { return c.Claim(ctx, tok, id) })
			}},
		{name: "deposit", argsUsage: "AMOUNT (minor units)", nargs: 1,
			flags: func(fs *flag.FlagSet) {
				payer = fs.String("payer", "", "the payer organization whose admin, service or claims agent member --key is (required)")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				amount, err := strconv.ParseUint(a[0], 10, 64)
				if err != nil || *payer == "" {
					return usageError("deposit takes --payer and an amount in minor units (cents)")
				}
				return send(ctx, c, key, claims.Deposit{Payer: *payer, Amount: amount})
			}},
		{name: "policy", argsUsage: "load FILE.csv", nargs: 2,
			flags: func(fs *flag.FlagSet) {
				payer = fs.String("payer", "", "the payer organization whose admin or service member --key is (required)")
				version = fs.Uint64("version", 0, "the policy version to load and publish, from 1 (required)")
				effective = fs.Uint("effective", 0, "the first date of service the version judges, YYYYMMDD (required)")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				if a[0] != "load" || *payer == "" || *version == 0 || *effective == 0 {
					return usageError("usage: careledger claims policy load --payer P --version N --effective YYYYMMDD FILE.csv")
				}
				return loadPolicy(ctx, c, key, a[1], *payer, *version, uint32(*effective))
			}},
		{name: "appeal", argsUsage: "CLAIM", nargs: 1,
			flags: func(fs *flag.FlagSet) {
				reason = fs.String("reason", "", "the appeal's reason code, such as auth-on-file or medical-necessity (required)")
				lines = fs.String("lines", "", "0-based indexes of the denied lines appealed, comma-separated (default: every denied line)")
				letter = fs.String("letter", "", "the appeal letter, kept here: the chain holds its SHA-256")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				m, err := appealMsg(a[0], *reason, *lines, *letter)
				if err != nil {
					return err
				}
				return send(ctx, c, key, m)
			}},
		{name: "decide-appeal", argsUsage: "CLAIM", nargs: 1,
			flags: func(fs *flag.FlagSet) {
				reason = fs.String("reason", "", "the decision's reason code (required)")
				overturn = fs.Bool("overturn", false, "overturn the denial: the lines are priced and paid at once")
				uphold = fs.Bool("uphold", false, "uphold the denial")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				id, err := parseClaimID(a[0])
				if err != nil {
					return err
				}
				if *overturn == *uphold {
					return usageError("give one of --overturn and --uphold")
				}
				return send(ctx, c, key, claims.DecideAppeal{Claim: id, Overturn: *overturn, Reason: *reason})
			}},
	}
}

func appealMsg(claim, reason, lines, letter string) (claims.Appeal, error) {
	id, err := parseClaimID(claim)
	if err != nil {
		return claims.Appeal{}, err
	}
	m := claims.Appeal{Claim: id, Reason: reason}
	for _, f := range strings.Split(lines, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		i, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return m, usageError(fmt.Sprintf("--lines: %q is not a line index", f))
		}
		m.Lines = append(m.Lines, i)
	}
	if letter != "" {
		b, err := os.ReadFile(letter)
		if err != nil {
			return m, err
		}
		m.Letter = sha256.Sum256(b)
	}
	return m, nil
}

// loadPolicy sends a policy table's rows as policy_load messages, one
// transaction each, then publishes the version: it takes effect whole.
func loadPolicy(ctx context.Context, c *client.Client, key ed25519.PrivKey, file, payer string, version uint64, effective uint32) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	loads, err := policycsv.Read(f, payer, version, policyRowsPerLoad)
	if err != nil {
		return usageError(err.Error())
	}
	for _, m := range loads {
		if err := send(ctx, c, key, m); err != nil {
			return err
		}
	}
	return send(ctx, c, key, claims.PolicyPublish{Payer: payer, Version: version, Effective: effective})
}
