package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/tx"
)

// StreamOptions bound the event streams of GET /v1/events, so that clients
// that open streams and never read cannot exhaust the node. The zero value
// asks for every default.
type StreamOptions struct {
	// QueueEvents is how many events one stream may have waiting to be
	// written; a stream that falls further behind is sent an overflow event
	// and disconnected. Default 256.
	QueueEvents int
	// HistoryEvents is how many recent chain events the hub keeps to replay
	// to a client that resumes with Last-Event-ID. Default 4096.
	HistoryEvents int
	// MaxStreams is how many streams may be open at once. Default 512.
	MaxStreams int
	// MaxStreamsPerClient is how many streams one client may have open at
	// once: one account (by its bearer token) or, without a valid token, one
	// remote host. Default 8.
	MaxStreamsPerClient int
	// WriteTimeout is how long writing to a stream may block before the
	// client is deemed stalled and disconnected. Default 10 s.
	WriteTimeout time.Duration
	// KeepAlive is the interval of comment lines on an idle stream. Default
	// 15 s.
	KeepAlive time.Duration
}

// EnsureDefaults sets each zero field to its default.
func (o *StreamOptions) EnsureDefaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.QueueEvents, 256)
	def(&o.HistoryEvents, 4096)
	def(&o.MaxStreams, 512)
	def(&o.MaxStreamsPerClient, 8)
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.KeepAlive == 0 {
		o.KeepAlive = 15 * time.Second
	}
}

// Validate reports a field out of range (after EnsureDefaults).
func (o StreamOptions) Validate() error {
	switch {
	case o.QueueEvents < 1, o.HistoryEvents < 1, o.MaxStreams < 1, o.MaxStreamsPerClient < 1:
		return fmt.Errorf("stream options: queue, history and stream limits must be positive: %+v", o)
	case o.MaxStreamsPerClient > o.MaxStreams:
		return fmt.Errorf("stream options: %d streams per client exceed the %d in total", o.MaxStreamsPerClient, o.MaxStreams)
	case o.WriteTimeout < 0, o.KeepAlive < 0:
		return fmt.Errorf("stream options: timeouts must be positive")
	}
	return nil
}

// EventID is a chain event's place in the stream: the block's height and
// the event's index among the block's stream events (each transaction's
// "tx.committed", then its contract events, in block order). Every node
// gives an event the same ID, so a client may resume on another node.
// It is written "HEIGHT-INDEX", such as "12-3".
type EventID struct {
	Height int64
	Index  int // -1 stands before every event of Height
}

func (id EventID) String() string {
	return strconv.FormatInt(id.Height, 10) + "-" + strconv.Itoa(id.Index)
}

// after reports whether id comes after o in the stream.
func (id EventID) after(o EventID) bool {
	return id.Height > o.Height || id.Height == o.Height && id.Index > o.Index
}

// ParseEventID parses an ID written by EventID.String.
func ParseEventID(s string) (EventID, error) {
	hs, is, ok := strings.Cut(s, "-")
	h, err1 := strconv.ParseInt(hs, 10, 64)
	i, err2 := strconv.Atoi(is)
	if !ok || err1 != nil || err2 != nil || h < 0 || i < 0 {
		return EventID{}, fmt.Errorf("event ID %q is not HEIGHT-INDEX", s)
	}
	return EventID{h, i}, nil
}

// record is one event as every stream writes it, encoded once.
type record struct {
	id       EventID // zero for a node's notice, which has none
	accounts []tx.Address
	// to, for a private notice, is the one account whose own streams get
	// it (by their bearer token, never by an account filter).
	to    *tx.Address
	frame []byte // the whole Server-Sent Event, ending in a blank line
}

// Errors of subscribe.
var (
	errTooManyStreams = errors.New("too many event streams")
	errTooOld         = errors.New("event is older than the hub can replay")
)

// Hub fans committed events out to streams and keeps the recent ones for
// streams that resume. It is an app.Listener.
type Hub struct {
	opts StreamOptions

	mu        sync.Mutex
	subs      map[*stream]struct{} // streams still fed; an overflowed one leaves
	open      int                  // streams open, fed or not
	perClient map[string]int
	history   []*record // the last HistoryEvents chain events, oldest first
	started   bool
	// floor is the ID after which the hub has every chain event (in history)
	// or will hear of it: what it can replay.
	floor EventID
}

var _ app.Listener = (*Hub)(nil)

// NewHub returns an empty hub with options o, which EnsureDefaults has set.
func NewHub(o StreamOptions) *Hub {
	return &Hub{opts: o, subs: make(map[*stream]struct{}), perClient: make(map[string]int)}
}

// start tells the hub that it will hear of every block after height, if it
// has not heard of one yet: it can replay from there.
func (h *Hub) start(height int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.started {
		h.started, h.floor = true, EventID{height + 1, -1}
	}
}

// stream is one client's subscription.
type stream struct {
	client  string
	account *tx.Address // nil: every event
	owner   tx.Address  // the account of the stream's bearer token
	after   EventID     // chain events at or before it are not sent
	queue   chan *record
	over    chan struct{} // closed when the stream fell QueueEvents behind
	replay  []*record     // the events missed before resuming, in order
	closed  bool
}

// subscribe opens a stream for client of the events concerning account
// (every event if nil). With resume, the stream first replays every chain
// event after it; errTooOld if the hub no longer has them all.
// errTooManyStreams if client or the node has as many streams open as
// allowed. Unsubscribe the stream when done.
func (h *Hub) subscribe(client string, owner tx.Address, account *tx.Address, resume *EventID) (*stream, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.open >= h.opts.MaxStreams {
		return nil, fmt.Errorf("%w: the node serves %d at most", errTooManyStreams, h.opts.MaxStreams)
	}
	if h.perClient[client] >= h.opts.MaxStreamsPerClient {
		return nil, fmt.Errorf("%w: a client may open %d at most", errTooManyStreams, h.opts.MaxStreamsPerClient)
	}
	s := &stream{client: client, owner: owner, account: account, queue: make(chan *record, h.opts.QueueEvents), over: make(chan struct{})}
	if resume != nil {
		if !h.started || h.floor.after(*resume) {
			return nil, errTooOld
		}
		s.after = *resume
		i := sort.Search(len(h.history), func(i int) bool { return h.history[i].id.after(*resume) })
		for _, r := range h.history[i:] {
			if s.wants(r) {
				s.replay = append(s.replay, r)
			}
		}
	}
	h.subs[s] = struct{}{}
	h.open++
	h.perClient[client]++
	return s, nil
}

// unsubscribe ends s; it may be called more than once.
func (h *Hub) unsubscribe(s *stream) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	delete(h.subs, s)
	h.open--
	if h.perClient[s.client]--; h.perClient[s.client] == 0 {
		delete(h.perClient, s.client)
	}
}

func (s *stream) wants(r *record) bool {
	if r.to != nil {
		return *r.to == s.owner
	}
	return s.account == nil || slices.Contains(r.accounts, *s.account)
}

// floorText describes what the hub can replay, for an error message.
func (h *Hub) floorText() string {
	if !h.started {
		return "nothing yet"
	}
	if h.floor.Index < 0 {
		return fmt.Sprintf("events from height %d on", h.floor.Height)
	}
	return "events after " + h.floor.String()
}

// BlockCommitted sends the block's events without blocking, and keeps them
// for streams that resume.
func (h *Hub) BlockCommitted(b *app.Block) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.started {
		h.started, h.floor = true, EventID{b.Height, -1}
	}
	n := 0
	for i := range b.Txs {
		r := &b.Txs[i]
		evs := append([]contract.Event{{
			Type:     "tx.committed",
			Attrs:    []contract.Attr{{Key: "signer", Value: r.Signer.String()}},
			Accounts: r.Accounts(),
		}}, r.Events...)
		for _, e := range evs {
			rec := newRecord(EventID{b.Height, n}, v1.StreamEvent{Height: b.Height, Time: b.Time, Tx: r.Hash, Code: r.Code, Type: e.Type, Attrs: e.Attrs, Accounts: e.Accounts})
			n++
			if rec == nil {
				continue
			}
			h.history = append(h.history, rec)
			if len(h.history) > h.opts.HistoryEvents {
				h.floor = h.history[0].id
				h.history[0] = nil
				h.history = h.history[1:]
			}
			h.send(rec)
		}
	}
}

// Notify sends a node's own notice (not a chain event, so it has no
// transaction), such as a compiled accounting of disclosures. A notice has
// no ID and is not replayed: only chain events are.
func (h *Hub) Notify(e v1.StreamEvent) {
	rec := newRecord(EventID{}, e)
	if rec == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.send(rec)
}

// NotifyAccount sends a private notice, such as an invitation to a trial,
// to the streams whose bearer token is account to's, and to no other: not
// a stream of every event, nor one that names the account without being
// it. Like Notify's, it is not replayed.
func (h *Hub) NotifyAccount(to tx.Address, e v1.StreamEvent) {
	rec := newRecord(EventID{}, e)
	if rec == nil {
		return
	}
	rec.to = &to
	h.mu.Lock()
	defer h.mu.Unlock()
	h.send(rec)
}

// newRecord encodes e as a Server-Sent Event, with an id line unless id is
// zero; nil if e does not encode.
func newRecord(id EventID, e v1.StreamEvent) *record {
	data, err := json.Marshal(e)
	if err != nil {
		return nil
	}
	var b []byte
	if id != (EventID{}) {
		b = fmt.Appendf(b, "id: %s\n", id)
	}
	b = fmt.Appendf(b, "event: %s\ndata: %s\n\n", e.Type, data)
	return &record{id: id, accounts: e.Accounts, frame: b}
}

// send queues r on the streams that want it; a stream whose queue is full is
// told so and fed no more. h.mu is held.
func (h *Hub) send(r *record) {
	for s := range h.subs {
		if r.id != (EventID{}) && !r.id.after(s.after) || !s.wants(r) {
			continue
		}
		select {
		case s.queue <- r:
		default:
			delete(h.subs, s)
			close(s.over)
		}
	}
}

// streamClient names whom a stream counts against: the account of a valid
// bearer token, or else the remote host (behind a proxy, every client
// without a token shares the proxy's limit).
func (s *Server) streamClient(r *http.Request) string {
	if r.Header.Get("Authorization") != "" {
		if acct, err := s.auth.Authenticate(r); err == nil {
			return "account " + acct.Address.String()
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "host " + host
}

// resumeFrom returns the ID a client resumes after: its Last-Event-ID header
// (which EventSource sends when it reconnects), else the last_event_id query
// parameter; nil for neither.
func resumeFrom(r *http.Request) (*EventID, error) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("last_event_id")
	}
	if v == "" {
		return nil, nil
	}
	id, err := ParseEventID(v)
	if err != nil {
		return nil, tx.Rejectf(tx.CodeMalformed, "Last-Event-ID: %v", err)
	}
	return &id, nil
}

// events serves GET /v1/events?account=ADDRESS as Server-Sent Events.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	var account *tx.Address
	if v := r.URL.Query().Get("account"); v != "" {
		a, err := tx.ParseAddress(v)
		if err != nil {
			writeError(w, tx.Rejectf(tx.CodeMalformed, "%v", err))
			return
		}
		account = &a
	}
	resume, err := resumeFrom(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if _, ok := w.(http.Flusher); !ok {
		writeError(w, fmt.Errorf("response writer cannot stream"))
		return
	}
	var owner tx.Address
	if who := caller(r); who != nil {
		owner = who.Address
	}
	st, err := s.hub.subscribe(s.streamClient(r), owner, account, resume)
	switch {
	case errors.Is(err, errTooManyStreams):
		// 429, not busy's 503: the node is fine, this client asks too much.
		setRetryAfter(w, tx.CodeBusy)
		writeJSON(w, http.StatusTooManyRequests, map[string]v1.Error{"error": {Code: tx.CodeBusy, Name: tx.CodeBusy.String(), Message: err.Error()}})
		return
	case errors.Is(err, errTooOld):
		s.hub.mu.Lock()
		floor := s.hub.floorText()
		s.hub.mu.Unlock()
		writeError(w, tx.Rejectf(tx.CodeNotFound, "Last-Event-ID %s is older than this node can replay (%s); read what was missed from /v1/accounts/{address}/txs or /v1/blocks, then connect without Last-Event-ID", resume, floor))
		return
	case err != nil:
		writeError(w, err)
		return
	}
	defer s.hub.unsubscribe(st)

	opts := s.hub.opts
	rc := http.NewResponseController(w)
	// write sends b with a deadline: a client that does not read is
	// disconnected instead of holding its stream and buffers forever.
	write := func(b []byte, flush bool) bool {
		rc.SetWriteDeadline(time.Now().Add(opts.WriteTimeout)) // not every writer has deadlines
		if _, err := w.Write(b); err != nil {
			return false
		}
		return !flush || rc.Flush() == nil
	}
	var last *EventID = resume // the last chain event delivered
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	// A stream's connection serves nothing after it: when the stream ends
	// (a stalled or overflowed client), the node drops the connection
	// rather than keep it idle for a client that may never read again.
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusOK)
	if !write([]byte(": connected\n\n"), len(st.replay) == 0) {
		return
	}
	for i, rec := range st.replay {
		if !write(rec.frame, i == len(st.replay)-1) {
			return
		}
		st.replay[i] = nil // let history drop it
		last = &rec.id
	}
	st.replay = nil

	keepAlive := time.NewTicker(opts.KeepAlive)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case <-st.over:
			// Send what was queued, then say where the stream stopped.
			for more := true; more; {
				select {
				case rec := <-st.queue:
					if !write(rec.frame, false) {
						return
					}
					if rec.id != (EventID{}) {
						last = &rec.id
					}
				default:
					more = false
				}
			}
			var o struct {
				LastEventID string `json:"last_event_id,omitempty"`
			}
			if last != nil {
				o.LastEventID = last.String()
			}
			data, _ := json.Marshal(o)
			write(fmt.Appendf(nil, "event: overflow\ndata: %s\n\n", data), true)
			return
		case <-keepAlive.C:
			if !write([]byte(": keep-alive\n\n"), true) {
				return
			}
		case rec := <-st.queue:
			// Write what is queued, then flush once.
			for more := true; more; {
				if !write(rec.frame, false) {
					return
				}
				if rec.id != (EventID{}) {
					last = &rec.id
				}
				select {
				case rec = <-st.queue:
				default:
					more = false
				}
			}
			if rc.Flush() != nil {
				return
			}
		}
	}
}
