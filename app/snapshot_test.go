package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/careledger/careledger/apptest"
	"github.com/careledger/careledger/contract"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/audit"
	"github.com/careledger/careledger/audit/auditdb"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/snapshot"
	"github.com/careledger/careledger/state"
)

// syncNode is an application with its audit store, as a node has them.
type syncNode struct {
	app *app.App
	log *auditdb.Store
}

// auditLog is an audit store as the app takes it, as node wires it: Go
// does not let Restore's *auditdb.Restorer stand for app.AuditRestorer.
type auditLog struct{ *auditdb.Store }

var _ app.AuditLog = auditLog{}

func (l auditLog) Restore() (app.AuditRestorer, error) {
	r, err := l.Store.Restore()
	if err != nil {
		return nil, err
	}
	return r, nil
}

func newSyncNode(t *testing.T, snaps app.Snapshots) syncNode {
	t.Helper()
	log, err := auditdb.Open(filepath.Join(t.TempDir(), "audit.db"), auditdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	return syncNode{apptest.NewApp(t, state.OpenMemory(), app.Config{AuditLog: auditLog{log}, Snapshots: snaps}), log}
}

// snapshotSource returns a node that registered forty patients over four
// blocks, and a snapshot of it at that height in small chunks.
func snapshotSource(t *testing.T) (syncNode, *snapshot.Store, snapshot.Info) {
	t.Helper()
	snaps, err := snapshot.Open(t.TempDir(), 2)
	if err != nil {
		t.Fatal(err)
	}
	snaps.ChunkSize = 2 << 10
	src := newSyncNode(t, snaps)
	apptest.InitChain(t, src.app)
	for b := range 4 {
		var txs [][]byte
		for i := range 10 {
			txs = append(txs, apptest.SignTx(t, apptest.ChainID, apptest.Key(fmt.Sprintf("patient-%d-%d", b, i)), 0, contract.Encode(identity.RegisterPatient{})))
		}
		apptest.RequireOK(t, "register patients", apptest.Deliver(t, src.app, txs...))
	}
	info, err := snaps.Create(uint64(apptest.Height(t, src.app)), func(w *snapshot.Writer) error {
		return app.ExportSnapshot(src.app.State(), src.log, w)
	})
	if err != nil {
		t.Fatalf("Create() = %v", err)
	}
	if info.Chunks < 3 {
		t.Fatalf("snapshot of %d chunks; the test wants several", info.Chunks)
	}
	return src, snaps, info
}

func offer(t *testing.T, a *app.App, info snapshot.Info, appHash []byte) abci.ResponseOfferSnapshot_Result {
	t.Helper()
	res, err := a.OfferSnapshot(context.Background(), &abci.RequestOfferSnapshot{AppHash: appHash, Snapshot: &abci.Snapshot{
		Height: info.Height, Format: info.Format, Chunks: info.Chunks, Hash: info.Hash, Metadata: info.Metadata,
	}})
	if err != nil {
		t.Fatalf("OfferSnapshot() = %v", err)
	}
	return res.Result
}

func applyChunk(t *testing.T, a *app.App, i uint32, chunk []byte) *abci.ResponseApplySnapshotChunk {
	t.Helper()
	res, err := a.ApplySnapshotChunk(context.Background(), &abci.RequestApplySnapshotChunk{Index: i, Chunk: chunk, Sender: "peer"})
	if err != nil {
		t.Fatalf("ApplySnapshotChunk(%d) = %v", i, err)
	}
	return res
}

func appInfo(t *testing.T, a *app.App) *abci.ResponseInfo {
	t.Helper()
	info, err := a.Info(context.Background(), &abci.RequestInfo{})
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// TestStateSync checks that a node restored from another's snapshot, as
// CometBFT drives state sync, reports the same height and app hash, holds
// the same state and audit log (with its proofs and indexes), and applies
// the next block to the same app hash.
func TestStateSync(t *testing.T) {
	src, _, info := snapshotSource(t)
	want := appInfo(t, src.app)

	list, err := src.app.ListSnapshots(context.Background(), &abci.RequestListSnapshots{})
	if err != nil || len(list.Snapshots) != 1 || list.Snapshots[0].Height != uint64(want.LastBlockHeight) {
		t.Fatalf("ListSnapshots() = %v, %v; want the snapshot at %d", list, err, want.LastBlockHeight)
	}
	dst := newSyncNode(t, nil)
	if r := offer(t, dst.app, info, want.LastBlockAppHash); r != abci.ResponseOfferSnapshot_ACCEPT {
		t.Fatalf("OfferSnapshot() = %v; want ACCEPT", r)
	}
	for i := range info.Chunks {
		res, err := src.app.LoadSnapshotChunk(context.Background(), &abci.RequestLoadSnapshotChunk{Height: info.Height, Format: info.Format, Chunk: i})
		if err != nil {
			t.Fatalf("LoadSnapshotChunk(%d) = %v", i, err)
		}
		if r := applyChunk(t, dst.app, i, res.Chunk); r.Result != abci.ResponseApplySnapshotChunk_ACCEPT {
			t.Fatalf("ApplySnapshotChunk(%d) = %v; want ACCEPT", i, r.Result)
		}
	}
	got := appInfo(t, dst.app)
	if got.LastBlockHeight != want.LastBlockHeight || !bytes.Equal(got.LastBlockAppHash, want.LastBlockAppHash) || got.AppVersion != want.AppVersion {
		t.Fatalf("restored Info() = %+v; want %+v", got, want)
	}
	if d := apptest.DiffKeys(apptest.Dump(t, src.app.State()), apptest.Dump(t, dst.app.State())); len(d) > 0 {
		t.Fatalf("restored state differs at %v", d)
	}
	cp, err := dst.log.Checkpoint(want.LastBlockHeight)
	if err != nil {
		t.Fatalf("restored Checkpoint(%d) = %v", want.LastBlockHeight, err)
	}
	wantCP, _ := src.log.Checkpoint(want.LastBlockHeight)
	if cp.Size != wantCP.Size || !bytes.Equal(cp.Root, wantCP.Root) || !bytes.Equal(cp.StateRoot, wantCP.StateRoot) {
		t.Fatalf("restored checkpoint %+v; want %+v", cp, wantCP)
	}
	for i := range cp.Size {
		leaf, _ := dst.log.Leaf(i)
		p, err := dst.log.InclusionProof(i, cp.Size)
		if err == nil {
			err = audit.VerifyInclusion(leaf, i, cp.Size, p, cp.Root)
		}
		if err != nil {
			t.Fatalf("restored leaf %d: %v", i, err)
		}
	}
	patient := apptest.Addr(apptest.Key("patient-2-3"))
	if a, b := mustEvents(t, src.log, patient), mustEvents(t, dst.log, patient); fmt.Sprint(a) != fmt.Sprint(b) || len(a) == 0 {
		t.Fatalf("restored AccountEvents = %v; want %v", b, a)
	}

	next := apptest.SignTx(t, apptest.ChainID, apptest.Key("patient-late"), 0, contract.Encode(identity.RegisterPatient{}))
	h := want.LastBlockHeight + 1
	if a, b := apptest.ApplyBlock(t, src.app, h, [][]byte{next}), apptest.ApplyBlock(t, dst.app, h, [][]byte{next}); !bytes.Equal(a.AppHash, b.AppHash) {
		t.Fatalf("block %d after the restore: app hash %X; the source's %X", h, b.AppHash, a.AppHash)
	}
	if r := offer(t, dst.app, info, want.LastBlockAppHash); r != abci.ResponseOfferSnapshot_ABORT {
		t.Errorf("OfferSnapshot() to a node with state = %v; want ABORT", r)
	}
}

func mustEvents(t *testing.T, s *auditdb.Store, a [20]byte) []uint64 {
	t.Helper()
	idx, err := s.AccountEvents(a, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

// TestStateSyncRejects checks that a node refuses a snapshot it cannot
// trust and keeps nothing of it: a chunk that does not match the metadata
// is fetched again from another peer; a snapshot that does not give the
// trusted app hash is rejected and the node's state is empty again.
func TestStateSyncRejects(t *testing.T) {
	src, snaps, info := snapshotSource(t)
	want := appInfo(t, src.app)
	chunk := func(i uint32) []byte {
		b, err := snaps.Chunk(info.Height, info.Format, i)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// restores offers the snapshot to dst and applies it whole, requiring
	// every chunk accepted and the source's app hash at the end.
	restores := func(t *testing.T, dst syncNode, after string) {
		t.Helper()
		offer(t, dst.app, info, want.LastBlockAppHash)
		for i := range info.Chunks {
			if r := applyChunk(t, dst.app, i, chunk(i)); r.Result != abci.ResponseApplySnapshotChunk_ACCEPT {
				t.Fatalf("ApplySnapshotChunk(%d) %s = %v; want ACCEPT", i, after, r.Result)
			}
		}
		if got := appInfo(t, dst.app); !bytes.Equal(got.LastBlockAppHash, want.LastBlockAppHash) {
			t.Fatalf("restore %s: app hash %X; want %X", after, got.LastBlockAppHash, want.LastBlockAppHash)
		}
	}

	t.Run("altered chunk", func(t *testing.T) {
		dst := newSyncNode(t, nil)
		offer(t, dst.app, info, want.LastBlockAppHash)
		bad := chunk(0)
		bad[len(bad)/2] ^= 1
		r := applyChunk(t, dst.app, 0, bad)
		if r.Result != abci.ResponseApplySnapshotChunk_RETRY || len(r.RefetchChunks) != 1 || len(r.RejectSenders) != 1 {
			t.Fatalf("ApplySnapshotChunk(altered) = %+v; want RETRY, refetch 0, reject the sender", r)
		}
		// The good chunk, from another peer, is then accepted.
		if r := applyChunk(t, dst.app, 0, chunk(0)); r.Result != abci.ResponseApplySnapshotChunk_ACCEPT {
			t.Fatalf("ApplySnapshotChunk(good) after a bad one = %v; want ACCEPT", r.Result)
		}
	})

	t.Run("chunk out of order", func(t *testing.T) {
		// CometBFT applies chunks in order; one that skips ahead breaks the
		// protocol, and the restore starts over with nothing kept.
		dst := newSyncNode(t, nil)
		offer(t, dst.app, info, want.LastBlockAppHash)
		if r := applyChunk(t, dst.app, 0, chunk(0)); r.Result != abci.ResponseApplySnapshotChunk_ACCEPT {
			t.Fatalf("ApplySnapshotChunk(0) = %v; want ACCEPT", r.Result)
		}
		if r := applyChunk(t, dst.app, 2, chunk(2)); r.Result != abci.ResponseApplySnapshotChunk_REJECT_SNAPSHOT {
			t.Fatalf("ApplySnapshotChunk(2) after 0 = %v; want REJECT_SNAPSHOT", r.Result)
		}
		if n := len(apptest.Dump(t, dst.app.State())); n != 0 {
			t.Fatalf("after a chunk out of order the state holds %d keys; want none", n)
		}
		restores(t, dst, "after one out of order")
	})

	t.Run("offered again midway", func(t *testing.T) {
		// CometBFT may offer another snapshot before the last one ended: the
		// new restore starts from empty stores.
		dst := newSyncNode(t, nil)
		offer(t, dst.app, info, want.LastBlockAppHash)
		applyChunk(t, dst.app, 0, chunk(0))
		applyChunk(t, dst.app, 1, chunk(1))
		restores(t, dst, "offered again midway")
	})

	t.Run("local storage fails", func(t *testing.T) {
		// A chunk this node cannot write is not the snapshot's fault: the
		// node fails instead of rejecting the snapshot and its sender.
		dst := newSyncNode(t, nil)
		offer(t, dst.app, info, want.LastBlockAppHash)
		dst.log.Close()
		res, err := dst.app.ApplySnapshotChunk(context.Background(), &abci.RequestApplySnapshotChunk{Index: 0, Chunk: chunk(0), Sender: "peer"})
		if err == nil {
			t.Fatalf("ApplySnapshotChunk with the audit store closed = %+v; want an error", res)
		}
	})

	t.Run("wrong app hash", func(t *testing.T) {
		dst := newSyncNode(t, nil)
		wrong := bytes.Clone(want.LastBlockAppHash)
		wrong[0] ^= 1
		offer(t, dst.app, info, wrong)
		var last abci.ResponseApplySnapshotChunk_Result
		for i := range info.Chunks {
			last = applyChunk(t, dst.app, i, chunk(i)).Result
		}
		if last != abci.ResponseApplySnapshotChunk_REJECT_SNAPSHOT {
			t.Fatalf("last ApplySnapshotChunk = %v; want REJECT_SNAPSHOT", last)
		}
		if got := appInfo(t, dst.app); got.LastBlockHeight != 0 || len(apptest.Dump(t, dst.app.State())) != 0 {
			t.Fatalf("after a rejected snapshot: height %d, %d keys; want an empty state", got.LastBlockHeight, len(apptest.Dump(t, dst.app.State())))
		}
		if _, err := dst.log.Leaf(0); err == nil {
			t.Error("after a rejected snapshot the audit store still holds leaf 0")
		}
		// A good snapshot is then restored.
		restores(t, dst, "after a rejected one")
	})

	t.Run("forged state", func(t *testing.T) {
		// A peer's own snapshot, consistent with its own metadata, of the
		// source's state with one account changed.
		forger, err := snapshot.Open(t.TempDir(), 1)
		if err != nil {
			t.Fatal(err)
		}
		finfo, err := forger.Create(info.Height, func(w *snapshot.Writer) error {
			changed := false
			var werr error
			err := src.app.State().Iterate(nil, func(k, v []byte) bool {
				if bytes.HasPrefix(k, []byte("a/")) && !changed {
					v, changed = append(bytes.Clone(v), 0), true
				}
				werr = w.State(k, v)
				return werr == nil
			})
			if err = errors.Join(err, werr); err != nil || !changed {
				return fmt.Errorf("forge: changed an account: %v, %v", changed, err)
			}
			cp, err := src.log.Checkpoint(want.LastBlockHeight)
			if err != nil {
				return err
			}
			for i := range cp.Size {
				leaf, err := src.log.Leaf(i)
				if err != nil {
					return err
				}
				if err := w.Leaf(leaf); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		dst := newSyncNode(t, nil)
		offer(t, dst.app, finfo, want.LastBlockAppHash)
		var last abci.ResponseApplySnapshotChunk_Result
		for i := range finfo.Chunks {
			b, _ := forger.Chunk(finfo.Height, finfo.Format, i)
			last = applyChunk(t, dst.app, i, b).Result
		}
		if last != abci.ResponseApplySnapshotChunk_REJECT_SNAPSHOT || appInfo(t, dst.app).LastBlockHeight != 0 {
			t.Fatalf("a forged snapshot: last ApplySnapshotChunk = %v, height %d; want REJECT_SNAPSHOT and nothing kept", last, appInfo(t, dst.app).LastBlockHeight)
		}
	})

	t.Run("offers refused", func(t *testing.T) {
		dst := newSyncNode(t, nil)
		other := info
		other.Format = 2
		if r := offer(t, dst.app, other, want.LastBlockAppHash); r != abci.ResponseOfferSnapshot_REJECT_FORMAT {
			t.Errorf("OfferSnapshot(format 2) = %v; want REJECT_FORMAT", r)
		}
		other = info
		other.Hash = bytes.Repeat([]byte{1}, 32)
		if r := offer(t, dst.app, other, want.LastBlockAppHash); r != abci.ResponseOfferSnapshot_REJECT {
			t.Errorf("OfferSnapshot(hash not of its metadata) = %v; want REJECT", r)
		}
	})
}
