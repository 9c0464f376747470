package main

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/tx"
)

// recoveryCommands are the `careledger tx` subcommands of recovery by
// guardians (docs/TRANSACTIONS.md 6.7 to 6.11).
func recoveryCommands() []txCommand {
	var guardians, proof *string
	var threshold *uint64
	var delay *time.Duration
	return []txCommand{
		{name: "set-guardians",
			flags: func(fs *flag.FlagSet) {
				guardians = fs.String("guardians", "", "comma-separated addresses of the guardians, at most 8 (required)")
				threshold = fs.Uint64("threshold", 0, "how many guardians must approve a recovery (required)")
				delay = fs.Duration("delay", 72*time.Hour, "time between the approvals and the recovery's effect, in whole seconds")
			},
			msgs: func(context.Context, *client.Client, ed25519.PrivKey, *flag.FlagSet) ([]tx.Msg, error) {
				m, err := guardianSet(*guardians, *threshold, *delay)
				return msgs(m), err
			}},
		{name: "remove-guardians", msgs: func(context.Context, *client.Client, ed25519.PrivKey, *flag.FlagSet) ([]tx.Msg, error) {
			return msgs(identity.SetGuardians{}), nil
		}},
		{name: "propose-recovery", argsUsage: "PATIENT NEW_KEY", nargs: 2,
			flags: func(fs *flag.FlagSet) {
				proof = fs.String("proof", "", "the new key's proof from `careledger keys recovery-proof`; NEW_KEY is then its public key, "+
					"else the name of a key here, which signs the proof")
			},
			msgs: func(ctx context.Context, c *client.Client, _ ed25519.PrivKey, fs *flag.FlagSet) ([]tx.Msg, error) {
				m, err := proposal(ctx, c, fs, *proof)
				return msgs(m), err
			}},
		{name: "approve-recovery", argsUsage: "PATIENT RECOVERY", nargs: 2, msgs: recoveryRef(func(p tx.Address, id uint64) contract.Msg {
			return identity.ApproveRecovery{Patient: p, Recovery: id}
		})},
		{name: "cancel-recovery", argsUsage: "PATIENT RECOVERY", nargs: 2, msgs: recoveryRef(func(p tx.Address, id uint64) contract.Msg {
			return identity.CancelRecovery{Patient: p, Recovery: id}
		})},
		{name: "complete-recovery", argsUsage: "PATIENT RECOVERY", nargs: 2, msgs: recoveryRef(func(p tx.Address, id uint64) contract.Msg {
			return identity.CompleteRecovery{Patient: p, Recovery: id}
		}), committed: recordRecovered},
	}
}

func guardianSet(list string, threshold uint64, delay time.Duration) (identity.SetGuardians, error) {
	m := identity.SetGuardians{Threshold: threshold, Delay: uint64(delay / time.Second)}
	if list == "" || threshold == 0 {
		return m, usageError("--guardians and --threshold are required (tx remove-guardians removes them)")
	}
	if delay <= 0 || delay%time.Second != 0 {
		return m, usageError("--delay must be a positive whole number of seconds")
	}
	for _, s := range strings.Split(list, ",") {
		a, err := tx.ParseAddress(strings.TrimSpace(s))
		if err != nil {
			return m, usageError(fmt.Sprintf("guardian %q: %v", s, err))
		}
		m.Guardians = append(m.Guardians, a)
	}
	return m, nil
}

// proposal builds a ProposeRecovery from its arguments: the new key's public
// key and --proof, or a key here that signs the proof.
func proposal(ctx context.Context, c *client.Client, fs *flag.FlagSet, proofHex string) (identity.ProposeRecovery, error) {
	patient, err := tx.ParseAddress(fs.Arg(0))
	if err != nil {
		return identity.ProposeRecovery{}, usageError(err.Error())
	}
	if proofHex != "" {
		pub, err := tx.ParsePubKey(fs.Arg(1))
		if err != nil {
			return identity.ProposeRecovery{}, usageError(err.Error())
		}
		proof, err := hex.DecodeString(proofHex)
		if err != nil || len(proof) != tx.SignatureSize {
			return identity.ProposeRecovery{}, usageError(fmt.Sprintf("--proof must be %d hex characters", 2*tx.SignatureSize))
		}
		return identity.ProposeRecovery{Patient: patient, NewPubKey: pub, Proof: proof}, nil
	}
	newKey, err := loadKey(fs.Arg(1), fs.Lookup("keys").Value.String())
	if err != nil {
		return identity.ProposeRecovery{}, err
	}
	pub, proof, err := recoveryProof(ctx, c, patient, newKey)
	return identity.ProposeRecovery{Patient: patient, NewPubKey: pub, Proof: proof}, err
}

// recoveryProof signs, with newKey, the proof that it asks to become
// patient's key on the node's chain.
func recoveryProof(ctx context.Context, c *client.Client, patient tx.Address, newKey ed25519.PrivKey) (pub, proof []byte, err error) {
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return nil, nil, err
	}
	pub = newKey.PubKey().Bytes()
	proof, err = newKey.Sign(identity.RotationSignBytes(chainID, patient, pub))
	return pub, proof, err
}

// recoveryRef builds a message naming a patient and a recovery number.
func recoveryRef(build func(tx.Address, uint64) contract.Msg) func(context.Context, *client.Client, ed25519.PrivKey, *flag.FlagSet) ([]tx.Msg, error) {
	return func(_ context.Context, _ *client.Client, _ ed25519.PrivKey, fs *flag.FlagSet) ([]tx.Msg, error) {
		patient, err := tx.ParseAddress(fs.Arg(0))
		if err != nil {
			return nil, usageError(err.Error())
		}
		id, err := strconv.ParseUint(fs.Arg(1), 10, 64)
		if err != nil {
			return nil, usageError("RECOVERY must be a recovery number")
		}
		return msgs(build(patient, id)), nil
	}
}

// recordRecovered records beside the signing key, if the recovery made it
// the patient's, the patient's address (as rotate-key does), so that `keys
// show --address` gives it.
func recordRecovered(ctx context.Context, c *client.Client, fs *flag.FlagSet) error {
	path := keyPath(fs.Lookup("key").Value.String(), fs.Lookup("keys").Value.String())
	key, err := loadKey(path, "")
	if err != nil {
		return err
	}
	patient, err := tx.ParseAddress(fs.Arg(0))
	if err != nil {
		return err
	}
	token, err := c.Token(ctx, key)
	if err != nil {
		return fmt.Errorf("the recovery completed, but the signing key could not log in: %w", err)
	}
	acct, err := c.WhoAmI(ctx, token)
	if err != nil || acct.Address != patient {
		return err // a guardian or another account completed it for the patient
	}
	if err := keys.SetAccount(path, patient); err != nil {
		return fmt.Errorf("the recovery completed, but recording the key's account failed: %w", err)
	}
	fmt.Fprintf(os.Stderr, "%s now signs for account %s\n", path, patient)
	return nil
}

// keysRecoveryProof prints the public key and proof by which a key asks to
// become a patient's key, for a guardian's `tx propose-recovery --proof`.
func keysRecoveryProof(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("keys recovery-proof", flag.ContinueOnError)
	dir := keysDirFlag(fs)
	nodeURL := nodeFlag(fs)
	patientFlag := fs.String("patient", "", "the address of the account to recover (required)")
	if err := parse(fs, args, 1, "NAME"); err != nil {
		return err
	}
	patient, err := tx.ParseAddress(*patientFlag)
	if err != nil {
		return usageError("--patient: " + err.Error())
	}
	key, err := loadKey(fs.Arg(0), *dir)
	if err != nil {
		return err
	}
	pub, proof, err := recoveryProof(ctx, client.New(*nodeURL), patient, key)
	if err != nil {
		return err
	}
	return printJSON(map[string]string{"patient": patient.String(), "new_pub_key": tx.PubKey(pub).String(), "proof": hex.EncodeToString(proof)})
}
