package main

import (
	"context"
	"flag"
	"strconv"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract/trials"
)

func runTrials(ctx context.Context, args []string) error {
	return runCommands(ctx, "trials", recruitCommands(), args)
}

// recruitCommands are `careledger trials …`: recruitment without exposure.
// The trial's other messages are `careledger tx trial-…`.
func recruitCommands() []supplyCommand {
	var patient *string
	return []supplyCommand{
		{name: "criteria", argsUsage: "TRIAL RULE", nargs: 2,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				return send(ctx, c, key, trials.Criteria{Trial: a[0], Rule: a[1]})
			}},
		{name: "contact", argsUsage: "yes|no", nargs: 1,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				in, err := strconv.ParseBool(map[string]string{"yes": "true", "no": "false"}[a[0]])
				if err != nil {
					return usageError("trials contact takes yes (custodians may contact you about research) or no")
				}
				return send(ctx, c, key, trials.Contact{OptIn: in})
			}},
		{name: "recruitment", argsUsage: "TRIAL", nargs: 1,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				return read(ctx, c, key, func(tok string) (any, error) { return c.Recruitment(ctx, tok, a[0]) })
			}},
		{name: "recruit", argsUsage: "TRIAL", nargs: 1,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				return read(ctx, c, key, func(tok string) (any, error) { return c.Recruit(ctx, tok, a[0]) })
			}},
		{name: "invitations",
			flags: func(fs *flag.FlagSet) {
				patient = fs.String("patient", "", "the patient's address, for a delegate (default: --key's own)")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, _ []string) error {
				p, err := patientOrSigner(*patient, key)
				if err != nil {
					return err
				}
				return read(ctx, c, key, func(tok string) (any, error) { return c.Invitations(ctx, tok, p) })
			}},
	}
}
