package tracker

import (
	"slices"
	"sync"
	"testing"

	"github.com/careledger/careledger/tx"
)

// memJournal is a Journal in memory.
type memJournal struct {
	mu  sync.Mutex
	txs map[tx.Hash][]byte
}

func (j *memJournal) Save(hs []tx.Hash, raws [][]byte) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for i, h := range hs {
		j.txs[h] = raws[i]
	}
	return nil
}

func (j *memJournal) Remove(hs []tx.Hash) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, h := range hs {
		delete(j.txs, h)
	}
	return nil
}

// Journaled returns the transactions in reverse sequence order, the worst
// order for Recover.
func (j *memJournal) Journaled() ([][]byte, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out [][]byte
	for _, raw := range j.txs {
		out = append(out, raw)
	}
	slices.SortFunc(out, func(a, b []byte) int {
		ta, _ := tx.Decode(a, tx.DefaultLimits)
		tb, _ := tx.Decode(b, tx.DefaultLimits)
		return int(tb.Sequence) - int(ta.Sequence)
	})
	return out, nil
}

func (j *memJournal) has(h tx.Hash) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	_, ok := j.txs[h]
	return ok
}

// TestJournal checks that an accepted transaction is journaled until it
// settles, committed or dropped, and that only accepted ones are.
func TestJournal(t *testing.T) {
	j := &memJournal{txs: make(map[tx.Hash][]byte)}
	h := newHarness(t, Options{Journal: j, ResubmitAfter: 1})
	h.run()
	committed, hc := testTx(t, 0)
	dropped, hd := testTx(t, 1)
	refused, hr := testTx(t, 2)
	h.mp.then(hr, outcome{code: tx.CodeSequenceSkipped})
	h.mp.then(hd, outcome{drop: true}, outcome{code: tx.CodeSequenceReplayed})
	for _, raw := range [][]byte{committed, dropped, refused} {
		h.submit(raw)
	}
	if !j.has(hc) || !j.has(hd) || j.has(hr) {
		t.Fatalf("journal after submissions: committed %v, dropped %v, refused %v; want true, true, false", j.has(hc), j.has(hd), j.has(hr))
	}
	h.commit(hc)
	eventually(t, "committed transaction to leave the journal", func() bool { return !j.has(hc) })
	h.commit()
	eventually(t, "dropped transaction to be reported", func() bool { return h.status(hd).Status == Dropped })
	h.commit()
	eventually(t, "dropped transaction to leave the journal", func() bool { return !j.has(hd) })
}

// TestSubmitAll checks that a batch gets one answer per transaction, in
// order, and that only its accepted transactions are journaled.
func TestSubmitAll(t *testing.T) {
	j := &memJournal{txs: make(map[tx.Hash][]byte)}
	h := newHarness(t, Options{Journal: j})
	first, h1 := testTx(t, 0)
	refused, hr := testTx(t, 1)
	last, h2 := testTx(t, 2)
	h.mp.then(hr, outcome{code: tx.CodeSequenceSkipped})
	rs, err := h.tr.SubmitAll(first, []byte("garbage"), refused, last)
	if err != nil {
		t.Fatalf("SubmitAll = %v", err)
	}
	want := []Result{
		{Hash: h1, Status: Pending},
		{Hash: tx.HashOf([]byte("garbage")), Status: Rejected, Code: tx.CodeMalformed},
		{Hash: hr, Status: Rejected, Code: tx.CodeSequenceSkipped},
		{Hash: h2, Status: Pending},
	}
	for i := range want {
		if rs[i].Hash != want[i].Hash || rs[i].Status != want[i].Status || rs[i].Code != want[i].Code {
			t.Errorf("SubmitAll result %d = %+v; want %+v", i, rs[i], want[i])
		}
	}
	if !j.has(h1) || !j.has(h2) || j.has(hr) || len(j.txs) != 2 {
		t.Errorf("journal holds %d transactions (first %v, last %v, refused %v); want the first and the last", len(j.txs), j.has(h1), j.has(h2), j.has(hr))
	}
}

// TestSubmitAllSettledBeforeJournaled: a transaction of a batch that
// commits before the batch is journaled is not journaled, where nothing
// would ever remove it.
func TestSubmitAllSettledBeforeJournaled(t *testing.T) {
	j := &memJournal{txs: make(map[tx.Hash][]byte)}
	h := newHarness(t, Options{Journal: j})
	early, he := testTx(t, 0)
	held, hh := testTx(t, 1)
	entered, gate := make(chan struct{}), make(chan struct{})
	h.mp.then(hh, outcome{entered: entered, gate: gate})
	done := make(chan error)
	go func() {
		_, err := h.tr.SubmitAll(early, held)
		done <- err
	}()
	<-entered // early is in the mempool; held is being checked
	h.commit(he)
	close(gate)
	if err := <-done; err != nil {
		t.Fatalf("SubmitAll = %v", err)
	}
	if j.has(he) || !j.has(hh) {
		t.Errorf("journal holds the committed one: %v, the pending one: %v; want false, true", j.has(he), j.has(hh))
	}
}

// TestRecover checks that a restarted tracker takes up its journal: a
// transaction committed before the stop is settled, the others go back to
// the mempool in sequence order, and one the mempool now refuses is
// reported dropped, not forgotten.
func TestRecover(t *testing.T) {
	j := &memJournal{txs: make(map[tx.Hash][]byte)}
	raws := make([][]byte, 4)
	hs := make([]tx.Hash, 4)
	for i := range raws {
		raws[i], hs[i] = testTx(t, uint64(i))
	}
	j.Save(hs, raws)
	h := newHarness(t, Options{Journal: j})
	h.commit(hs[0]) // committed before the restart: in the index
	h.mp.then(hs[0], outcome{code: tx.CodeSequenceReplayed})
	h.mp.then(hs[3], outcome{code: tx.CodeSequenceReplayed})

	n, err := h.tr.Recover()
	if err != nil || n != 4 {
		t.Fatalf("Recover() = %d, %v; want 4, nil", n, err)
	}
	if want := []tx.Hash{hs[0], hs[1], hs[2], hs[3]}; !slices.Equal(h.mp.log, want) {
		t.Errorf("resubmitted in order %v; want sequence order %v", h.mp.log, want)
	}
	for i, want := range []Status{Committed, Pending, Pending, Dropped} {
		if got := h.status(hs[i]).Status; got != want {
			t.Errorf("status of journaled tx %d = %s; want %s", i, got, want)
		}
	}
	if j.has(hs[0]) || !j.has(hs[1]) || !j.has(hs[2]) || j.has(hs[3]) {
		t.Errorf("journal after Recover holds %v %v %v %v; want false true true false", j.has(hs[0]), j.has(hs[1]), j.has(hs[2]), j.has(hs[3]))
	}
}
