package main

import (
	"context"
	"flag"
	"strconv"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/tx"
)

// queryCommand reads one thing and prints it as JSON. All but open ones
// (status) log in with --key first: the node answers them only a registered
// account, and what concerns a patient only those who may see it.
type queryCommand struct {
	argsUsage string
	nargs     int
	open      bool
	get       func(ctx context.Context, c *client.Client, token string, args []string) (any, error)
}

func runQuery(ctx context.Context, args []string) error {
	subs := map[string]func(context.Context, []string) error{}
	for name, q := range queryCommands() {
		subs[name] = func(ctx context.Context, args []string) error {
			fs := flag.NewFlagSet("query "+name, flag.ContinueOnError)
			nodeURL := nodeFlag(fs)
			var keyName, keyDir *string
			if !q.open {
				keyName, keyDir = keyFlag(fs)
			}
			if err := parse(fs, args, q.nargs, q.argsUsage); err != nil {
				return err
			}
			c := client.New(*nodeURL)
			var tok string
			if !q.open {
				key, err := loadKey(*keyName, *keyDir)
				if err != nil {
					return err
				}
				a, err := c.AuthToken(ctx, key)
				if err != nil {
					return err
				}
				tok = a.Token
			}
			v, err := q.get(ctx, c, tok, fs.Args())
			if err != nil {
				return err
			}
			return printJSON(v)
		}
	}
	return subcommand(ctx, "query", args, subs)
}

func queryCommands() map[string]queryCommand {
	return map[string]queryCommand{
		"status": {open: true, get: func(ctx context.Context, c *client.Client, _ string, _ []string) (any, error) { return c.Status(ctx) }},
		"account": {argsUsage: "ADDRESS", nargs: 1, get: func(ctx context.Context, c *client.Client, tok string, a []string) (any, error) {
			addr, err := tx.ParseAddress(a[0])
			if err != nil {
				return nil, usageError(err.Error())
			}
			return c.Account(ctx, tok, addr)
		}},
		"key": {argsUsage: "PUBKEY", nargs: 1, get: func(ctx context.Context, c *client.Client, tok string, a []string) (any, error) {
			pub, err := tx.ParsePubKey(a[0])
			if err != nil {
				return nil, usageError(err.Error())
			}
			return c.KeyAccount(ctx, tok, pub)
		}},
		"txs": {argsUsage: "ADDRESS", nargs: 1, get: func(ctx context.Context, c *client.Client, tok string, a []string) (any, error) {
			addr, err := tx.ParseAddress(a[0])
			if err != nil {
				return nil, usageError(err.Error())
			}
			return c.AccountTxs(ctx, tok, addr, 0, 0)
		}},
		"tx": {argsUsage: "HASH", nargs: 1, get: func(ctx context.Context, c *client.Client, tok string, a []string) (any, error) {
			h, err := tx.ParseHash(a[0])
			if err != nil {
				return nil, usageError(err.Error())
			}
			return c.Tx(ctx, tok, h)
		}},
		"orgs": {get: func(ctx context.Context, c *client.Client, tok string, _ []string) (any, error) {
			return c.Orgs(ctx, tok)
		}},
		"org": {argsUsage: "ID", nargs: 1, get: func(ctx context.Context, c *client.Client, tok string, a []string) (any, error) {
			return c.Org(ctx, tok, a[0])
		}},
		"members": {argsUsage: "ORG", nargs: 1, get: func(ctx context.Context, c *client.Client, tok string, a []string) (any, error) {
			return c.Members(ctx, tok, a[0])
		}},
		"reviews": {argsUsage: "ORG", nargs: 1, get: func(ctx context.Context, c *client.Client, tok string, a []string) (any, error) {
			return c.Reviews(ctx, tok, a[0])
		}},
		"trial": {argsUsage: "TRIAL", nargs: 1, get: func(ctx context.Context, c *client.Client, tok string, a []string) (any, error) {
			return c.Trial(ctx, tok, a[0])
		}},
		"trial-report": {argsUsage: "TRIAL", nargs: 1, get: func(ctx context.Context, c *client.Client, tok string, a []string) (any, error) {
			return c.TrialReport(ctx, tok, a[0])
		}},
		"trial-dataset": {argsUsage: "TRIAL DATASET", nargs: 2, get: func(ctx context.Context, c *client.Client, tok string, a []string) (any, error) {
			return c.TrialDataset(ctx, tok, a[0], a[1])
		}},
		"bundle": {argsUsage: "EVENT_INDEX", nargs: 1, get: func(ctx context.Context, c *client.Client, tok string, a []string) (any, error) {
			ns, err := uints(a)
			if err != nil {
				return nil, err
			}
			return c.AuditBundle(ctx, tok, ns[0])
		}},
		"audit-event": {argsUsage: "EVENT_INDEX", nargs: 1, get: func(ctx context.Context, c *client.Client, tok string, a []string) (any, error) {
			ns, err := uints(a)
			if err != nil {
				return nil, err
			}
			return c.AuditEvent(ctx, tok, ns[0])
		}},
		"inclusion": {argsUsage: "EVENT_INDEX LOG_SIZE", nargs: 2, get: func(ctx context.Context, c *client.Client, tok string, a []string) (any, error) {
			ns, err := uints(a)
			if err != nil {
				return nil, err
			}
			return c.InclusionProof(ctx, tok, ns[0], ns[1])
		}},
		"consistency": {argsUsage: "FROM_SIZE TO_SIZE", nargs: 2, get: func(ctx context.Context, c *client.Client, tok string, a []string) (any, error) {
			ns, err := uints(a)
			if err != nil {
				return nil, err
			}
			return c.ConsistencyProof(ctx, tok, ns[0], ns[1])
		}},
		"checkpoint": {argsUsage: "HEIGHT", nargs: 1, get: func(ctx context.Context, c *client.Client, tok string, a []string) (any, error) {
			ns, err := uints(a)
			if err != nil {
				return nil, err
			}
			return c.Checkpoint(ctx, tok, int64(ns[0]))
		}},
		"proposal": {argsUsage: "ID", nargs: 1, get: func(ctx context.Context, c *client.Client, tok string, a []string) (any, error) {
			id, err := parseID(a[0])
			if err != nil {
				return nil, err
			}
			return c.Proposal(ctx, tok, id)
		}},
		"validators": {get: func(ctx context.Context, c *client.Client, tok string, _ []string) (any, error) {
			return c.Validators(ctx, tok)
		}},
		"grant": {argsUsage: "ID", nargs: 1, get: func(ctx context.Context, c *client.Client, tok string, a []string) (any, error) {
			id, err := parseID(a[0])
			if err != nil {
				return nil, err
			}
			return c.Grant(ctx, tok, id)
		}},
		"request": {argsUsage: "ID", nargs: 1, get: func(ctx context.Context, c *client.Client, tok string, a []string) (any, error) {
			id, err := parseID(a[0])
			if err != nil {
				return nil, err
			}
			return c.Request(ctx, tok, id)
		}},
		"grants": {argsUsage: "PATIENT", nargs: 1, get: func(ctx context.Context, c *client.Client, tok string, a []string) (any, error) {
			addr, err := tx.ParseAddress(a[0])
			if err != nil {
				return nil, usageError(err.Error())
			}
			return c.Grants(ctx, tok, addr)
		}},
		"delegates": {argsUsage: "PATIENT", nargs: 1, get: func(ctx context.Context, c *client.Client, tok string, a []string) (any, error) {
			addr, err := tx.ParseAddress(a[0])
			if err != nil {
				return nil, usageError(err.Error())
			}
			return c.Delegates(ctx, tok, addr)
		}},
		"recovery": {argsUsage: "PATIENT", nargs: 1, get: func(ctx context.Context, c *client.Client, tok string, a []string) (any, error) {
			addr, err := tx.ParseAddress(a[0])
			if err != nil {
				return nil, usageError(err.Error())
			}
			return c.Recovery(ctx, tok, addr)
		}},
		"block": {argsUsage: "[HEIGHT]", nargs: -1, get: func(ctx context.Context, c *client.Client, tok string, a []string) (any, error) {
			var h int64
			if len(a) > 0 {
				var err error
				if h, err = strconv.ParseInt(a[0], 10, 64); err != nil || h < 1 {
					return nil, usageError("HEIGHT must be a positive integer")
				}
			}
			return c.Block(ctx, tok, h)
		}},
	}
}

// uints parses non-negative integer arguments.
func uints(args []string) ([]uint64, error) {
	out := make([]uint64, len(args))
	for i, a := range args {
		n, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			return nil, usageError("want a non-negative integer, got " + strconv.Quote(a))
		}
		out[i] = n
	}
	return out, nil
}
