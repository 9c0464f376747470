package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/tx"
)

// TestRecoveryThroughAPI recovers a patient's account on a node: two
// guardians approve a key made elsewhere, the patient's event stream hears
// every step as it commits, the recovery route shows it to the patient and
// the guardians only, and the new key, unregistered, completes it and
// then logs in as the patient.
func TestRecoveryThroughAPI(t *testing.T) {
	n := nodetest.Start(t, node.InitOptions{MinRecoveryDelay: 1})
	ctx, c := t.Context(), n.Client
	pat, g1, g2, stranger, newKey := ed25519.GenPrivKey(), ed25519.GenPrivKey(), ed25519.GenPrivKey(), ed25519.GenPrivKey(), ed25519.GenPrivKey()
	for _, k := range []ed25519.PrivKey{pat, g1, g2, stranger} {
		if _, err := c.Send(ctx, k, contract.Encode(identity.RegisterPatient{})); err != nil {
			t.Fatalf("register: %v", err)
		}
	}
	p, addr := tx.AddressOf(pat.PubKey().Bytes()), func(k ed25519.PrivKey) tx.Address { return tx.AddressOf(k.PubKey().Bytes()) }
	send := func(what string, k ed25519.PrivKey, m contract.Msg) {
		t.Helper()
		if _, err := c.Send(ctx, k, contract.Encode(m)); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	stream, err := c.Events(ctx, n.Token(t, pat), &p)
	if err != nil {
		t.Fatal(err)
	}
	send("set guardians", pat, identity.SetGuardians{Guardians: []tx.Address{addr(g1), addr(g2)}, Threshold: 2, Delay: 1})
	chainID, err := c.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	proof, err := newKey.Sign(identity.RotationSignBytes(chainID, p, newKey.PubKey().Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	send("propose", g1, identity.ProposeRecovery{Patient: p, NewPubKey: newKey.PubKey().Bytes(), Proof: proof})

	rec, err := c.Recovery(ctx, n.Token(t, g2), p)
	if err != nil || rec.Guardians == nil || rec.Guardians.Pending == nil || rec.MinDelay != 1 {
		t.Fatalf("Recovery(as guardian g2) = %+v, %v; want the pending recovery and min_delay 1", rec, err)
	}
	if got := rec.Guardians.Pending; got.ID != 1 || !slices.Equal(got.Approvals, []tx.Address{addr(g1)}) || got.EffectiveAt != 0 {
		t.Errorf("pending = %+v; want recovery 1 approved by g1 alone, no effective time", got)
	}
	url := n.URL + "/v1/patients/" + p.String() + "/recovery"
	if got := statusOf(t, "GET", url, n.Token(t, stranger)); got != http.StatusForbidden {
		t.Errorf("GET recovery as another patient = HTTP %d; want 403", got)
	}
	if got := statusOf(t, "GET", n.URL+"/v1/patients/nothex/recovery", n.Token(t, pat)); got != http.StatusBadRequest {
		t.Errorf("GET recovery of a malformed address = HTTP %d; want 400", got)
	}

	send("approve", g2, identity.ApproveRecovery{Patient: p, Recovery: 1})
	completeByNewKey(t, n, newKey, identity.CompleteRecovery{Patient: p, Recovery: 1})

	who, err := c.WhoAmI(ctx, n.Token(t, newKey))
	if err != nil || who.Address != p {
		t.Errorf("WhoAmI(new key) = %s, %v; want the patient %s", who.Address, err, p)
	}
	if _, err := c.AuthToken(ctx, pat); !refused(err) && !isCode(err, tx.CodeUnknownSigner) {
		t.Errorf("login with the old key: %v; want it refused", err)
	}
	want := []string{identity.EventGuardiansSet, identity.EventRecoveryProposed, identity.EventRecoveryApproved, identity.EventRecoveryCompleted}
	if got := streamTypes(t, stream, len(want)); !slices.Equal(got, want) {
		t.Errorf("patient's event stream = %v; want %v", got, want)
	}
	if got := auditTypes(t, n, newKey, p); !slices.Equal(got[len(got)-len(want):], want) {
		t.Errorf("patient's audit events end with %v; want %v", got, want)
	}
}

// completeByNewKey sends complete until the block time reaches the
// recovery's effective time (it is refused as invalid before).
func completeByNewKey(t *testing.T, n *nodetest.Node, newKey ed25519.PrivKey, m identity.CompleteRecovery) {
	t.Helper()
	for try := 0; ; try++ {
		_, err := n.Client.Send(t.Context(), newKey, contract.Encode(m))
		if err == nil {
			return
		}
		if !isCode(err, tx.CodeInvalid) || try == 50 {
			t.Fatalf("complete recovery by the new key: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func isCode(err error, want tx.Code) bool {
	code, ok := tx.CodeOf(err)
	return ok && code == want
}

// streamTypes reads the types of the next k identity events of a stream
// (leaving out the transactions' own tx.committed).
func streamTypes(t *testing.T, stream <-chan v1.StreamEvent, k int) []string {
	t.Helper()
	var out []string
	timeout := time.After(30 * time.Second)
	for len(out) < k {
		select {
		case e, ok := <-stream:
			if !ok {
				t.Fatalf("stream closed after %v", out)
			}
			if strings.HasPrefix(e.Type, "identity.") {
				out = append(out, e.Type)
			}
		case <-timeout:
			t.Fatalf("stream gave %v; want %d events", out, k)
		}
	}
	return out
}

// auditTypes lists the types of the audit log's events of account.
func auditTypes(t *testing.T, n *nodetest.Node, key ed25519.PrivKey, account tx.Address) []string {
	t.Helper()
	res, b := do(t, "GET", n.URL+"/v1/audit/events?account="+account.String(), nil, http.Header{"Authorization": {"Bearer " + n.Token(t, key)}})
	var list v1.EventList
	if res.StatusCode != http.StatusOK || json.Unmarshal(b, &list) != nil {
		t.Fatalf("GET audit events: HTTP %d %s", res.StatusCode, b)
	}
	var out []string
	for _, e := range list.Events {
		out = append(out, e.Event.Event.Type)
	}
	return out
}
