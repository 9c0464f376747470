package claims_test

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/condition"
	"github.com/careledger/careledger/tx"
)

var sampleMsgs = []contract.Msg{
	claims.Deposit{Payer: payer, Amount: 1_000_000},
	basePlan,
	claims.RegisterCoverage{Payer: payer, Coverage: "cov-alice", Plan: "gold", Patient: addr(patientAlice), Start: 20250101, End: 20251231},
	basePolicy,
	claims.PolicyPublish{Payer: payer, Version: 1, Effective: 20250101},
	claims.Submit{
		Claim: sha256.Sum256([]byte("claim")), Use: claims.UseClaim, Patient: addr(patientAlice), Provider: clinic, Payer: payer,
		Coverage: "cov-alice", Age: 40, Place: "11", Diagnoses: []string{"E11.9", "I10"},
		Lines: []claims.Line{
			{Code: "99214", Modifiers: []string{"25"}, Units: 1, Charge: 18_000, Date: 20250301, Pointers: []uint64{1, 2}},
			{Code: "70553", Units: 1, Charge: 250_000, Date: 20250301, Pointers: []uint64{2}, Auth: sha256.Sum256([]byte("preauth"))},
		},
	},
	claims.Authorize{Claim: sha256.Sum256([]byte("preauth")), Lines: []uint64{0}},
	claims.Appeal{Claim: sha256.Sum256([]byte("claim")), Lines: []uint64{1}, Reason: "auth-on-file", Letter: sha256.Sum256([]byte("letter"))},
	claims.DecideAppeal{Claim: sha256.Sum256([]byte("claim")), Overturn: true, Reason: "medical-necessity"},
	claims.Read{Reader: addr(payerAgent), Purpose: "HPAYMT", View: "ClaimResponse", Claims: [][32]byte{sha256.Sum256([]byte("claim"))}},
}

// TestSamplesDecode: every message type round-trips through its encoding.
func TestSamplesDecode(t *testing.T) {
	desc := claims.New(condition.NewEngine(16)).Describe()
	if len(sampleMsgs) != len(desc.Msgs) {
		t.Fatalf("%d samples for %d message types", len(sampleMsgs), len(desc.Msgs))
	}
	for _, m := range sampleMsgs {
		enc := contract.Encode(m)
		got, err := desc.Decode(enc.Type, enc.Body)
		if err != nil {
			t.Fatalf("Decode(%T) = %v", m, err)
		}
		if again := contract.Encode(got); !bytes.Equal(again.Body, enc.Body) {
			t.Errorf("Encode(Decode(%T)) = %x; want %x", m, again.Body, enc.Body)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, m := range sampleMsgs {
		enc := contract.Encode(m)
		f.Add(enc.Type, enc.Body)
	}
	f.Add(uint64(99), []byte{1})
	desc := claims.New(condition.NewEngine(64)).Describe()
	f.Fuzz(func(t *testing.T, typ uint64, body []byte) {
		m, err := desc.Decode(typ, body)
		if err != nil {
			if _, ok := tx.CodeOf(err); !ok {
				t.Fatalf("Decode(%d, %x) = %v; want a *tx.Rejection", typ, body, err)
			}
			return
		}
		if enc := contract.Encode(m); enc.Type != typ || !bytes.Equal(enc.Body, body) {
			t.Fatalf("Encode(Decode(%d, %x)) = %d, %x; want the input", typ, body, enc.Type, enc.Body)
		}
	})
}
