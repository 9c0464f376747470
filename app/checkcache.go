package app

import (
	"sync"

	"github.com/careledger/careledger/tx"
)

// checkCache remembers the transactions that passed the stateless checks
// (checkedTx), by hash, so that each is decoded and verified once per node:
// rechecks hit it, and FinalizeBlock takes its entry out. It holds two
// generations of at most size entries each and drops the older when the
// newer fills: a bounded set with no per-entry bookkeeping. A hit is safe
// whatever its age, since the hash covers the signature and everything it
// signs; an entry decoded under another size limit is a miss, since the
// limit decides whether the bytes decode at all.
type checkCache struct {
	mu        sync.Mutex
	size      int
	cur, prev map[tx.Hash]*checkedTx
}

func newCheckCache(size int) *checkCache {
	return &checkCache{size: size, cur: make(map[tx.Hash]*checkedTx, size)}
}

// get returns the entry for h decoded under maxTxBytes, or nil; take also
// removes it.
func (c *checkCache) get(h tx.Hash, maxTxBytes int, take bool) *checkedTx {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, gen := range []map[tx.Hash]*checkedTx{c.cur, c.prev} {
		if e, ok := gen[h]; ok {
			if take {
				delete(gen, h)
			}
			if e.maxTxBytes != maxTxBytes {
				return nil
			}
			return e
		}
	}
	return nil
}

func (c *checkCache) add(h tx.Hash, e *checkedTx) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cur) >= c.size {
		c.prev, c.cur = c.cur, make(map[tx.Hash]*checkedTx, c.size)
	}
	c.cur[h] = e
}
