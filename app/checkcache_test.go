package app

import (
	"testing"

	"github.com/careledger/careledger/tx"
)

// A checked transaction is reused under the size limit it was decoded
// under only, FinalizeBlock's take removes it, and the cache stays bounded.
func TestCheckCache(t *testing.T) {
	c := newCheckCache(2)
	h := func(b byte) tx.Hash { return tx.Hash{b} }
	e := &checkedTx{maxTxBytes: 1000}
	c.add(h(1), e)
	if got := c.get(h(1), 1000, false); got != e {
		t.Errorf("get(1, same limit) = %v; want the entry", got)
	}
	if got := c.get(h(1), 2000, false); got != nil {
		t.Errorf("get(1, other limit) = %v; want nil", got)
	}
	if got := c.get(h(1), 1000, true); got != e {
		t.Errorf("take(1) = %v; want the entry", got)
	}
	if got := c.get(h(1), 1000, false); got != nil {
		t.Errorf("get(1) after take = %v; want nil", got)
	}
	for b := byte(2); b < 7; b++ {
		c.add(h(b), &checkedTx{maxTxBytes: 1000})
	}
	if got := c.get(h(2), 1000, false); got != nil {
		t.Errorf("get(2) after 5 adds to generations of 2 = %v; want it dropped", got)
	}
	if got := c.get(h(5), 1000, false); got == nil {
		t.Errorf("get(5) = nil; want the previous generation's entry")
	}
}
