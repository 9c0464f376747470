package custodian

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/tracker"
	"github.com/careledger/careledger/tx"
)

// Submitter hands transactions to consensus and reports their outcome; the
// node's tracker satisfies it.
type Submitter interface {
	Submit(raw []byte) (tracker.Result, error)
	Wait(ctx context.Context, h tx.Hash) (tracker.Result, error)
}

// Chain reads what a transaction needs from the chain: the next sequence
// of an account, its transactions in the mempool counted, and a committed
// transaction's full result.
type Chain interface {
	NextSequence(addr tx.Address) (uint64, error)
	Tx(h tx.Hash) (*app.TxResult, error)
}

// sender signs the node's own transactions with its service key and submits
// them in sequence order, so that many reads can be decided at once.
type sender struct {
	chainID string
	key     ed25519.PrivKey
	addr    tx.Address
	sub     Submitter
	chain   Chain

	mu     sync.Mutex
	next   uint64
	synced bool
}

func newSender(chainID string, key ed25519.PrivKey, sub Submitter, chain Chain) *sender {
	return &sender{chainID: chainID, key: key, addr: tx.AddressOf(key.PubKey().Bytes()), sub: sub, chain: chain}
}

// send signs msgs, submits them and waits until they commit. A transaction
// the rules reject returns its *tx.Rejection.
func (s *sender) send(ctx context.Context, msgs ...tx.Msg) (*app.TxResult, error) {
	h, err := s.submit(msgs)
	if err != nil {
		return nil, err
	}
	return s.await(ctx, h)
}

// await waits until transaction h commits and returns its result.
func (s *sender) await(ctx context.Context, h tx.Hash) (*app.TxResult, error) {
	res, err := s.sub.Wait(ctx, h)
	if err != nil {
		return nil, err
	}
	if res.Status != tracker.Committed {
		return nil, fmt.Errorf("node transaction %s %s: %s %s", h, res.Status, res.Code, res.Log)
	}
	r, err := s.chain.Tx(h)
	if err != nil || r == nil {
		return nil, fmt.Errorf("result of node transaction %s: %v", h, err)
	}
	if r.Code != tx.CodeOK {
		return r, &tx.Rejection{Code: r.Code, Msg: r.Log}
	}
	return r, nil
}

// submit signs msgs with the next sequence and hands them to the mempool,
// holding the lock so that transactions enter in sequence order. After a
// sequence error (after a restart, or while the mempool rechecks after a
// block) it reads the sequence from the chain again, a few times.
func (s *sender) submit(msgs []tx.Msg) (tx.Hash, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if !s.synced {
			if attempt > 0 {
				time.Sleep(time.Duration(attempt) * 20 * time.Millisecond)
			}
			n, err := s.chain.NextSequence(s.addr)
			if err != nil {
				return tx.Hash{}, err
			}
			s.next, s.synced = n, true
		}
		t := &tx.Tx{ChainID: s.chainID, Signer: s.key.PubKey().Bytes(), Sequence: s.next, Msgs: msgs}
		if err := t.Sign(s.key); err != nil {
			return tx.Hash{}, err
		}
		res, err := s.sub.Submit(t.Encode())
		if err != nil {
			return tx.Hash{}, err
		}
		switch {
		case res.Status == tracker.Pending || res.Status == tracker.Committed:
			s.next++
			return res.Hash, nil
		case (res.Code == tx.CodeSequenceReplayed || res.Code == tx.CodeSequenceSkipped) && attempt < 5:
			s.synced = false // someone else used the key, or a transaction was dropped
		default:
			return tx.Hash{}, &tx.Rejection{Code: res.Code, Msg: res.Log}
		}
	}
}

// relay submits a transaction someone else signed and waits until it
// commits, returning its result; a rejection is a *tx.Rejection.
func (s *sender) relay(ctx context.Context, raw []byte) (*app.TxResult, error) {
	res, err := s.sub.Submit(raw)
	if err != nil {
		return nil, err
	}
	if res.Status == tracker.Rejected {
		return nil, &tx.Rejection{Code: res.Code, Msg: res.Log}
	}
	return s.await(ctx, res.Hash)
}
