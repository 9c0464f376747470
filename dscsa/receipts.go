package dscsa

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/tx"
)

// batcher records verification receipts on the chain, many per
// transaction: an answer is given at once and its receipt joins the next
// batch, which is sent when it is full or FlushInterval after its first
// receipt. Up to MaxInFlight batches commit at once (the sender keeps
// their sequence order).
type batcher struct {
	opts     Options
	queue    chan supply.Receipt
	inFlight chan struct{} // a slot per batch committing
	stop     chan struct{}
	done     chan struct{}
	sends    sync.WaitGroup
	stopOnce sync.Once

	answered, recorded, dropped atomic.Uint64
}

func newBatcher(o Options) *batcher {
	b := &batcher{
		opts:     o,
		queue:    make(chan supply.Receipt, o.MaxQueued),
		inFlight: make(chan struct{}, o.MaxInFlight),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go b.run()
	return b
}

// add queues r, waiting for room at most QueueWait or until ctx ends (the
// answer waits for its receipt's place: back-pressure on askers faster than
// the chain records); false if there was none, or the batcher is closed.
func (b *batcher) add(ctx context.Context, r supply.Receipt) bool {
	select {
	case <-b.stop:
		return false
	case b.queue <- r:
		b.answered.Add(1)
		return true
	default:
	}
	t := time.NewTimer(b.opts.QueueWait)
	defer t.Stop()
	select {
	case <-b.stop:
		return false
	case b.queue <- r:
		b.answered.Add(1)
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

func (b *batcher) run() {
	defer close(b.done)
	batch := make([]supply.Receipt, 0, b.opts.BatchReceipts)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() {
		if len(batch) > 0 {
			b.send(batch)
			batch = make([]supply.Receipt, 0, b.opts.BatchReceipts)
		}
	}
	for {
		select {
		case r := <-b.queue:
			if len(batch) == 0 {
				timer.Reset(b.opts.FlushInterval)
			}
			if batch = append(batch, r); len(batch) == b.opts.BatchReceipts {
				timer.Stop()
				flush()
			}
		case <-timer.C:
			flush()
		case <-b.stop:
			for more := true; more; {
				select {
				case r := <-b.queue:
					if batch = append(batch, r); len(batch) == b.opts.BatchReceipts {
						flush()
					}
				default:
					more = false
				}
			}
			flush()
			return
		}
	}
}

// send records batch in a transaction of its own, once a slot is free. A
// transaction refused by the rules drops its receipts (and says how many);
// any other failure is tried again a few times.
func (b *batcher) send(batch []supply.Receipt) {
	b.inFlight <- struct{}{}
	b.sends.Add(1)
	go func() {
		defer func() { <-b.inFlight; b.sends.Done() }()
		var err error
		for attempt := 0; attempt < 4; attempt++ {
			if attempt > 0 {
				time.Sleep(time.Duration(attempt) * 500 * time.Millisecond)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err = b.opts.Sender.Commit(ctx, contract.Encode(supply.Verifications{Receipts: batch}))
			cancel()
			var rej *tx.Rejection
			if err == nil || errors.As(err, &rej) && rej.Code != tx.CodeBusy {
				break
			}
		}
		if err != nil {
			b.dropped.Add(uint64(len(batch)))
			b.opts.Logf("dscsa: %d verification receipts not recorded: %v", len(batch), err)
			return
		}
		b.recorded.Add(uint64(len(batch)))
	}()
}

// close stops taking receipts, sends what is queued and waits for the
// batches in flight until ctx ends.
func (b *batcher) close(ctx context.Context) error {
	b.stopOnce.Do(func() { close(b.stop) })
	waited := make(chan struct{})
	go func() { <-b.done; b.sends.Wait(); close(waited) }()
	select {
	case <-waited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *batcher) stats() Stats {
	return Stats{Answered: b.answered.Load(), Recorded: b.recorded.Load(), Dropped: b.dropped.Load()}
}
