package app

import (
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
