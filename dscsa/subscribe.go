package dscsa

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/tx"
)

// The subscription routes of the EPCIS 2.0 REST binding, for the named
// queries below.
const (
	subscriptionsRoot = "/epcis/queries/"
	subscriptionsPath = "/epcis/queries/{queryName}/subscriptions"
)

// The named queries a trading partner subscribes to. Each matches
// committed supply events that concern the subscriber's organization.
const (
	// QueryShipments matches shipping events whose destination is the
	// subscriber's organization: what is coming to it.
	QueryShipments = "SupplyShipmentsToMe"
	// QueryRecalls matches recall notices naming the subscriber's
	// organization as a holder of a recalled lot.
	QueryRecalls = "SupplyRecallsOfMyStock"
)

// queries maps a named query to whether a committed event matches it for
// an organization.
var queries = map[string]func(e contract.Event, org string) bool{
	QueryShipments: func(e contract.Event, org string) bool {
		return e.Type == supply.EventRecorded && e.Attr("biz_step") == supply.StepShipping && e.Attr("destination") == org
	},
	QueryRecalls: func(e contract.Event, org string) bool {
		n, ok := supply.RecallNoticeOf(e)
		return ok && n.Holder == org
	},
}

// WebhookOptions configure the delivery of subscriptions.
type WebhookOptions struct {
	// Attempts is how many times a delivery is tried before it is given up.
	// Default 5.
	Attempts int
	// Backoff is the wait before the second attempt, doubled before each
	// further one. Default 1 s.
	Backoff time.Duration
	// Timeout bounds one attempt. Default 10 s.
	Timeout time.Duration
	// QueueDocuments is how many documents a subscription may have waiting;
	// further ones are dropped and counted. Default 256.
	QueueDocuments int
	// MaxPerOrg is how many subscriptions an organization may hold.
	// Default 16.
	MaxPerOrg int
	// Client sends deliveries. Default: an http.Client with Timeout.
	Client *http.Client
}

// EnsureDefaults sets each zero field to its default.
func (o *WebhookOptions) EnsureDefaults() {
	if o.Attempts == 0 {
		o.Attempts = 5
	}
	if o.Backoff == 0 {
		o.Backoff = time.Second
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	if o.QueueDocuments == 0 {
		o.QueueDocuments = 256
	}
	if o.MaxPerOrg == 0 {
		o.MaxPerOrg = 16
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Timeout}
	}
}

// Validate reports a field out of range (after EnsureDefaults).
func (o WebhookOptions) Validate() error {
	if o.Attempts < 1 || o.Backoff < 0 || o.Timeout <= 0 || o.QueueDocuments < 1 || o.MaxPerOrg < 1 {
		return errors.New("dscsa: webhook attempts, timeout, queue and subscriptions per organization must be positive")
	}
	return nil
}

// sub is one subscription and its delivery queue.
type sub struct {
	v1.Subscription
	token []byte
	queue chan []byte
	stop  chan struct{}
}

type subscriptions struct {
	opts WebhookOptions
	logf func(string, ...any)

	mu   sync.Mutex
	subs []*sub // in creation order
	wg   sync.WaitGroup
}

func newSubscriptions(o Options) *subscriptions {
	return &subscriptions{opts: o.Webhooks, logf: o.Logf}
}

const maxSignatureToken = 256

func (s *Server) subscribe(w http.ResponseWriter, r *http.Request) {
	acct, err := s.tradingPartner(r)
	if err != nil {
		writeError(w, err)
		return
	}
	name := r.PathValue("queryName")
	if queries[name] == nil {
		writeError(w, tx.Rejectf(tx.CodeNotFound, "no named query %q; the queries are %s and %s", name, QueryShipments, QueryRecalls))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSubscriptionBody))
	if err != nil {
		writeError(w, tx.Rejectf(tx.CodeOversized, "a subscription is at most %d bytes", maxSubscriptionBody))
		return
	}
	req, err := parseSubscription(body)
	if err != nil {
		writeError(w, err)
		return
	}
	sb, err := s.subs.add(name, acct.Org, req)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Location", "/epcis/queries/"+name+"/subscriptions/"+sb.ID)
	writeJSON(w, http.StatusCreated, sb)
}

const maxSubscriptionBody = 16 << 10

// parseSubscription reads and checks a subscription request's body.
func parseSubscription(body []byte) (v1.SubscriptionRequest, error) {
	var q v1.SubscriptionRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&q); err != nil {
		return q, tx.Rejectf(tx.CodeMalformed, "the body is a subscription (dest, signatureToken, stream): %v", err)
	}
	if dec.More() {
		return q, tx.Rejectf(tx.CodeMalformed, "data after the subscription")
	}
	return q, validateSubscription(q)
}

func validateSubscription(q v1.SubscriptionRequest) error {
	u, err := url.Parse(q.Dest)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return tx.Rejectf(tx.CodeInvalid, "dest is the http or https URL of a webhook")
	case q.Stream != nil && !*q.Stream:
		return tx.Rejectf(tx.CodeInvalid, "only streaming subscriptions (stream: true) are offered")
	case len(q.SignatureToken) > maxSignatureToken:
		return tx.Rejectf(tx.CodeInvalid, "signatureToken is at most %d bytes", maxSignatureToken)
	}
	return nil
}

func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request) {
	acct, err := s.tradingPartner(r)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.subs.list(r.PathValue("queryName"), acct.Org))
}

func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	acct, err := s.tradingPartner(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if !s.subs.remove(r.PathValue("queryName"), r.PathValue("id"), acct.Org) {
		writeError(w, tx.Rejectf(tx.CodeNotFound, "no such subscription of %s", acct.Org))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (ss *subscriptions) add(name, org string, req v1.SubscriptionRequest) (v1.Subscription, error) {
	var id [16]byte
	rand.Read(id[:])
	sb := &sub{
		Subscription: v1.Subscription{ID: hex.EncodeToString(id[:]), QueryName: name, Dest: req.Dest, Org: org, Stream: true},
		token:        []byte(req.SignatureToken),
		queue:        make(chan []byte, ss.opts.QueueDocuments),
		stop:         make(chan struct{}),
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	n := 0
	for _, o := range ss.subs {
		if o.Org == org {
			n++
		}
	}
	if n >= ss.opts.MaxPerOrg {
		return v1.Subscription{}, tx.Rejectf(tx.CodeInvalid, "an organization holds at most %d subscriptions", ss.opts.MaxPerOrg)
	}
	ss.subs = append(ss.subs, sb)
	ss.wg.Add(1)
	go ss.deliver(sb)
	return sb.Subscription, nil
}

func (ss *subscriptions) list(name, org string) []v1.Subscription {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	out := []v1.Subscription{}
	for _, sb := range ss.subs {
		if sb.Org == org && sb.QueryName == name {
			out = append(out, sb.Subscription)
		}
	}
	return out
}

func (ss *subscriptions) remove(name, id, org string) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	i := slices.IndexFunc(ss.subs, func(sb *sub) bool { return sb.ID == id && sb.Org == org && sb.QueryName == name })
	if i < 0 {
		return false
	}
	close(ss.subs[i].stop)
	ss.subs = slices.Delete(ss.subs, i, i+1)
	return true
}

func (ss *subscriptions) close() {
	ss.mu.Lock()
	for _, sb := range ss.subs {
		close(sb.stop)
	}
	ss.subs = nil
	ss.mu.Unlock()
	ss.wg.Wait()
}

// blockCommitted queues, for each subscription with matching events in b,
// one query document of them. It never blocks: a subscription whose queue
// is full loses the document (counted as failed).
func (ss *subscriptions) blockCommitted(b *app.Block) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for _, sb := range ss.subs {
		match := queries[sb.QueryName]
		var evs []v1.StreamEvent
		for i := range b.Txs {
			r := &b.Txs[i]
			for _, e := range r.Events {
				if match(e, sb.Org) {
					evs = append(evs, v1.StreamEvent{Height: b.Height, Time: b.Time, Tx: r.Hash, Code: r.Code, Type: e.Type, Attrs: e.Attrs, Accounts: e.Accounts})
				}
			}
		}
		if len(evs) == 0 {
			continue
		}
		doc, err := json.Marshal(queryDocument(sb.Subscription, b.Time, evs))
		if err != nil {
			continue
		}
		select {
		case sb.queue <- doc:
		default:
			sb.Failed++
		}
	}
}

// QueryDocument is what a subscription's webhook receives: an EPCIS 2.0
// query document whose event list holds the ledger's events that matched
// (their hashes, parties, steps and state changes; the EPCIS bodies stay at
// the capturing organization, readable at its /epcis/events/{eventID}).
type QueryDocument struct {
	Context       []string `json:"@context"`
	Type          string   `json:"type"`
	SchemaVersion string   `json:"schemaVersion"`
	CreationDate  string   `json:"creationDate"`
	EPCISBody     struct {
		QueryResults struct {
			SubscriptionID string `json:"subscriptionID"`
			QueryName      string `json:"queryName"`
			ResultsBody    struct {
				EventList []v1.StreamEvent `json:"eventList"`
			} `json:"resultsBody"`
		} `json:"queryResults"`
	} `json:"epcisBody"`
}

func queryDocument(sb v1.Subscription, t time.Time, evs []v1.StreamEvent) QueryDocument {
	d := QueryDocument{
		Context:       []string{"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"},
		Type:          "EPCISQueryDocument",
		SchemaVersion: "2.0",
		CreationDate:  t.UTC().Format("2006-01-02T15:04:05.000Z"),
	}
	d.EPCISBody.QueryResults.SubscriptionID = sb.ID
	d.EPCISBody.QueryResults.QueryName = sb.QueryName
	d.EPCISBody.QueryResults.ResultsBody.EventList = evs
	return d
}

// SignatureHeader carries the HMAC-SHA-256 of a delivery's body keyed by
// the subscription's signatureToken, as hex, when it has one: the receiver
// checks that the document comes from the node it subscribed at.
const SignatureHeader = "GS1-Signature"

// Sign returns the SignatureHeader value of body for token.
func Sign(token, body []byte) string {
	m := hmac.New(sha256.New, token)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// deliver posts sb's documents in order, each tried up to Attempts times
// with doubling backoff; a 4xx other than 408 and 429 is not retried.
func (ss *subscriptions) deliver(sb *sub) {
	defer ss.wg.Done()
	for {
		select {
		case <-sb.stop:
			return
		case doc := <-sb.queue:
			ok := ss.post(sb, doc)
			ss.mu.Lock()
			if ok {
				sb.Delivered++
			} else {
				sb.Failed++
			}
			ss.mu.Unlock()
		}
	}
}

func (ss *subscriptions) post(sb *sub, doc []byte) bool {
	wait := ss.opts.Backoff
	for attempt := 0; attempt < ss.opts.Attempts; attempt++ {
		if attempt > 0 {
			select {
			case <-sb.stop:
				return false
			case <-time.After(wait):
			}
			wait *= 2
		}
		status, err := ss.postOnce(sb, doc)
		if err == nil && status/100 == 2 {
			return true
		}
		if err == nil && status/100 == 4 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests {
			break
		}
	}
	ss.logf("dscsa: subscription %s: a delivery failed %d times", sb.ID, ss.opts.Attempts)
	return false
}

func (ss *subscriptions) postOnce(sb *sub, doc []byte) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ss.opts.Timeout)
	defer cancel()
	go func() { // an ended subscription (or node) does not wait out the attempt
		select {
		case <-sb.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sb.Dest, bytes.NewReader(doc))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/ld+json")
	req.Header.Set("GS1-EPCIS-Version", "2.0.0")
	if len(sb.token) > 0 {
		req.Header.Set(SignatureHeader, Sign(sb.token, doc))
	}
	res, err := ss.opts.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post: %w", err)
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	return res.StatusCode, nil
}
