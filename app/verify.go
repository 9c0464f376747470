package app

import (
	"slices"
	"sync"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/tx"
)

const (
	// minBatch is the smallest number of signatures worth a batch verifier.
	minBatch = 8
	// minPart is the fewest signatures worth a goroutine of their own: per
	// signature of a new key, a batch takes 26 to 28 µs at 8, 22 to 27 at 64
	// and 17 to 19 at 1,024 on the benchmark machine, so a smaller batch
	// loses more by splitting than a second core gains.
	minPart = 64
)

// verifySignatures reports, for each transaction, whether its signature is
// valid. Signatures are checked in batches (curve25519-voi, with the same
// ZIP-215 rules as single verification, so the answer never depends on how a
// block is split) spread over up to workers goroutines; nil entries are
// skipped.
func verifySignatures(txs []*tx.Tx, workers int) []bool {
	ok := make([]bool, len(txs))
	var idx []int
	for i, t := range txs {
		if t != nil {
			idx = append(idx, i)
		}
	}
	if workers < 1 {
		workers = 1
	}
	chunk := max((len(idx)+workers-1)/workers, minPart)
	if len(idx) <= chunk {
		verifyBatch(txs, idx, ok) // one part: no goroutine to wait for
		return ok
	}
	var wg sync.WaitGroup
	for start := 0; start < len(idx); start += chunk {
		part := idx[start:min(start+chunk, len(idx))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			verifyBatch(txs, part, ok)
		}()
	}
	wg.Wait()
	return ok
}

// verifyBatch verifies txs[i] for i in part, writing ok[i].
func verifyBatch(txs []*tx.Tx, part []int, ok []bool) {
	if len(part) >= minBatch {
		bv := ed25519.NewBatchVerifier()
		added := true
		for _, i := range part {
			// Add fails only on a wrong key or signature length, which the
			// decoder excludes; if it ever does, verify one by one.
			if bv.Add(ed25519.PubKey(txs[i].Signer), txs[i].SignBytes(), txs[i].Signature) != nil {
				added = false
				break
			}
		}
		if added {
			allOK, valid := bv.Verify()
			for j, i := range part {
				ok[i] = allOK || valid[j]
			}
			return
		}
	}
	for _, i := range part {
		ok[i] = txs[i].VerifySignature()
	}
}

// sigGroup merges the signatures that concurrent Prechecks verify into one
// batch, which costs less per signature the larger it is: while one caller
// verifies, the others queue, and the next to lead verifies all that queued.
// A caller that finds no one verifying goes at once, so a lone submission
// waits for nobody.
type sigGroup struct {
	mu      sync.Mutex
	queue   []*sigRequest
	running bool
}

type sigRequest struct {
	txs  []*tx.Tx
	ok   []bool
	done chan struct{} // closed when ok is set
	lead chan struct{} // closed when this request is to verify the queue
}

// verify returns verifySignatures(txs, workers), verified along with
// whatever other callers queued.
func (g *sigGroup) verify(txs []*tx.Tx, workers int) []bool {
	if !slices.ContainsFunc(txs, func(t *tx.Tx) bool { return t != nil }) {
		return make([]bool, len(txs)) // nothing to wait for a batch for
	}
	r := &sigRequest{txs: txs, done: make(chan struct{}), lead: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, r)
	if g.running {
		g.mu.Unlock()
		select {
		case <-r.done:
			return r.ok
		case <-r.lead:
		}
		g.mu.Lock()
	}
	g.running = true
	batch := g.queue
	g.queue = nil
	g.mu.Unlock()

	var all []*tx.Tx
	for _, q := range batch {
		all = append(all, q.txs...)
	}
	ok := verifySignatures(all, workers)
	for _, q := range batch {
		q.ok, ok = ok[:len(q.txs):len(q.txs)], ok[len(q.txs):]
		close(q.done)
	}

	g.mu.Lock()
	if len(g.queue) > 0 {
		close(g.queue[0].lead) // the next leader takes the whole queue
	} else {
		g.running = false
	}
	g.mu.Unlock()
	return r.ok
}
