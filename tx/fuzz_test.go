package tx_test

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/careledger/careledger/tx"
)

// FuzzDecode checks that Decode accepts exactly the canonical encodings: any
// input either decodes to a transaction whose Encode gives back the input, or
// is refused with a *tx.Rejection (oversized or malformed). It never panics.
func FuzzDecode(f *testing.F) {
	valid := signedTx(f, "fuzz", tx.Msg{Type: 1, Body: []byte{}}, tx.Msg{Type: 2, Body: []byte("body")}).Encode()
	f.Add(valid)
	f.Add(valid[:len(valid)-1])
	f.Add(append(bytes.Clone(valid), 0))
	f.Add([]byte{})
	f.Add([]byte{tx.Version})

	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := tx.Decode(data, tx.DefaultLimits)
		if err != nil {
			var rej *tx.Rejection
			if !errors.As(err, &rej) {
				t.Fatalf("Decode(%x) = %v (%T); want a *tx.Rejection", data, err, err)
			}
			want := tx.CodeMalformed
			if len(data) > tx.DefaultLimits.MaxTxBytes {
				want = tx.CodeOversized
			}
			if rej.Code != want {
				t.Fatalf("Decode(%x) = %v; want code %v", data, err, want)
			}
			if got != nil {
				t.Fatalf("Decode(%x) = %+v, %v; want nil with the error", data, *got, err)
			}
			return
		}

		if enc := got.Encode(); !bytes.Equal(enc, data) {
			t.Fatalf("Decode(%x) = %+v, whose Encode() = %x; want the input", data, *got, enc)
		}
		switch {
		case len(got.Signer) != tx.PubKeySize:
			t.Fatalf("Decode(%x): signer of %d bytes", data, len(got.Signer))
		case len(got.Signature) != tx.SignatureSize:
			t.Fatalf("Decode(%x): signature of %d bytes", data, len(got.Signature))
		case len(got.Msgs) == 0 || len(got.Msgs) > tx.MaxMessages:
			t.Fatalf("Decode(%x): %d messages", data, len(got.Msgs))
		case len(got.ChainID) > tx.MaxChainIDLen || !utf8.ValidString(got.ChainID):
			t.Fatalf("Decode(%x): chain ID %q", data, got.ChainID)
		}
		wantSign := append([]byte(tx.SignDomain), data[:len(data)-tx.SignatureSize]...)
		if sb := got.SignBytes(); !bytes.Equal(sb, wantSign) {
			t.Fatalf("Decode(%x).SignBytes() = %x; want %x", data, sb, wantSign)
		}
		got.VerifySignature() // any key and signature bytes: must not panic

		// One byte under the size limit, the same bytes are oversized.
		if _, err := tx.Decode(data, tx.Limits{MaxTxBytes: len(data) - 1}); err == nil {
			t.Fatalf("Decode(%x, limit %d) = nil; want an oversized rejection", data, len(data)-1)
		} else if code, _ := tx.CodeOf(err); code != tx.CodeOversized {
			t.Fatalf("Decode(%x, limit %d) = %v; want code %v", data, len(data)-1, err, tx.CodeOversized)
		}
	})
}
