package governance_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/careledger/careledger/contract"

	"github.com/careledger/careledger/contract/governance"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

var desc = (&governance.Contract{}).Describe()

func check(m tx.Msg) error {
	_, err := desc.Decode(m.Type, m.Body)
	return err
}

func key(b byte) tx.PubKey { return bytes.Repeat([]byte{b}, tx.PubKeySize) }

var sampleMsgs = []contract.Msg{
	governance.Propose{Kind: governance.AdmitOrg, Deadline: 100, Org: identity.GenesisOrg{
		ID: "new-lab", Name: "New Lab", Type: identity.Provider, ValidatorKey: key(1), Power: 5, Admins: []tx.PubKey{key(2)}, Nodes: []tx.PubKey{key(3)},
	}},
	governance.Propose{Kind: governance.SetPower, Deadline: 10, Org: identity.GenesisOrg{ID: "general-hospital", Power: 7}},
	governance.Propose{Kind: governance.SetParams, Deadline: 10, Params: governance.Params{MaxTxBytes: 4096, CELCostLimit: 2000, DefaultPolicy: "purpose == \"TREAT\""}},
	governance.Vote{Proposal: 3, Yes: true},
}

func TestEncodeDecode(t *testing.T) {
	for _, m := range sampleMsgs {
		enc := contract.Encode(m)
		got, err := desc.Decode(enc.Type, enc.Body)
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("Decode(Encode(%+v)) = %+v, %v", m, got, err)
		}
		if err := check(enc); err != nil {
			t.Errorf("Check(%+v) = %v; want nil", m, err)
		}
	}
	for _, bad := range []governance.Propose{
		{Kind: "abolish", Deadline: 1},
		{Kind: governance.SetParams, Deadline: 1},
		{Kind: governance.SetParams, Deadline: 1, Params: governance.Params{MaxTxBytes: 10}},
		{Kind: governance.SuspendOrg, Deadline: 0, Org: identity.GenesisOrg{ID: "general-hospital"}},
		{Kind: governance.AdmitOrg, Deadline: 1, Org: identity.GenesisOrg{ID: "x"}},
	} {
		enc := contract.Encode(bad)
		if code, _ := tx.CodeOf(check(enc)); code != tx.CodeInvalid {
			t.Errorf("Check(%+v) code %v; want invalid", bad, code)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, m := range sampleMsgs {
		enc := contract.Encode(m)
		f.Add(enc.Type, enc.Body)
	}
	f.Fuzz(func(t *testing.T, typ uint64, body []byte) {
		m, err := desc.Decode(typ, body)
		if err != nil {
			if _, ok := tx.CodeOf(err); !ok {
				t.Fatalf("Decode(%d, %x) = %v; want a *tx.Rejection", typ, body, err)
			}
			return
		}
		if enc := contract.Encode(m); enc.Type != typ || !bytes.Equal(enc.Body, body) {
			t.Fatalf("Encode(Decode(%d, %x)) = %x; want the input", typ, body, enc.Body)
		}
	})
}

// TestStatusAt: an open proposal reads as expired past its deadline, the
// status a vote there is refused with, which nothing stores.
func TestStatusAt(t *testing.T) {
	for _, tc := range []struct {
		status governance.Status
		height int64
		want   governance.Status
	}{
		{governance.Open, 10, governance.Open},
		{governance.Open, 11, governance.Expired},
		{governance.Passed, 11, governance.Passed},
		{governance.Rejected, 5, governance.Rejected},
	} {
		p := &governance.Proposal{Status: tc.status, Ends: 10}
		if got := p.StatusAt(tc.height); got != tc.want {
			t.Errorf("%s proposal ending at 10, StatusAt(%d) = %s; want %s", tc.status, tc.height, got, tc.want)
		}
	}
}
