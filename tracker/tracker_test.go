package tracker

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/mempool"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/tx"
)

// outcome is what the fake mempool does with one CheckTx call.
type outcome struct {
	err  error   // returned by CheckTx; the callback is not called
	code tx.Code // given to the callback when err is nil
	log  string
	// drop accepts the transaction (code OK) and then loses it, as CometBFT's
	// mempool does when it fills between the check and the insertion.
	drop bool
	// entered, if set, receives once CheckTx is called; gate, if set, holds
	// the answer until it is closed.
	entered chan<- struct{}
	gate    <-chan struct{}
}

// fakeMempool is a scripted mempool. The real one drops an accepted
// transaction only when it fills during the check, which a test cannot
// provoke deterministically. Without a script, CheckTx accepts a
// transaction it does not hold and answers ErrTxInCache for one it holds.
type fakeMempool struct {
	mu     sync.Mutex
	pool   map[tx.Hash]bool
	script map[tx.Hash][]outcome
	calls  map[tx.Hash]int
	log    []tx.Hash // every CheckTx, in order
}

var _ Mempool = (*fakeMempool)(nil)

func newFakeMempool() *fakeMempool {
	return &fakeMempool{
		pool:   make(map[tx.Hash]bool),
		script: make(map[tx.Hash][]outcome),
		calls:  make(map[tx.Hash]int),
	}
}

// then scripts the next answers for h, in order.
func (m *fakeMempool) then(h tx.Hash, os ...outcome) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.script[h] = append(m.script[h], os...)
}

func (m *fakeMempool) CheckTx(t cmttypes.Tx, cb func(*abci.ResponseCheckTx), _ mempool.TxInfo) error {
	h := tx.HashOf(t)
	m.mu.Lock()
	m.calls[h]++
	m.log = append(m.log, h)
	var o outcome
	if s := m.script[h]; len(s) > 0 {
		o, m.script[h] = s[0], s[1:]
	} else if m.pool[h] {
		o = outcome{err: mempool.ErrTxInCache}
	}
	if o.err == nil && o.code == tx.CodeOK && !o.drop {
		m.pool[h] = true
	}
	m.mu.Unlock()
	if o.entered != nil {
		o.entered <- struct{}{}
	}
	if o.gate != nil {
		<-o.gate
	}
	if o.err != nil {
		return o.err
	}
	cb(&abci.ResponseCheckTx{Code: uint32(o.code), Log: o.log})
	return nil
}

func (m *fakeMempool) callsOf(h tx.Hash) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[h]
}

// remove takes committed transactions out of the pool.
func (m *fakeMempool) remove(hs ...tx.Hash) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, h := range hs {
		delete(m.pool, h)
	}
}

// decodeChecker checks what the App's Precheck checks without a chain:
// the encoding.
type decodeChecker struct{}

func (decodeChecker) Precheck(raws ...[]byte) []app.Prechecked {
	out := make([]app.Prechecked, len(raws))
	for i, raw := range raws {
		out[i].Tx, out[i].Err = tx.Decode(raw, tx.DefaultLimits)
		out[i].Hash = tx.HashOf(raw)
	}
	return out
}

// fakeResults stands for the index.
type fakeResults struct {
	mu  sync.Mutex
	txs map[tx.Hash]*app.TxResult
	err error
}

func (r *fakeResults) Tx(h tx.Hash) (*app.TxResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return nil, r.err
	}
	return r.txs[h], nil
}

func (r *fakeResults) add(res app.TxResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.txs[res.Hash] = &res
}

// harness is a tracker over the fakes, and the chain's height.
type harness struct {
	t      *testing.T
	mp     *fakeMempool
	res    *fakeResults
	tr     *Tracker
	height int64
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	h := &harness{t: t, mp: newFakeMempool(), res: &fakeResults{txs: make(map[tx.Hash]*app.TxResult)}}
	h.tr = New(h.mp, decodeChecker{}, h.res, opts)
	return h
}

// run starts the tracker's Run loop until the test ends.
func (h *harness) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		h.tr.Run(ctx)
		close(done)
	}()
	h.t.Cleanup(func() {
		cancel()
		<-done
	})
}

// commit commits the next block with the transactions hs, in order, applied
// with code OK: indexed first, then taken out of the mempool, then reported
// to the tracker, as the node does.
func (h *harness) commit(hs ...tx.Hash) *app.Block {
	h.height++
	b := &app.Block{Height: h.height}
	for i, th := range hs {
		r := app.TxResult{Hash: th, Height: h.height, Index: i, Code: tx.CodeOK}
		h.res.add(r)
		b.Txs = append(b.Txs, r)
	}
	h.mp.remove(hs...)
	h.tr.BlockCommitted(b)
	return b
}

// submit submits raw and fails the test on a node error.
func (h *harness) submit(raw []byte) Result {
	h.t.Helper()
	r, err := h.tr.Submit(raw)
	if err != nil {
		h.t.Fatalf("Submit() = %v; want no error", err)
	}
	return r
}

func (h *harness) status(th tx.Hash) Result {
	h.t.Helper()
	r, err := h.tr.Status(th)
	if err != nil {
		h.t.Fatalf("Status(%s) = %v; want no error", th, err)
	}
	return r
}

// testTx returns an encoded transaction, distinct for each seq, and its hash.
// The checker does not verify signatures, so it is not signed.
func testTx(t *testing.T, seq uint64) ([]byte, tx.Hash) {
	t.Helper()
	tr := &tx.Tx{
		ChainID:   "tracker-test",
		Signer:    make([]byte, tx.PubKeySize),
		Sequence:  seq,
		Msgs:      []tx.Msg{{Type: 1, Body: []byte("body")}},
		Signature: make([]byte, tx.SignatureSize),
	}
	raw := tr.Encode()
	if _, err := tx.Decode(raw, tx.DefaultLimits); err != nil {
		t.Fatalf("Decode(test transaction) = %v; want nil", err)
	}
	return raw, tx.HashOf(raw)
}

// eventually polls cond every millisecond and fails the test if it does not
// hold within a generous deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitCtx returns a context that ends long after any wait of a passing test.
func waitCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestSubmit checks the first answer of Submit for each answer of the
// mempool, and what Status remembers of it afterwards.
func TestSubmit(t *testing.T) {
	errNode := errors.New("connection to the application lost")
	tests := []struct {
		name      string
		malformed bool     // submit bytes that do not decode
		outcome   *outcome // the mempool's answer; nil: accept
		committed bool     // the index holds the transaction already
		want      Result   // Submit's answer; Hash is filled in
		wantErr   bool     // Submit fails as a node fault
		status    Status   // what Status says afterwards
		pending   int      // Pending() afterwards
	}{
		{name: "accepted", want: Result{Status: Pending}, status: Pending, pending: 1},
		{
			name:    "rejected by CheckTx",
			outcome: &outcome{code: tx.CodeSequenceSkipped, log: "sequence 7, expected 3"},
			want:    Result{Status: Rejected, Code: tx.CodeSequenceSkipped, Log: "sequence 7, expected 3"},
			status:  Rejected,
		},
		{
			name:      "malformed",
			malformed: true,
			want:      Result{Status: Rejected, Code: tx.CodeMalformed},
			status:    Rejected,
		},
		{
			name:    "mempool full",
			outcome: &outcome{err: mempool.ErrMempoolIsFull{NumTxs: 10, MaxTxs: 10}},
			want:    Result{Status: Rejected, Code: tx.CodeBusy, Log: "mempool is full"},
			status:  Unknown, // busy is not final: the client submits again
		},
		{
			name:    "mempool rechecking",
			outcome: &outcome{err: mempool.ErrRecheckFull},
			want:    Result{Status: Rejected, Code: tx.CodeBusy, Log: "mempool is full"},
			status:  Unknown,
		},
		{
			name:    "too large for the mempool",
			outcome: &outcome{err: mempool.ErrTxTooLarge{Max: 10, Actual: 20}},
			want:    Result{Status: Rejected, Code: tx.CodeOversized, Log: mempool.ErrTxTooLarge{Max: 10, Actual: 20}.Error()},
			status:  Rejected,
		},
		{
			name:    "in cache, not committed",
			outcome: &outcome{err: mempool.ErrTxInCache},
			want:    Result{Status: Pending},
			status:  Pending,
			pending: 1,
		},
		{
			name:      "in cache, committed",
			outcome:   &outcome{err: mempool.ErrTxInCache},
			committed: true,
			want:      Result{Status: Committed, Height: 4, Index: 2},
			status:    Committed,
		},
		{
			name:      "sequence replayed, committed",
			outcome:   &outcome{code: tx.CodeSequenceReplayed, log: "sequence 3 was used"},
			committed: true,
			want:      Result{Status: Committed, Height: 4, Index: 2},
			status:    Committed,
		},
		{
			name:    "sequence replayed, not committed",
			outcome: &outcome{code: tx.CodeSequenceReplayed, log: "sequence 3 was used"},
			want:    Result{Status: Rejected, Code: tx.CodeSequenceReplayed, Log: "sequence 3 was used"},
			status:  Rejected,
		},
		{
			name:    "node fault",
			outcome: &outcome{err: errNode},
			wantErr: true,
			status:  Unknown,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Options{})
			raw, th := testTx(t, 3)
			if tc.malformed {
				raw = raw[:len(raw)-1]
				th = tx.HashOf(raw)
			}
			if tc.outcome != nil {
				h.mp.then(th, *tc.outcome)
			}
			if tc.committed {
				h.res.add(app.TxResult{Hash: th, Height: 4, Index: 2})
			}
			got, err := h.tr.Submit(raw)
			if tc.wantErr {
				if err == nil || !errors.Is(err, errNode) {
					t.Fatalf("Submit() = %+v, %v; want an error wrapping %v", got, err, errNode)
				}
			} else {
				if err != nil {
					t.Fatalf("Submit() = %v; want no error", err)
				}
				want := tc.want
				want.Hash = th
				if tc.malformed {
					want.Log = got.Log // the decoder's message
				}
				if got != want {
					t.Errorf("Submit() = %+v; want %+v", got, want)
				}
			}
			if st := h.status(th); st.Status != tc.status {
				t.Errorf("Status() after Submit = %+v; want status %s", st, tc.status)
			}
			if got := h.tr.Pending(); got != tc.pending {
				t.Errorf("Pending() = %d; want %d", got, tc.pending)
			}
		})
	}
}

// TestCommit checks that a committed block settles a pending transaction
// and wakes its waiters.
func TestCommit(t *testing.T) {
	h := newHarness(t, Options{})
	raw, th := testTx(t, 1)
	_, other := testTx(t, 2)
	if r := h.submit(raw); r.Status != Pending {
		t.Fatalf("Submit() = %+v; want pending", r)
	}
	waited := make(chan Result, 1)
	go func() {
		r, err := h.tr.Wait(waitCtx(t), th)
		if err != nil {
			t.Errorf("Wait() = %v; want no error", err)
		}
		waited <- r
	}()
	h.commit()
	h.commit(other, th)
	want := Result{Hash: th, Status: Committed, Code: tx.CodeOK, Height: 2, Index: 1}
	if got := <-waited; got != want {
		t.Errorf("Wait() = %+v; want %+v", got, want)
	}
	if got := h.status(th); got != want {
		t.Errorf("Status() = %+v; want %+v", got, want)
	}
	if got := h.tr.Pending(); got != 0 {
		t.Errorf("Pending() = %d; want 0", got)
	}
}

// TestSubmitTwice checks that submitting the bytes of a pending transaction
// again answers pending without a second entry or CheckTx, and that
// submitting a committed one answers with its result.
func TestSubmitTwice(t *testing.T) {
	h := newHarness(t, Options{})
	raw, th := testTx(t, 1)
	for i := range 2 {
		if r := h.submit(raw); r != (Result{Hash: th, Status: Pending}) {
			t.Fatalf("Submit() #%d = %+v; want pending", i+1, r)
		}
	}
	if got := h.tr.Pending(); got != 1 {
		t.Errorf("Pending() after two submissions = %d; want 1", got)
	}
	if got := h.mp.callsOf(th); got != 1 {
		t.Errorf("CheckTx calls after two submissions = %d; want 1", got)
	}

	h.commit(th)
	h.mp.then(th, outcome{err: mempool.ErrTxInCache}) // CometBFT keeps committed txs in its cache
	want := Result{Hash: th, Status: Committed, Code: tx.CodeOK, Height: 1}
	if got := h.submit(raw); got != want {
		t.Errorf("Submit() of a committed transaction = %+v; want %+v", got, want)
	}
	if got := h.tr.Pending(); got != 0 {
		t.Errorf("Pending() after resubmitting a committed transaction = %d; want 0", got)
	}
}

// TestConcurrentSubmitRejected checks that a waiter on a transaction that
// a concurrent Submit of the same bytes answered pending wakes when the
// first Submit's CheckTx rejects it, instead of waiting for its deadline.
func TestConcurrentSubmitRejected(t *testing.T) {
	h := newHarness(t, Options{})
	raw, th := testTx(t, 1)
	entered, gate := make(chan struct{}), make(chan struct{})
	h.mp.then(th, outcome{code: tx.CodeSequenceSkipped, log: "ahead", entered: entered, gate: gate})

	first := make(chan Result, 1)
	go func() {
		r, err := h.tr.Submit(raw)
		if err != nil {
			t.Errorf("first Submit() = %v; want no error", err)
		}
		first <- r
	}()
	<-entered // the first Submit is in CheckTx
	if r := h.submit(raw); r.Status != Pending {
		t.Fatalf("second Submit() during the first's CheckTx = %+v; want pending", r)
	}
	ctx := waitCtx(t)
	waited := make(chan Result, 1)
	go func() {
		r, _ := h.tr.Wait(ctx, th)
		waited <- r
	}()
	// Let the waiter reach its select; if it comes late, it finds the
	// result without waiting and the test passes as well.
	time.Sleep(20 * time.Millisecond)
	close(gate)

	want := Result{Hash: th, Status: Rejected, Code: tx.CodeSequenceSkipped, Log: "ahead"}
	if got := <-first; got != want {
		t.Errorf("first Submit() = %+v; want %+v", got, want)
	}
	if got := <-waited; got != want || ctx.Err() != nil {
		t.Errorf("Wait() = %+v with context error %v; want %+v before the deadline", got, ctx.Err(), want)
	}
}

// TestResubmitDropped checks that a transaction the mempool accepted and
// then lost is submitted again after ResubmitAfter blocks and commits.
func TestResubmitDropped(t *testing.T) {
	h := newHarness(t, Options{ResubmitAfter: 2})
	h.run()
	raw, th := testTx(t, 1)
	h.mp.then(th, outcome{drop: true})
	if r := h.submit(raw); r.Status != Pending {
		t.Fatalf("Submit() = %+v; want pending", r)
	}
	h.commit() // height 1: not stale yet
	h.commit() // height 2: stale, resubmitted
	eventually(t, "the resubmission", func() bool { return h.tr.Stats().Resubmitted == 1 })
	if got := h.mp.callsOf(th); got != 2 {
		t.Errorf("CheckTx calls = %d; want 2", got)
	}
	h.commit(th)
	want := Result{Hash: th, Status: Committed, Code: tx.CodeOK, Height: 3}
	got, err := h.tr.Wait(waitCtx(t), th)
	if err != nil || got != want {
		t.Errorf("Wait() = %+v, %v; want %+v, nil", got, err, want)
	}
	if got := h.tr.Stats(); got != (Stats{Resubmitted: 1}) {
		t.Errorf("Stats() = %+v; want one resubmission", got)
	}
}

// TestResubmitStillPending checks that a stale transaction the mempool
// still holds is left alone: CheckTx answers ErrTxInCache.
func TestResubmitStillPending(t *testing.T) {
	h := newHarness(t, Options{ResubmitAfter: 2})
	h.run()
	raw, th := testTx(t, 1)
	h.submit(raw)
	for calls := 2; calls <= 3; calls++ {
		h.commit()
		h.commit() // stale: resubmitted
		eventually(t, "the resubmission", func() bool { return h.mp.callsOf(th) == calls })
	}
	if got := h.status(th); got.Status != Pending {
		t.Errorf("Status() = %+v; want pending", got)
	}
	if got := h.tr.Stats(); got != (Stats{}) {
		t.Errorf("Stats() = %+v; want zero", got)
	}
}

// TestResubmitRejected checks that a lost transaction that can no longer
// be valid is reported dropped with CheckTx's code, and that a busy
// mempool only delays the verdict.
func TestResubmitRejected(t *testing.T) {
	h := newHarness(t, Options{ResubmitAfter: 2})
	h.run()
	raw, th := testTx(t, 1)
	h.mp.then(th,
		outcome{drop: true},
		outcome{err: mempool.ErrMempoolIsFull{NumTxs: 10, MaxTxs: 10}},
		outcome{code: tx.CodeSequenceReplayed, log: "sequence 1 was used"},
	)
	h.submit(raw)
	h.commit()
	h.commit() // resubmitted: busy
	eventually(t, "the first resubmission", func() bool { return h.mp.callsOf(th) == 2 })
	if got := h.status(th); got.Status != Pending {
		t.Fatalf("Status() after a busy resubmission = %+v; want pending", got)
	}
	h.commit()
	h.commit() // resubmitted: replayed
	want := Result{Hash: th, Status: Dropped, Code: tx.CodeSequenceReplayed, Log: "sequence 1 was used"}
	got, err := h.tr.Wait(waitCtx(t), th)
	if err != nil || got != want {
		t.Errorf("Wait() = %+v, %v; want %+v, nil", got, err, want)
	}
	if got := h.status(th); got != want {
		t.Errorf("Status() = %+v; want %+v", got, want)
	}
	if got := h.tr.Stats(); got != (Stats{Dropped: 1}) {
		t.Errorf("Stats() = %+v; want one drop", got)
	}
}

// TestStats checks the counters over several transactions: one lost and
// back, one lost for good, one never lost.
func TestStats(t *testing.T) {
	h := newHarness(t, Options{ResubmitAfter: 1})
	h.run()
	back, hBack := testTx(t, 1)
	gone, hGone := testTx(t, 2)
	kept, hKept := testTx(t, 3)
	h.mp.then(hBack, outcome{drop: true})
	h.mp.then(hGone, outcome{drop: true}, outcome{code: tx.CodeSequenceReplayed})
	for _, raw := range [][]byte{back, gone, kept} {
		h.submit(raw)
	}
	h.commit()
	eventually(t, "three resubmissions", func() bool {
		return h.mp.callsOf(hBack) == 2 && h.mp.callsOf(hGone) == 2 && h.mp.callsOf(hKept) == 2
	})
	eventually(t, "the counters", func() bool { return h.tr.Stats() == Stats{Resubmitted: 1, Dropped: 1} })
	if got := h.tr.Pending(); got != 2 {
		t.Errorf("Pending() = %d; want 2", got)
	}
}

// TestWaitContextEnds checks that Wait returns what is known, pending, once
// its context ends: the API answers such a wait with 202.
func TestWaitContextEnds(t *testing.T) {
	h := newHarness(t, Options{})
	raw, th := testTx(t, 1)
	h.submit(raw)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err := h.tr.Wait(ctx, th)
	if want := (Result{Hash: th, Status: Pending}); err != nil || got != want {
		t.Errorf("Wait(cancelled context) = %+v, %v; want %+v, nil", got, err, want)
	}

	_, unknown := testTx(t, 2)
	got, err = h.tr.Wait(waitCtx(t), unknown)
	if want := (Result{Hash: unknown, Status: Unknown}); err != nil || got != want {
		t.Errorf("Wait(unknown hash) = %+v, %v; want %+v, nil", got, err, want)
	}
}

// TestStatusIndexError checks that an index failure reaches the caller.
func TestStatusIndexError(t *testing.T) {
	h := newHarness(t, Options{})
	h.res.err = errors.New("disk on fire")
	_, th := testTx(t, 1)
	if _, err := h.tr.Status(th); !errors.Is(err, h.res.err) {
		t.Errorf("Status() = %v; want %v", err, h.res.err)
	}
}

// TestKeepFinished checks that only the newest KeepFinished final results
// are remembered.
func TestKeepFinished(t *testing.T) {
	h := newHarness(t, Options{KeepFinished: 2})
	var hashes []tx.Hash
	for seq := range uint64(3) {
		raw, th := testTx(t, seq)
		h.mp.then(th, outcome{code: tx.CodeSequenceSkipped})
		h.submit(raw)
		hashes = append(hashes, th)
	}
	for i, want := range []Status{Unknown, Rejected, Rejected} {
		if got := h.status(hashes[i]); got.Status != want {
			t.Errorf("Status(rejection %d of 3) = %+v; want status %s", i+1, got, want)
		}
	}
}
