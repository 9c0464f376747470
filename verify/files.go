package verify

import (
	"bytes"
	"context"
	stded25519 "crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/libs/protoio"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/dscsa"
	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/state"
	"github.com/careledger/careledger/tracker"
)

// notChecked names the files that no check reads, and why that is safe.
// Patterns are matched against the path relative to the home with
// path.Match; the first match wins.
var notChecked = []struct{ pattern, why string }{
	{"node.pid", "the lock a running node holds; it holds only the process ID"},
	{"data/*/LOCK", "LevelDB's lock file"},
	{"data/*/*/LOCK", "LevelDB's lock file"},
	{"data/*/LOG*", "LevelDB's text log; nothing reads it"},
	{"data/*/*/LOG*", "LevelDB's text log; nothing reads it"},
	{"data/*/CURRENT.bak", "LevelDB's copy of CURRENT, read only when CURRENT is lost"},
	{"data/*/*/CURRENT.bak", "LevelDB's copy of CURRENT, read only when CURRENT is lost"},
	{"data/cs.wal/wal.CORRUPTED", "the copy CometBFT kept of a WAL it repaired; nothing reads it"},
	{"config/addrbook.json", "peers' addresses, which the node learns again"},
	{"config/auth_secret", "a random secret that signs API tokens; any value is valid, and a changed one only ends the tokens issued"},
	{"config/careledger.json", "the operator's settings: checked for form only, since any valid value may be the operator's"},
	{"config/node_key.json", "the p2p key: checked for form only, since any key is valid (a changed one changes the node's ID, which peers then refuse)"},
}

// files checks the files of the home outside the stores and the WAL, and
// lists those that no check reads.
func (c *checker) files(sum *Summary) error {
	checks := map[string]func(string) error{
		"config/genesis.json":            c.genesis,
		"config/priv_validator_key.json": c.validatorKey,
		"data/priv_validator_state.json": c.signState,
		"config/careledger.json":         wellFormed,
		"config/node_key.json":           nodeKey,
		"config/vault_master.key":        c.masterKey,
		"data/dscsa/subscriptions.json":  dscsa.CheckSubscriptionsFile,
	}
	stores, err := levelDBs(c.home)
	if err != nil {
		return err
	}
	checked := 0
	err = filepath.WalkDir(c.home, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(c.home, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if why, ok := skipped(rel); ok {
			sum.NotChecked = append(sum.NotChecked, rel+": "+why)
			if check := checks[rel]; check == nil {
				return nil
			}
		}
		var check func(string) error
		switch {
		case checks[rel] != nil:
			check = checks[rel]
		case inStore(rel, stores), rel == "data/cs.wal/wal" || isRotatedWAL(path.Base(rel)) && path.Dir(rel) == "data/cs.wal":
			return nil // read by the store and WAL checks
		case path.Dir(rel) == "keys":
			check = keyFile
		case path.Dir(rel) == "data/journal":
			check = journalSegment
		default:
			sum.NotChecked = append(sum.NotChecked, rel+": unknown to verify data")
			return nil
		}
		checked++
		if err := check(p); err != nil {
			c.damage(Damage{Part: rel, Problem: err.Error(), Remedy: remedyConfig})
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "files: %d checked (keys, signing state, genesis, journal, subscriptions)\n", checked)
	for _, nc := range sum.NotChecked {
		fmt.Fprintf(c.out, "  not checked: %s\n", nc)
	}
	return nil
}

func skipped(rel string) (string, bool) {
	for _, nc := range notChecked {
		if ok, _ := path.Match(nc.pattern, rel); ok {
			return nc.why, true
		}
	}
	return "", false
}

// inStore reports whether rel is in one of the LevelDB stores.
func inStore(rel string, stores []string) bool {
	for _, s := range stores {
		if path.Dir(rel) == filepath.ToSlash(s) {
			return true
		}
	}
	return false
}

// wellFormed requires a JSON file to parse.
func wellFormed(p string) error {
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if !json.Valid(b) {
		return errors.New("not well-formed JSON")
	}
	return nil
}

// nodeKey requires the p2p key file to parse.
func nodeKey(p string) error {
	_, err := p2p.LoadNodeKey(p)
	return err
}

// canonical decodes a file CometBFT writes with cmtjson into v, and
// requires its bytes to be exactly those CometBFT writes for what it
// decoded: then no byte of it is ignored, and a changed byte changes a
// value, which the caller checks.
func canonical(p string, v any) error {
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if err := cmtjson.Unmarshal(b, v); err != nil {
		return fmt.Errorf("does not decode: %w", err)
	}
	want, err := cmtjson.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if !bytes.Equal(bytes.TrimSuffix(b, []byte("\n")), want) {
		return errors.New("is not as CometBFT writes it: a byte was changed")
	}
	return nil
}

// validatorKey requires the validator's key to be consistent: the public
// key is the private key's, the address the public key's.
func (c *checker) validatorKey(p string) error {
	var k privval.FilePVKey
	if err := canonical(p, &k); err != nil {
		return err
	}
	if k.PrivKey == nil || k.PubKey == nil || !bytes.Equal(k.Address, k.PubKey.Address()) {
		return errors.New("its public key and address do not match")
	}
	// CometBFT's private key holds its public key after the seed, and
	// returns that without deriving it: derive it from the seed.
	priv := k.PrivKey.Bytes()
	if len(priv) != stded25519.PrivateKeySize ||
		!bytes.Equal(stded25519.NewKeyFromSeed(priv[:stded25519.SeedSize]), priv) || !bytes.Equal(priv[stded25519.SeedSize:], k.PubKey.Bytes()) {
		return errors.New("its private key and public key do not match")
	}
	return nil
}

// signState requires the validator's last signature to be its key's over
// the bytes it names, and those bytes to be of the height, round and step
// it names: the state CometBFT reads to refuse to sign twice.
func (c *checker) signState(p string) error {
	var st privval.FilePVLastSignState
	if err := canonical(p, &st); err != nil {
		return err
	}
	if st.Height == 0 && st.Signature == nil && st.SignBytes == nil {
		return nil // never signed
	}
	var k privval.FilePVKey
	if err := cmtjson.Unmarshal(mustRead(filepath.Join(c.home, "config", "priv_validator_key.json")), &k); err != nil || k.PubKey == nil {
		return errors.New("no validator key to check the signature with")
	}
	if !k.PubKey.VerifySignature(st.SignBytes, st.Signature) {
		return errors.New("the last signature is not the validator's over the sign bytes")
	}
	h, r, step, err := signedAt(st.SignBytes)
	if err != nil {
		return err
	}
	if h != st.Height || r != st.Round || step != st.Step {
		return fmt.Errorf("it names height %d round %d step %d, but its sign bytes are of height %d round %d step %d", st.Height, st.Round, st.Step, h, r, step)
	}
	return nil
}

func mustRead(p string) []byte { b, _ := os.ReadFile(p); return b }

// signedAt decodes sign bytes (a length-delimited canonical vote or
// proposal) and returns their height, round and privval step. The two
// messages differ from their fourth field on (a vote's block ID, a
// proposal's POL round), so each is tried and its type must agree.
func signedAt(sb []byte) (int64, int32, int8, error) {
	var v cmtproto.CanonicalVote
	if err := protoio.UnmarshalDelimited(sb, &v); err == nil {
		switch v.Type {
		case cmtproto.PrevoteType:
			return v.Height, int32(v.Round), 2, nil
		case cmtproto.PrecommitType:
			return v.Height, int32(v.Round), 3, nil
		}
	}
	var pr cmtproto.CanonicalProposal
	if err := protoio.UnmarshalDelimited(sb, &pr); err == nil && pr.Type == cmtproto.ProposalType {
		return pr.Height, int32(pr.Round), 1, nil
	}
	return 0, 0, 0, errors.New("sign bytes do not decode as a vote or a proposal")
}

// keyFile reads a key file's public fields and checks all of it but what
// only its passphrase opens.
func keyFile(p string) error {
	if strings.HasSuffix(p, ".account") {
		return nil // read with its key file
	}
	_, err := keys.ReadInfo(p)
	return err
}

// journalSegment requires a segment of the tracker's journal to be whole
// records: bytes after them, which a restart ignores, are damage (or a
// write a crash cut short).
func journalSegment(p string) error {
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if n, trailing := tracker.CheckSegment(b); trailing > 0 {
		return fmt.Errorf("the record after the first %d (byte %d) is damaged: a restart resubmits only the transactions before it", n, len(b)-trailing)
	}
	return nil
}

// masterKey is read by the vault check, when the home has a vault.
func (c *checker) masterKey(p string) error {
	if _, err := os.Stat(filepath.Join(c.data, "vault", "vault.db")); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if c.bad["data/vault"] {
		return errors.New("the vault does not open with it, or is damaged")
	}
	return nil
}

// genesis checks what block 1 certifies of the genesis: its time, its
// consensus parameters, and the application state InitChain makes of it,
// whose hash is block 1's app hash. (Its chain ID and validators are
// checked with every block.)
func (c *checker) genesis(string) error {
	if c.first == nil || c.first.Height != c.initialHeight {
		return nil // no block, or the node joined by state sync
	}
	g, b := c.gen, c.first
	if !b.Time.Equal(g.GenesisTime) {
		return fmt.Errorf("its time is not block %d's", b.Height)
	}
	if !bytes.Equal(g.ConsensusParams.Hash(), b.ConsensusHash) {
		return fmt.Errorf("its consensus parameters are not those block %d names", b.Height)
	}
	a, err := app.New(state.OpenMemory(), app.Config{ChainID: g.ChainID})
	if err != nil {
		return err
	}
	vals := make([]abci.ValidatorUpdate, len(g.Validators))
	for i, v := range g.Validators {
		vals[i] = abci.Ed25519ValidatorUpdate(v.PubKey.Bytes(), v.Power)
	}
	res, err := a.InitChain(context.Background(), &abci.RequestInitChain{
		Time: g.GenesisTime, ChainId: g.ChainID, InitialHeight: g.InitialHeight, Validators: vals, AppStateBytes: g.AppState,
	})
	if err != nil {
		return fmt.Errorf("its application state does not start a chain: %w", err)
	}
	if !bytes.Equal(res.AppHash, b.AppHash) {
		return fmt.Errorf("its application state is not the one block %d's app hash commits to", b.Height)
	}
	return nil
}
