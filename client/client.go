// Package client talks to a CareLedger node's JSON API. The CLI, the tests
// and the benchmarks use it; it is also the reference for other clients.
//
// Methods for routes that answer only a registered account take a bearer
// token (from AuthToken, or Token, which keeps one per key); "" sends none,
// which only the open routes (status, health, login, submission) answer.
//
// client imports api/v1 for the request and answer types, and the pure
// packages those are made of (tx, the contracts' types, audit's), never the
// server (api, app, state, the node's services); deps_test.go checks this.
package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/audit"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/governance"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/records"
	"github.com/careledger/careledger/tx"
)

// Error is an error answer of the API: a result code and its message.
type Error struct {
	HTTPStatus int
	Body       v1.Error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s (code %d): %s", e.Body.Name, e.Body.Code, e.Body.Message)
}

// Unwrap returns the error as a tx.Rejection, so that tx.CodeOf reads it. A
// node's internal error has no code and unwraps to nothing.
func (e *Error) Unwrap() error {
	if e.Body.Name == "internal" {
		return nil
	}
	return &tx.Rejection{Code: e.Body.Code, Msg: e.Body.Message}
}

// Client is a connection to one node. It is safe for concurrent use.
type Client struct {
	base string
	http *http.Client

	mu      sync.Mutex
	chainID string
	tokens  map[string]v1.TokenAnswer // by public key: Sequence's logins
}

// New returns a client of the node whose API is at baseURL, such as
// "http://127.0.0.1:8080".
func New(baseURL string) *Client {
	return &Client{base: strings.TrimRight(baseURL, "/"), http: &http.Client{}}
}

// NewWithHTTP is New with the HTTP client that sends the requests: one that
// keeps more connections open, for many concurrent callers.
func NewWithHTTP(baseURL string, hc *http.Client) *Client {
	c := New(baseURL)
	c.http = hc
	return c
}

// do sends a request and decodes a JSON answer into out. An error answer
// becomes an *Error.
func (c *Client) do(ctx context.Context, method, path string, body, out any, header http.Header) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	var e struct {
		Error *v1.Error `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error != nil {
		return &Error{HTTPStatus: res.StatusCode, Body: *e.Error}
	}
	if res.StatusCode >= 300 && res.StatusCode != http.StatusAccepted && !isTxAnswer(out) {
		return fmt.Errorf("%s %s: HTTP %d", method, path, res.StatusCode)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// isTxAnswer reports whether out is a transaction answer, which comes with
// the HTTP status of its result code.
func isTxAnswer(out any) bool {
	_, ok := out.(*v1.TxAnswer)
	return ok
}

// Status returns the node's status.
func (c *Client) Status(ctx context.Context) (v1.Status, error) {
	var s v1.Status
	err := c.do(ctx, "GET", "/v1/status", nil, &s, nil)
	return s, err
}

// Height returns the height of the last block the node committed, from
// GET /healthz: cheaper to poll than Status.
func (c *Client) Height(ctx context.Context) (int64, error) {
	var h struct {
		Height int64 `json:"height"`
	}
	err := c.do(ctx, "GET", "/healthz", nil, &h, nil)
	return h.Height, err
}

// ChainID returns the network's chain ID, asking the node once.
func (c *Client) ChainID(ctx context.Context) (string, error) {
	c.mu.Lock()
	id := c.chainID
	c.mu.Unlock()
	if id != "" {
		return id, nil
	}
	s, err := c.Status(ctx)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.chainID = s.ChainID
	c.mu.Unlock()
	return s.ChainID, nil
}

// Submit submits an encoded, signed transaction. With wait it answers once
// the transaction is final (committed or dropped) or timeout passed. The
// answer's Status and Code say what happened; a rejected transaction is an
// answer, not an error.
func (c *Client) Submit(ctx context.Context, raw []byte, wait bool, timeout time.Duration) (v1.TxAnswer, error) {
	req := v1.SubmitRequest{Tx: base64.StdEncoding.EncodeToString(raw), TimeoutMS: int(timeout / time.Millisecond)}
	if wait {
		req.Wait = "commit"
	}
	var a v1.TxAnswer
	err := c.do(ctx, "POST", "/v1/txs", req, &a, nil)
	return a, err
}

// SubmitBatch submits transactions together (POST /v1/txs/batch), at most
// 1,000: cheaper per transaction than as many Submits. The answers come in
// the order of raws. With wait, the node answers once every accepted one is
// final or timeout has passed.
func (c *Client) SubmitBatch(ctx context.Context, raws [][]byte, wait bool, timeout time.Duration) ([]v1.TxAnswer, error) {
	req := v1.BatchRequest{Txs: make([]string, len(raws)), TimeoutMS: int(timeout / time.Millisecond)}
	if wait {
		req.Wait = "commit"
	}
	for i, raw := range raws {
		req.Txs[i] = base64.StdEncoding.EncodeToString(raw)
	}
	var a v1.BatchAnswer
	if err := c.do(ctx, "POST", "/v1/txs/batch", req, &a, nil); err != nil {
		return nil, err
	}
	if len(a.Results) != len(raws) {
		return nil, fmt.Errorf("batch of %d transactions answered with %d results", len(raws), len(a.Results))
	}
	return a.Results, nil
}

// Tx returns what the node knows of a transaction.
func (c *Client) Tx(ctx context.Context, token string, h tx.Hash) (v1.TxAnswer, error) {
	var a v1.TxAnswer
	err := c.do(ctx, "GET", "/v1/txs/"+h.String(), nil, &a, bearer(token))
	return a, err
}

// Account returns an account by address.
func (c *Client) Account(ctx context.Context, token string, addr tx.Address) (identity.Account, error) {
	var a identity.Account
	err := c.do(ctx, "GET", "/v1/accounts/"+addr.String(), nil, &a, bearer(token))
	return a, err
}

// KeyAccount returns the account of a public key.
func (c *Client) KeyAccount(ctx context.Context, token string, pub []byte) (identity.Account, error) {
	var a identity.Account
	err := c.do(ctx, "GET", "/v1/keys/"+tx.PubKey(pub).String(), nil, &a, bearer(token))
	return a, err
}

// AccountTxs returns an account's committed transactions, newest first,
// from heights below before (0: from the latest).
func (c *Client) AccountTxs(ctx context.Context, token string, addr tx.Address, before int64, limit int) ([]v1.TxResult, error) {
	q := url.Values{}
	if before > 0 {
		q.Set("before", fmt.Sprint(before))
	}
	if limit > 0 {
		q.Set("limit", fmt.Sprint(limit))
	}
	var a struct {
		Txs []v1.TxResult `json:"txs"`
	}
	err := c.do(ctx, "GET", "/v1/accounts/"+addr.String()+"/txs?"+q.Encode(), nil, &a, bearer(token))
	return a.Txs, err
}

// Orgs returns every organization.
func (c *Client) Orgs(ctx context.Context, token string) ([]identity.Organization, error) {
	var a struct {
		Orgs []identity.Organization `json:"orgs"`
	}
	err := c.do(ctx, "GET", "/v1/orgs", nil, &a, bearer(token))
	return a.Orgs, err
}

// Org returns one organization.
func (c *Client) Org(ctx context.Context, token string, id string) (identity.Organization, error) {
	var o identity.Organization
	err := c.do(ctx, "GET", "/v1/orgs/"+url.PathEscape(id), nil, &o, bearer(token))
	return o, err
}

// Members returns an organization's members.
func (c *Client) Members(ctx context.Context, token string, org string) ([]identity.Account, error) {
	var a struct {
		Members []identity.Account `json:"members"`
	}
	err := c.do(ctx, "GET", "/v1/orgs/"+url.PathEscape(org)+"/members", nil, &a, bearer(token))
	return a.Members, err
}

// Block returns the block at height, or the latest if height is 0.
func (c *Client) Block(ctx context.Context, token string, height int64) (v1.BlockAnswer, error) {
	p := "latest"
	if height > 0 {
		p = fmt.Sprint(height)
	}
	var b v1.BlockAnswer
	err := c.do(ctx, "GET", "/v1/blocks/"+p, nil, &b, bearer(token))
	return b, err
}

// Sequence returns the next sequence number of the key's account, or 0 if
// the key is not registered yet. The node tells an account's sequence only
// to a token holder, so it logs in with key (a token it holds from an
// earlier call will do) and asks whoami.
func (c *Client) Sequence(ctx context.Context, key ed25519.PrivKey) (uint64, error) {
	for retry := 0; ; retry++ {
		tok, err := c.Token(ctx, key)
		if code, ok := tx.CodeOf(err); ok && code == tx.CodeUnknownSigner {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		a, err := c.WhoAmI(ctx, tok)
		if code, ok := tx.CodeOf(err); ok && code == tx.CodeUnauthenticated && retry == 0 {
			c.forget(key) // expired, or the key rotated away: log in again
			continue
		}
		return a.Sequence, err
	}
}

// Token returns a bearer token of key's account for the methods that take
// one: the token of an earlier call while it has a minute left, else a new
// one (AuthToken).
func (c *Client) Token(ctx context.Context, key ed25519.PrivKey) (string, error) {
	id := string(key.PubKey().Bytes())
	c.mu.Lock()
	t, ok := c.tokens[id]
	c.mu.Unlock()
	if ok && time.Until(t.ExpiresAt) > time.Minute {
		return t.Token, nil
	}
	t, err := c.AuthToken(ctx, key)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if c.tokens == nil {
		c.tokens = make(map[string]v1.TokenAnswer)
	}
	c.tokens[id] = t
	c.mu.Unlock()
	return t.Token, nil
}

func (c *Client) forget(key ed25519.PrivKey) {
	c.mu.Lock()
	delete(c.tokens, string(key.PubKey().Bytes()))
	c.mu.Unlock()
}

// bearer returns the header that sends token; none for "" (an anonymous
// call, which only the open routes answer).
func bearer(token string) http.Header {
	if token == "" {
		return http.Header{}
	}
	return http.Header{"Authorization": {"Bearer " + token}}
}

// Build returns a transaction of msgs signed by key with the account's next
// sequence number.
func (c *Client) Build(ctx context.Context, key ed25519.PrivKey, msgs ...tx.Msg) (*tx.Tx, error) {
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return nil, err
	}
	pub := key.PubKey().Bytes()
	seq, err := c.Sequence(ctx, key)
	if err != nil {
		return nil, err
	}
	t := &tx.Tx{ChainID: chainID, Signer: pub, Sequence: seq, Msgs: msgs}
	return t, t.Sign(key)
}

// Send builds, signs and submits msgs, and waits until they are final. It
// returns an error if the transaction was refused, dropped or failed.
func (c *Client) Send(ctx context.Context, key ed25519.PrivKey, msgs ...tx.Msg) (v1.TxAnswer, error) {
	t, err := c.Build(ctx, key, msgs...)
	if err != nil {
		return v1.TxAnswer{}, err
	}
	a, err := c.Submit(ctx, t.Encode(), true, 30*time.Second)
	if err != nil {
		return a, err
	}
	if a.Code != tx.CodeOK {
		return a, &tx.Rejection{Code: a.Code, Msg: a.Log}
	}
	if a.Status != "committed" {
		return a, fmt.Errorf("transaction %s is %s", a.Hash, a.Status)
	}
	return a, nil
}

// AuthToken proves possession of key to the node and returns a bearer token.
func (c *Client) AuthToken(ctx context.Context, key ed25519.PrivKey) (v1.TokenAnswer, error) {
	return c.ScopedToken(ctx, key, "")
}

// ScopedToken is AuthToken for a token limited to SMART v2 scopes, such as
// "patient/Observation.rs" (space-separated; "" for a token not limited).
// The answer's Scope is what the node granted.
func (c *Client) ScopedToken(ctx context.Context, key ed25519.PrivKey, scope string) (v1.TokenAnswer, error) {
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return v1.TokenAnswer{}, err
	}
	call := func(ctx context.Context, method, path string, body, out any) error {
		return c.do(ctx, method, path, body, out, nil)
	}
	return v1.LoginScoped(ctx, call, chainID, key, scope)
}

// WhoAmI returns the account a bearer token belongs to.
func (c *Client) WhoAmI(ctx context.Context, token string) (identity.Account, error) {
	var a identity.Account
	err := c.do(ctx, "GET", "/v1/auth/whoami", nil, &a, bearer(token))
	return a, err
}

// Events streams committed events concerning account (every event if
// account is nil) until ctx ends or the node disconnects; then the channel
// closes. The subscription is live when Events returns.
func (c *Client) Events(ctx context.Context, token string, account *tx.Address) (<-chan v1.StreamEvent, error) {
	return c.EventsAfter(ctx, token, account, "")
}

// EventsAfter is Events resuming after the event whose ID is lastEventID
// (every event if ""): the node first sends every event it missed, so that
// a client that reconnects with its last event's ID, after a disconnection
// or after the node dropped it for falling behind, loses none. The node
// answers not_found if it can no longer replay them all.
func (c *Client) EventsAfter(ctx context.Context, token string, account *tx.Address, lastEventID string) (<-chan v1.StreamEvent, error) {
	path := "/v1/events"
	if account != nil {
		path += "?account=" + account.String()
	}
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header = bearer(token)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		defer res.Body.Close()
		return nil, c.errorOf(res)
	}
	out := make(chan v1.StreamEvent, 64)
	go func() {
		defer close(out)
		defer res.Body.Close()
		readEvents(ctx, res.Body, out)
	}()
	return out, nil
}

func (c *Client) errorOf(res *http.Response) error {
	var e struct {
		Error *v1.Error `json:"error"`
	}
	if json.NewDecoder(res.Body).Decode(&e) == nil && e.Error != nil {
		return &Error{HTTPStatus: res.StatusCode, Body: *e.Error}
	}
	return fmt.Errorf("HTTP %d", res.StatusCode)
}

// readEvents parses a Server-Sent Events stream of StreamEvents, until it
// ends or sends "overflow" (the node dropped the client for falling behind).
func readEvents(ctx context.Context, r io.Reader, out chan<- v1.StreamEvent) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var id, typ, data string
	for sc.Scan() {
		line := sc.Text()
		if line != "" {
			if v, ok := strings.CutPrefix(line, "id: "); ok {
				id = v
			} else if v, ok := strings.CutPrefix(line, "event: "); ok {
				typ = v
			} else if v, ok := strings.CutPrefix(line, "data: "); ok {
				data = v
			}
			continue
		}
		// A blank line ends an event (or a comment).
		t, d, i := typ, data, id
		id, typ, data = "", "", ""
		switch {
		case t == "overflow":
			return
		case d == "":
			continue
		}
		var e v1.StreamEvent
		if err := json.Unmarshal([]byte(d), &e); err != nil {
			return
		}
		e.ID = i
		select {
		case out <- e:
		case <-ctx.Done():
			return
		}
	}
}

// IsCode reports whether err carries result code code.
func IsCode(err error, code tx.Code) bool {
	c, ok := tx.CodeOf(err)
	return ok && c == code
}

// Grant returns grant id.
func (c *Client) Grant(ctx context.Context, token string, id uint64) (consent.StoredGrant, error) {
	var g consent.StoredGrant
	err := c.do(ctx, "GET", "/v1/grants/"+strconv.FormatUint(id, 10), nil, &g, bearer(token))
	return g, err
}

// Request returns access request id.
func (c *Client) Request(ctx context.Context, token string, id uint64) (consent.StoredRequest, error) {
	var q consent.StoredRequest
	err := c.do(ctx, "GET", "/v1/requests/"+strconv.FormatUint(id, 10), nil, &q, bearer(token))
	return q, err
}

// Grants returns a patient's grants that may be in force.
func (c *Client) Grants(ctx context.Context, token string, patient tx.Address) ([]*consent.StoredGrant, error) {
	var a v1.GrantList
	err := c.do(ctx, "GET", "/v1/patients/"+patient.String()+"/grants", nil, &a, bearer(token))
	return a.Grants, err
}

// Delegates returns a patient's delegates.
func (c *Client) Delegates(ctx context.Context, token string, patient tx.Address) ([]identity.Delegate, error) {
	var a v1.DelegateList
	err := c.do(ctx, "GET", "/v1/patients/"+patient.String()+"/delegates", nil, &a, bearer(token))
	return a.Delegates, err
}

// Recovery returns a patient's guardians and pending recovery, and the
// network's least recovery delay.
func (c *Client) Recovery(ctx context.Context, token string, patient tx.Address) (v1.RecoveryAnswer, error) {
	var a v1.RecoveryAnswer
	err := c.do(ctx, "GET", "/v1/patients/"+patient.String()+"/recovery", nil, &a, bearer(token))
	return a, err
}

// Reviews returns an organization's pending break-the-glass reviews.
func (c *Client) Reviews(ctx context.Context, token string, org string) ([]*consent.PendingReview, error) {
	var a v1.ReviewList
	err := c.do(ctx, "GET", "/v1/orgs/"+url.PathEscape(org)+"/reviews", nil, &a, bearer(token))
	return a.Reviews, err
}

// FHIRRequest is one FHIR interaction: a method, a path under /fhir (such
// as "Observation/123" or "Observation?patient=p1"; "" for the base, where
// Bundles go), an optional body, the
// bearer token, and the purpose of use (default: the server's).
type FHIRRequest struct {
	Method, Path string
	Body         []byte
	Token        string
	Purpose      string
	BreakGlass   bool
	GlassReason  string      // with BreakGlass: one of consent.GlassReasons
	Header       http.Header // further headers
}

// FHIR sends r and returns the HTTP status and the body: a resource, a
// Bundle or an OperationOutcome.
func (c *Client) FHIR(ctx context.Context, r FHIRRequest) (int, []byte, error) {
	u := c.base + "/fhir"
	if p := strings.TrimPrefix(r.Path, "/"); p != "" {
		u += "/" + p
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u, bytes.NewReader(r.Body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+r.Token)
	req.Header.Set("Accept", "application/fhir+json")
	if r.Body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	if r.Purpose != "" {
		req.Header.Set("X-Purpose-Of-Use", r.Purpose)
	}
	if r.BreakGlass {
		req.Header.Set("X-Break-Glass", "true")
		req.Header.Set("X-Break-Glass-Reason", r.GlassReason)
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// Anchor returns the record anchor with root.
func (c *Client) Anchor(ctx context.Context, token string, root [32]byte) (records.AnchorRecord, error) {
	var a records.AnchorRecord
	err := c.do(ctx, "GET", "/v1/anchors/"+tx.Hash(root).String(), nil, &a, bearer(token))
	return a, err
}

// AuditBundle returns the self-contained proof of audit event index,
// certified by the newest block the node holds a commit for.
func (c *Client) AuditBundle(ctx context.Context, token string, index uint64) (audit.Bundle, error) {
	var b audit.Bundle
	err := c.do(ctx, "GET", "/v1/audit/bundles/"+strconv.FormatUint(index, 10), nil, &b, bearer(token))
	return b, err
}

// Disclosures returns the accounting of disclosures of patient, as token's
// holder may read it, in format "json" (the signed, verifiable report),
// "csv" or "html". query may set from, to (RFC 3339) and all ("true": a
// full access report).
func (c *Client) Disclosures(ctx context.Context, token string, patient tx.Address, format string, query url.Values) ([]byte, error) {
	if query == nil {
		query = url.Values{}
	}
	query.Set("format", format)
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/v1/audit/disclosures/"+patient.String()+"?"+query.Encode(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err == nil && res.StatusCode != http.StatusOK {
		err = fmt.Errorf("disclosures: %d %s", res.StatusCode, strings.TrimSpace(string(b)))
	}
	return b, err
}

// AuditEvent returns event index of the audit log.
func (c *Client) AuditEvent(ctx context.Context, token string, index uint64) (v1.EventAnswer, error) {
	var a v1.EventAnswer
	err := c.do(ctx, "GET", "/v1/audit/events/"+strconv.FormatUint(index, 10), nil, &a, bearer(token))
	return a, err
}

// InclusionProof returns the proof of event index in the log of size events.
func (c *Client) InclusionProof(ctx context.Context, token string, index, size uint64) (v1.InclusionAnswer, error) {
	var a v1.InclusionAnswer
	q := url.Values{"index": {strconv.FormatUint(index, 10)}, "size": {strconv.FormatUint(size, 10)}}
	err := c.do(ctx, "GET", "/v1/audit/proofs/inclusion?"+q.Encode(), nil, &a, bearer(token))
	return a, err
}

// ConsistencyProof returns the proof that the log of from events is a
// prefix of the log of to events.
func (c *Client) ConsistencyProof(ctx context.Context, token string, from, to uint64) (v1.ConsistencyAnswer, error) {
	var a v1.ConsistencyAnswer
	q := url.Values{"from": {strconv.FormatUint(from, 10)}, "to": {strconv.FormatUint(to, 10)}}
	err := c.do(ctx, "GET", "/v1/audit/proofs/consistency?"+q.Encode(), nil, &a, bearer(token))
	return a, err
}

// Checkpoint returns the audit log's checkpoint after block height, with
// the next block's signed header once there is one.
func (c *Client) Checkpoint(ctx context.Context, token string, height int64) (v1.CheckpointAnswer, error) {
	var a v1.CheckpointAnswer
	err := c.do(ctx, "GET", "/v1/audit/checkpoints/"+strconv.FormatInt(height, 10), nil, &a, bearer(token))
	return a, err
}

// Proposal returns governance proposal id.
func (c *Client) Proposal(ctx context.Context, token string, id uint64) (governance.Proposal, error) {
	var p governance.Proposal
	err := c.do(ctx, "GET", "/v1/proposals/"+strconv.FormatUint(id, 10), nil, &p, bearer(token))
	return p, err
}

// Validators returns the validator organizations.
func (c *Client) Validators(ctx context.Context, token string) ([]identity.Validator, error) {
	var a v1.ValidatorList
	err := c.do(ctx, "GET", "/v1/validators", nil, &a, bearer(token))
	return a.Validators, err
}
