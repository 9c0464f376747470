package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/careledger/careledger/audit"
	"github.com/careledger/careledger/snapshot"
	"github.com/careledger/careledger/state"
)

// Snapshots keeps the snapshots this node offers to nodes joining by state
// sync; snapshot.Store satisfies it.
type Snapshots interface {
	List() ([]snapshot.Info, error)
	Chunk(height uint64, format, index uint32) ([]byte, error)
}

// LeafReader reads the audit log's stored leaves in order; auditdb.Store
// satisfies it.
type LeafReader interface {
	Leaves(from, to uint64, fn func(leaf []byte) error) error
}

// ExportSnapshot writes the committed state v and the audit log's leaves
// up to v into w: a snapshot at v's height.
func ExportSnapshot(v state.View, leaves LeafReader, w snapshot.Sink) error {
	var werr error
	if err := v.Iterate(nil, func(k, val []byte) bool {
		werr = w.State(k, val)
		return werr == nil
	}); err != nil || werr != nil {
		return errors.Join(err, werr)
	}
	log, err := loadLog(v)
	if err != nil {
		return err
	}
	return leaves.Leaves(0, log.Size(), w.Leaf)
}

// ListSnapshots lists the snapshots this node offers.
func (a *App) ListSnapshots(context.Context, *abci.RequestListSnapshots) (*abci.ResponseListSnapshots, error) {
	res := &abci.ResponseListSnapshots{}
	if a.cfg.Snapshots == nil {
		return res, nil
	}
	infos, err := a.cfg.Snapshots.List()
	if err != nil {
		return nil, err
	}
	for _, s := range infos {
		res.Snapshots = append(res.Snapshots, &abci.Snapshot{
			Height: s.Height, Format: s.Format, Chunks: s.Chunks, Hash: s.Hash, Metadata: s.Metadata,
		})
	}
	return res, nil
}

// LoadSnapshotChunk returns one chunk of a snapshot this node offers.
func (a *App) LoadSnapshotChunk(_ context.Context, req *abci.RequestLoadSnapshotChunk) (*abci.ResponseLoadSnapshotChunk, error) {
	if a.cfg.Snapshots == nil {
		return nil, errors.New("this node offers no snapshots")
	}
	b, err := a.cfg.Snapshots.Chunk(req.Height, req.Format, req.Chunk)
	if err != nil {
		return nil, err
	}
	return &abci.ResponseLoadSnapshotChunk{Chunk: b}, nil
}

// restore is a snapshot being restored, chunk by chunk.
type restore struct {
	height  int64
	appHash []byte   // from a header the light client verified
	hashes  [][]byte // each chunk's, from the snapshot's metadata
	next    uint32   // the chunk expected next
	state   *state.Restorer
	log     AuditRestorer
	logKept []byte // the log's compact state, as the restored state holds it
	params  []byte // the network parameters, as the restored state holds them
	leaves  bool   // whether leaves have begun (no entry may follow)
}

func (r *restore) State(key, value []byte) error {
	if r.leaves {
		return errors.New("snapshot: a state entry after the audit leaves")
	}
	switch {
	case bytes.Equal(key, logKey):
		r.logKept = bytes.Clone(value)
	case bytes.Equal(key, paramsKey):
		r.params = bytes.Clone(value)
	}
	return r.state.Add(key, value)
}

func (r *restore) Leaf(leaf []byte) error {
	r.leaves = true
	return r.log.Add(leaf)
}

// OfferSnapshot begins restoring a snapshot that a peer offers, on a node
// that holds no state yet.
func (a *App) OfferSnapshot(_ context.Context, req *abci.RequestOfferSnapshot) (*abci.ResponseOfferSnapshot, error) {
	reply := func(r abci.ResponseOfferSnapshot_Result) (*abci.ResponseOfferSnapshot, error) {
		return &abci.ResponseOfferSnapshot{Result: r}, nil
	}
	s := req.Snapshot
	switch {
	case a.store.Height() != 0 || a.cfg.AuditLog == nil:
		return reply(abci.ResponseOfferSnapshot_ABORT)
	case s == nil || s.Height == 0 || s.Height > 1<<62:
		return reply(abci.ResponseOfferSnapshot_REJECT)
	case s.Format != snapshot.Format:
		return reply(abci.ResponseOfferSnapshot_REJECT_FORMAT)
	}
	hashes, err := snapshot.ChunkHashes(s.Metadata, s.Hash, s.Chunks)
	if err != nil {
		return reply(abci.ResponseOfferSnapshot_REJECT)
	}
	// A restore under way is dropped: beginning one empties both stores.
	a.restoring = nil
	r := &restore{height: int64(s.Height), appHash: req.AppHash, hashes: hashes}
	if r.state, err = a.store.Restore(); err != nil {
		return nil, err
	}
	if r.log, err = a.cfg.AuditLog.Restore(); err != nil {
		return nil, err
	}
	a.restoring = r
	return reply(abci.ResponseOfferSnapshot_ACCEPT)
}

// abortRestore undoes a restore under way, if any.
func (a *App) abortRestore() error {
	r := a.restoring
	if r == nil {
		return nil
	}
	a.restoring = nil
	return errors.Join(r.state.Abort(), r.log.Abort())
}

// ApplySnapshotChunk restores the next chunk, once its hash matches the
// snapshot's metadata. After the last, the restored state and log must
// give the app hash that the light client verified, or nothing is kept.
func (a *App) ApplySnapshotChunk(_ context.Context, req *abci.RequestApplySnapshotChunk) (*abci.ResponseApplySnapshotChunk, error) {
	r := a.restoring
	reply := func(res abci.ResponseApplySnapshotChunk_Result) (*abci.ResponseApplySnapshotChunk, error) {
		return &abci.ResponseApplySnapshotChunk{Result: res}, nil
	}
	reject := func() (*abci.ResponseApplySnapshotChunk, error) {
		if err := a.abortRestore(); err != nil {
			return nil, err
		}
		return reply(abci.ResponseApplySnapshotChunk_REJECT_SNAPSHOT)
	}
	switch {
	case r == nil:
		return reply(abci.ResponseApplySnapshotChunk_ABORT)
	case req.Index != r.next:
		return reject()
	}
	if sum := sha256.Sum256(req.Chunk); !bytes.Equal(sum[:], r.hashes[req.Index]) {
		return &abci.ResponseApplySnapshotChunk{
			Result:        abci.ResponseApplySnapshotChunk_RETRY,
			RefetchChunks: []uint32{req.Index},
			RejectSenders: []string{req.Sender},
		}, nil
	}
	// The chunk is the one the metadata names: if it does not decode, the
	// snapshot itself is bad. If it cannot be written, this node is.
	if err := snapshot.Decode(req.Chunk, r); err != nil {
		return reject()
	}
	if err := errors.Join(r.state.Flush(), r.log.Flush()); err != nil {
		return nil, fmt.Errorf("restore snapshot chunk %d: %w", req.Index, err)
	}
	if r.next++; int(r.next) < len(r.hashes) {
		return reply(abci.ResponseApplySnapshotChunk_ACCEPT)
	}
	if err := a.finishRestore(r); errors.Is(err, errRestoredHash) {
		return reject()
	} else if err != nil {
		return nil, err
	}
	a.restoring = nil
	return reply(abci.ResponseApplySnapshotChunk_ACCEPT)
}

// errRestoredHash reports a restored snapshot that does not give the
// trusted app hash.
var errRestoredHash = errors.New("the restored snapshot does not give the trusted app hash")

// finishRestore checks the restored state and log against the trusted app
// hash and commits them.
func (a *App) finishRestore(r *restore) error {
	kept := audit.NewLog()
	if r.logKept != nil {
		var err error
		if kept, err = audit.DecodeLog(r.logKept); err != nil {
			return fmt.Errorf("%w: %v", errRestoredHash, err)
		}
	}
	rebuilt := r.log.Log()
	keptRoot, err := kept.Root()
	if err != nil {
		return err
	}
	rebuiltRoot, err := rebuilt.Root()
	if err != nil {
		return err
	}
	stateRoot := r.state.Root()
	if rebuilt.Size() != kept.Size() || !bytes.Equal(rebuiltRoot, keptRoot) ||
		!bytes.Equal(audit.AppHash(stateRoot, kept.Size(), keptRoot), r.appHash) {
		return errRestoredHash
	}
	params, err := decodeParams(r.params)
	if err != nil {
		return err
	}
	if err := r.log.Finish(r.height, stateRoot); err != nil {
		return err
	}
	if err := r.state.Commit(r.height); err != nil {
		return err
	}
	a.paramsMu.Lock()
	a.params = params
	a.paramsMu.Unlock()
	return nil
}
