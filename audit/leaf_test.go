package audit_test

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/careledger/careledger/audit"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/tx"
)

// event is the i-th event of a test log: every tenth, from the fourth, an
// erasure.
func event(i int) audit.Event {
	typ := "consent.access"
	if i%10 == 3 {
		typ = "records.erased"
	}
	return audit.Event{
		Height: int64(1 + i/3), Time: time.Date(2026, 11, 21, 9, 0, i, 0, time.UTC), Tx: tx.Hash{byte(i)}, TxIndex: i % 3, Index: 0,
		Event: contract.Event{Type: typ, Attrs: []contract.Attr{{Key: "access", Value: fmt.Sprint(i)}}, Accounts: []tx.Address{{byte(i)}}},
	}
}

func TestEventEncoding(t *testing.T) {
	e := event(5)
	got, err := audit.DecodeEvent(e.Encode())
	if err != nil || !reflect.DeepEqual(*got, e) {
		t.Fatalf("DecodeEvent(Encode(%+v)) = %+v, %v", e, got, err)
	}
}

func FuzzDecodeEvent(f *testing.F) {
	for i := range 3 {
		e := event(i)
		f.Add(e.Encode())
	}
	f.Add([]byte("careledger/audit-event/v1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := audit.DecodeEvent(b)
		if err != nil {
			return
		}
		if again := e.Encode(); !bytes.Equal(again, b) {
			t.Fatalf("Encode(DecodeEvent(%x)) = %x; want the input", b, again)
		}
	})
}
