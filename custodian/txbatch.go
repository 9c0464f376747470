package custodian

import (
	"context"
	"fmt"
	"sync"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/tx"
)

// The custodian's own transactions (anchors, accesses) hold at most
// tx.MaxMessages messages and about txBudget bytes of message bodies, well
// below the default 64 KiB transaction limit, so that a write of many
// patients or a search matching many is several transactions, not one
// the envelope refuses. txInFlight of them await their block at once.
const (
	txBudget   = 40 << 10
	txInFlight = 4
)

// msgCost is the bound on a message's share of a transaction's bytes: its
// body, its type and its length.
func msgCost(m tx.Msg) int { return len(m.Body) + 16 }

// packTxs splits units, each a run of messages that must share one
// transaction, into transactions in order: each holds at most
// tx.MaxMessages messages and txBudget bytes, as cost bounds them, unless
// one unit alone is larger (it is then a transaction of its own, which the
// envelope may refuse).
func packTxs[U any](units []U, cost func(U) (msgs, bytes int)) [][]U {
	var out [][]U
	var cur []U
	n, size := 0, 0
	for _, u := range units {
		m, b := cost(u)
		if len(cur) > 0 && (n+m > tx.MaxMessages || size+b > txBudget) {
			out, cur, n, size = append(out, cur), nil, 0, 0
		}
		cur, n, size = append(cur, u), n+m, size+b
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// sendAll sends msgs in as many transactions as packTxs makes of them,
// txInFlight at a time, waits until all commit, and returns their results
// in order. If one fails, its error is returned; the others may have
// committed.
func (c *Custodian) sendAll(ctx context.Context, msgs []tx.Msg) ([]*app.TxResult, error) {
	txs := packTxs(msgs, func(m tx.Msg) (int, int) { return 1, msgCost(m) })
	if len(txs) == 1 {
		res, err := c.send.Send(ctx, txs[0]...)
		return []*app.TxResult{res}, err
	}
	results, errs := make([]*app.TxResult, len(txs)), make([]error, len(txs))
	slots := make(chan struct{}, txInFlight)
	var wg sync.WaitGroup
	for i, t := range txs {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			results[i], errs[i] = c.send.Send(ctx, t...)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("transaction %d of %d: %w", i+1, len(txs), err)
		}
	}
	return results, nil
}
