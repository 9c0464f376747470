package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cometbft/cometbft/abci/example/kvstore"
	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/apptest"
)

// BenchmarkBlock measures the application alone, without consensus:
// CheckTx of every transaction, then FinalizeBlock and Commit of blocks, on
// the real on-disk store, for CareLedger's patient registrations (signed:
// one signature verification each) and, as the baseline in the same run,
// CometBFT's kvstore with 200-byte key=value transactions. One op is one
// transaction. Run: go test -run=^$ -bench=BenchmarkBlock -benchtime=50000x ./bench
func BenchmarkBlock(b *testing.B) {
	for _, size := range []int{1000, 5000} {
		b.Run(fmt.Sprintf("app=kvstore/txs=%d", size), func(b *testing.B) {
			kv := kvstore.NewPersistentApplication(b.TempDir())
			txs := (&kvTxs{}).make(b.N)
			b.ResetTimer()
			runBlocks(b, kv, txs, size)
		})
		b.Run(fmt.Sprintf("app=careledger/txs=%d", size), func(b *testing.B) {
			a := newApp(b)
			txs := registrations(apptest.ChainID, b.N)
			b.ResetTimer()
			runBlocks(b, a, txs, size)
		})
	}
}

// runBlocks checks txs and executes them in blocks of size, as CometBFT
// would, requiring every one to succeed.
func runBlocks(b *testing.B, a abci.Application, txs [][]byte, size int) {
	ctx := context.Background()
	height := int64(1)
	for start := 0; start < len(txs); start += size {
		blk := txs[start:min(start+size, len(txs))]
		for _, raw := range blk {
			res, err := a.CheckTx(ctx, &abci.RequestCheckTx{Tx: raw})
			if err != nil || res.Code != 0 {
				b.Fatalf("CheckTx = %v, %v", res, err)
			}
		}
		height++
		res, err := a.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: height, Time: time.Unix(height, 0), Txs: blk})
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res.TxResults {
			if r.Code != 0 {
				b.Fatalf("tx failed: %v", r)
			}
		}
		if _, err := a.Commit(ctx, &abci.RequestCommit{}); err != nil {
			b.Fatal(err)
		}
	}
}

// newApp returns an application on a real on-disk store after the test
// network's genesis and one empty block.
func newApp(b *testing.B) *app.App {
	b.Helper()
	a := apptest.NewApp(b, apptest.OpenStore(b, b.TempDir()), app.Config{})
	apptest.InitChain(b, a)
	apptest.ApplyBlock(b, a, 1, nil)
	return a
}
