package fhirapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/tx"
)

// TestRejectionOutcomes checks that a transaction the chain refuses answers
// with its code's status and issue type from tx's table, in an answer and
// in a batch entry, while a read that consent denies still answers 403.
func TestRejectionOutcomes(t *testing.T) {
	s := newStory(t)
	status, body := s.fhir(s.drA, "PUT", "Patient/p1", obj("resourceType", "Patient", "id", "p1"))
	s.expect("create Patient/p1", status, http.StatusCreated, body)

	// An unknown purpose of use: the node's access transaction is refused
	// (invalid), which is not a decision to deny.
	status, body = s.fhir(s.drA, "GET", "Patient/p1", nil, "X-Purpose-Of-Use", "NOSUCH")
	if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), `"code":"invalid"`) {
		t.Errorf("read with an unknown purpose: %d %.300s; want 422 with issue invalid", status, body)
	}
	batch := obj("resourceType", "Bundle", "type", "batch", "entry", []any{obj("request", obj("method", "GET", "url", "Patient/p1"))})
	status, body = s.fhir(s.drA, "POST", "", batch, "X-Purpose-Of-Use", "NOSUCH")
	if status != http.StatusOK || !strings.Contains(string(body), `"status":"422 Unprocessable Entity"`) || !strings.Contains(string(body), `"code":"invalid"`) {
		t.Errorf("batch read with an unknown purpose: %d %.500s; want 200 with the entry 422, issue invalid", status, body)
	}

	// A read that consent denies (hospital B's physician, no grant) answers
	// as before.
	status, body = s.fhir(s.drB, "GET", "Patient/p1", nil)
	if status != http.StatusForbidden || !strings.Contains(string(body), `"code":"forbidden"`) {
		t.Errorf("read denied by consent: %d %.300s; want 403 with issue forbidden", status, body)
	}
}

// TestBusyRetryAfter fills a real mempool and checks that a write, whose
// anchor then finds no room, answers 503 with Retry-After and issue
// throttled. The node is set up with its usual short blocks, then restarted
// with room for one transaction and blocks seconds apart (CometBFT waits
// timeout_commit before each height, the first after a start included), so
// one patient's registration fills the mempool until the next block.
func TestBusyRetryAfter(t *testing.T) {
	s := newStory(t)
	s.n.Stop(t)
	c, err := node.LoadConfig(s.n.Home)
	if err != nil {
		t.Fatal(err)
	}
	c.MempoolSize, c.TimeoutCommit = 1, node.Duration(3*time.Second)
	if err := node.SaveConfig(s.n.Home, c); err != nil {
		t.Fatal(err)
	}
	s.n = nodetest.Open(t, s.n.Home)
	s.c = s.n.Client
	s.tokens = map[string]string{}
	token := s.token(s.drA)

	// A block between the filling and the write empties the mempool: the
	// write then succeeds, and the next try fills it again.
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; ; i++ {
		key := ed25519.GenPrivKey()
		fill := &tx.Tx{ChainID: s.n.ChainID(), Signer: key.PubKey().Bytes(), Msgs: []tx.Msg{contract.Encode(identity.RegisterPatient{})}}
		if err := fill.Sign(key); err != nil {
			t.Fatal(err)
		}
		if _, err := s.c.Submit(t.Context(), fill.Encode(), false, 0); err != nil {
			t.Fatalf("submit a patient's registration: %v", err)
		}
		b, _ := json.Marshal(obj("resourceType", "Patient", "id", fmt.Sprintf("busy-%d", i)))
		req, err := http.NewRequestWithContext(t.Context(), "PUT", fmt.Sprintf("%s/fhir/Patient/busy-%d", s.n.URL, i), bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/fhir+json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		switch {
		case res.StatusCode == http.StatusServiceUnavailable:
			if got := res.Header.Get("Retry-After"); got != "1" {
				t.Errorf("busy write: Retry-After %q; want \"1\"", got)
			}
			if !strings.Contains(string(body), `"resourceType":"OperationOutcome"`) || !strings.Contains(string(body), `"code":"throttled"`) {
				t.Errorf("busy write: body %.300s; want an OperationOutcome with issue throttled", body)
			}
			return
		case res.StatusCode != http.StatusCreated:
			t.Fatalf("write %d with a full mempool: %d %.300s; want 503 (or 201 if a block made room)", i, res.StatusCode, body)
		case time.Now().After(deadline):
			t.Fatalf("no write answered 503 in 60 s; the last answered %d", res.StatusCode)
		}
	}
}
