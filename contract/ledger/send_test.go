package ledger_test

import (
	"bytes"
	"testing"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/tx"
)

func FuzzDecodeSend(f *testing.F) {
	for _, m := range []ledger.Send{{From: "acme-health", ToPatient: tx.Address{1}, Amount: 2_500}, {ToOrg: "city-clinic", Amount: 1}} {
		f.Add(contract.Encode(m).Body)
	}
	desc := ledger.Describe()
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := desc.Decode(ledger.TypeSend, body)
		if err != nil {
			if _, ok := tx.CodeOf(err); !ok {
				t.Fatalf("Decode(%x) = %v; want a *tx.Rejection", body, err)
			}
			return
		}
		if enc := contract.Encode(m); !bytes.Equal(enc.Body, body) {
			t.Fatalf("Encode(Decode(%x)) = %x; want the input", body, enc.Body)
		}
	})
}
