package node

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/store"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/index"
	"github.com/careledger/careledger/state"
)

// Rebuild rebuilds a stopped node's transaction index and audit log from
// the chain: it replays every block of the block store from genesis into a
// fresh application in memory, requiring each block's app hash to be the
// one the next header certifies, and writes a new index and audit store in
// place of the old ones (kept beside them with the suffix ".old").
func Rebuild(home string, out io.Writer) (int64, error) {
	_, cc, gen, err := loadHome(home)
	if err != nil {
		return 0, err
	}
	db, err := dbm.NewDB("blockstore", dbm.GoLevelDBBackend, cc.DBDir())
	if err != nil {
		return 0, fmt.Errorf("block store: %w", err)
	}
	defer db.Close()
	bs := store.NewBlockStore(db)
	if bs.Base() > 1 {
		return 0, fmt.Errorf("the block store starts at %d: a rebuild needs every block from 1", bs.Base())
	}
	appDir := filepath.Join(cc.DBDir(), "app")
	fresh := filepath.Join(appDir, "rebuild")
	if err := os.RemoveAll(fresh); err != nil {
		return 0, err
	}
	idx, err := index.Open(fresh)
	if err != nil {
		return 0, err
	}
	log, err := openAudit(filepath.Join(fresh, "audit.db"))
	if err != nil {
		idx.Close()
		return 0, err
	}
	a, err := app.New(state.OpenMemory(), app.Config{ChainID: gen.ChainID, Indexer: idx, AuditLog: auditLog{log}})
	if err != nil {
		return 0, err
	}
	height, err := replay(a, bs, gen.GenesisTime, gen.InitialHeight, gen.AppState, gen.ChainID, validatorUpdates(gen), out)
	errs := []error{err, idx.Close(), log.Close()}
	for _, e := range errs {
		if e != nil {
			return height, e
		}
	}
	for _, name := range []string{"index.db", "audit.db"} {
		old := filepath.Join(appDir, name)
		if err := os.RemoveAll(old + ".old"); err != nil {
			return height, err
		}
		if err := os.Rename(old, old+".old"); err != nil && !os.IsNotExist(err) {
			return height, err
		}
		if err := os.Rename(filepath.Join(fresh, name), old); err != nil {
			return height, err
		}
	}
	return height, os.RemoveAll(fresh)
}

// replay applies every block of bs to a, from genesis.
func replay(a *app.App, bs *store.BlockStore, genesisTime time.Time, initialHeight int64, appState []byte, chainID string, vals []abci.ValidatorUpdate, out io.Writer) (int64, error) {
	ctx := context.Background()
	if _, err := a.InitChain(ctx, &abci.RequestInitChain{
		Time: genesisTime, ChainId: chainID, InitialHeight: initialHeight, Validators: vals, AppStateBytes: appState,
	}); err != nil {
		return 0, err
	}
	var h int64
	for h = 1; h <= bs.Height(); h++ {
		blk := bs.LoadBlock(h)
		if blk == nil {
			return h - 1, fmt.Errorf("block %d is missing", h)
		}
		txs := make([][]byte, len(blk.Txs))
		for i, t := range blk.Txs {
			txs[i] = t
		}
		res, err := a.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{
			Txs: txs, Height: h, Time: blk.Time, Hash: blk.Hash(), ProposerAddress: blk.ProposerAddress,
		})
		if err != nil {
			return h - 1, fmt.Errorf("block %d: %w", h, err)
		}
		if next := bs.LoadBlockMeta(h + 1); next != nil && !bytes.Equal(res.AppHash, next.Header.AppHash) {
			return h - 1, fmt.Errorf("block %d replays to app hash %X; block %d certifies %X", h, res.AppHash, h+1, []byte(next.Header.AppHash))
		}
		if _, err := a.Commit(ctx, &abci.RequestCommit{}); err != nil {
			return h - 1, err
		}
	}
	fmt.Fprintf(out, "replayed blocks 1 to %d; index and audit log rebuilt\n", h-1)
	return h - 1, nil
}

// validatorUpdates returns the genesis validators as InitChain receives
// them.
func validatorUpdates(gen *cmttypes.GenesisDoc) []abci.ValidatorUpdate {
	vs := make([]abci.ValidatorUpdate, len(gen.Validators))
	for i, v := range gen.Validators {
		vs[i] = abci.Ed25519ValidatorUpdate(v.PubKey.Bytes(), v.Power)
	}
	return vs
}
