// Package verify checks a node's home directory offline, with no node
// running and no trust in what the node stored: every block (linked by
// hash, signed by two thirds of its validators, the validator sets
// followed from genesis through the headers), the audit log
// (every leaf rehashed, every checkpoint's root recomputed, every app hash
// in the block headers rederived from the log and the state), the state
// (every value rehashed into its bucket and the root), and the vault
// (every version decrypted, its commitment proven in an anchor the chain
// holds). It also reads every other file of the home that holds data:
// every LevelDB store read-only with every checksum checked, the consensus
// WAL with CometBFT's decoder (saying what a restart does with a damaged
// record), CometBFT's state store record by record, the index against the
// blocks, the keys, the validator's signing state, the tracker's
// journal and the subscriptions file; and it names the files it does not check, and why. It names
// the first block, event, state key or record that does not verify, and
// each damaged part with what to do about it. It writes nothing in the
// home: every store is opened read-only.
//
// verify imports the stores it checks: CometBFT's block store, state store
// and WAL decoder, audit and audit/auditdb, state, index, tracker (its
// journal), keys, vault, custodian (for the anchor proofs), dscsa (its
// subscriptions file), app (to start the genesis's chain in memory) and
// the contracts.
package verify

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	dbm "github.com/cometbft/cometbft-db"
	"github.com/cometbft/cometbft/store"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/careledger/careledger/audit"
	"github.com/careledger/careledger/audit/auditdb"
	"github.com/careledger/careledger/contract/records"
	"github.com/careledger/careledger/custodian"
	"github.com/careledger/careledger/index"
	"github.com/careledger/careledger/state"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/vault"
)

// Summary is what a check covered.
type Summary struct {
	ChainID      string
	FirstBlock   int64 // 1, or the first after a state sync
	Blocks       int64 // the last block checked
	Events       uint64
	StateVersion int64
	Versions     int // record versions in the vault
	// NotChecked lists the files of the home that no check reads, each
	// as "path: why".
	NotChecked []string
}

// Home checks the home directory of a stopped node, printing its progress
// to out. The genesis in the home is the trust anchor. It reads every file
// of the home that holds the node's data; a damaged part does not stop the
// check of the others (except where one check needs another's result), and
// the error, a Damaged, lists each with what to do about it.
func Home(home string, out io.Writer) (*Summary, error) {
	gen, err := cmttypes.GenesisDocFromFile(filepath.Join(home, "config", "genesis.json"))
	if err != nil {
		return nil, Damaged{{Part: "config/genesis.json", Problem: err.Error(), Remedy: remedyConfig}}
	}
	vals := make([]*cmttypes.Validator, len(gen.Validators))
	for i, v := range gen.Validators {
		vals[i] = cmttypes.NewValidator(v.PubKey, v.Power)
	}
	c := &checker{
		home: home, data: filepath.Join(home, "data"), gen: gen, chainID: gen.ChainID, initialHeight: gen.InitialHeight,
		vals: cmttypes.NewValidatorSet(vals), out: out, bad: map[string]bool{},
	}
	sum := &Summary{ChainID: gen.ChainID}
	// Every store's bytes first, with every checksum checked: the checks
	// after open the stores read-only too (nothing in the home is written)
	// but without strict checks, and LevelDB opened so drops a damaged
	// journal chunk silently.
	if err := c.stores(); err != nil {
		return sum, err
	}
	c.chain(sum)
	for _, step := range []func(*Summary) error{c.wal, c.index, c.files} {
		if err := step(sum); err != nil {
			return sum, err
		}
	}
	if len(c.damaged) > 0 {
		return sum, c.damaged
	}
	return sum, nil
}

// A chainStep checks one store against the chain, and needs the steps
// before it.
type chainStep struct {
	check  func(*Summary) error
	part   string   // what a failure damages
	stores []string // the LevelDB stores it opens
	remedy string
}

// chain runs the steps that check the chain and its stores against each
// other, up to the first that fails or whose stores are damaged.
func (c *checker) chain(sum *Summary) {
	steps := []chainStep{
		{c.blocks, "data/blockstore.db", []string{"data/blockstore.db", "data/state.db"}, remedyBackup},
		{c.cometState, "data/state.db", []string{"data/state.db"}, remedyBackup},
		{c.log, "data/app/audit.db", []string{"data/app/audit.db"}, remedyRebuild},
		{c.state, "data/app/state.db", []string{"data/app/state.db"}, remedyBackup},
		{c.vault, "data/vault", []string{"data/vault/vault.db", "data/vault/proofs.db", "data/app/state.db"}, remedyBackup},
	}
	for i, st := range steps {
		for _, s := range st.stores {
			if c.bad[s] {
				fmt.Fprintf(c.out, "not checked against the chain: %s (%s is damaged)\n", partsOf(steps[i:]), s)
				return
			}
		}
		if err := st.check(sum); err != nil {
			c.damage(Damage{Part: st.part, Problem: err.Error(), Remedy: st.remedy})
			if i+1 < len(steps) {
				fmt.Fprintf(c.out, "not checked against the chain: %s (%s does not verify)\n", partsOf(steps[i+1:]), st.part)
			}
			return
		}
	}
}

func partsOf(steps []chainStep) string {
	parts := make([]string, len(steps))
	for i, s := range steps {
		parts[i] = s.part
	}
	return strings.Join(parts, ", ")
}

type checker struct {
	home, data    string
	gen           *cmttypes.GenesisDoc
	chainID       string
	initialHeight int64
	vals          *cmttypes.ValidatorSet
	out           io.Writer
	headers       map[int64][]byte // app hash in the header of block h
	first, last   *cmttypes.Block  // the block store's first and last blocks
	cometAppHash  []byte           // the app hash CometBFT saved after the last block
	stateRoot     []byte
	stateVer      int64
	damaged       Damaged
	bad           map[string]bool // parts (relative to the home) found damaged
}

// damage records a damaged part and prints it.
func (c *checker) damage(d Damage) {
	d.Part = filepath.ToSlash(d.Part)
	c.damaged = append(c.damaged, d)
	c.bad[d.Part] = true
	fmt.Fprintf(c.out, "DAMAGED %s\n", d)
}

// blocks checks every block: linked to the one before, of this chain, and
// committed by two thirds of its validators.
func (c *checker) blocks(sum *Summary) (err error) {
	db, err := dbm.NewGoLevelDBWithOpts("blockstore", c.data, strict)
	if err != nil {
		return fmt.Errorf("block store: %w", err)
	}
	defer db.Close()
	bs := store.NewBlockStore(db)
	sdb, err := dbm.NewGoLevelDBWithOpts("state", c.data, strict)
	if err != nil {
		return fmt.Errorf("consensus state store: %w", err)
	}
	defer sdb.Close()
	sets := cometStore{sdb}
	c.headers = map[int64][]byte{}
	var h int64
	defer func() { // CometBFT's store panics on bytes it cannot decode
		if r := recover(); r != nil {
			err = fmt.Errorf("block %d does not decode: %v", h, r)
		}
	}()
	var prev *cmttypes.Block
	for h = bs.Base(); h <= bs.Height() && h > 0; h++ {
		blk := bs.LoadBlock(h)
		if blk == nil {
			return fmt.Errorf("block %d is missing", h)
		}
		if err := blk.ValidateBasic(); err != nil {
			return fmt.Errorf("block %d: %w", h, err)
		}
		if blk.ChainID != c.chainID {
			return fmt.Errorf("block %d is of chain %q", h, blk.ChainID)
		}
		if prev != nil && !bytes.Equal(blk.LastBlockID.Hash, prev.Hash()) {
			return fmt.Errorf("block %d does not follow block %d", h, h-1)
		}
		vals, err := c.validators(sets, blk, prev)
		if err != nil {
			return err
		}
		commit := bs.LoadBlockCommit(h)
		if commit == nil {
			commit = bs.LoadSeenCommit(h)
		}
		if commit == nil || !bytes.Equal(commit.BlockID.Hash, blk.Hash()) {
			return fmt.Errorf("block %d has no commit of its hash", h)
		}
		if err := vals.VerifyCommitLight(c.chainID, commit.BlockID, h, commit); err != nil {
			return fmt.Errorf("block %d is not signed by two thirds of its validators: %w", h, err)
		}
		c.headers[h] = blk.AppHash
		if c.first == nil {
			c.first = blk
		}
		c.last, prev = blk, blk
		sum.Blocks = h
	}
	sum.FirstBlock = bs.Base()
	fmt.Fprintf(c.out, "blocks: %d to %d linked and signed\n", sum.FirstBlock, sum.Blocks)
	if sum.FirstBlock > 1 {
		fmt.Fprintf(c.out, "  (the node joined by state sync: block %d's validators are those its light client verified)\n", sum.FirstBlock)
	}
	return nil
}

// cometState reads CometBFT's state store record by record: the consensus
// parameters of every height against its header, and the state saved after
// the last block, its validators and the application's last answer against
// the last block.
func (c *checker) cometState(sum *Summary) error {
	if c.last == nil {
		return nil // no block yet
	}
	sdb, err := dbm.NewGoLevelDBWithOpts("state", c.data, strict)
	if err != nil {
		return fmt.Errorf("consensus state store: %w", err)
	}
	defer sdb.Close()
	s := cometStore{sdb}
	db, err := dbm.NewGoLevelDBWithOpts("blockstore", c.data, strict)
	if err != nil {
		return fmt.Errorf("block store: %w", err)
	}
	defer db.Close()
	bs := store.NewBlockStore(db)
	for h := sum.FirstBlock; h <= sum.Blocks; h++ {
		meta := bs.LoadBlockMeta(h) // the header, without the block's transactions
		if meta == nil {
			return fmt.Errorf("block %d is missing", h)
		}
		if err := s.checkHeight(&meta.Header, sum.FirstBlock); err != nil {
			return err
		}
	}
	st, err := s.checkLast(c.last, c.chainID)
	if err != nil {
		return err
	}
	c.cometAppHash = st.AppHash
	fmt.Fprintf(c.out, "consensus state: the consensus parameters of every height, and the state, validators and results saved after block %d, match the blocks\n", sum.Blocks)
	return nil
}

// validators returns the validator set that must sign blk: genesis's for
// block 1; else the set the node stored, which must be the one the chain
// certified (the previous header's next validators). A node that joined
// by state sync has no previous header for its first block: its light
// client verified that block's validators when it joined.
func (c *checker) validators(sets cometStore, blk, prev *cmttypes.Block) (*cmttypes.ValidatorSet, error) {
	vals := c.vals
	if blk.Height > 1 {
		var err error
		if vals, err = sets.validators(blk.Height); err != nil {
			return nil, fmt.Errorf("validators of block %d: %w", blk.Height, err)
		}
	}
	if !bytes.Equal(vals.Hash(), blk.ValidatorsHash) {
		return nil, fmt.Errorf("block %d names validators other than the ones stored for it", blk.Height)
	}
	if prev != nil && !bytes.Equal(blk.ValidatorsHash, prev.NextValidatorsHash) {
		return nil, fmt.Errorf("block %d's validators are not the ones block %d named", blk.Height, prev.Height)
	}
	return vals, nil
}

// log rehashes every leaf, recomputes the log after every block, and
// requires each block's app hash in the next header.
func (c *checker) log(sum *Summary) error {
	// The check reads leaves and checkpoints and writes nothing: it needs
	// no index by type.
	s, err := auditdb.Open(filepath.Join(c.data, "app", "audit.db"), auditdb.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer s.Close()
	log := audit.NewLog()
	var next uint64
	var prevHash []byte // the even leaf's hash, awaiting its pair
	// A node that joined by state sync restored the log up to the block
	// before its first, and its checkpoint.
	for h := max(1, sum.FirstBlock-1); h <= sum.Blocks; h++ {
		first := next
		cp, err := s.Checkpoint(h)
		if err != nil {
			return fmt.Errorf("audit checkpoint after block %d: %w", h, err)
		}
		for ; next < cp.Size; next++ {
			leaf, err := s.Leaf(next)
			if err != nil {
				return fmt.Errorf("audit event %d: %w", next, err)
			}
			if _, err := audit.DecodeEvent(leaf); err != nil {
				return fmt.Errorf("audit event %d: %w", next, err)
			}
			// Each pair of leaves must give its parent in the stored tree,
			// which names the pair that was changed.
			h := audit.LeafHash(leaf)
			if next%2 == 0 {
				prevHash = h
			} else if stored, err := s.Node(1, next/2); err != nil || !bytes.Equal(stored, rfc6962.DefaultHasher.HashChildren(prevHash, h)) {
				return fmt.Errorf("audit event %d or %d does not match the log's tree", next-1, next)
			}
			if err := log.Append(h, nil); err != nil {
				return err
			}
		}
		root, err := log.Root()
		if err != nil {
			return err
		}
		if log.Size() != cp.Size || !bytes.Equal(root, cp.Root) {
			return fmt.Errorf("the audit log after block %d is not the one its checkpoint names: one of events %d to %d was changed", h, first, cp.Size-1)
		}
		if want, ok := c.headers[h+1]; ok && !bytes.Equal(audit.AppHash(cp.StateRoot, cp.Size, cp.Root), want) {
			return fmt.Errorf("block %d's app hash is not that of the log and state after block %d", h+1, h)
		}
		if h == sum.Blocks {
			c.stateRoot = cp.StateRoot
			if !bytes.Equal(audit.AppHash(cp.StateRoot, cp.Size, cp.Root), c.cometAppHash) {
				return fmt.Errorf("the app hash CometBFT saved after block %d is not that of the log and state after it", h)
			}
		}
	}
	sum.Events = log.Size()
	if _, err := s.Leaf(log.Size()); !errors.Is(err, auditdb.ErrNotFound) {
		return fmt.Errorf("the audit log holds events after the last checkpoint")
	}
	fmt.Fprintf(c.out, "audit log: %d events rehashed, every checkpoint and app hash matches\n", sum.Events)
	return nil
}

// state rehashes the state and requires its root in the last checkpoint.
func (c *checker) state(sum *Summary) error {
	ver, root, err := state.Verify(filepath.Join(c.data, "app"))
	if err != nil {
		return err
	}
	if ver != sum.Blocks || !bytes.Equal(root, c.stateRoot) {
		return fmt.Errorf("the state (version %d) is not the one the last block's checkpoint names", ver)
	}
	sum.StateVersion = ver
	fmt.Fprintf(c.out, "state: version %d rehashed, root matches\n", ver)
	return nil
}

// vault decrypts every version and proves its commitment in an anchor of
// the chain's state.
func (c *checker) vault(sum *Summary) error {
	dir := filepath.Join(c.data, "vault")
	if _, err := os.Stat(filepath.Join(dir, "vault.db")); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintln(c.out, "vault: none")
		return nil
	}
	kw, err := vault.LoadMasterKey(filepath.Join(c.home, "config", "vault_master.key"))
	if err != nil {
		return err
	}
	v, err := vault.OpenReadOnly(dir, kw)
	if err != nil {
		return err
	}
	defer v.Close()
	proofs, err := custodian.OpenProofsReadOnly(filepath.Join(dir, "proofs.db"))
	if err != nil {
		return err
	}
	defer proofs.Close()
	st, err := state.Open(filepath.Join(c.data, "app"), state.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer st.Close()
	err = v.Each(func(rec vault.Record) error {
		p, err := proofs.Load(rec.Type, rec.ID, uint64(rec.Version))
		if err != nil {
			return fmt.Errorf("record %s/%s version %d: %w", rec.Type, rec.ID, rec.Version, err)
		}
		leaf := records.Leaf{Type: rec.Type, ID: rec.ID, Version: uint64(rec.Version), Commitment: vault.Commitment(rec.Salt, rec.Content)}
		if err := records.VerifyInclusion(leaf, p.Index, p.Count, p.Path, p.Root); err != nil {
			return fmt.Errorf("record %s/%s version %d is not what was anchored: %w", rec.Type, rec.ID, rec.Version, err)
		}
		a, err := records.LoadAnchor(st.Committed(), p.Root)
		if err != nil || a == nil || a.Count != p.Count {
			return fmt.Errorf("record %s/%s version %d: its anchor is not on the chain", rec.Type, rec.ID, rec.Version)
		}
		sum.Versions++
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "vault: %d record versions decrypted and proven in anchors on the chain\n", sum.Versions)
	return nil
}

// index requires the transaction index to hold every transaction of every
// block, at its height and position, and no later block. Nothing in the
// chain depends on the index: careledger rebuild remakes it.
func (c *checker) index(sum *Summary) error {
	const part = "data/app/index.db"
	if c.bad[part] || c.last == nil {
		return nil
	}
	problem := func(err error) error {
		c.damage(Damage{Part: part, Problem: err.Error(), Remedy: remedyRebuild})
		return nil
	}
	x, err := index.OpenReadOnly(filepath.Join(c.data, "app"))
	if err != nil {
		return problem(err)
	}
	defer x.Close()
	if h, err := x.Height(); err != nil || h != sum.Blocks {
		return problem(fmt.Errorf("the index is at height %d, the chain at %d (%v)", h, sum.Blocks, err))
	}
	db, err := dbm.NewGoLevelDBWithOpts("blockstore", c.data, strict)
	if err != nil {
		return fmt.Errorf("block store: %w", err)
	}
	defer db.Close()
	bs := store.NewBlockStore(db)
	n := 0
	for h := sum.FirstBlock; h <= sum.Blocks; h++ {
		for i, raw := range bs.LoadBlock(h).Txs {
			r, err := x.Tx(tx.HashOf(raw))
			if err != nil || r == nil || r.Height != h || r.Index != i {
				return problem(fmt.Errorf("transaction %d of block %d is not indexed at its place", i, h))
			}
			n++
		}
	}
	fmt.Fprintf(c.out, "index: every one of %d transactions indexed at its block and position\n", n)
	return nil
}
