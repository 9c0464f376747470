package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/cometbft/cometbft/crypto/ed25519"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/tx"
)

// supplyCommand is one subcommand of `careledger supply` (or of another
// group run by runCommands): its flags, its positional arguments, and what
// it does as --key at --node.
type supplyCommand struct {
	name, argsUsage string
	nargs           int
	flags           func(fs *flag.FlagSet)
	do              func(ctx context.Context, c *client.Client, key ed25519.PrivKey, fs *flag.FlagSet, args []string) error
}

func runSupply(ctx context.Context, args []string) error {
	return runCommands(ctx, "supply", supplyCommands(), args)
}

// runCommands runs the subcommand of group that args name.
func runCommands(ctx context.Context, group string, cmds []supplyCommand, args []string) error {
	subs := map[string]func(context.Context, []string) error{}
	for _, sc := range cmds {
		subs[sc.name] = func(ctx context.Context, args []string) error { return sc.run(ctx, group, args) }
	}
	return subcommand(ctx, group, args, subs)
}

func (sc supplyCommand) run(ctx context.Context, group string, args []string) error {
	fs := flag.NewFlagSet(group+" "+sc.name, flag.ContinueOnError)
	keyName, keyDir := keyFlag(fs)
	nodeURL := nodeFlag(fs)
	if sc.flags != nil {
		sc.flags(fs)
	}
	pos, err := parseAnyOrder(fs, args, sc.nargs, sc.argsUsage)
	if err != nil {
		return err
	}
	key, err := loadKey(*keyName, *keyDir)
	if err != nil {
		return err
	}
	return sc.do(ctx, client.New(*nodeURL), key, fs, pos)
}

// parseAnyOrder parses flags before, between and after the positional
// arguments ("verify GTIN SERIAL --lot L"), and requires nargs of them
// (any number if nargs < 0: the command checks them).
func parseAnyOrder(fs *flag.FlagSet, args []string, nargs int, argsUsage string) ([]string, error) {
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: careledger %s [flags] %s\n", fs.Name(), argsUsage)
		fs.PrintDefaults()
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	if nargs >= 0 && len(pos) != nargs {
		fs.Usage()
		return nil, usageError(fmt.Sprintf("%s takes %d argument(s): %s", fs.Name(), nargs, argsUsage))
	}
	return pos, nil
}

// send signs and submits ms as key and prints the transaction's answer.
func send(ctx context.Context, c *client.Client, key ed25519.PrivKey, ms ...contract.Msg) error {
	res, err := c.Send(ctx, key, msgs(ms...)...)
	if res.Hash != (tx.Hash{}) {
		if perr := printJSON(res); perr != nil {
			return perr
		}
	}
	return err
}

func supplyCommands() []supplyCommand {
	var owner, ndc, coldChain, lot, expiry, corr, signature, page *string
	var perPage *int
	var stream *bool
	return []supplyCommand{
		{name: "register-product", argsUsage: "GTIN", nargs: 1,
			flags: func(fs *flag.FlagSet) {
				owner = fs.String("owner", "", "the brand owner: an organization of type pharma whose admin or service member --key is (required)")
				ndc = fs.String("ndc", "", "the product's US National Drug Code, such as 12345-6789-01")
				coldChain = fs.String("cold-chain", "", `CEL over one sensor reading, true when it breaks the cold chain, `+
					`such as 'type == "Temperature" && (value < 2000 || value > 8000)' (thousandths of a degree)`)
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				if *owner == "" {
					return usageError("--owner is required")
				}
				return send(ctx, c, key, supply.RegisterProduct{Owner: *owner, GTIN: a[0], NDC: *ndc, Excursion: *coldChain})
			}},
		{name: "record", argsUsage: "FILE", nargs: 1,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				b, err := os.ReadFile(a[0])
				if err != nil {
					return err
				}
				m, err := parseRecordFile(b)
				if err != nil {
					return usageError(err.Error())
				}
				return send(ctx, c, key, m)
			}},
		{name: "recall", argsUsage: "GTIN LOT", nargs: 2,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				return send(ctx, c, key, supply.Recall{GTIN: a[0], Lot: a[1]})
			}},
		{name: "claim-parties", argsUsage: "ORG GLN[,GLN...]", nargs: 2,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				return send(ctx, c, key, supply.ClaimParties{Org: a[0], GLNs: splitList(a[1])})
			}},
		{name: "release-parties", argsUsage: "ORG GLN[,GLN...]", nargs: 2,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				return send(ctx, c, key, supply.ReleaseParties{Org: a[0], GLNs: splitList(a[1])})
			}},
		{name: "release", argsUsage: "EPC[,EPC...]", nargs: 1,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				var m supply.Release
				for _, e := range strings.Split(a[0], ",") {
					m.EPCs = append(m.EPCs, supply.EPC(strings.TrimSpace(e)))
				}
				return send(ctx, c, key, m)
			}},
		{name: "verify", argsUsage: "GTIN SERIAL", nargs: 2,
			flags: func(fs *flag.FlagSet) {
				lot = fs.String("lot", "", "the lot printed on the package (GS1 AI 10)")
				expiry = fs.String("expiry", "", "the expiry printed on the package, YYMMDD (GS1 AI 17)")
				corr = fs.String("corr-uuid", "", "a correlation ID echoed in the answer")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				tok, err := c.Token(ctx, key)
				if err != nil {
					return err
				}
				v, err := c.Verify(ctx, tok, client.VerifyRequest{GTIN: a[0], Serial: a[1], Lot: *lot, Expiry: *expiry, CorrUUID: *corr})
				if err != nil {
					return err
				}
				return printJSON(v)
			}},
		{name: "journey", argsUsage: "EPC (/01/{gtin}/21/{serial} or /00/{sscc})", nargs: 1,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				tok, err := c.Token(ctx, key)
				if err != nil {
					return err
				}
				j, err := c.Journey(ctx, tok, a[0])
				if err != nil {
					return err
				}
				return printJSON(j)
			}},
		{name: "lot", argsUsage: "GTIN LOT", nargs: 2,
			flags: func(fs *flag.FlagSet) {
				perPage = fs.Int("per-page", 0, "units per page, 1 to 1000 (default 100)")
				page = fs.String("page", "", "the nextPageToken of the previous page")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				tok, err := c.Token(ctx, key)
				if err != nil {
					return err
				}
				l, err := c.Lot(ctx, tok, a[0], a[1], *perPage, *page)
				if err != nil {
					return err
				}
				return printJSON(l)
			}},
		{name: "subscribe", argsUsage: "QUERY URL | --stream QUERY", nargs: -1,
			flags: func(fs *flag.FlagSet) {
				signature = fs.String("signature-token", "", "a secret the node signs each delivery with (HMAC-SHA-256 in GS1-Signature)")
				stream = fs.Bool("stream", false, "subscribe by WebSocket for as long as the command runs, printing each document as a line")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				if want := map[bool]int{false: 2, true: 1}[*stream]; len(a) != want {
					return usageError("subscribe takes QUERY URL, or --stream QUERY")
				}
				tok, err := c.Token(ctx, key)
				if err != nil {
					return err
				}
				if *stream {
					return printStream(ctx, c, tok, a[0])
				}
				s, err := c.Subscribe(ctx, tok, a[0], v1.SubscriptionRequest{Dest: a[1], SignatureToken: *signature})
				if err != nil {
					return err
				}
				return printJSON(s)
			}},
		{name: "subscriptions", argsUsage: "QUERY", nargs: 1,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				tok, err := c.Token(ctx, key)
				if err != nil {
					return err
				}
				l, err := c.Subscriptions(ctx, tok, a[0])
				if err != nil {
					return err
				}
				return printJSON(l)
			}},
		{name: "unsubscribe", argsUsage: "QUERY ID", nargs: 2,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				tok, err := c.Token(ctx, key)
				if err != nil {
					return err
				}
				return c.Unsubscribe(ctx, tok, a[0], a[1])
			}},
	}
}

// printStream prints each document of a WebSocket subscription to query
// as one line, until the command is interrupted or the node closes the
// stream.
func printStream(ctx context.Context, c *client.Client, token, query string) error {
	docs, err := c.StreamSubscription(ctx, token, query)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "subscribed to %s by WebSocket; each block's matches follow, one document a line (Ctrl-C ends)\n", query)
	for d := range docs {
		fmt.Printf("%s\n", d)
	}
	if ctx.Err() == nil {
		return fmt.Errorf("the node closed the stream")
	}
	return nil
}
