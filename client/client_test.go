package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/tx"
)

func TestIdentityThroughAPI(t *testing.T) {
	n := nodetest.Start(t, node.InitOptions{})
	c := n.Client
	ctx := context.Background()

	st, err := c.Status(ctx)
	if err != nil || st.ChainID != "careledger-local" || st.Height < 1 || st.AppHash == "" {
		t.Fatalf("Status() = %+v, %v; want chain careledger-local at height >= 1 with an app hash", st, err)
	}

	// A patient's stream answers only those who may read it; before the
	// patient registers, an auditor.
	auditor := ed25519.GenPrivKey()
	if _, err := c.Send(ctx, n.Admin, contract.Encode(identity.RegisterMember{
		Org: "local", PubKey: auditor.PubKey().Bytes(), Roles: []identity.Role{identity.Auditor},
	})); err != nil {
		t.Fatalf("register auditor: %v", err)
	}
	patient := ed25519.GenPrivKey()
	patientAddr := tx.AddressOf(patient.PubKey().Bytes())
	events, err := c.Events(ctx, n.Token(t, auditor), &patientAddr)
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	res, err := c.Send(ctx, patient, contract.Encode(identity.RegisterPatient{}))
	if err != nil {
		t.Fatalf("register patient: %v", err)
	}
	if res.Height < 1 || res.Detail == nil || res.Detail.Signer != patientAddr {
		t.Fatalf("register patient answer = %+v; want committed with signer %s", res, patientAddr)
	}
	acct, err := c.Account(ctx, n.Token(t, patient), patientAddr)
	if err != nil || acct.Kind != identity.Patient || acct.Sequence != 1 {
		t.Fatalf("Account(patient) = %+v, %v; want a patient with sequence 1", acct, err)
	}
	select {
	case e := <-events:
		if e.Tx != res.Hash {
			t.Errorf("first event is of tx %s; want %s", e.Tx, res.Hash)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event on the patient's stream")
	}

	// The organization's admin registers a physician.
	doc := ed25519.GenPrivKey()
	if _, err := c.Send(ctx, n.Admin, contract.Encode(identity.RegisterMember{
		Org: "local", PubKey: doc.PubKey().Bytes(), Roles: []identity.Role{identity.Physician},
	})); err != nil {
		t.Fatalf("register member: %v", err)
	}
	members, err := c.Members(ctx, n.Token(t, n.Admin), "local")
	if err != nil || len(members) != 4 {
		t.Fatalf("Members(local) = %+v, %v; want the admin, the node's service key, the auditor and the physician", members, err)
	}

	// A patient cannot register members.
	_, err = c.Send(ctx, patient, contract.Encode(identity.RegisterMember{
		Org: "local", PubKey: ed25519.GenPrivKey().PubKey().Bytes(), Roles: []identity.Role{identity.Admin},
	}))
	if !client.IsCode(err, tx.CodeUnauthorized) {
		t.Fatalf("patient registering a member: err = %v; want code unauthorized", err)
	}

	// Without a token, the node tells nothing of an account.
	if _, err := c.Account(ctx, "", patientAddr); !client.IsCode(err, tx.CodeUnauthenticated) {
		t.Errorf("Account(no token, patient) err = %v; want code unauthenticated", err)
	}

	tok, err := c.AuthToken(ctx, doc)
	if err != nil {
		t.Fatalf("AuthToken: %v", err)
	}
	who, err := c.WhoAmI(ctx, tok.Token)
	if err != nil || who.Address != tx.AddressOf(doc.PubKey().Bytes()) || !who.HasRole(identity.Physician) {
		t.Fatalf("WhoAmI = %+v, %v; want the physician", who, err)
	}
}
