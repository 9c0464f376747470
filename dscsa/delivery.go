package dscsa

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/durable"
)

// Blocks reads committed blocks back, so that a subscription catches up
// with what committed while the node was stopped or its subscriber was
// slow. The node implements it over CometBFT's block store and the
// transaction index.
type Blocks interface {
	// Block returns the committed block at height with its transactions'
	// results, or nil if the node no longer has it.
	Block(height int64) (*app.Block, error)
	// Height is the last height whose results Block can return.
	Height() (int64, error)
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
	if o.MaxPerOrg == 0 {
		o.MaxPerOrg = 16
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Timeout}
	}
}

// Validate reports a field out of range (after EnsureDefaults).
func (o WebhookOptions) Validate() error {
	if o.Attempts < 1 || o.Backoff < 0 || o.Timeout <= 0 || o.MaxPerOrg < 1 {
		return errors.New("dscsa: webhook attempts, timeout and subscriptions per organization must be positive")
	}
	return nil
}

// Delivery formats: the subscription request's Accept header chooses, as
// it does for GET /epcis/events.
const (
	FormatJSONLD = "application/ld+json"
	FormatXML    = "application/xml"
)

// sub is one subscription and where its delivery stands: Cursor is the
// last height whose matching events were delivered (or given up after
// every attempt); a height above it is still to deliver.
type sub struct {
	v1.Subscription
	Token  string `json:"signatureToken,omitempty"`
	Cursor int64  `json:"cursor"`

	wake chan struct{} // a block committed beyond Cursor
	stop chan struct{} // closed by end
	once sync.Once

	// conn is a WebSocket stream's connection; nil for a webhook. A stream
	// lives as long as its connection and is never written to the file.
	conn *websocket.Conn
}

// end stops sb's delivery; it may be called more than once.
func (sb *sub) end() { sb.once.Do(func() { close(sb.stop) }) }

// subscriptions delivers each subscription's matching events block by
// block, from its cursor. The cursors and subscriptions are kept in one
// file (written to a temporary file, fsynced, renamed, the directory
// fsynced) after every change and delivery, so that a restarted node
// goes on from where it stopped.
type subscriptions struct {
	opts   WebhookOptions
	logf   func(string, ...any)
	file   string // "" keeps subscriptions in memory only
	blocks Blocks // nil: no catching up beyond the recent blocks

	mu     sync.Mutex
	subs   []*sub // in creation order
	latest int64  // the last committed height heard of
	recent map[int64]*app.Block
	wg     sync.WaitGroup
	// closing is set when the node stops: streams close with 1001 (going
	// away) rather than 1000.
	closing bool

	saveMu sync.Mutex // orders writes of the file
}

// stopGrace is how long a stop waits for a delivery attempt under way.
const stopGrace = 2 * time.Second

// recentBlocks is how many committed blocks are kept in memory for
// deliveries; older ones are read back through Blocks.
const recentBlocks = 64

// subscriptionsFile is what the file holds.
type subscriptionsFile struct {
	Subscriptions []*sub `json:"subscriptions"`
}

// openSubscriptions loads the stored subscriptions and starts their
// deliveries, each from its cursor.
func openSubscriptions(o Options) (*subscriptions, error) {
	ss := &subscriptions{opts: o.Webhooks, logf: o.Logf, file: o.SubscriptionsFile, blocks: o.Blocks, recent: map[int64]*app.Block{}}
	if ss.blocks != nil {
		h, err := ss.blocks.Height()
		if err != nil {
			return nil, err
		}
		ss.latest = h
	}
	if ss.file == "" {
		return ss, nil
	}
	f, err := readSubscriptionsFile(ss.file)
	if errors.Is(err, os.ErrNotExist) {
		return ss, nil
	}
	if err != nil {
		return nil, err
	}
	for _, sb := range f.Subscriptions {
		ss.start(sb)
	}
	return ss, nil
}

// The subscriptions file is its JSON, a newline, and the hex SHA-256 of
// the JSON and a newline: a damaged file is refused at start (and reported
// by careledger verify data), never read as other subscriptions or
// cursors.
func encodeSubscriptionsFile(f subscriptionsFile) ([]byte, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	return append(append(b, '\n'), hex.EncodeToString(sum[:])+"\n"...), nil
}

func readSubscriptionsFile(path string) (subscriptionsFile, error) {
	var f subscriptionsFile
	data, err := os.ReadFile(path)
	if err != nil {
		return f, err
	}
	body, sum, ok := bytes.Cut(data, []byte("\n"))
	want := sha256.Sum256(body)
	if !ok || string(sum) != hex.EncodeToString(want[:])+"\n" {
		return f, fmt.Errorf("dscsa: subscriptions file %s is damaged (its checksum does not match)", path)
	}
	if err := json.Unmarshal(body, &f); err != nil {
		return f, fmt.Errorf("dscsa: subscriptions file %s does not decode: %w", path, err)
	}
	for _, sb := range f.Subscriptions {
		if sb == nil || queries[sb.QueryName] == nil {
			return f, fmt.Errorf("dscsa: subscriptions file %s names an unknown query", path)
		}
	}
	return f, nil
}

// CheckSubscriptionsFile reports whether the subscriptions file at path is
// whole and decodes, for careledger verify data.
func CheckSubscriptionsFile(path string) error {
	_, err := readSubscriptionsFile(path)
	return err
}

// start adds sb and starts its delivery; the caller holds mu or is alone.
func (ss *subscriptions) start(sb *sub) {
	sb.wake, sb.stop = make(chan struct{}, 1), make(chan struct{})
	sb.wake <- struct{}{} // catch up first
	ss.subs = append(ss.subs, sb)
	ss.wg.Add(1)
	go ss.deliver(sb)
}

func (ss *subscriptions) add(name, org string, req v1.SubscriptionRequest, format string, cursor int64) (v1.Subscription, error) {
	var id [16]byte
	rand.Read(id[:])
	sb := &sub{
		Subscription: v1.Subscription{ID: hex.EncodeToString(id[:]), QueryName: name, Dest: req.Dest, Org: org, Stream: true, Format: format},
		Token:        req.SignatureToken,
	}
	ss.mu.Lock()
	if err := ss.roomForLocked(org); err != nil {
		ss.mu.Unlock()
		return v1.Subscription{}, err
	}
	sb.Cursor = cursor // the last block not to deliver
	ss.start(sb)
	ss.mu.Unlock()
	if err := ss.save(); err != nil {
		ss.remove(name, sb.ID, org)
		return v1.Subscription{}, err
	}
	return sb.Subscription, nil
}

func (ss *subscriptions) list(name, org string) []v1.Subscription {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	out := []v1.Subscription{}
	for _, sb := range ss.subs {
		if sb.Org == org && sb.QueryName == name && sb.conn == nil {
			out = append(out, sb.Subscription)
		}
	}
	return out
}

func (ss *subscriptions) remove(name, id, org string) bool {
	ss.mu.Lock()
	i := slices.IndexFunc(ss.subs, func(sb *sub) bool { return sb.ID == id && sb.Org == org && sb.QueryName == name })
	if i < 0 {
		ss.mu.Unlock()
		return false
	}
	ss.subs[i].end()
	ss.subs = slices.Delete(ss.subs, i, i+1)
	ss.mu.Unlock()
	if err := ss.save(); err != nil {
		ss.logf("dscsa: saving subscriptions: %v", err)
	}
	return true
}

// close stops the deliveries (one in flight is tried again after a
// restart) and writes the cursors.
func (ss *subscriptions) close() {
	ss.mu.Lock()
	ss.closing = true
	for _, sb := range ss.subs {
		sb.end()
	}
	ss.mu.Unlock()
	ss.wg.Wait()
	if err := ss.save(); err != nil {
		ss.logf("dscsa: saving subscriptions: %v", err)
	}
	ss.mu.Lock()
	ss.subs = nil
	ss.mu.Unlock()
}

// blockCommitted keeps b for the deliveries and wakes them. It never
// blocks.
func (ss *subscriptions) blockCommitted(b *app.Block) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.recent[b.Height] = b
	delete(ss.recent, b.Height-recentBlocks)
	if b.Height > ss.latest {
		ss.latest = b.Height
	}
	for _, sb := range ss.subs {
		select {
		case sb.wake <- struct{}{}:
		default:
		}
	}
}

// block returns the committed block at height, from memory or read back.
func (ss *subscriptions) block(height int64) (*app.Block, error) {
	ss.mu.Lock()
	b := ss.recent[height]
	ss.mu.Unlock()
	if b != nil || ss.blocks == nil {
		return b, nil
	}
	return ss.blocks.Block(height)
}

// deliver delivers sb's matching events block by block after its cursor,
// in order, one document per block with matches.
func (ss *subscriptions) deliver(sb *sub) {
	defer ss.wg.Done()
	if sb.conn != nil {
		defer ss.closeStream(sb)
	}
	for {
		select {
		case <-sb.stop:
			return
		case <-sb.wake:
		}
		for {
			select {
			case <-sb.stop: // not after a long catch-up
				return
			default:
			}
			ss.mu.Lock()
			next, latest := sb.Cursor+1, ss.latest
			ss.mu.Unlock()
			if next > latest {
				break
			}
			delivered, stopped := ss.deliverBlock(sb, next)
			if stopped {
				return
			}
			ss.mu.Lock()
			sb.Cursor = next
			ss.mu.Unlock()
			if delivered && sb.conn == nil {
				if err := ss.save(); err != nil {
					ss.logf("dscsa: saving subscriptions: %v", err)
				}
			}
		}
	}
}

// deliverBlock posts the document of sb's matches in the block at height,
// if any: delivered reports that a document went out (or was given up),
// stopped that the subscription or node stopped first.
func (ss *subscriptions) deliverBlock(sb *sub, height int64) (delivered, stopped bool) {
	b, err := ss.block(height)
	if err != nil || b == nil {
		// Pruned, or unreadable: its events cannot be delivered; say so
		// once, and go on rather than stop the subscription.
		ss.logf("dscsa: subscription %s: block %d cannot be read back (%v); its events are skipped", sb.ID, height, err)
		return false, false
	}
	evs := matches(b, sb.QueryName, sb.Org)
	if len(evs) == 0 {
		return false, false
	}
	doc, err := sb.document(b.Time, evs)
	if err != nil {
		ss.logf("dscsa: subscription %s: %v", sb.ID, err)
		return false, false
	}
	var ok bool
	if sb.conn != nil {
		ok, stopped = ss.send(sb, doc)
	} else {
		ok, stopped = ss.post(sb, doc)
	}
	if stopped {
		return false, true
	}
	ss.mu.Lock()
	if ok {
		sb.Delivered++
	} else {
		sb.Failed++
	}
	ss.mu.Unlock()
	return true, false
}

// matches returns the events of b that the named query matches for org.
func matches(b *app.Block, name, org string) []v1.StreamEvent {
	match := queries[name]
	var evs []v1.StreamEvent
	for i := range b.Txs {
		r := &b.Txs[i]
		for _, e := range r.Events {
			if match(e, org) {
				evs = append(evs, v1.StreamEvent{Height: b.Height, Time: b.Time, Tx: r.Hash, Code: r.Code, Type: e.Type, Attrs: e.Attrs, Accounts: e.Accounts})
			}
		}
	}
	return evs
}

// save writes the subscriptions and their cursors durably.
func (ss *subscriptions) save() error {
	if ss.file == "" {
		return nil
	}
	ss.saveMu.Lock()
	defer ss.saveMu.Unlock()
	ss.mu.Lock()
	var kept []*sub // webhooks; a stream lives only as long as its connection
	for _, sb := range ss.subs {
		if sb.conn == nil {
			kept = append(kept, sb)
		}
	}
	b, err := encodeSubscriptionsFile(subscriptionsFile{Subscriptions: kept})
	ss.mu.Unlock()
	if err != nil {
		return err
	}
	return durable.WriteFile(ss.file, b, 0o600) // signature tokens are secrets
}

// QueryDocument is what a subscription's webhook receives: an EPCIS 2.0
// query document whose event list holds the ledger's events that matched
// (their hashes, parties, steps and state changes; the EPCIS bodies stay at
// the capturing organization, readable at its /epcis/events/{eventID}).
// A block's document is the same bytes however often it is sent (its
// creationDate is the block's time), so that a receiver can tell a
// document sent again after a restart.
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

// document writes the delivery of evs in the subscription's format.
func (sb *sub) document(t time.Time, evs []v1.StreamEvent) ([]byte, error) {
	if sb.Format == FormatXML {
		return queryDocumentXML(sb.Subscription, t, evs)
	}
	return json.Marshal(queryDocument(sb.Subscription, t, evs))
}

// The XML delivery: an EPCIS 2.0 XML EPCISQueryDocument whose EventList
// is empty (the ledger's events are no EPCIS events; their bodies stay
// with the capturer), followed in the resultsBody by the ledger's events
// in CareLedger's namespace, as GET /epcis/events lists withheld events.
type xmlQueryDocument struct {
	XMLName       xml.Name `xml:"urn:epcglobal:epcis-query:xsd:2 EPCISQueryDocument"`
	SchemaVersion string   `xml:"schemaVersion,attr"`
	CreationDate  string   `xml:"creationDate,attr"`
	Body          struct {
		Results struct {
			QueryName      string `xml:"queryName"`
			SubscriptionID string `xml:"subscriptionID"`
			ResultsBody    struct {
				EventList struct{}      `xml:"EventList"`
				Ledger    xmlLedgerList `xml:"https://careledger.org/epcis/ ledgerEventList"`
			} `xml:"resultsBody"`
		} `xml:"QueryResults"`
	} `xml:"EPCISBody"`
}

type xmlLedgerList struct {
	Events []xmlLedgerEvent `xml:"ledgerEvent"`
}

type xmlLedgerEvent struct {
	Type   string    `xml:"type,attr"`
	Height int64     `xml:"height,attr"`
	Tx     string    `xml:"tx,attr"`
	Attrs  []xmlAttr `xml:"attr"`
}

type xmlAttr struct {
	Key   string `xml:"key,attr"`
	Value string `xml:",chardata"`
}

func queryDocumentXML(sb v1.Subscription, t time.Time, evs []v1.StreamEvent) ([]byte, error) {
	var d xmlQueryDocument
	d.SchemaVersion = "2.0"
	d.CreationDate = t.UTC().Format("2006-01-02T15:04:05.000Z")
	d.Body.Results.QueryName = sb.QueryName
	d.Body.Results.SubscriptionID = sb.ID
	for _, e := range evs {
		le := xmlLedgerEvent{Type: e.Type, Height: e.Height, Tx: e.Tx.String()}
		for _, a := range e.Attrs {
			le.Attrs = append(le.Attrs, xmlAttr{a.Key, a.Value})
		}
		d.Body.Results.ResultsBody.Ledger.Events = append(d.Body.Results.ResultsBody.Ledger.Events, le)
	}
	b, err := xml.Marshal(d)
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), b...), nil
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

// post tries a document up to Attempts times with doubling backoff; a 4xx
// other than 408 and 429 is not retried. stopped reports that the
// subscription or the node stopped first.
func (ss *subscriptions) post(sb *sub, doc []byte) (ok, stopped bool) {
	wait := ss.opts.Backoff
	for attempt := 0; attempt < ss.opts.Attempts; attempt++ {
		if attempt > 0 {
			select {
			case <-sb.stop:
				return false, true
			case <-time.After(wait):
			}
			wait *= 2
		}
		status, err := ss.postOnce(sb, doc)
		select {
		case <-sb.stop:
			if err != nil || status/100 != 2 {
				return false, true
			}
		default:
		}
		if err == nil && status/100 == 2 {
			return true, false
		}
		if err == nil && status/100 == 4 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests {
			break
		}
	}
	ss.logf("dscsa: subscription %s: a delivery failed %d times", sb.ID, ss.opts.Attempts)
	return false, false
}

func (ss *subscriptions) postOnce(sb *sub, doc []byte) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ss.opts.Timeout)
	defer cancel()
	go func() {
		// An ended subscription (or a stopping node) lets an attempt under
		// way finish for a moment, so that a clean stop rarely leaves a
		// document delivered but not counted (sent again after a restart);
		// it does not wait out a slow receiver.
		select {
		case <-sb.stop:
			select {
			case <-time.After(stopGrace):
				cancel()
			case <-ctx.Done():
			}
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sb.Dest, bytes.NewReader(doc))
	if err != nil {
		return 0, err
	}
	ctype := FormatJSONLD
	if sb.Format == FormatXML {
		ctype = FormatXML
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("GS1-EPCIS-Version", "2.0.0")
	if sb.Token != "" {
		req.Header.Set(SignatureHeader, Sign([]byte(sb.Token), doc))
	}
	res, err := ss.opts.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post: %w", err)
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	return res.StatusCode, nil
}
