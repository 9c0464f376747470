package epcisapi

import (
	"errors"

	"github.com/careledger/careledger/tx"
)

// Group commit. Documents ready to record wait in a queue; each of a few
// senders takes the documents waiting, as many as fit one transaction,
// and sends them as one transaction of one supply/record message per
// document. The transaction applies all its messages or none, so a
// document is still recorded whole or not at all; when the transaction is
// refused, each of its documents is sent alone, and only the one that
// breaks a rule fails. Few transactions in flight keep CometBFT's mempool
// from re-checking many large transactions after every block.
const (
	senders     = 4  // transactions in flight
	maxPerGroup = 16 // documents in one transaction
)

// sending is a document waiting to be sent, and where its outcome goes.
type sending struct {
	p    *prepared
	done chan error
}

// send queues p and waits for its outcome.
func (s *Server) send(p *prepared) error {
	sd := &sending{p: p, done: make(chan error, 1)}
	select {
	case s.queue <- sd:
	case <-s.ctx.Done():
		return tx.Rejectf(tx.CodeBusy, "the node is stopping")
	}
	return <-sd.done
}

func (s *Server) sendLoop() {
	defer s.wg.Done()
	var next *sending // a document that did not fit the last group
	for {
		first := next
		if first == nil {
			select {
			case first = <-s.queue:
			case <-s.ctx.Done():
				return
			}
		}
		var group []*sending
		group, next = s.gather(first)
		if len(group) == 1 {
			first.done <- s.sendOne(first.p)
			continue
		}
		msgs := make([]tx.Msg, len(group))
		for i, sd := range group {
			msgs[i] = sd.p.msg
		}
		err := s.sendMsgs(msgs...)
		var rej *tx.Rejection
		if err != nil && errors.As(err, &rej) {
			for _, sd := range group {
				sd.done <- s.sendOne(sd.p) // find the one that breaks a rule
			}
			continue
		}
		for _, sd := range group {
			sd.done <- err
		}
	}
}

// gather adds to first the documents already waiting, while they fit one
// transaction; it returns the one taken that did not fit, if any.
func (s *Server) gather(first *sending) (group []*sending, next *sending) {
	group = []*sending{first}
	size := len(first.p.msg.Body) + txOverhead
	for len(group) < maxPerGroup {
		select {
		case sd := <-s.queue:
			if size+len(sd.p.msg.Body)+16 > s.opts.MaxTxBytes() {
				return group, sd
			}
			size += len(sd.p.msg.Body) + 16
			group = append(group, sd)
		default:
			return group, nil
		}
	}
	return group, nil
}

func (s *Server) sendOne(p *prepared) error { return s.sendMsgs(p.msg) }

func (s *Server) sendMsgs(msgs ...tx.Msg) error { return s.opts.Sender.Commit(s.ctx, msgs...) }
