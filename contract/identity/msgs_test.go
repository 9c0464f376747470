package identity_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/careledger/careledger/contract"

	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

var desc = identity.Describe()

func filled(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }

func address(b byte) tx.Address {
	var a tx.Address
	copy(a[:], filled(tx.AddressSize, b))
	return a
}

// sampleMsgs has one message of every identity type.
var sampleMsgs = []contract.Msg{
	identity.RegisterPatient{},
	identity.RegisterMember{Org: "general-hospital", PubKey: filled(tx.PubKeySize, 7), Roles: []identity.Role{identity.Nurse, identity.Admin}},
	identity.SetMemberRoles{Member: address(3), Roles: []identity.Role{identity.Auditor}},
	identity.SetMemberStatus{Member: address(4), Suspended: true},
	identity.SetMemberStatus{Member: address(5)},
	identity.RotateKey{NewPubKey: filled(tx.PubKeySize, 8), Proof: filled(tx.SignatureSize, 9)},
	identity.SetDelegate{Delegate: address(6), Relation: identity.Parent},
	identity.SetDelegate{Delegate: address(7), Relation: identity.Caregiver, Remove: true},
	identity.SetGuardians{Guardians: []tx.Address{address(8), address(9)}, Threshold: 2, Delay: 259200},
	identity.SetGuardians{},
	identity.ProposeRecovery{Patient: address(10), NewPubKey: filled(tx.PubKeySize, 11), Proof: filled(tx.SignatureSize, 12)},
	identity.ApproveRecovery{Patient: address(10), Recovery: 300},
	identity.CancelRecovery{Patient: address(10), Recovery: 1},
	identity.CompleteRecovery{Patient: address(10), Recovery: 1},
	identity.SetDevice{Patient: address(11), PubKey: filled(tx.PubKeySize, 13), Custodian: "general-hospital", Codes: identity.CommitCodes([]byte("a device's salt."), []string{"8867-4", "2339-0"})},
	identity.SetDevice{Patient: address(11), PubKey: filled(tx.PubKeySize, 13), Remove: true},
}

func TestEncodeDecode(t *testing.T) {
	for _, m := range sampleMsgs {
		t.Run(desc.Msg(m.Type()).Name, func(t *testing.T) {
			enc := contract.Encode(m)
			if enc.Type != m.Type() {
				t.Errorf("Encode(%+v).Type = %d; want %d", m, enc.Type, m.Type())
			}
			got, err := desc.Decode(enc.Type, enc.Body)
			if err != nil || !reflect.DeepEqual(got, m) {
				t.Errorf("Decode(Encode(%+v)) = %+v, %v; want %+v, nil", m, got, err, m)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	body := func(typ uint64, fill func(w *wire.Writer)) (uint64, []byte) {
		w := wire.NewWriter(64)
		fill(w)
		return typ, w.Bytes()
	}
	member := contract.Encode(identity.RegisterMember{Org: "org", PubKey: filled(tx.PubKeySize, 1), Roles: []identity.Role{identity.Nurse}})
	for _, tc := range []struct {
		name string
		typ  uint64
		body []byte
		want tx.Code
	}{
		{"unknown type", 99, nil, tx.CodeUnknownMessage},
		{"patient with a body", identity.TypeRegisterPatient, []byte{0}, tx.CodeMalformed},
		{"truncated member", member.Type, member.Body[:len(member.Body)-1], tx.CodeMalformed},
		{"trailing byte", member.Type, append(append([]byte{}, member.Body...), 0), tx.CodeMalformed},
		{"short key", identity.TypeRotateKey, filled(tx.PubKeySize+tx.SignatureSize-1, 1), tx.CodeMalformed},
		{"bad boolean", identity.TypeSetMemberStatus, append(filled(tx.AddressSize, 1), 2), tx.CodeMalformed},
		{"nine roles", identity.TypeSetMemberRoles, func() []byte {
			_, b := body(0, func(w *wire.Writer) {
				w.Raw(filled(tx.AddressSize, 1))
				w.Strings(strings.Split("a,b,c,d,e,f,g,h,i", ","))
			})
			return b
		}(), tx.CodeMalformed},
		{"role too long", identity.TypeSetMemberRoles, func() []byte {
			_, b := body(0, func(w *wire.Writer) {
				w.Raw(filled(tx.AddressSize, 1))
				w.Strings([]string{strings.Repeat("r", 33)})
			})
			return b
		}(), tx.CodeMalformed},
		{"organization ID too long", identity.TypeRegisterMember, func() []byte {
			_, b := body(0, func(w *wire.Writer) {
				w.String(strings.Repeat("o", 65))
				w.Raw(filled(tx.PubKeySize, 1))
				w.Strings([]string{"nurse"})
			})
			return b
		}(), tx.CodeMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := desc.Decode(tc.typ, tc.body)
			if code, ok := tx.CodeOf(err); !ok || code != tc.want {
				t.Errorf("Decode(%d, %x) = %+v, %v; want code %v", tc.typ, tc.body, m, err, tc.want)
			}
		})
	}
}

// FuzzDecode requires Decode never to panic, to reject only with a
// rejection, and to accept only canonical bodies: whatever it accepts
// encodes back to the same bytes, so one message has one transaction hash.
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
