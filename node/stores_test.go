package node

import (
	"sync"
	"testing"

	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/store"
	cmttypes "github.com/cometbft/cometbft/types"
)

// A read of the block store after the node closed it, as CometBFT's gossip
// goroutines make when a node stops with peers, finds nothing instead of
// panicking; a write still fails.
func TestStoreReadAfterClose(t *testing.T) {
	cc := cfg.DefaultConfig()
	cc.SetRoot(t.TempDir())
	db, err := openStore(&cfg.DBContext{ID: "blockstore", Config: cc})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set([]byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	bs := store.NewBlockStore(db)

	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() { // reads racing the close, as the reactors' do
			defer wg.Done()
			for range 100 {
				bs.LoadSeenCommit(1)
				db.Has([]byte("k"))
			}
		}()
	}
	if err := bs.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	if c := bs.LoadSeenCommit(1); c != (*cmttypes.Commit)(nil) {
		t.Errorf("seen commit after close = %v, want none", c)
	}
	if v, err := db.Get([]byte("k")); v != nil || err != nil {
		t.Errorf("Get after close = %q, %v; want nothing", v, err)
	}
	if err := db.Set([]byte("k"), []byte("w")); err == nil {
		t.Error("Set after close succeeded")
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
