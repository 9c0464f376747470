package sender_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/index"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/sender"
	"github.com/careledger/careledger/tx"
)

// chain reads sequences from the app and results from the index, as the
// node's own reader does.
type chain struct {
	*app.App
	*index.Index
}

var _ sender.Chain = chain{}

// TestSender sends through a real node's tracker. The subtests run in
// order and share the node's chain and one patient's key.
func TestSender(t *testing.T) {
	n := nodetest.Start(t, node.InitOptions{})
	key := ed25519.GenPrivKey()
	s := sender.New(n.ChainID(), key, n.Tracker(), chain{n.App(), n.Index()})
	addr := tx.AddressOf(key.PubKey().Bytes())
	grantFor := func(purpose string) tx.Msg {
		return contract.Encode(consent.Grant{
			Patient: addr, Grantee: consent.Grantee{Org: "local"}, Scope: consent.Scope{Types: []string{"*"}}, Purposes: []string{purpose},
		})
	}
	grant := grantFor("TREAT")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// send sends msgs and requires them to commit and apply with sequence seq.
	send := func(t *testing.T, seq uint64, msgs ...tx.Msg) {
		t.Helper()
		r, err := s.Send(ctx, msgs...)
		if err != nil || r.Code != tx.CodeOK || r.Signer != addr || r.Sequence != seq {
			t.Fatalf("Send() = %+v, %v; want applied, signed by %s with sequence %d", r, err, addr, seq)
		}
	}

	t.Run("Register", func(t *testing.T) {
		send(t, 0, contract.Encode(identity.RegisterPatient{}))
	})

	t.Run("Concurrent", func(t *testing.T) {
		// Many callers at once: each transaction gets its own sequence,
		// in the order they enter the mempool, and every one applies.
		const callers = 20
		seqs := make(chan uint64, callers)
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				r, err := s.Send(ctx, grant)
				if err != nil || r.Code != tx.CodeOK {
					t.Errorf("concurrent Send(grant) = %+v, %v; want applied", r, err)
					return
				}
				seqs <- r.Sequence
			})
		}
		wg.Wait()
		close(seqs)
		seen := map[uint64]bool{}
		for q := range seqs {
			if seen[q] || q < 1 || q > callers {
				t.Errorf("sequence %d twice or outside 1-%d", q, callers)
			}
			seen[q] = true
		}
	})

	t.Run("KeyUsedElsewhere", func(t *testing.T) {
		// Someone else signs with the key: the sender's next sequence is
		// taken, so it reads the sequence from the chain again. (Another
		// purpose, lest the two transactions be the same bytes.)
		if _, err := n.Client.Send(ctx, key, grantFor("HPAYMT")); err != nil {
			t.Fatalf("client Send(grant) with the sender's key: %v", err)
		}
		send(t, 22, grant)
	})

	t.Run("RejectedInBlock", func(t *testing.T) {
		// A rejection in the block is the transaction's *tx.Rejection; it
		// still used its sequence.
		r, err := s.Send(ctx, contract.Encode(identity.RegisterPatient{}))
		if code, _ := tx.CodeOf(err); code != tx.CodeAlreadyExists || r == nil || r.Sequence != 23 {
			t.Fatalf("Send(register again) = %+v, %v; want already_exists with sequence 23", r, err)
		}
		send(t, 24, grant)
	})

	t.Run("Commit", func(t *testing.T) {
		// Commit reports the outcome alone: a rejection in the block is its
		// *tx.Rejection, and it used its sequence as Send's do.
		if err := s.Commit(ctx, contract.Encode(identity.RegisterPatient{})); !isCode(err, tx.CodeAlreadyExists) {
			t.Fatalf("Commit(register again) = %v; want already_exists", err)
		}
		if err := s.Commit(ctx, grant); err != nil {
			t.Fatalf("Commit(grant) = %v; want nil", err)
		}
		send(t, 27, grant)
	})

	t.Run("RefusedAtSubmit", func(t *testing.T) {
		// A transaction refused before the mempool uses no sequence.
		r, err := s.Send(ctx, tx.Msg{Type: 1 << 40})
		if code, _ := tx.CodeOf(err); code != tx.CodeUnknownMessage || r != nil {
			t.Fatalf("Send(unknown message) = %+v, %v; want unknown_message and no result", r, err)
		}
		send(t, 28, grant)
	})

	t.Run("Relay", func(t *testing.T) {
		other := ed25519.GenPrivKey()
		signed, err := n.Client.Build(ctx, other, contract.Encode(identity.RegisterPatient{}))
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Relay(ctx, signed.Encode())
		if err != nil || r.Code != tx.CodeOK || r.Signer != tx.AddressOf(other.PubKey().Bytes()) {
			t.Fatalf("Relay(registration signed by another key) = %+v, %v; want applied, signed by that key", r, err)
		}
		var rej *tx.Rejection
		if r, err := s.Relay(ctx, []byte{0xff}); !errors.As(err, &rej) || rej.Code != tx.CodeMalformed {
			t.Fatalf("Relay(0xff) = %+v, %v; want a malformed rejection", r, err)
		}
	})
}

func isCode(err error, c tx.Code) bool {
	code, ok := tx.CodeOf(err)
	return ok && code == c
}
