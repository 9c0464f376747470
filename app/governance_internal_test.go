package app

import (
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/state"
	"github.com/careledger/careledger/tx"
)

// TestGovernanceUpdatesOnePerValidator: two decisions of one block about
// the same validator (removed, then given power again) give CometBFT one
// update with the last power, since it refuses a block with two.
func TestGovernanceUpdatesOnePerValidator(t *testing.T) {
	a, err := New(state.OpenMemory(), Config{ChainID: "test"})
	if err != nil {
		t.Fatal(err)
	}
	v1, v2 := ed25519.GenPrivKey().PubKey().Bytes(), ed25519.GenPrivKey().PubKey().Bytes()
	event := func(key []byte, power string) contract.Event {
		return contract.Event{Type: "governance.validator", Attrs: []contract.Attr{
			{Key: "pub_key", Value: tx.PubKey(key).String()}, {Key: "power", Value: power}}}
	}
	b := &Block{Txs: []TxResult{
		{Events: []contract.Event{event(v1, "0"), event(v2, "5")}},
		{Events: []contract.Event{event(v1, "7")}},
	}}
	u, err := a.governanceUpdates(state.NewOverlay(a.store.Working()), b)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.validators) != 2 || string(u.validators[0].PubKey.GetEd25519()) != string(v1) || u.validators[0].Power != 7 ||
		string(u.validators[1].PubKey.GetEd25519()) != string(v2) || u.validators[1].Power != 5 {
		t.Errorf("validator updates = %v; want v1 at 7, then v2 at 5", u.validators)
	}
}
