package audit_test

import (
	"encoding/json"
	"os"
	"testing"

	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/careledger/careledger/audit"
)

// testdata/bundle.json is a bundle a demo node served, and
// testdata/genesis.json that network's genesis: a vector that a verifier in
// another language can check itself against.
func loadVector(t testing.TB) ([]byte, string, *cmttypes.ValidatorSet) {
	raw, err := os.ReadFile("testdata/bundle.json")
	if err != nil {
		t.Fatal(err)
	}
	gen, err := cmttypes.GenesisDocFromFile("testdata/genesis.json")
	if err != nil {
		t.Fatal(err)
	}
	var vals []*cmttypes.Validator
	for _, v := range gen.Validators {
		vals = append(vals, cmttypes.NewValidator(v.PubKey, v.Power))
	}
	return raw, gen.ChainID, cmttypes.NewValidatorSet(vals)
}

func TestBundleVector(t *testing.T) {
	raw, chainID, vals := loadVector(t)
	var b audit.Bundle
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	ev, err := b.Verify(chainID, vals)
	if err != nil {
		t.Fatalf("Verify(testdata/bundle.json) = %v; want nil", err)
	}
	if ev.Event.Type == "" || ev.Height > b.Height {
		t.Errorf("verified event %+v; want an event at or before block %d", ev, b.Height)
	}
	b.Leaf[len(b.Leaf)-1] ^= 1
	b.Event = nil
	if _, err := b.Verify(chainID, vals); err == nil {
		t.Error("Verify accepted an altered leaf")
	}
}

// FuzzBundle decodes and verifies arbitrary bundles: it never panics, and
// accepts nothing but the vector itself.
func FuzzBundle(f *testing.F) {
	raw, chainID, vals := loadVector(f)
	f.Add(raw)
	f.Add([]byte(`{"chain_id":"careledger-demo","index":0,"leaf":"","signed_header":{}}`))
	f.Add([]byte(`{"signed_header":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var bundle audit.Bundle
		if json.Unmarshal(b, &bundle) != nil {
			return
		}
		if _, err := bundle.Verify(chainID, vals); err == nil && string(b) != string(raw) {
			var want audit.Bundle
			json.Unmarshal(raw, &want)
			if bundle.Index != want.Index || string(bundle.Leaf) != string(want.Leaf) {
				t.Fatalf("Verify accepted a bundle of another event: %s", b)
			}
		}
	})
}
