package tx_test

import (
	stded25519 "crypto/ed25519"
	"crypto/sha256"
	"fmt"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/tx"
)

// A patient's first transaction: register_patient (type 1, empty body),
// sequence 0, signed with the patient's own key. The address derived from
// the key is the patient's pseudonym.
func Example() {
	seed := sha256.Sum256([]byte("example patient"))
	key := ed25519.PrivKey(stded25519.NewKeyFromSeed(seed[:]))
	t := &tx.Tx{
		ChainID:  "careledger-local",
		Signer:   key.PubKey().Bytes(),
		Sequence: 0,
		Msgs:     []tx.Msg{{Type: 1, Body: nil}},
	}
	if err := t.Sign(key); err != nil {
		panic(err)
	}
	raw := t.Encode()
	fmt.Println("pseudonym:", tx.AddressOf(t.Signer))
	fmt.Println("bytes:", len(raw))
	fmt.Println("hash:", tx.HashOf(raw))

	back, err := tx.Decode(raw, tx.DefaultLimits)
	fmt.Println("decodes:", err == nil, "verifies:", back.VerifySignature())
	// Output:
	// pseudonym: 00c627d4bac55b01c887b143a22f0301867c40e8
	// bytes: 118
	// hash: 84581f930c747cf16df4e675b5306216ca4bec53237455874e7175b6e517b55e
	// decodes: true verifies: true
}
