package records_test

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/careledger/careledger/contract"

	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/careledger/careledger/contract/records"
	"github.com/careledger/careledger/tx"
)

func leaves(n int) []records.Leaf {
	ls := make([]records.Leaf, n)
	for i := range ls {
		ls[i] = records.Leaf{Type: "Observation", ID: fmt.Sprintf("obs-%d", i), Version: uint64(1 + i%3), Commitment: [32]byte{byte(i)}}
	}
	return ls
}

// TestBatchProofs proves every leaf of trees of 1 to 33 leaves and checks
// that a proof does not verify another leaf, index or root.
func TestBatchProofs(t *testing.T) {
	for n := 1; n <= 33; n++ {
		ls := leaves(n)
		root, err := records.Root(ls)
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 && !bytes.Equal(root[:], ls[0].Hash()) {
			t.Errorf("Root of one leaf = %x; want the leaf hash %x", root, ls[0].Hash())
		}
		for i := range ls {
			p, err := records.Prove(ls, i)
			if err != nil {
				t.Fatalf("Prove(%d of %d) = %v", i, n, err)
			}
			if err := records.VerifyInclusion(ls[i], uint64(i), uint64(n), p, root); err != nil {
				t.Errorf("VerifyInclusion(%d of %d) = %v; want nil", i, n, err)
			}
			other := ls[i]
			other.Version++
			if records.VerifyInclusion(other, uint64(i), uint64(n), p, root) == nil {
				t.Errorf("proof of leaf %d of %d verifies an altered leaf", i, n)
			}
			if n > 1 && records.VerifyInclusion(ls[i], uint64((i+1)%n), uint64(n), p, root) == nil {
				t.Errorf("proof of leaf %d of %d verifies at another index", i, n)
			}
		}
	}
}

// The root is RFC 6962's: for two leaves, HashChildren of the leaf hashes.
func TestRootIsRFC6962(t *testing.T) {
	ls := leaves(2)
	root, _ := records.Root(ls)
	want := rfc6962.DefaultHasher.HashChildren(ls[0].Hash(), ls[1].Hash())
	if !bytes.Equal(root[:], want) {
		t.Errorf("Root = %x; want %x", root, want)
	}
	if _, err := records.Root(nil); err == nil {
		t.Error("Root(no leaves) = nil error; want an error")
	}
}

var desc = records.Describe()

func check(m tx.Msg) error {
	_, err := desc.Decode(m.Type, m.Body)
	return err
}

var sampleMsgs = []contract.Msg{
	records.Anchor{Custodian: "general-hospital", Patient: tx.Address{1, 2}, Root: [32]byte{3}, Count: 2382},
	records.Erase{Custodian: "general-hospital", Patient: tx.Address{4}, Record: "Observation/obs-1"},
	records.Erase{Custodian: "general-hospital", Patient: tx.Address{5}},
}

func TestEncodeDecode(t *testing.T) {
	for _, m := range sampleMsgs {
		enc := contract.Encode(m)
		got, err := desc.Decode(enc.Type, enc.Body)
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("Decode(Encode(%+v)) = %+v, %v; want the message", m, got, err)
		}
		if err := check(enc); err != nil {
			t.Errorf("Check(%+v) = %v; want nil", m, err)
		}
	}
	for _, bad := range []contract.Msg{
		records.Anchor{Custodian: "general-hospital", Root: [32]byte{3}},
		records.Anchor{Custodian: "X", Root: [32]byte{3}, Count: 1},
		records.Erase{Custodian: "general-hospital", Record: "Observation/1"},
		records.Erase{Custodian: "general-hospital", Patient: tx.Address{1}, Record: "Observation"},
		records.Erase{Custodian: "general-hospital", Patient: tx.Address{1}, Record: "Observation/1/_history/2"},
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
			t.Fatalf("Encode(Decode(%d, %x)) = %d, %x; want the input", typ, body, enc.Type, enc.Body)
		}
	})
}
