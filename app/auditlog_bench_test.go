package app

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/audit"
	"github.com/careledger/careledger/audit/auditdb"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/state"
	"github.com/careledger/careledger/tx"
)

// benchChainID is the chain of the audit log benchmark.
const benchChainID = "bench"

// benchBlocks signs blocks of patient registrations on demand and keeps
// them, so that every variant of a benchmark executes the same
// transactions. Keys are derived from the transaction's number.
type benchBlocks struct {
	size   int
	blocks [][][]byte
}

func (bb *benchBlocks) block(b *testing.B, i int) [][]byte {
	b.Helper()
	msg := contract.Encode(identity.RegisterPatient{})
	for len(bb.blocks) <= i {
		n := len(bb.blocks)
		txs := make([][]byte, bb.size)
		for j := range txs {
			key := ed25519.GenPrivKeyFromSecret(fmt.Appendf(nil, "careledger-auditlog-bench/%d", n*bb.size+j))
			t := &tx.Tx{ChainID: benchChainID, Signer: key.PubKey().Bytes(), Msgs: []tx.Msg{msg}}
			if err := t.Sign(key); err != nil {
				b.Fatal(err)
			}
			txs[j] = t.Encode()
		}
		bb.blocks = append(bb.blocks, txs)
	}
	return bb.blocks[i]
}

// newBenchApp returns an application on an on-disk store in a temporary
// directory, after genesis (one organization), as bench.BenchmarkBlock
// makes it.
func newBenchApp(b *testing.B, cfg Config) *App {
	b.Helper()
	store, err := state.Open(b.TempDir(), state.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	cfg.ChainID = benchChainID
	a, err := New(store, cfg)
	if err != nil {
		b.Fatal(err)
	}
	val := ed25519.GenPrivKeyFromSecret([]byte("careledger-auditlog-bench/validator")).PubKey().Bytes()
	admin := ed25519.GenPrivKeyFromSecret([]byte("careledger-auditlog-bench/admin")).PubKey().Bytes()
	g := Genesis{Params: DefaultParams(), Genesis: identity.Genesis{Organizations: []identity.GenesisOrg{{
		ID: "bench", Name: "Bench", Type: identity.Provider, ValidatorKey: val, Power: 10, Admins: []tx.PubKey{admin},
	}}}}
	raw, err := json.Marshal(g)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := a.InitChain(context.Background(), &abci.RequestInitChain{
		ChainId: benchChainID, InitialHeight: 1, AppStateBytes: raw, Time: time.Unix(1, 0),
		Validators: []abci.ValidatorUpdate{abci.Ed25519ValidatorUpdate(val, 10)},
	}); err != nil {
		b.Fatal(err)
	}
	return a
}

// timedLog is a node's audit store that times the writes FinalizeBlock
// makes to it.
type timedLog struct {
	*auditdb.Store
	spent time.Duration
}

var _ AuditLog = (*timedLog)(nil)

func (l *timedLog) Restore() (AuditRestorer, error) {
	r, err := l.Store.Restore()
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (l *timedLog) Write(b *audit.Block) error {
	start := time.Now()
	err := l.Store.Write(b)
	l.spent += time.Since(start)
	return err
}

// BenchmarkAuditLog measures what the audit log costs a block at the
// foundation's peak rate: FinalizeBlock of a block of 2000 patient
// registrations (one event each), on a chain that grows by one such block
// per op, with Config.AuditLog a real auditdb.Store ("auditlog=store") and,
// the baseline in the same run, without ("auditlog=none": the log's compact
// state is still kept in state, only the node's copy is not). One op is one
// block; ns/op is FinalizeBlock alone (Commit is reported as commit-ms).
//
// The log's work is also timed alone: FinalizeBlock's write to the store
// (write-ms), and, after FinalizeBlock, appendEvents again on the same
// block and the log before it (append-ms: encoding and hashing the leaves,
// the compact state, and with a store collecting the nodes). audit-% is
// their sum over FinalizeBlock's time; the goal is at most 10.
//
// With sigs=checktx, every transaction passes CheckTx before the block, as
// the mempool makes them at peak rate, so FinalizeBlock finds the
// signatures verified; with sigs=block, FinalizeBlock verifies them.
//
//	go test ./app -run '^$' -bench AuditLog -benchtime 30x
func BenchmarkAuditLog(b *testing.B) {
	const blockTxs = 2000
	blocks := &benchBlocks{size: blockTxs}
	for _, sigs := range []string{"checktx", "block"} {
		for _, log := range []string{"none", "store"} {
			b.Run(fmt.Sprintf("txs=%d/sigs=%s/auditlog=%s", blockTxs, sigs, log), func(b *testing.B) {
				benchAuditLog(b, blocks, sigs == "checktx", log == "store")
			})
		}
	}
}

func benchAuditLog(b *testing.B, blocks *benchBlocks, checkTx, withStore bool) {
	ctx := context.Background()
	var cfg Config
	var log *timedLog
	if withStore {
		s, err := auditdb.Open(filepath.Join(b.TempDir(), "audit.db"), auditdb.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		log = &timedLog{Store: s}
		cfg.AuditLog = log
	}
	a := newBenchApp(b, cfg)
	var finalize, appendLog, commit time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		txs := blocks.block(b, i)
		if checkTx {
			for _, raw := range txs {
				if res, err := a.CheckTx(ctx, &abci.RequestCheckTx{Tx: raw}); err != nil || res.Code != 0 {
					b.Fatalf("CheckTx = %v, %v", res, err)
				}
			}
		}
		before := a.store.Committed()
		height := int64(i + 1)
		req := &abci.RequestFinalizeBlock{Height: height, Time: time.Unix(height, 0), Txs: txs}
		b.StartTimer()

		start := time.Now()
		res, err := a.FinalizeBlock(ctx, req)
		finalize += time.Since(start)

		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res.TxResults {
			if r.Code != 0 {
				b.Fatalf("tx failed: %v", r)
			}
		}
		// The log's work alone, on the same block and the log before it.
		start = time.Now()
		ab, err := a.appendEvents(state.NewOverlay(before), a.block)
		appendLog += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if ab.Size != uint64(height)*uint64(len(txs)) {
			b.Fatalf("the log has %d events after block %d; want %d", ab.Size, height, uint64(height)*uint64(len(txs)))
		}
		start = time.Now()
		if _, err := a.Commit(ctx, &abci.RequestCommit{}); err != nil {
			b.Fatal(err)
		}
		commit += time.Since(start)
		b.StartTimer()
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(b.N) }
	var write time.Duration
	if log != nil {
		write = log.spent
		b.ReportMetric(ms(write), "write-ms")
	}
	b.ReportMetric(ms(commit), "commit-ms")
	b.ReportMetric(ms(appendLog), "append-ms")
	b.ReportMetric(100*float64(appendLog+write)/float64(finalize), "audit-%")
}
