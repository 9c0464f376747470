package contract_test

import (
	"strings"
	"testing"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// ping is a message of type 900 or 901, for router tests.
type ping struct{ n uint64 }

func (ping) Type() uint64                      { return 900 }
func (p ping) EncodeTo(w *wire.Writer)         { w.Uint(p.n) }
func readPing(r *wire.Reader) ping             { return ping{r.Uint()} }
func handlePing(*contract.Context, ping) error { return nil }

type pong struct{ ping }

func (pong) Type() uint64          { return 901 }
func readPong(r *wire.Reader) pong { return pong{readPing(r)} }
func handlePong(*contract.Context, pong) error {
	return tx.Rejectf(tx.CodeInvalid, "pong refused")
}

func validatePing(p ping) error {
	if p.n == 0 {
		return tx.Rejectf(tx.CodeInvalid, "zero ping")
	}
	return nil
}

func pingContract(name string, events ...contract.EventSpec) contract.Contract {
	return contract.Contract{
		Name:   name,
		Msgs:   []contract.MsgSpec{contract.Message(name+"/ping", readPing, validatePing, handlePing)},
		Events: events,
	}
}

// TestRouterRefusesClashes: two contracts claiming one type number, name or
// event type would shadow each other silently; the router refuses them.
func TestRouterRefusesClashes(t *testing.T) {
	pong := contract.Contract{Name: "pong", Msgs: []contract.MsgSpec{contract.Message("pong/pong", readPong, nil, handlePong)}}
	misnamed := contract.Contract{Name: "other", Msgs: []contract.MsgSpec{contract.Message("pong/pong", readPong, nil, handlePong)}}
	for _, tc := range []struct {
		name string
		cs   []contract.Contract
		want string // in the error; "" for none
	}{
		{"distinct", []contract.Contract{pingContract("a"), pong}, ""},
		{"one type number twice", []contract.Contract{pingContract("a"), pingContract("b")}, "message type 900"},
		{"one contract name twice", []contract.Contract{pong, pong}, "contract name"},
		{"message outside its contract", []contract.Contract{misnamed}, "not under contract other"},
		{"one event type twice", []contract.Contract{
			pingContract("a", contract.EventSpec{Type: "a.pinged"}, contract.EventSpec{Type: "a.pinged"}),
		}, "event type"},
		{"event outside its contract", []contract.Contract{pingContract("a", contract.EventSpec{Type: "b.pinged"})}, "event type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := contract.NewRouter(tc.cs...)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("NewRouter(%s) = %v; want error containing %q", tc.name, err, tc.want)
			}
		})
	}
}

func TestRouterDecode(t *testing.T) {
	r, err := contract.NewRouter(pingContract("a", contract.EventSpec{Type: "a.pinged", ByType: true}, contract.EventSpec{Type: "a.other"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		msg  tx.Msg
		want tx.Code
	}{
		{"valid", contract.Encode(ping{7}), tx.CodeOK},
		{"invalid", contract.Encode(ping{0}), tx.CodeInvalid},
		{"trailing byte", tx.Msg{Type: 900, Body: []byte{7, 0}}, tx.CodeMalformed},
		{"truncated", tx.Msg{Type: 900, Body: nil}, tx.CodeMalformed},
		{"unknown type", tx.Msg{Type: 901, Body: []byte{7}}, tx.CodeUnknownMessage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, m, err := r.Decode(0, tc.msg)
			if code, ok := tx.CodeOf(err); !ok || code != tc.want {
				t.Fatalf("Decode(%v) = %v; want code %v", tc.msg, err, tc.want)
			}
			if err == nil && (spec.Name != "a/ping" || m != ping{7}) {
				t.Errorf("Decode(%v) = %s, %v; want a/ping, %v", tc.msg, spec.Name, m, ping{7})
			}
		})
	}
	if got := r.IndexedEvents(); len(got) != 1 || got[0] != "a.pinged" {
		t.Errorf("IndexedEvents() = %v; want [a.pinged]", got)
	}
	if got := r.Name(900); got != "a/ping" {
		t.Errorf("Name(900) = %q; want a/ping", got)
	}
}
