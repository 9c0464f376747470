package main

import (
	"context"
	"flag"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/governance"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

// governanceCommands are the `careledger tx` subcommands of proposals and
// votes, signed by an admin of a validator organization.
func governanceCommands() []txCommand {
	var (
		kind, org, name, orgType, admin, node, valKey, policy *string
		power, deadline                                       *int64
		maxTx, maxBlock, costLimit                            *uint64
		no                                                    *bool
	)
	return []txCommand{
		{name: "propose",
			flags: func(fs *flag.FlagSet) {
				kind = fs.String("kind", "", "admit_org, suspend_org, reinstate_org, remove_org, set_power or set_params (required)")
				deadline = fs.Int64("deadline", 100, "the blocks during which votes count")
				org = fs.String("org", "", "the organization's ID")
				name = fs.String("name", "", "admit_org: the organization's name")
				orgType = fs.String("type", "provider", "admit_org: provider, payer, pharma, research or regulator")
				admin = fs.String("admin", "", "admit_org: its first admin's public key")
				node = fs.String("node-key", "", "admit_org: its node's service key (optional)")
				valKey = fs.String("validator-key", "", "admit_org: its validator's public key (optional)")
				power = fs.Int64("power", 0, "admit_org or set_power: validator power")
				maxTx = fs.Uint64("max-tx-bytes", 0, "set_params: largest transaction")
				maxBlock = fs.Uint64("max-block-bytes", 0, "set_params: largest block")
				costLimit = fs.Uint64("cel-cost-limit", 0, "set_params: CEL cost limit")
				policy = fs.String("default-policy", "", "set_params: the default access policy, in CEL")
			},
			msgs: func(context.Context, *client.Client, ed25519.PrivKey, *flag.FlagSet) ([]tx.Msg, error) {
				m := governance.Propose{Kind: governance.Kind(*kind), Deadline: uint64(*deadline),
					Org:    identity.GenesisOrg{ID: *org, Name: *name, Type: identity.OrgType(*orgType), Power: *power},
					Params: governance.Params{MaxTxBytes: *maxTx, MaxBlockBytes: *maxBlock, CELCostLimit: *costLimit, DefaultPolicy: *policy},
				}
				for _, k := range []struct {
					s   string
					dst *[]tx.PubKey
				}{{*admin, &m.Org.Admins}, {*node, &m.Org.Nodes}} {
					if k.s != "" {
						pk, err := tx.ParsePubKey(k.s)
						if err != nil {
							return nil, usageError(err.Error())
						}
						*k.dst = []tx.PubKey{pk}
					}
				}
				if *valKey != "" {
					pk, err := tx.ParsePubKey(*valKey)
					if err != nil {
						return nil, usageError(err.Error())
					}
					m.Org.ValidatorKey = pk
				}
				return []tx.Msg{contract.Encode(m)}, nil
			}},
		{name: "vote", argsUsage: "PROPOSAL_ID", nargs: 1,
			flags: func(fs *flag.FlagSet) { no = fs.Bool("no", false, "vote against (default: for)") },
			msgs: func(ctx context.Context, c *client.Client, k ed25519.PrivKey, fs *flag.FlagSet) ([]tx.Msg, error) {
				return idMsg(func(id uint64) tx.Msg { return contract.Encode(governance.Vote{Proposal: id, Yes: !*no}) })(ctx, c, k, fs)
			}},
	}
}
