package app

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/state"
	"github.com/careledger/careledger/tx"
)

// signedTxs returns n registrations, every fourth with a bad signature, and
// which of them verify.
func signedTxs(t *testing.T, n int) ([]*tx.Tx, []bool) {
	t.Helper()
	txs, valid := make([]*tx.Tx, n), make([]bool, n)
	for i := range txs {
		key := ed25519.GenPrivKey()
		txs[i] = &tx.Tx{ChainID: "test", Signer: key.PubKey().Bytes(), Msgs: []tx.Msg{contract.Encode(identity.RegisterPatient{})}}
		if err := txs[i].Sign(key); err != nil {
			t.Fatal(err)
		}
		if valid[i] = i%4 != 0; !valid[i] {
			txs[i].Signature[5] ^= 1
		}
	}
	return txs, valid
}

// TestSigGroup: callers verifying at the same time, whose signatures are
// verified in shared batches, each get the answers for their own
// transactions, nil entries skipped. Run with -race.
func TestSigGroup(t *testing.T) {
	txs, valid := signedTxs(t, 90)
	var g sigGroup
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for c := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			part := txs[c*3 : c*3+3]
			part = []*tx.Tx{part[0], nil, part[1], part[2]}
			want := []bool{valid[c*3], false, valid[c*3+1], valid[c*3+2]}
			for range 20 {
				got := g.verify(part, 2)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					errs <- fmt.Errorf("caller %d: verify = %v; want %v", c, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestSigGroupMerges: callers that queued while another verified are
// verified together in one batch by the first of them, and each gets its
// own answers.
func TestSigGroupMerges(t *testing.T) {
	txs, valid := signedTxs(t, 15)
	var g sigGroup
	g.running = true // as if another caller were verifying
	got := make([][]bool, 5)
	var wg sync.WaitGroup
	for c := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[c] = g.verify(txs[c*3:c*3+3], 2)
		}()
	}
	for queued := 0; queued < 5; {
		g.mu.Lock()
		queued = len(g.queue)
		g.mu.Unlock()
	}
	g.mu.Lock()
	close(g.queue[0].lead) // what the other caller does when it is done
	g.mu.Unlock()
	wg.Wait()
	for c := range 5 {
		if want := valid[c*3 : c*3+3]; fmt.Sprint(got[c]) != fmt.Sprint(want) {
			t.Errorf("caller %d: verify = %v; want %v", c, got[c], want)
		}
	}
	if g.running || len(g.queue) != 0 {
		t.Errorf("after the batch: running %v, %d queued; want false, 0", g.running, len(g.queue))
	}
}

// TestSigGroupNothingToVerify: a caller with no signature to verify does not
// wait for another caller's batch.
func TestSigGroupNothingToVerify(t *testing.T) {
	var g sigGroup
	g.running = true // another caller is verifying, and never finishes
	if got := g.verify([]*tx.Tx{nil, nil}, 2); fmt.Sprint(got) != "[false false]" {
		t.Errorf("verify(nothing) = %v; want [false false]", got)
	}
}

// TestCheckTxDoesNotWaitForSubmissions: CheckTx verifies a signature it has
// not seen on its own, however long a submission's batch takes.
func TestCheckTxDoesNotWaitForSubmissions(t *testing.T) {
	a, err := New(state.OpenMemory(), Config{ChainID: "test"})
	if err != nil {
		t.Fatal(err)
	}
	a.sigGroup.running = true // a submission's batch that never ends
	txs, _ := signedTxs(t, 2)
	done := make(chan error, 1)
	go func() { done <- a.checkTx(txs[1].Encode()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("CheckTx of a valid registration = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("CheckTx waited for the submissions' batch")
	}
}
