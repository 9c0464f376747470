package epcisapi_test

import (
	"context"
	"testing"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/tx"

	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/node"
)

// TestPartyDirectoryDecidesBodies: who may read an event's body is read
// from the chain's party directory. An organization named by a GLN that
// nobody had claimed sees only the summary; once it claims the GLN on the
// chain, it reads the body at the capturer's node, without any node's
// configuration changing.
func TestPartyDirectoryDecidesBodies(t *testing.T) {
	n, tok := single(t)
	rival, err := node.KeysDir(n.Home).Load("rival-admin", nil)
	if err != nil {
		t.Fatal(err)
	}
	rivalTok := n.Token(t, rival)
	const item = "urn:epc:id:sgtin:0614141.107346.8001"
	const localGLN, rivalGLN = "urn:epc:id:pgln:0614141.00000", "urn:epc:id:pgln:0952123.00000"
	send(t, n, n.Admin,
		supply.RegisterProduct{Owner: "local", GTIN: gtinOf(t, item)},
		supply.ClaimParties{Org: "local", GLNs: []string{"0614141000005"}})
	captureOK(t, n, tok, doc(commission("2025-01-01T08:00:00Z", "L1", item),
		move("2025-01-01T09:00:00Z", "inspecting", "active", localGLN, rivalGLN, item)))

	bodies := func() int {
		t.Helper()
		shown := 0
		for _, ev := range queryEvents(t, n, rivalTok, "EQ_bizStep=inspecting") {
			if ev["careledger:bodyWithheld"] == nil {
				shown++
			}
		}
		return shown
	}
	if got := bodies(); got != 0 {
		t.Errorf("before the rival claims its GLN, it reads %d bodies; want 0", got)
	}
	send(t, n, rival, supply.ClaimParties{Org: "rival", GLNs: []string{"0952123000002"}})
	if got := bodies(); got != 1 {
		t.Errorf("after the rival claims its GLN, it reads %d bodies; want 1", got)
	}
	_, err = n.Client.Send(context.Background(), n.Admin, contract.Encode(supply.ClaimParties{Org: "local", GLNs: []string{"0952123000002"}}))
	if !client.IsCode(err, tx.CodeAlreadyExists) {
		t.Errorf("claiming the rival's GLN: %v; want already_exists", err)
	}
}
