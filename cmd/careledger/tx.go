package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/tx"
)

// txCommand is a `careledger tx` subcommand: its flags and how it turns
// them into messages, given the signing key and the client.
type txCommand struct {
	name, argsUsage string
	nargs           int
	msgs            func(ctx context.Context, c *client.Client, key ed25519.PrivKey, fs *flag.FlagSet) ([]tx.Msg, error)
	flags           func(fs *flag.FlagSet)
	// committed, if set, runs once the transaction committed.
	committed func(ctx context.Context, c *client.Client, fs *flag.FlagSet) error
}

func runTx(ctx context.Context, args []string) error {
	subs := map[string]func(context.Context, []string) error{}
	for _, tc := range txCommands() {
		subs[tc.name] = tc.run
	}
	return subcommand(ctx, "tx", args, subs)
}

func txCommands() []txCommand {
	return slices.Concat(identityCommands(), recoveryCommands(), consentCommands(), governanceCommands(), trialsCommands())
}

func identityCommands() []txCommand {
	var org, roles *string
	return []txCommand{
		{name: "register-patient", msgs: func(context.Context, *client.Client, ed25519.PrivKey, *flag.FlagSet) ([]tx.Msg, error) {
			return msgs(identity.RegisterPatient{}), nil
		}},
		{name: "register-member", argsUsage: "PUBKEY", nargs: 1,
			flags: func(fs *flag.FlagSet) {
				org = fs.String("org", "", "the member's organization (required)")
				roles = fs.String("roles", "", "comma-separated roles: "+roleList())
			},
			msgs: func(_ context.Context, _ *client.Client, _ ed25519.PrivKey, fs *flag.FlagSet) ([]tx.Msg, error) {
				pub, err := tx.ParsePubKey(fs.Arg(0))
				if err != nil {
					return nil, usageError(err.Error())
				}
				rs, err := parseRoles(*roles)
				return msgs(identity.RegisterMember{Org: *org, PubKey: pub, Roles: rs}), err
			}},
		{name: "set-roles", argsUsage: "ADDRESS", nargs: 1,
			flags: func(fs *flag.FlagSet) { roles = fs.String("roles", "", "comma-separated roles: "+roleList()) },
			msgs: func(_ context.Context, _ *client.Client, _ ed25519.PrivKey, fs *flag.FlagSet) ([]tx.Msg, error) {
				addr, err := tx.ParseAddress(fs.Arg(0))
				if err != nil {
					return nil, usageError(err.Error())
				}
				rs, err := parseRoles(*roles)
				return msgs(identity.SetMemberRoles{Member: addr, Roles: rs}), err
			}},
		{name: "suspend", argsUsage: "ADDRESS", nargs: 1, msgs: memberStatus(true)},
		{name: "reinstate", argsUsage: "ADDRESS", nargs: 1, msgs: memberStatus(false)},
		{name: "rotate-key", argsUsage: "NEW_KEY", nargs: 1,
			msgs: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, fs *flag.FlagSet) ([]tx.Msg, error) {
				dir := fs.Lookup("keys").Value.String()
				newKey, err := loadKey(fs.Arg(0), dir)
				if err != nil {
					return nil, err
				}
				chainID, err := c.ChainID(ctx)
				if err != nil {
					return nil, err
				}
				// The proof names the account rotated: the signer's, which is
				// not the one derived from its key if it was rotated to before.
				acct := tx.AddressOf(key.PubKey().Bytes())
				if info, err := keys.ReadInfo(keyPath(fs.Lookup("key").Value.String(), dir)); err == nil {
					acct = info.AccountAddress()
				}
				newPub := newKey.PubKey().Bytes()
				proof, err := newKey.Sign(identity.RotationSignBytes(chainID, acct, newPub))
				return msgs(identity.RotateKey{NewPubKey: newPub, Proof: proof}), err
			},
			committed: recordAccount},
	}
}

func (tc txCommand) run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("tx "+tc.name, flag.ContinueOnError)
	keyName, keyDir := keyFlag(fs)
	nodeURL := nodeFlag(fs)
	if tc.flags != nil {
		tc.flags(fs)
	}
	if err := parse(fs, args, tc.nargs, tc.argsUsage); err != nil {
		return err
	}
	key, err := loadKey(*keyName, *keyDir)
	if err != nil {
		return err
	}
	c := client.New(*nodeURL)
	ms, err := tc.msgs(ctx, c, key, fs)
	if err != nil {
		return err
	}
	res, err := c.Send(ctx, key, ms...)
	if res.Hash != (tx.Hash{}) {
		if perr := printJSON(res); perr != nil {
			return perr
		}
	}
	if err == nil && tc.committed != nil {
		err = tc.committed(ctx, c, fs)
	}
	return err
}

// recordAccount records beside the new key of a committed rotation the
// address of the account it now signs for, which is the rotated account's,
// not the one derived from the new key: `keys show --address` then gives
// the address that `query txs` knows.
func recordAccount(ctx context.Context, c *client.Client, fs *flag.FlagSet) error {
	path := keyPath(fs.Arg(0), fs.Lookup("keys").Value.String())
	info, err := keys.ReadInfo(path)
	if err != nil {
		return err
	}
	newKey, err := loadKey(fs.Arg(0), fs.Lookup("keys").Value.String())
	if err != nil {
		return err
	}
	token, err := c.Token(ctx, newKey)
	if err != nil {
		return fmt.Errorf("the rotation committed, but the new key could not log in: %w", err)
	}
	acct, err := c.WhoAmI(ctx, token)
	if err != nil {
		return fmt.Errorf("the rotation committed, but the new key's account was not found: %w", err)
	}
	if err := keys.SetAccount(path, acct.Address); err != nil {
		return fmt.Errorf("the rotation committed, but recording the new key's account failed: %w", err)
	}
	fmt.Fprintf(os.Stderr, "%s now signs for account %s (keys show --address prints it)\n", info.Name, acct.Address)
	return nil
}

func msgs(ms ...contract.Msg) []tx.Msg {
	out := make([]tx.Msg, len(ms))
	for i, m := range ms {
		out[i] = contract.Encode(m)
	}
	return out
}

func memberStatus(suspended bool) func(context.Context, *client.Client, ed25519.PrivKey, *flag.FlagSet) ([]tx.Msg, error) {
	return func(_ context.Context, _ *client.Client, _ ed25519.PrivKey, fs *flag.FlagSet) ([]tx.Msg, error) {
		addr, err := tx.ParseAddress(fs.Arg(0))
		if err != nil {
			return nil, usageError(err.Error())
		}
		return msgs(identity.SetMemberStatus{Member: addr, Suspended: suspended}), nil
	}
}

func parseRoles(s string) ([]identity.Role, error) {
	if s == "" {
		return nil, usageError("--roles is required: " + roleList())
	}
	var out []identity.Role
	for _, r := range strings.Split(s, ",") {
		role, err := identity.ParseRole(strings.TrimSpace(r))
		if err != nil {
			return nil, usageError(err.Error())
		}
		out = append(out, role)
	}
	return out, nil
}

func roleList() string {
	var names []string
	for _, r := range identity.Roles() {
		names = append(names, string(r))
	}
	return strings.Join(names, ", ")
}

func nodeFlag(fs *flag.FlagSet) *string {
	return fs.String("node", envOr("CARELEDGER_NODE", "http://127.0.0.1:8080"), "the node's API URL (env CARELEDGER_NODE)")
}
