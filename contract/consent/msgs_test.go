package consent_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/condition"

	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

// desc decodes with a CEL engine of its own.
var desc = consent.New(condition.NewEngine(16)).Describe()

func address(b byte) tx.Address {
	var a tx.Address
	for i := range a {
		a[i] = b
	}
	return a
}

var sampleMsgs = []contract.Msg{
	consent.Grant{
		Patient: address(1), Grantee: consent.Grantee{Org: "general-hospital", Role: identity.Physician},
		Scope:    consent.Scope{Types: []string{"Observation"}, Categories: []string{"laboratory"}, Records: []string{"Observation/1"}},
		Purposes: []string{"TREAT", "ETREAT"}, NotBefore: 1700000000, NotAfter: 1800000000, Condition: `purpose == "TREAT"`,
	},
	consent.Grant{Patient: address(2), Grantee: consent.Grantee{Member: address(3)}, Scope: consent.Scope{Types: []string{"*"}}, Purposes: []string{"HRESCH"}},
	consent.Revoke{Grant: 7},
	consent.Request{Patient: address(4), Scope: consent.Scope{Types: []string{"Condition"}}, Purpose: "TREAT", Duration: 2592000, Reason: "referral"},
	consent.Answer{Request: 3, Approve: true},
	consent.Access{Requester: address(5), Patient: address(6), Purpose: "ETREAT", BreakGlass: true, GlassReason: "unconscious", Items: []consent.Item{
		{Type: "Observation", ID: "a1", Categories: []string{"vital-signs"}}, {Type: "Condition"},
	}},
	consent.Access{Requester: address(5), Patient: address(6), Purpose: "TREAT", Items: []consent.Item{{Type: "Condition"}}},
	consent.Review{Access: 9, Justified: true},
}

func TestEncodeDecode(t *testing.T) {
	for _, m := range sampleMsgs {
		t.Run(desc.Msg(m.Type()).Name, func(t *testing.T) {
			enc := contract.Encode(m)
			got, err := desc.Decode(enc.Type, enc.Body)
			if err != nil || !reflect.DeepEqual(got, m) {
				t.Fatalf("Decode(Encode(%+v)) = %+v, %v; want the message", m, got, err)
			}
			if _, err := desc.Decode(enc.Type, enc.Body[:len(enc.Body)-1]); err == nil {
				t.Errorf("Decode(truncated %s) = nil error; want malformed", desc.Msg(m.Type()).Name)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, m := range sampleMsgs {
		enc := contract.Encode(m)
		f.Add(enc.Type, enc.Body)
	}
	f.Add(uint64(99), []byte{1})
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
