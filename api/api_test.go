package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/api"
	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/tx"
)

// TestAPI runs the API's end-to-end checks against one real node. The
// subtests run in order and share the node's chain.
func TestAPI(t *testing.T) {
	n := nodetest.Start(t, node.InitOptions{})
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *nodetest.Node)
	}{
		{"SubmitBadRequests", testSubmitBadRequests},
		{"SubmitRejectedTxs", testSubmitRejectedTxs},
		{"SubmitWaitCommit", testSubmitWaitCommit},
		{"SubmitBatch", testSubmitBatch},
		{"GetErrors", testGetErrors},
		{"Status", testStatus},
		{"Metrics", testMetrics},
		{"Blocks", testBlocks},
		{"Auth", testAuth},
		{"Events", testEvents},
		{"OpenAPI", testOpenAPI},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, n) })
	}
}

// TestBusyRetryAfter fills a real mempool, on a node with room for one
// transaction and blocks seconds apart (CometBFT waits timeout_commit
// before each height), and checks that the next submission answers 503
// busy with a Retry-After, as a transaction answer.
func TestBusyRetryAfter(t *testing.T) {
	n := nodetest.Start(t, node.InitOptions{Config: node.Config{MempoolSize: 1, TimeoutCommit: node.Duration(3 * time.Second)}})
	// A block between two submissions empties the mempool: the second is
	// then pending too, and the third finds it full.
	deadline := time.Now().Add(60 * time.Second)
	for {
		raw := signed(t, n.ChainID(), ed25519.GenPrivKey()).Encode()
		res, body := postJSON(t, n.URL+"/v1/txs", v1.SubmitRequest{Tx: base64.StdEncoding.EncodeToString(raw)})
		var a v1.TxAnswer
		if err := decodeStrict(body, &a); err != nil {
			t.Fatalf("submit: answer %s: %v", body, err)
		}
		switch {
		case res.StatusCode == http.StatusServiceUnavailable:
			if a.Status != "rejected" || a.Code != tx.CodeBusy || a.CodeName != "busy" || a.Hash != tx.HashOf(raw) {
				t.Errorf("submit to a full mempool = %+v; want rejected busy", a)
			}
			if got := res.Header.Get("Retry-After"); got != "1" {
				t.Errorf("submit to a full mempool: Retry-After %q; want \"1\"", got)
			}
			return
		case res.StatusCode != http.StatusAccepted:
			t.Fatalf("submit = HTTP %d %s; want 202 pending, or 503 once the mempool is full", res.StatusCode, body)
		case time.Now().After(deadline):
			t.Fatal("no submission answered 503 in 60 s")
		}
		if res.Header.Get("Retry-After") != "" {
			t.Errorf("pending answer has Retry-After %q; want none", res.Header.Get("Retry-After"))
		}
	}
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// do sends a raw request and returns the answer with its body read.
func do(t *testing.T, method, url string, body []byte, header http.Header) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read answer: %v", method, url, err)
	}
	return res, b
}

// newMember registers a new member of the node's organization with roles,
// signed by its admin, and returns the member's key.
func newMember(t *testing.T, n *nodetest.Node, roles ...identity.Role) ed25519.PrivKey {
	t.Helper()
	key := ed25519.GenPrivKey()
	msg := identity.RegisterMember{Org: "local", PubKey: key.PubKey().Bytes(), Roles: roles}
	if _, err := n.Client.Send(t.Context(), n.Admin, contract.Encode(msg)); err != nil {
		t.Fatalf("register member %v: %v", roles, err)
	}
	return key
}

// postJSON posts v as JSON.
func postJSON(t *testing.T, url string, v any) (*http.Response, []byte) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, "POST", url, b, nil)
}

// decodeStrict decodes b into v, refusing fields v does not have.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// checkError checks that an answer is {"error":{"code","name","message"}}
// with code want and HTTP status status.
func checkError(t *testing.T, what string, res *http.Response, body []byte, status int, want tx.Code) {
	t.Helper()
	if res.StatusCode != status {
		t.Errorf("%s: HTTP %d; want %d (body %s)", what, res.StatusCode, status, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q; want application/json", what, ct)
	}
	var e struct {
		Error *v1.Error `json:"error"`
	}
	if err := decodeStrict(body, &e); err != nil || e.Error == nil {
		t.Errorf("%s: body %s is not an error body: %v", what, body, err)
		return
	}
	if e.Error.Code != want || e.Error.Name != want.String() || e.Error.Message == "" {
		t.Errorf("%s: error %+v; want code %d (%s) with a message", what, *e.Error, want, want)
	}
}

// checkClientError checks that err is the client's *Error of code want
// with HTTP status status.
func checkClientError(t *testing.T, what string, err error, status int, want tx.Code) {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) {
		t.Errorf("%s: err = %v; want an API error %s", what, err, want)
		return
	}
	if ce.HTTPStatus != status || ce.Body.Code != want || ce.Body.Name != want.String() {
		t.Errorf("%s: err = HTTP %d %v; want HTTP %d %s", what, ce.HTTPStatus, ce, status, want)
	}
}

// keepsServing checks that the node answers /healthz and still commits
// blocks.
func keepsServing(t *testing.T, n *nodetest.Node) {
	t.Helper()
	res, body := do(t, "GET", n.URL+"/healthz", nil, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz: HTTP %d %s; want 200", res.StatusCode, body)
	}
	st, err := n.Client.Status(t.Context())
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	nodetest.WaitHeight(t, n.Client, st.Height+2)
}

func testSubmitBadRequests(t *testing.T, n *nodetest.Node) {
	huge := append([]byte(`{"tx":"`), bytes.Repeat([]byte("A"), 8<<20)...)
	huge = append(huge, `"}`...)
	for _, tc := range []struct {
		name   string
		body   []byte
		status int
		code   tx.Code
	}{
		{"malformed JSON", []byte(`{"tx":`), 400, tx.CodeMalformed},
		{"empty body", []byte{}, 400, tx.CodeMalformed},
		{"not an object", []byte(`["AA=="]`), 400, tx.CodeMalformed},
		{"wrong field type", []byte(`{"tx":5}`), 400, tx.CodeMalformed},
		{"unknown field", []byte(`{"tx":"AA==","fee":1}`), 400, tx.CodeMalformed},
		{"stray brace after the object", []byte(`{"tx":"AA=="}}`), 400, tx.CodeMalformed},
		{"second object", []byte(`{"tx":"AA=="} {}`), 400, tx.CodeMalformed},
		{"body over 8 MiB", huge, 413, tx.CodeOversized},
		{"tx not base64", []byte(`{"tx":"not base64!"}`), 400, tx.CodeMalformed},
		{"tx unpadded base64", []byte(`{"tx":"AA"}`), 400, tx.CodeMalformed},
		{"bad wait", []byte(`{"tx":"AA==","wait":"block"}`), 422, tx.CodeInvalid},
	} {
		res, body := do(t, "POST", n.URL+"/v1/txs", tc.body, nil)
		if len(body) > 1000 {
			body = body[:1000]
		}
		checkError(t, "POST /v1/txs with "+tc.name, res, body, tc.status, tc.code)
	}
	keepsServing(t, n)
}

// rejectionCount reads careledger_tx_rejections_total for code at submit.
func rejectionCount(t *testing.T, n *nodetest.Node, code tx.Code) float64 {
	t.Helper()
	_, body := do(t, "GET", n.MetricsURL, nil, nil)
	series := fmt.Sprintf(`careledger_tx_rejections_total{code=%q,stage="submit"} `, code.String())
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(line, series); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("metric %s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics lacks %s", series)
	return 0
}

// signed returns an encoded transaction registering key as a patient.
func signed(t *testing.T, chainID string, key ed25519.PrivKey) *tx.Tx {
	t.Helper()
	x := &tx.Tx{ChainID: chainID, Signer: key.PubKey().Bytes(), Msgs: []tx.Msg{contract.Encode(identity.RegisterPatient{})}}
	if err := x.Sign(key); err != nil {
		t.Fatal(err)
	}
	return x
}

// testSubmitRejectedTxs submits well-formed requests whose transactions the
// node refuses. Those are transaction answers with the status of their
// code, not error bodies: the transaction has a hash and a status that
// GET /v1/txs/{hash} reports later (client.Submit relies on this).
func testSubmitRejectedTxs(t *testing.T, n *nodetest.Node) {
	key := ed25519.GenPrivKey()
	badSig := signed(t, n.ChainID(), key)
	badSig.Signature[0] ^= 1
	for _, tc := range []struct {
		name   string
		raw    []byte
		status int
		code   tx.Code
	}{
		{"garbage", []byte("garbage, not a transaction"), 400, tx.CodeMalformed},
		{"over the size limit", bytes.Repeat([]byte{1}, tx.DefaultLimits.MaxTxBytes+1), 413, tx.CodeOversized},
		{"other chain", signed(t, "other-chain", key).Encode(), 400, tx.CodeWrongChain},
		{"bad signature", badSig.Encode(), 401, tx.CodeBadSignature},
	} {
		before := rejectionCount(t, n, tc.code)
		res, body := postJSON(t, n.URL+"/v1/txs", v1.SubmitRequest{Tx: base64.StdEncoding.EncodeToString(tc.raw)})
		var a v1.TxAnswer
		if err := decodeStrict(body, &a); err != nil {
			t.Fatalf("submit %s: answer %s: %v", tc.name, body, err)
		}
		want := tx.HashOf(tc.raw)
		if res.StatusCode != tc.status || a.Status != "rejected" || a.Code != tc.code || a.CodeName != tc.code.String() || a.Hash != want {
			t.Errorf("submit %s = HTTP %d %+v; want HTTP %d, rejected with %s, hash %s", tc.name, res.StatusCode, a, tc.status, tc.code, want)
		}
		if after := rejectionCount(t, n, tc.code); after != before+1 {
			t.Errorf("after submitting %s, rejections{code=%s,stage=submit} = %v; want %v", tc.name, tc.code, after, before+1)
		}
		got, err := n.Client.Tx(t.Context(), n.Token(t, n.Admin), want)
		if err != nil || got.Status != "rejected" || got.Code != tc.code {
			t.Errorf("Tx(%s) = %+v, %v; want rejected with %s", tc.name, got, err, tc.code)
		}
	}
	keepsServing(t, n)
}

// testSubmitBatch submits transactions together: each gets its own answer
// in order (a bad signature among a batch that is verified together is
// found and refused alone), the good ones commit, a batch may wait for its
// commits, and a request that cannot be read fails whole.
func testSubmitBatch(t *testing.T, n *nodetest.Node) {
	ctx := t.Context()
	done := signed(t, n.ChainID(), ed25519.GenPrivKey()).Encode()
	if a, err := n.Client.Submit(ctx, done, true, 20*time.Second); err != nil || a.Status != "committed" {
		t.Fatalf("Submit(wait) = %+v, %v; want committed", a, err)
	}
	var raws [][]byte
	for range 12 {
		raws = append(raws, signed(t, n.ChainID(), ed25519.GenPrivKey()).Encode())
	}
	bad := signed(t, n.ChainID(), ed25519.GenPrivKey())
	bad.Signature[0] ^= 1
	raws = slices.Insert(raws, 5, bad.Encode(), []byte("garbage"), done)
	want := map[int]struct {
		status string
		code   tx.Code
	}{5: {"rejected", tx.CodeBadSignature}, 6: {"rejected", tx.CodeMalformed}, 7: {"committed", tx.CodeOK}}

	// Then the same batch again, waiting: the pending ones come back
	// committed, each with its result.
	for _, wait := range []bool{false, true} {
		answers, err := n.Client.SubmitBatch(ctx, raws, wait, 20*time.Second)
		if err != nil {
			t.Fatalf("SubmitBatch(wait %v) = %v", wait, err)
		}
		for i, a := range answers {
			w, ok := want[i]
			if !ok {
				w.status = map[bool]string{false: "pending", true: "committed"}[wait]
			}
			if a.Hash != tx.HashOf(raws[i]) || string(a.Status) != w.status || a.Code != w.code || a.CodeName != w.code.String() {
				t.Errorf("batch answer %d (wait %v) = %+v; want %s with %s", i, wait, a, w.status, w.code)
			}
			committed := w.status == "committed"
			if (a.Detail != nil) != committed || committed && (a.Detail.Height != a.Height || a.Height < 1) {
				t.Errorf("batch answer %d (wait %v) = %+v, result %+v; want the committed result at its height, only if committed", i, wait, a, a.Detail)
			}
		}
	}

	tooMany := v1.BatchRequest{Txs: make([]string, 1001)}
	for i := range tooMany.Txs {
		tooMany.Txs[i] = "AA=="
	}
	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   tx.Code
	}{
		{"no transactions", v1.BatchRequest{}, 422, tx.CodeInvalid},
		{"over 1,000 transactions", tooMany, 422, tx.CodeInvalid},
		{"an entry not base64", v1.BatchRequest{Txs: []string{"AA==", "not base64!"}}, 400, tx.CodeMalformed},
		{"unknown field", map[string]any{"txs": []string{"AA=="}, "mode": "sync"}, 400, tx.CodeMalformed},
		{"an unknown wait", v1.BatchRequest{Txs: []string{"AA=="}, Wait: "soon"}, 422, tx.CodeInvalid},
	} {
		res, body := postJSON(t, n.URL+"/v1/txs/batch", tc.body)
		checkError(t, "POST /v1/txs/batch with "+tc.name, res, body, tc.status, tc.code)
	}
	keepsServing(t, n)
}

func testSubmitWaitCommit(t *testing.T, n *nodetest.Node) {
	ctx := t.Context()
	c := n.Client
	key := ed25519.GenPrivKey()
	raw := signed(t, n.ChainID(), key).Encode()
	a, err := c.Submit(ctx, raw, true, 20*time.Second)
	if err != nil || a.Status != "committed" || a.Code != tx.CodeOK || a.Height < 1 || a.Hash != tx.HashOf(raw) {
		t.Fatalf("Submit(wait) = %+v, %v; want committed with code ok at a height", a, err)
	}
	if a.Detail == nil || a.Detail.Height != a.Height || a.Detail.Signer != tx.AddressOf(key.PubKey().Bytes()) ||
		!slices.Equal(a.Detail.Msgs, []string{"identity/register_patient"}) {
		t.Errorf("Submit(wait).result = %+v; want the committed result of identity/register_patient", a.Detail)
	}
	got, err := c.Tx(ctx, n.Token(t, n.Admin), a.Hash)
	if err != nil || got.Status != "committed" || got.Height != a.Height {
		t.Errorf("Tx(%s) = %+v, %v; want committed at %d", a.Hash, got, err, a.Height)
	}
	// The same bytes again: the answer is the committed result.
	if again, err := c.Submit(ctx, raw, false, 0); err != nil || again.Status != "committed" || again.Height != a.Height {
		t.Errorf("Submit(same tx) = %+v, %v; want committed at %d", again, err, a.Height)
	}

	// Without wait, the answer is 202 pending, and the transaction commits.
	raw = signed(t, n.ChainID(), ed25519.GenPrivKey()).Encode()
	res, body := postJSON(t, n.URL+"/v1/txs", v1.SubmitRequest{Tx: base64.StdEncoding.EncodeToString(raw)})
	var p v1.TxAnswer
	if err := decodeStrict(body, &p); err != nil || res.StatusCode != http.StatusAccepted || p.Status != "pending" {
		t.Fatalf("submit without wait = HTTP %d %s, %v; want 202 pending", res.StatusCode, body, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := c.Tx(ctx, n.Token(t, n.Admin), p.Hash)
		if err == nil && got.Status == "committed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Tx(%s) = %+v, %v; want committed by now", p.Hash, got, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func testGetErrors(t *testing.T, n *nodetest.Node) {
	zero40, zero64 := strings.Repeat("0", 40), strings.Repeat("0", 64)
	admin := http.Header{"Authorization": {"Bearer " + n.Token(t, n.Admin)}}
	for _, tc := range []struct {
		method, path string
		header       http.Header
		status       int
		code         tx.Code
	}{
		{"GET", "/v1/txs/xyz", admin, 400, tx.CodeMalformed},
		{"GET", "/v1/txs/" + zero64[:62], admin, 400, tx.CodeMalformed},
		{"GET", "/v1/txs/" + zero64, admin, 404, tx.CodeNotFound},
		{"GET", "/v1/accounts/xyz", admin, 400, tx.CodeMalformed},
		{"GET", "/v1/accounts/" + zero40, admin, 404, tx.CodeNotFound},
		{"GET", "/v1/accounts/xyz/txs", admin, 400, tx.CodeMalformed},
		{"GET", "/v1/accounts/" + zero40 + "/txs?limit=0", admin, 422, tx.CodeInvalid},
		{"GET", "/v1/accounts/" + zero40 + "/txs?limit=501", admin, 422, tx.CodeInvalid},
		{"GET", "/v1/accounts/" + zero40 + "/txs?before=-1", admin, 422, tx.CodeInvalid},
		{"GET", "/v1/keys/xyz", admin, 400, tx.CodeMalformed},
		{"GET", "/v1/keys/" + zero64, admin, 404, tx.CodeNotFound},
		{"GET", "/v1/orgs/nope", admin, 404, tx.CodeNotFound},
		{"GET", "/v1/orgs/nope/members", admin, 403, tx.CodeUnauthorized}, // not its organization
		{"GET", "/v1/blocks/0", admin, 400, tx.CodeMalformed},
		{"GET", "/v1/blocks/-1", admin, 400, tx.CodeMalformed},
		{"GET", "/v1/blocks/abc", admin, 400, tx.CodeMalformed},
		{"GET", "/v1/blocks/99999999", admin, 404, tx.CodeNotFound},
		{"GET", "/v1/events?account=xyz", admin, 400, tx.CodeMalformed},
		{"GET", "/v1/auth/whoami", nil, 401, tx.CodeUnauthenticated},
		{"GET", "/v1/blocks/1", nil, 401, tx.CodeUnauthenticated},
		{"GET", "/metrics", admin, 404, tx.CodeNotFound}, // on its own listener
		{"GET", "/v1/auth/whoami", http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, 401, tx.CodeUnauthenticated},
		{"GET", "/v1/nope", admin, 404, tx.CodeNotFound},
		{"GET", "/no-such-route", admin, 404, tx.CodeNotFound}, // "/" is the portal (web)
		{"DELETE", "/v1/status", admin, 404, tx.CodeNotFound},
		{"GET", "/v1/txs", admin, 404, tx.CodeNotFound},
	} {
		res, body := do(t, tc.method, n.URL+tc.path, nil, tc.header)
		checkError(t, tc.method+" "+tc.path, res, body, tc.status, tc.code)
	}

	_, err := n.Client.Tx(t.Context(), n.Token(t, n.Admin), tx.HashOf([]byte("never submitted")))
	checkClientError(t, "Tx(unknown)", err, 404, tx.CodeNotFound)
}

func testStatus(t *testing.T, n *nodetest.Node) {
	st, err := n.Client.Status(t.Context())
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if st.ChainID != "careledger-local" || st.Height < 1 || !regexp.MustCompile(`^[0-9A-F]{64}$`).MatchString(st.AppHash) ||
		st.BlockTime == "" || st.AppVersion < 1 || st.Version == "" {
		t.Errorf("Status() = %+v; want chain careledger-local at a height, with an app hash, block time and versions", st)
	}
	res, body := do(t, "GET", n.URL+"/v1/status", nil, nil)
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil || res.StatusCode != 200 {
		t.Fatalf("GET /v1/status = HTTP %d %s, %v", res.StatusCode, body, err)
	}
	for _, k := range []string{"chain_id", "height", "app_hash"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("GET /v1/status lacks %q: %s", k, body)
		}
	}
}

func testMetrics(t *testing.T, n *nodetest.Node) {
	res, body := do(t, "GET", n.MetricsURL, nil, nil)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics = HTTP %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, m := range []string{
		"careledger_block_height ", "careledger_txs_per_second ", "careledger_mempool_txs ",
		`careledger_tx_rejections_total{code="malformed",stage="submit"} `,
		`careledger_tx_rejections_total{code="busy",stage="block"} `,
	} {
		if !strings.Contains(string(body), "\n"+m) {
			t.Errorf("/metrics lacks %q", m)
		}
	}
	// A rejected submission counts; a request that is not even JSON does not.
	before := rejectionCount(t, n, tx.CodeMalformed)
	do(t, "POST", n.URL+"/v1/txs", []byte(`not json`), nil)
	postJSON(t, n.URL+"/v1/txs", v1.SubmitRequest{Tx: base64.StdEncoding.EncodeToString([]byte{0xff})})
	if after := rejectionCount(t, n, tx.CodeMalformed); after != before+1 {
		t.Errorf("rejections{code=malformed,stage=submit} went from %v to %v; want +1", before, after)
	}
}

func testBlocks(t *testing.T, n *nodetest.Node) {
	ctx := t.Context()
	c := n.Client
	org, err := c.Org(ctx, n.Token(t, n.Admin), "local")
	if err != nil || len(org.ValidatorKey) != ed25519.PubKeySize {
		t.Fatalf("Org(local) = %+v, %v; want an organization with a validator key", org, err)
	}
	validator := ed25519.PubKey(org.ValidatorKey).Address().String()
	signedBy := func(b v1.BlockAnswer) bool {
		return slices.ContainsFunc(b.Signatures, func(s v1.BlockSigner) bool { return s.Validator == validator && !s.Time.IsZero() })
	}

	latest, err := c.Block(ctx, n.Token(t, n.Admin), 0)
	if err != nil || latest.Height < 1 || latest.Hash == "" || !signedBy(latest) {
		t.Errorf("Block(latest) = %+v, %v; want a block signed by %s", latest, err, validator)
	}
	first, err := c.Block(ctx, n.Token(t, n.Admin), 1)
	if err != nil || first.Height != 1 || first.Proposer != validator || !signedBy(first) || first.Txs == nil {
		t.Errorf("Block(1) = %+v, %v; want block 1 proposed and signed by %s", first, err, validator)
	}

	// A block holding a transaction lists it with its code and messages.
	a, err := c.Send(ctx, ed25519.GenPrivKey(), contract.Encode(identity.RegisterPatient{}))
	if err != nil {
		t.Fatalf("register patient: %v", err)
	}
	b, err := c.Block(ctx, n.Token(t, n.Admin), a.Height)
	want := v1.BlockTx{Hash: a.Hash, Code: tx.CodeOK, Messages: []string{"identity/register_patient"}}
	if err != nil || !slices.ContainsFunc(b.Txs, func(x v1.BlockTx) bool {
		return x.Hash == want.Hash && x.Code == want.Code && slices.Equal(x.Messages, want.Messages)
	}) {
		t.Errorf("Block(%d) = %+v, %v; want it to hold %+v", a.Height, b, err, want)
	}
}

func testAuth(t *testing.T, n *nodetest.Node) {
	ctx := t.Context()
	c := n.Client
	chainID := n.ChainID()
	doc := ed25519.GenPrivKey()
	docPub := tx.PubKey(doc.PubKey().Bytes())
	docAddr := tx.AddressOf(docPub)
	if _, err := c.Send(ctx, n.Admin, contract.Encode(identity.RegisterMember{
		Org: "local", PubKey: docPub, Roles: []identity.Role{identity.Physician},
	})); err != nil {
		t.Fatalf("register member: %v", err)
	}

	challenge := func(pub tx.PubKey) string {
		t.Helper()
		start := time.Now()
		res, body := postJSON(t, n.URL+"/v1/auth/challenge", v1.ChallengeRequest{PubKey: pub})
		var ch v1.ChallengeAnswer
		if err := decodeStrict(body, &ch); err != nil || res.StatusCode != 200 || ch.Challenge == "" {
			t.Fatalf("challenge = HTTP %d %s, %v; want a challenge", res.StatusCode, body, err)
		}
		if ch.ExpiresAt.Before(start.Add(api.ChallengeTTL-time.Second)) || ch.ExpiresAt.After(time.Now().Add(api.ChallengeTTL)) {
			t.Errorf("challenge expires at %v; want %v after issue", ch.ExpiresAt, api.ChallengeTTL)
		}
		return ch.Challenge
	}
	sign := func(key ed25519.PrivKey, ch string) string {
		sig, err := key.Sign(v1.AuthSignBytes(chainID, ch))
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(sig)
	}

	res, body := postJSON(t, n.URL+"/v1/auth/challenge", map[string]any{})
	checkError(t, "challenge without pub_key", res, body, 400, tx.CodeMalformed)
	res, body = postJSON(t, n.URL+"/v1/auth/challenge", map[string]any{"pub_key": "abc"})
	checkError(t, "challenge with a bad pub_key", res, body, 400, tx.CodeMalformed)

	ch := challenge(docPub)
	other := ed25519.GenPrivKey()
	otherPub := tx.PubKey(other.PubKey().Bytes())
	tampered := ch[:len(ch)-1] + string("AB"[boolIndex(ch[len(ch)-1] == 'A')])
	for _, tc := range []struct {
		name   string
		req    v1.TokenRequest
		status int
		code   tx.Code
	}{
		{"wrong signature", v1.TokenRequest{PubKey: docPub, Challenge: ch, Signature: sign(other, ch)}, 401, tx.CodeBadSignature},
		{"signature not base64", v1.TokenRequest{PubKey: docPub, Challenge: ch, Signature: "!!"}, 401, tx.CodeBadSignature},
		{"another key's challenge", v1.TokenRequest{PubKey: otherPub, Challenge: ch, Signature: sign(other, ch)}, 401, tx.CodeUnauthenticated},
		{"tampered challenge", v1.TokenRequest{PubKey: docPub, Challenge: tampered, Signature: sign(doc, tampered)}, 401, tx.CodeUnauthenticated},
		{"no challenge", v1.TokenRequest{PubKey: docPub, Signature: sign(doc, "")}, 401, tx.CodeUnauthenticated},
		{"empty signature", v1.TokenRequest{PubKey: otherPub, Challenge: challenge(otherPub)}, 401, tx.CodeBadSignature},
	} {
		res, body := postJSON(t, n.URL+"/v1/auth/token", tc.req)
		checkError(t, "token with "+tc.name, res, body, tc.status, tc.code)
	}
	_, err := c.AuthToken(ctx, other)
	checkClientError(t, "AuthToken(unregistered key)", err, 401, tx.CodeUnknownSigner)

	tok, err := c.AuthToken(ctx, doc)
	if err != nil || tok.Address != docAddr || !tok.ExpiresAt.After(time.Now()) {
		t.Fatalf("AuthToken(doc) = %+v, %v; want a token for %s", tok, err, docAddr)
	}
	who, err := c.WhoAmI(ctx, tok.Token)
	if err != nil || who.Address != docAddr || !who.HasRole(identity.Physician) || who.Sequence != 0 {
		t.Fatalf("WhoAmI = %+v, %v; want the physician %s", who, err, docAddr)
	}

	parts := strings.Split(tok.Token, ".")
	flip := func(i int) string {
		p := slices.Clone(parts)
		b := []byte(p[i])
		b[len(b)/2] = "AB"[boolIndex(b[len(b)/2] == 'A')]
		p[i] = string(b)
		return strings.Join(p, ".")
	}
	for name, bad := range map[string]string{
		"flipped expiry":   flip(1),
		"flipped payload":  flip(2),
		"flipped mac":      flip(3),
		"mac's spare bits": strings.Join(parts[:3], ".") + "." + spareBits(parts[3]),
		"extra part":       tok.Token + ".AA",
		"truncated":        tok.Token[:len(tok.Token)-2],
		"challenge":        ch,
		"empty":            "",
		"other node's":     "t." + parts[1] + "." + parts[2] + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 32)),
		"kind of the mac":  "c." + strings.Join(parts[1:], "."),
		"doubled":          tok.Token + tok.Token,
		"only separators":  "...",
		"padded base64url": tok.Token + "=",
	} {
		_, err := c.WhoAmI(ctx, bad)
		checkClientError(t, "WhoAmI(token "+name+")", err, 401, tx.CodeUnauthenticated)
	}

	// Suspension takes effect at once, on tokens already issued too.
	if _, err := c.Send(ctx, n.Admin, contract.Encode(identity.SetMemberStatus{Member: docAddr, Suspended: true})); err != nil {
		t.Fatalf("suspend member: %v", err)
	}
	_, err = c.WhoAmI(ctx, tok.Token)
	checkClientError(t, "WhoAmI(suspended member's token)", err, 403, tx.CodeSuspended)
	_, err = c.AuthToken(ctx, doc)
	checkClientError(t, "AuthToken(suspended member)", err, 403, tx.CodeSuspended)
}

// spareBits returns unpadded base64url s with the unused low bits of its
// last character changed: it decodes to the same bytes (when s encodes 32
// bytes), but is not what the encoder writes.
func spareBits(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[i^1])
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

func testEvents(t *testing.T, n *nodetest.Node) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	c := n.Client
	a, b := ed25519.GenPrivKey(), ed25519.GenPrivKey()
	addrA := tx.AddressOf(a.PubKey().Bytes())
	auditor := n.Token(t, newMember(t, n, identity.Auditor))
	onlyA, err := c.Events(ctx, auditor, &addrA)
	if err != nil {
		t.Fatalf("Events(A): %v", err)
	}
	all, err := c.Events(ctx, n.Token(t, n.Admin), nil)
	if err != nil {
		t.Fatalf("Events(all): %v", err)
	}
	// B commits first: had the filter let B's events through, A's stream
	// would show them before A's own.
	resB, err := c.Send(ctx, b, contract.Encode(identity.RegisterPatient{}))
	if err != nil {
		t.Fatalf("register B: %v", err)
	}
	resA, err := c.Send(ctx, a, contract.Encode(identity.RegisterPatient{}))
	if err != nil {
		t.Fatalf("register A: %v", err)
	}

	timeout := time.After(20 * time.Second)
	var types []string
	for len(types) < 2 {
		select {
		case e, ok := <-onlyA:
			if !ok {
				t.Fatal("A's stream closed")
			}
			if !slices.Contains(e.Accounts, addrA) || e.Tx != resA.Hash {
				t.Fatalf("A's stream has %+v; want only events of A's transaction %s", e, resA.Hash)
			}
			if e.Height != resA.Height || e.Code != tx.CodeOK {
				t.Errorf("A's event %+v; want height %d, code ok", e, resA.Height)
			}
			types = append(types, e.Type)
		case <-timeout:
			t.Fatalf("A's stream has %v after 20s; want tx.committed and identity.patient_registered", types)
		}
	}
	if want := []string{"tx.committed", "identity.patient_registered"}; !slices.Equal(types, want) {
		t.Errorf("A's stream has event types %v; want %v", types, want)
	}

	// The unfiltered stream has B's transaction.
	for seen := false; !seen; {
		select {
		case e, ok := <-all:
			if !ok {
				t.Fatal("unfiltered stream closed")
			}
			seen = e.Tx == resB.Hash
		case <-timeout:
			t.Fatalf("unfiltered stream lacks B's transaction %s", resB.Hash)
		}
	}
}

func testOpenAPI(t *testing.T, n *nodetest.Node) {
	res, body := do(t, "GET", n.URL+"/v1/openapi.json", nil, nil)
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /v1/openapi.json = HTTP %d %q, %v", res.StatusCode, res.Header.Get("Content-Type"), err)
	}
	if doc.OpenAPI != "3.0.3" || doc.Paths["/v1/txs/{hash}"] == nil {
		t.Errorf("GET /v1/openapi.json = version %q with %d paths; want 3.0.3 describing the API", doc.OpenAPI, len(doc.Paths))
	}
}
