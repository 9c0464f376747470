package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/node"
)

func runKeys(ctx context.Context, args []string) error {
	return subcommand(ctx, "keys", args, map[string]func(context.Context, []string) error{
		"new":  keysNew,
		"list": keysList,
		"show": keysShow,
		// recovery-proof: a new key's proof for a guardian's propose-recovery
		"recovery-proof": keysRecoveryProof,
	})
}

func keysDirFlag(fs *flag.FlagSet) *string {
	home := envOr("CARELEDGER_HOME", defaultHome)
	return fs.String("keys", envOr("CARELEDGER_KEYS", string(node.KeysDir(home))), "key directory (env CARELEDGER_KEYS)")
}

func keysNew(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("keys new", flag.ContinueOnError)
	dir := keysDirFlag(fs)
	seal := fs.Bool("seal", false, "seal the key with a passphrase (env CARELEDGER_PASSPHRASE, or asked on standard input)")
	if err := parse(fs, args, 1, "NAME"); err != nil {
		return err
	}
	var pass []byte
	if *seal {
		var err error
		if pass, err = passphrase("passphrase for the new key: "); err != nil {
			return err
		}
		if len(pass) == 0 {
			return usageError("--seal needs a non-empty passphrase")
		}
	}
	info, err := keys.Dir(*dir).New(fs.Arg(0), pass)
	if err != nil {
		return err
	}
	return printJSON(info)
}

func keysList(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("keys list", flag.ContinueOnError)
	dir := keysDirFlag(fs)
	if err := parse(fs, args, 0, ""); err != nil {
		return err
	}
	infos, err := keys.Dir(*dir).List()
	if err != nil {
		return err
	}
	return printJSON(infos)
}

func keysShow(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("keys show", flag.ContinueOnError)
	dir := keysDirFlag(fs)
	pubOnly := fs.Bool("pubkey", false, "print only the public key")
	addrOnly := fs.Bool("address", false, "print only the account address (after tx rotate-key to this key, the rotated account's)")
	if err := parse(fs, args, 1, "NAME"); err != nil {
		return err
	}
	info, err := keys.Dir(*dir).Show(fs.Arg(0))
	switch {
	case err != nil:
		return err
	case *pubOnly:
		fmt.Println(info.PubKey)
	case *addrOnly:
		fmt.Println(info.AccountAddress())
	default:
		return printJSON(info)
	}
	return nil
}

// keyFlag adds --key: a key name in the key directory, or a key file path.
func keyFlag(fs *flag.FlagSet) (name, dir *string) {
	return fs.String("key", "", "signing key: a name in the key directory or a path to a key file (required)"), keysDirFlag(fs)
}

// loadKey reads the key that --key names, asking for its passphrase if it
// is sealed.
func loadKey(name, dir string) (ed25519.PrivKey, error) {
	if name == "" {
		return nil, usageError("--key is required")
	}
	path := keyPath(name, dir)
	key, err := keys.Read(path, nil)
	if !errors.Is(err, keys.ErrPassphrase) {
		return key, err
	}
	pass, err := passphrase(fmt.Sprintf("passphrase for %s: ", path))
	if err != nil {
		return nil, err
	}
	return keys.Read(path, pass)
}

// keyPath returns the path of the key file that name gives: a name in the
// key directory dir, or a path.
func keyPath(name, dir string) string {
	if !strings.ContainsRune(name, os.PathSeparator) && !strings.HasSuffix(name, ".key") {
		return keys.Dir(dir).Path(name)
	}
	return name
}

// passphrase reads a passphrase from CARELEDGER_PASSPHRASE or a line of
// standard input.
func passphrase(prompt string) ([]byte, error) {
	if v, ok := os.LookupEnv("CARELEDGER_PASSPHRASE"); ok {
		return []byte(v), nil
	}
	fmt.Fprint(os.Stderr, prompt)
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	return []byte(strings.TrimRight(line, "\r\n")), nil
}
