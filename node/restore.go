package node

import (
	"fmt"
	"os"
	"path/filepath"

	dbm "github.com/cometbft/cometbft-db"
	cfg "github.com/cometbft/cometbft/config"
	sm "github.com/cometbft/cometbft/state"

	"github.com/careledger/careledger/state"
)

// forgetUnrecordedRestore empties the application's stores (state, index,
// audit log) when they hold a height that CometBFT has not recorded and
// state sync is on. That is a node that crashed after it restored a
// snapshot and before CometBFT saved the state sync, or lost CometBFT's
// data: CometBFT offers it a snapshot again, an application with state
// refuses it, and the node would wait for ever. The stores are derived
// from the chain, so state sync rebuilds them; the vault, which is the
// organization's own data, is kept. It reports whether it emptied them.
func forgetUnrecordedRestore(cc *cfg.Config, appDir string) (bool, error) {
	if !cc.StateSync.Enable {
		return false, nil
	}
	db, err := dbm.NewDB("state", dbm.BackendType(cc.DBBackend), cc.DBDir())
	if err != nil {
		return false, fmt.Errorf("consensus state store: %w", err)
	}
	recorded, err := sm.NewStore(db, sm.StoreOptions{}).Load()
	db.Close()
	if err != nil {
		return false, fmt.Errorf("consensus state: %w", err)
	}
	if recorded.LastBlockHeight > 0 {
		return false, nil
	}
	st, err := state.Open(appDir, state.Options{})
	if err != nil {
		return false, err
	}
	height := st.Height()
	if err := st.Close(); err != nil || height == 0 {
		return false, err
	}
	for _, name := range []string{"state.db", "index.db", "audit.db"} {
		if err := os.RemoveAll(filepath.Join(appDir, name)); err != nil {
			return false, err
		}
	}
	return true, nil
}
