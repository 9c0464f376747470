package trials_test

import (
	"bytes"
	"testing"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/condition"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/tx"
)

var sampleMsgs = []contract.Msg{
	registration(),
	amendment(),
	trials.Approve{Trial: trial, Version: 2},
	trials.Consent{Trial: trial, Version: 2},
	trials.Enroll{Trial: trial, Participant: addr(alice)},
	trials.Withdraw{Trial: trial, Participant: addr(alice)},
	data("visit-1", 1, alice, bob),
	trials.Report{Trial: trial, Result: commitment("results"), Outcomes: []string{"ae-rate", "hba1c-26w"}},
	trials.Criteria{Trial: trial, Rule: rule},
	trials.Contact{OptIn: true},
	trials.MatchCount{Trial: trial, Revision: 1, Custodian: clinic, Matched: 3},
}

// TestSamplesDecode: every message type round-trips through its encoding.
func TestSamplesDecode(t *testing.T) {
	desc := trials.New(condition.NewEngine(16)).Describe()
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
	f.Add(trials.TypeCommitData, []byte{1, 'a', 1, 'b'})
	desc := trials.New(condition.NewEngine(16)).Describe()
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
