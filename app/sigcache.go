package app

import (
	"sync"

	"github.com/careledger/careledger/tx"
)

// sigCache remembers the hashes of transactions whose signatures verified,
// so each transaction is verified once per node. It holds two generations of
// at most size entries each and drops the older when the newer fills: a
// bounded set with no per-entry bookkeeping. A hit is safe whatever its age,
// since the hash covers the signature and everything it signs.
type sigCache struct {
	mu        sync.Mutex
	size      int
	cur, prev map[tx.Hash]struct{}
}

func newSigCache(size int) *sigCache {
	return &sigCache{size: size, cur: make(map[tx.Hash]struct{}, size)}
}

func (c *sigCache) has(h tx.Hash) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.cur[h]; ok {
		return true
	}
	_, ok := c.prev[h]
	return ok
}

func (c *sigCache) add(h tx.Hash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cur) >= c.size {
		c.prev, c.cur = c.cur, make(map[tx.Hash]struct{}, c.size)
	}
	c.cur[h] = struct{}{}
}
