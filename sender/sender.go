// Package sender signs a node's own transactions with its service key,
// submits them in sequence order and waits until they commit: the
// custodian's anchors and access decisions, and whatever else one of the
// node's HTTP faces (FHIR, EPCIS, a web portal) has the chain do in the
// node's name. A node has one Sender for its key, shared by those faces,
// since it keeps the key's next sequence number.
//
// sender imports tx and the result types of tracker and app; the node
// gives it the tracker and a reader of the chain. It knows nothing of HTTP.
package sender

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

// Sender signs the node's own transactions with its service key and submits
// them in sequence order, so that many reads can be decided at once. It is
// safe for concurrent use.
type Sender struct {
	chainID string
	key     ed25519.PrivKey
	addr    tx.Address
	sub     Submitter
	chain   Chain

	mu     sync.Mutex
	next   uint64
	synced bool
}

// New returns a sender of transactions signed by key on chainID, submitted
// to sub, with sequences and results read from chain.
func New(chainID string, key ed25519.PrivKey, sub Submitter, chain Chain) *Sender {
	return &Sender{chainID: chainID, key: key, addr: tx.AddressOf(key.PubKey().Bytes()), sub: sub, chain: chain}
}

// Send signs msgs, submits them and waits until they commit. A transaction
// the rules reject returns its *tx.Rejection.
func (s *Sender) Send(ctx context.Context, msgs ...tx.Msg) (*app.TxResult, error) {
	h, err := s.submit(msgs)
	if err != nil {
		return nil, err
	}
	return s.await(ctx, h)
}

// Commit is Send for callers that need only the outcome: it does not read
// the committed result back from the index, which for a transaction of
// hundreds of events (batched verification receipts) costs more than the
// rest of the wait.
func (s *Sender) Commit(ctx context.Context, msgs ...tx.Msg) error {
	h, err := s.submit(msgs)
	if err != nil {
		return err
	}
	res, err := s.sub.Wait(ctx, h)
	switch {
	case err != nil:
		return err
	case res.Status != tracker.Committed:
		return fmt.Errorf("node transaction %s %s: %s %s", h, res.Status, res.Code, res.Log)
	case res.Code != tx.CodeOK:
		return &tx.Rejection{Code: res.Code, Msg: res.Log}
	}
	return nil
}

// await waits until transaction h commits and returns its result.
func (s *Sender) await(ctx context.Context, h tx.Hash) (*app.TxResult, error) {
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
func (s *Sender) submit(msgs []tx.Msg) (tx.Hash, error) {
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

// Relay submits a transaction someone else signed and waits until it
// commits, returning its result; a rejection is a *tx.Rejection.
func (s *Sender) Relay(ctx context.Context, raw []byte) (*app.TxResult, error) {
	res, err := s.sub.Submit(raw)
	if err != nil {
		return nil, err
	}
	if res.Status == tracker.Rejected {
		return nil, &tx.Rejection{Code: res.Code, Msg: res.Log}
	}
	return s.await(ctx, res.Hash)
}
