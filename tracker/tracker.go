// Package tracker follows each submitted transaction until it commits or can
// no longer commit, so that a client never hears "accepted" for something
// that will silently not happen.
//
// CometBFT's mempool may drop a transaction after CheckTx accepted it (under
// saturation, when the mempool fills between the check and the insertion).
// The tracker keeps every accepted transaction until a committed block holds
// it. One that is still pending some blocks later is submitted again: if the
// mempool still has it, nothing changes; if it had been dropped, it goes back
// in; if it can no longer be valid (its sequence number was used meanwhile),
// the tracker reports it dropped with the code CheckTx gave.
//
// tracker imports app, tx and CometBFT's mempool types.
package tracker

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/mempool"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/tx"
)

// Status is where a transaction stands.
type Status string

// The statuses.
const (
	Unknown   Status = "unknown"   // never seen by this node, or seen before it restarted
	Rejected  Status = "rejected"  // refused before entering the mempool; it will not commit
	Pending   Status = "pending"   // in the mempool, waiting for a block
	Committed Status = "committed" // in a block; Code says whether it applied
	Dropped   Status = "dropped"   // left the mempool without committing and cannot commit
)

// Result is what the tracker knows of a transaction.
type Result struct {
	Hash   tx.Hash `json:"hash"`
	Status Status  `json:"status"`
	Code   tx.Code `json:"code"`
	Log    string  `json:"log,omitempty"`
	Height int64   `json:"height,omitempty"`
	Index  int     `json:"index,omitempty"`
}

// Final reports whether the result will not change.
func (r Result) Final() bool { return r.Status != Pending && r.Status != Unknown }

// Mempool is the part of CometBFT's mempool the tracker uses.
type Mempool interface {
	CheckTx(t cmttypes.Tx, cb func(*abci.ResponseCheckTx), info mempool.TxInfo) error
}

// Checker checks transactions without state; the App satisfies it.
type Checker interface {
	Precheck(raws ...[]byte) []app.Prechecked
}

// Results looks up committed transactions; the Index satisfies it.
type Results interface {
	Tx(h tx.Hash) (*app.TxResult, error)
}

// Options configure a Tracker.
type Options struct {
	// ResubmitAfter is how many blocks a transaction may stay pending before
	// it is submitted again. Default 5.
	ResubmitAfter int64
	// KeepFinished is how many rejected and dropped results are remembered
	// for status queries. Default 10,000.
	KeepFinished int
	// Journal, if set, keeps accepted transactions until they settle, so
	// that Recover can take them up again after the node restarts.
	Journal Journal
}

// Journal stores the transactions the tracker accepted and has not settled.
// FileJournal satisfies it. Writes need not be synchronous: the journal must
// survive the process, not the machine.
type Journal interface {
	Save(hs []tx.Hash, raws [][]byte) error
	Remove(hs []tx.Hash) error
	Journaled() ([][]byte, error)
}

type entry struct {
	raw    []byte
	since  int64 // height when last submitted
	done   chan struct{}
	result Result
}

// Tracker tracks submitted transactions. It is an app.Listener.
type Tracker struct {
	mp      Mempool
	checker Checker
	results Results
	opts    Options

	mu       sync.Mutex
	height   int64
	pending  map[tx.Hash]*entry
	finished map[tx.Hash]Result
	order    []tx.Hash // finished, oldest first
	settled  []tx.Hash // to remove from the journal
	wake     chan struct{}

	stats Stats
}

// Stats counts what the tracker did, for metrics.
type Stats struct {
	Resubmitted, Dropped uint64
}

var _ app.Listener = (*Tracker)(nil)

// New returns a tracker. Run must be running for resubmissions.
func New(mp Mempool, checker Checker, results Results, opts Options) *Tracker {
	if opts.ResubmitAfter == 0 {
		opts.ResubmitAfter = 5
	}
	if opts.KeepFinished == 0 {
		opts.KeepFinished = 10_000
	}
	return &Tracker{
		mp: mp, checker: checker, results: results, opts: opts,
		pending:  make(map[tx.Hash]*entry),
		finished: make(map[tx.Hash]Result),
		wake:     make(chan struct{}, 1),
	}
}

// Submit checks a transaction and hands it to the mempool. The result is
// Rejected (with the code) or Pending; err is set only when the node fails.
func (t *Tracker) Submit(raw []byte) (Result, error) {
	rs, err := t.SubmitAll(raw)
	if err != nil {
		return Result{}, err
	}
	return rs[0], nil
}

// SubmitAll submits transactions in order, each as Submit would. Their
// signatures are verified together and the accepted ones journaled in one
// write: a batch costs less per transaction than as many Submits.
func (t *Tracker) SubmitAll(raws ...[]byte) ([]Result, error) {
	checked := t.checker.Precheck(raws...)
	results := make([]Result, len(raws))
	var hs []tx.Hash
	var accepted [][]byte
	for i, p := range checked {
		r, journal, err := t.admit(raws[i], p)
		if err != nil {
			return nil, err
		}
		results[i] = r
		if journal {
			hs, accepted = append(hs, p.Hash), append(accepted, raws[i])
		}
	}
	if err := t.journal(hs, accepted); err != nil {
		return nil, err
	}
	return results, nil
}

// journal saves the accepted transactions that are still pending. A block
// may have settled some already; holding t.mu, which BlockCommitted takes,
// keeps one from settling before it is saved, which would leave it in the
// journal for good.
func (t *Tracker) journal(hs []tx.Hash, raws [][]byte) error {
	j := t.opts.Journal
	if j == nil || len(hs) == 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var pendingHs []tx.Hash
	var pendingRaws [][]byte
	for i, h := range hs {
		if _, ok := t.pending[h]; ok {
			pendingHs, pendingRaws = append(pendingHs, h), append(pendingRaws, raws[i])
		}
	}
	if len(pendingHs) == 0 {
		return nil
	}
	if err := j.Save(pendingHs, pendingRaws); err != nil {
		return fmt.Errorf("journal transactions: %w", err)
	}
	return nil
}

// admit hands a prechecked transaction to the mempool, unless it is pending
// already, and reports whether to journal it.
func (t *Tracker) admit(raw []byte, p app.Prechecked) (r Result, journal bool, err error) {
	h := p.Hash
	if p.Err != nil {
		r, err := t.reject(h, p.Err)
		return r, false, err
	}
	t.mu.Lock()
	if e, ok := t.pending[h]; ok {
		t.mu.Unlock()
		return e.snapshot(&t.mu), false, nil
	}
	e := &entry{raw: raw, since: t.height, done: make(chan struct{}), result: Result{Hash: h, Status: Pending}}
	t.pending[h] = e
	t.mu.Unlock()

	res, err := t.checkTx(raw)
	inCache := errors.Is(err, mempool.ErrTxInCache)
	code := tx.CodeOK
	if err == nil {
		code = tx.Code(res.Code)
	}
	// The same bytes submitted again are in the mempool's cache, or fail
	// their sequence check once committed: answer with the committed
	// result if there is one. Only repeats pay for the lookup.
	if inCache || code == tx.CodeSequenceReplayed {
		if c, err := t.results.Tx(h); err != nil || c != nil {
			t.forget(h, e)
			if err != nil {
				return Result{}, false, err
			}
			return committedResult(c), false, nil
		}
	}
	switch {
	case inCache:
		// Known to the mempool already and not committed: pending.
	case err != nil:
		r, err := t.reject(h, err)
		// Forget only now: the waiters it wakes read what reject remembered.
		t.forget(h, e)
		return r, false, err
	case code != tx.CodeOK:
		r, err := t.reject(h, &tx.Rejection{Code: code, Msg: res.Log})
		t.forget(h, e)
		return r, false, err
	}
	return Result{Hash: h, Status: Pending}, true, nil
}

// Recover takes up the transactions journaled before the node stopped: each
// is found committed, submitted again, or reported dropped with the code
// that refused it. It returns how many it found.
func (t *Tracker) Recover() (int, error) {
	j := t.opts.Journal
	if j == nil {
		return 0, nil
	}
	raws, err := j.Journaled()
	if err != nil {
		return 0, fmt.Errorf("read journal: %w", err)
	}
	// An account's transactions go back in sequence order, or the later
	// ones would be refused as skipping ahead.
	type journaled struct {
		raw    []byte
		signer []byte
		seq    uint64
	}
	js := make([]journaled, len(raws))
	for i, p := range t.checker.Precheck(raws...) {
		js[i].raw = raws[i]
		if p.Err == nil {
			js[i].signer, js[i].seq = p.Tx.Signer, p.Tx.Sequence
		}
	}
	slices.SortStableFunc(js, func(a, b journaled) int {
		if c := bytes.Compare(a.signer, b.signer); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	for i := range js {
		raws[i] = js[i].raw
	}
	for _, raw := range raws {
		r, err := t.Submit(raw)
		if err != nil {
			return 0, err
		}
		switch {
		case r.Status == Rejected && r.Code == tx.CodeBusy:
			// No room yet: keep it pending, and resubmitStale retries.
			t.mu.Lock()
			t.pending[r.Hash] = &entry{raw: raw, since: t.height, done: make(chan struct{}), result: Result{Hash: r.Hash, Status: Pending}}
			t.mu.Unlock()
		case r.Status == Rejected:
			t.mu.Lock()
			t.remember(Result{Hash: r.Hash, Status: Dropped, Code: r.Code, Log: r.Log})
			t.stats.Dropped++
			t.settled = append(t.settled, r.Hash)
			t.mu.Unlock()
		case r.Status == Committed:
			t.mu.Lock()
			t.settled = append(t.settled, r.Hash)
			t.mu.Unlock()
		}
	}
	return len(raws), t.removeSettled()
}

// removeSettled removes settled transactions from the journal.
func (t *Tracker) removeSettled() error {
	j := t.opts.Journal
	t.mu.Lock()
	hs := t.settled
	t.settled = nil
	t.mu.Unlock()
	if j == nil || len(hs) == 0 {
		return nil
	}
	return j.Remove(hs)
}

// checkTx runs CheckTx and waits for its answer.
func (t *Tracker) checkTx(raw []byte) (*abci.ResponseCheckTx, error) {
	ch := make(chan *abci.ResponseCheckTx, 1)
	if err := t.mp.CheckTx(raw, func(r *abci.ResponseCheckTx) { ch <- r }, mempool.TxInfo{}); err != nil {
		// ErrRecheckFull: a block came while the mempool was still
		// rechecking, which it treats as full until the recheck ends.
		var full mempool.ErrMempoolIsFull
		if errors.As(err, &full) || errors.Is(err, mempool.ErrRecheckFull) {
			return nil, tx.Rejectf(tx.CodeBusy, "mempool is full")
		}
		var large mempool.ErrTxTooLarge
		if errors.As(err, &large) {
			return nil, tx.Rejectf(tx.CodeOversized, "%v", err)
		}
		return nil, err
	}
	return <-ch, nil
}

// reject turns a check error into a Rejected result.
func (t *Tracker) reject(h tx.Hash, err error) (Result, error) {
	var rej *tx.Rejection
	if !errors.As(err, &rej) {
		if errors.Is(err, mempool.ErrTxInCache) {
			return Result{Hash: h, Status: Pending}, nil
		}
		return Result{}, fmt.Errorf("submit transaction: %w", err)
	}
	r := Result{Hash: h, Status: Rejected, Code: rej.Code, Log: rej.Msg}
	if rej.Code != tx.CodeBusy {
		t.mu.Lock()
		t.remember(r)
		t.mu.Unlock()
	}
	return r, nil
}

// forget removes e if it is still the pending entry for h, and wakes its
// waiters: a concurrent Submit of the same bytes may have answered Pending.
func (t *Tracker) forget(h tx.Hash, e *entry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pending[h] == e {
		delete(t.pending, h)
		close(e.done)
	}
}

// remember keeps a final result that the index does not hold. t.mu is held.
func (t *Tracker) remember(r Result) {
	if _, ok := t.finished[r.Hash]; !ok {
		t.order = append(t.order, r.Hash)
	}
	t.finished[r.Hash] = r
	for len(t.order) > t.opts.KeepFinished {
		delete(t.finished, t.order[0])
		t.order = t.order[1:]
	}
}

func (e *entry) snapshot(mu *sync.Mutex) Result {
	mu.Lock()
	defer mu.Unlock()
	return e.result
}

func committedResult(r *app.TxResult) Result {
	return Result{Hash: r.Hash, Status: Committed, Code: r.Code, Log: r.Log, Height: r.Height, Index: r.Index}
}

// Status returns what is known of the transaction with hash h.
func (t *Tracker) Status(h tx.Hash) (Result, error) {
	t.mu.Lock()
	if e, ok := t.pending[h]; ok {
		r := e.result
		t.mu.Unlock()
		return r, nil
	}
	if r, ok := t.finished[h]; ok {
		t.mu.Unlock()
		return r, nil
	}
	t.mu.Unlock()
	r, err := t.results.Tx(h)
	if err != nil {
		return Result{}, err
	}
	if r != nil {
		return committedResult(r), nil
	}
	return Result{Hash: h, Status: Unknown}, nil
}

// Wait blocks until the transaction with hash h is final or ctx ends, and
// returns what is known then.
func (t *Tracker) Wait(ctx context.Context, h tx.Hash) (Result, error) {
	t.mu.Lock()
	e, ok := t.pending[h]
	t.mu.Unlock()
	if ok {
		select {
		case <-e.done:
			// Settled by a block or a drop: the result is at hand, and
			// reading it back from the index would decode the whole
			// result with its events (hundreds, for a captured document).
			if r := e.snapshot(&t.mu); r.Status == Committed || r.Status == Dropped {
				return r, nil
			}
		case <-ctx.Done():
		}
	}
	return t.Status(h)
}

// Pending returns the number of transactions pending.
func (t *Tracker) Pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending)
}

// Stats returns counters of resubmissions and drops.
func (t *Tracker) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

// BlockCommitted settles the block's transactions. It runs inside Commit.
func (t *Tracker) BlockCommitted(b *app.Block) {
	t.mu.Lock()
	t.height = b.Height
	for i := range b.Txs {
		r := &b.Txs[i]
		if e, ok := t.pending[r.Hash]; ok {
			e.result = committedResult(r)
			close(e.done)
			delete(t.pending, r.Hash)
			if t.opts.Journal != nil {
				t.settled = append(t.settled, r.Hash)
			}
		}
	}
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// Run resubmits stale transactions after each block until ctx ends.
func (t *Tracker) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.wake:
			// The journal is kept off the block's path: a crash before
			// this leaves settled entries, which Recover settles again.
			t.removeSettled()
			t.resubmitStale()
		}
	}
}

func (t *Tracker) resubmitStale() {
	type stale struct {
		h tx.Hash
		e *entry
	}
	t.mu.Lock()
	var list []stale
	for h, e := range t.pending {
		if t.height-e.since >= t.opts.ResubmitAfter {
			e.since = t.height
			list = append(list, stale{h, e})
		}
	}
	t.mu.Unlock()
	for _, s := range list {
		res, err := t.checkTx(s.e.raw)
		if err == nil && res.Code != uint32(tx.CodeOK) {
			err = &tx.Rejection{Code: tx.Code(res.Code), Msg: res.Log}
		}
		var rej *tx.Rejection
		switch {
		case err == nil:
			// It had left the mempool and is back in.
			t.mu.Lock()
			t.stats.Resubmitted++
			t.mu.Unlock()
		case errors.As(err, &rej) && rej.Code != tx.CodeBusy:
			t.drop(s.h, s.e, rej.Code, rej.Msg)
		default:
			// Still in the mempool (ErrTxInCache), no room yet, or the node
			// is stopping: try again later.
		}
	}
}

// drop settles a pending transaction that can no longer commit, unless a
// block committed it meanwhile.
func (t *Tracker) drop(h tx.Hash, e *entry, code tx.Code, msg string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pending[h] != e {
		return
	}
	e.result = Result{Hash: h, Status: Dropped, Code: code, Log: msg}
	delete(t.pending, h)
	t.remember(e.result)
	t.stats.Dropped++
	if t.opts.Journal != nil {
		t.settled = append(t.settled, h)
	}
	close(e.done)
}
