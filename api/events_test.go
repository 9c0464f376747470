package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/state"
	"github.com/careledger/careledger/tx"
)

// streamServer returns a server of the event stream over an empty
// in-memory app, with stream options o, listening on a local port. Tests feed its hub blocks as the app
// would after committing them. Each of before may set up the HTTP server
// before it starts.
func streamServer(t *testing.T, o StreamOptions, before ...func(*httptest.Server)) (*Server, *httptest.Server) {
	t.Helper()
	a, err := app.New(state.OpenMemory(), app.Config{ChainID: "careledger-streams"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Backend{App: a, AuthSecret: bytes.Repeat([]byte{7}, 32), Streams: o})
	if err != nil {
		t.Fatal(err)
	}
	// The stream handler itself: who may open a stream is the route
	// table's rule, tested by TestAccess.
	ts := httptest.NewUnstartedServer(http.HandlerFunc(s.events))
	for _, f := range before {
		f(ts)
	}
	ts.Start()
	t.Cleanup(ts.Close)
	t.Cleanup(s.Close) // runs first: ends the streams that ts.Close waits for
	return s, ts
}

// testBlock is block height with txs transactions by the given signers in
// turn, each with one contract event of pad bytes: 2*txs stream events.
func testBlock(height int64, txs int, pad int, signers ...tx.Address) *app.Block {
	b := &app.Block{Height: height, Time: time.Unix(1_750_000_000+height, 0).UTC()}
	for i := range txs {
		signer := signers[i%len(signers)]
		b.Txs = append(b.Txs, app.TxResult{
			Hash: tx.Hash{byte(height), byte(height >> 8), byte(i)}, Height: height, Index: i, Signer: signer,
			Events: []contract.Event{{Type: "test.padded", Attrs: []contract.Attr{{Key: "pad", Value: strings.Repeat("x", pad)}}, Accounts: []tx.Address{signer}}},
		})
	}
	return b
}

// idsOf lists the IDs of the stream events of blocks whose accounts include
// account (every event if nil), in order.
func idsOf(account *tx.Address, blocks ...*app.Block) []string {
	var ids []string
	for _, b := range blocks {
		n := 0
		for _, r := range b.Txs {
			for range 1 + len(r.Events) {
				if account == nil || r.Signer == *account {
					ids = append(ids, EventID{b.Height, n}.String())
				}
				n++
			}
		}
	}
	return ids
}

// sse is one Server-Sent Event as read.
type sse struct{ id, typ, data string }

// readSSE reads the next event, skipping comments.
func readSSE(br *bufio.Reader) (sse, error) {
	var e sse
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return e, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if e.typ != "" {
				return e, nil
			}
		case strings.HasPrefix(line, "id: "):
			e.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			e.typ = line[7:]
		case strings.HasPrefix(line, "data: "):
			e.data = line[6:]
		}
	}
}

// openStream opens url with header lastID (if not ""), and returns its body.
func openStream(t *testing.T, ctx context.Context, url, lastID string) (*http.Response, *bufio.Reader) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res, bufio.NewReader(res.Body)
}

// readIDs reads n events from br and returns their IDs, failing on any
// event that is not a chain event.
func readIDs(t *testing.T, br *bufio.Reader, n int) []string {
	t.Helper()
	var ids []string
	for len(ids) < n {
		e, err := readSSE(br)
		if err != nil {
			t.Fatalf("after events %v: %v", ids, err)
		}
		if e.id == "" {
			t.Fatalf("after events %v: event %+v without an ID", ids, e)
		}
		var se v1.StreamEvent
		if err := json.Unmarshal([]byte(e.data), &se); err != nil || se.Type != e.typ {
			t.Fatalf("event %s data %q: %v", e.id, e.data, err)
		}
		ids = append(ids, e.id)
	}
	return ids
}

// waitOpen waits until the hub has n streams open.
func waitOpen(t *testing.T, h *Hub, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.mu.Lock()
		open := h.open
		h.mu.Unlock()
		if open == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("hub has %d streams open after 10 s; want %d", open, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stalledClients opens n connections to a stream server that ask for
// /v1/events and never read; closed counts the connections the node
// closed.
func stalledClients(t *testing.T, n int, o StreamOptions) (s *Server, closed *atomic.Int32) {
	t.Helper()
	closed = new(atomic.Int32)
	s, ts := streamServer(t, o, func(ts *httptest.Server) {
		ts.Config.ConnState = func(_ net.Conn, st http.ConnState) {
			if st == http.StateClosed {
				closed.Add(1)
			}
		}
	})
	// A small receive buffer, so that the node's writes stall soon.
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	for range n {
		c, err := d.Dial("tcp", ts.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := io.WriteString(c, "GET /v1/events HTTP/1.1\r\nHost: node\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	waitOpen(t, s.hub, n)
	return s, closed
}

// waitClosed waits until the node has closed n connections and ended their
// streams (the kernel may still hold a closed socket's unsent bytes, but
// the node holds nothing).
func waitClosed(t *testing.T, s *Server, closed *atomic.Int32, n int) {
	t.Helper()
	waitOpen(t, s.hub, 0)
	deadline := time.Now().Add(10 * time.Second)
	for closed.Load() < int32(n) {
		if time.Now().After(deadline) {
			t.Fatalf("the node closed %d of the %d stalled connections in 10 s", closed.Load(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStreamsNonReadingClients opens 50 connections that never read while
// blocks of events commit: no stream's queue grows past QueueEvents, nor
// the history past HistoryEvents; every stream overflows and the node
// drops its connection.
func TestStreamsNonReadingClients(t *testing.T) {
	const clients = 50
	o := StreamOptions{QueueEvents: 8, HistoryEvents: 64, MaxStreams: clients, MaxStreamsPerClient: clients, WriteTimeout: 300 * time.Millisecond}
	s, closed := stalledClients(t, clients, o)
	signer := tx.Address{1}
	for h := int64(1); h <= 200; h++ {
		s.hub.BlockCommitted(testBlock(h, 5, 2048, signer))
		s.hub.mu.Lock()
		for st := range s.hub.subs {
			if len(st.queue) > o.QueueEvents {
				t.Errorf("after block %d a stream queues %d events; want at most %d", h, len(st.queue), o.QueueEvents)
			}
		}
		if len(s.hub.history) > o.HistoryEvents {
			t.Errorf("after block %d the history holds %d events; want at most %d", h, len(s.hub.history), o.HistoryEvents)
		}
		s.hub.mu.Unlock()
	}
	s.hub.mu.Lock()
	if n := len(s.hub.subs); n != 0 {
		t.Errorf("%d non-reading streams are still fed after 2000 events; want 0", n)
	}
	s.hub.mu.Unlock()
	waitClosed(t, s, closed, clients)
}

// TestStreamsStalledWrites stalls the node's writes with a few large events
// that fit the streams' queues: the write timeout, not an overflow, ends
// the streams.
func TestStreamsStalledWrites(t *testing.T) {
	const clients = 5
	o := StreamOptions{QueueEvents: 64, WriteTimeout: 300 * time.Millisecond}
	s, closed := stalledClients(t, clients, o)
	s.hub.BlockCommitted(testBlock(1, 5, 4<<20, tx.Address{1})) // 20 MiB a stream, more than socket buffers hold
	// 10 events fit the queue of 64: only the write timeout can end them.
	waitClosed(t, s, closed, clients)
}

// TestStreamOverflowEvent stalls a stream's writes until its queue
// overflows: it gets the events queued, then an overflow event naming the
// last one it was sent, and ends.
func TestStreamOverflowEvent(t *testing.T) {
	s, _ := streamServer(t, StreamOptions{QueueEvents: 4})
	w := &stallWriter{header: http.Header{}, release: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.events(w, httptest.NewRequest("GET", "/v1/events", nil))
	}()
	waitOpen(t, s.hub, 1)
	s.hub.BlockCommitted(testBlock(1, 5, 10, tx.Address{1})) // 10 events; 4 fit
	close(w.release)
	<-done
	br := bufio.NewReader(&w.buf)
	var got []sse
	for {
		e, err := readSSE(br)
		if err != nil {
			break
		}
		got = append(got, e)
	}
	if len(got) != 5 || got[4].typ != "overflow" {
		t.Fatalf("stream wrote %+v; want 4 events and an overflow", got)
	}
	if want := `{"last_event_id":"1-3"}`; got[4].data != want || got[3].id != "1-3" {
		t.Errorf("overflow event %+v after %+v; want data %s", got[4], got[3], want)
	}
}

// stallWriter is a ResponseWriter whose writes wait for release.
type stallWriter struct {
	header  http.Header
	release chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
}

func (w *stallWriter) Header() http.Header { return w.header }
func (w *stallWriter) WriteHeader(int)     {}
func (w *stallWriter) Flush()              {}
func (w *stallWriter) Write(b []byte) (int, error) {
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(b)
}

// TestStreamResume disconnects a reader in the middle of a block and
// resumes it with Last-Event-ID (and last_event_id) after more blocks:
// it receives exactly the events it missed, in order, then the live ones.
func TestStreamResume(t *testing.T) {
	s, ts := streamServer(t, StreamOptions{HistoryEvents: 1000})
	a, b := tx.Address{0xa}, tx.Address{0xb}
	var blocks []*app.Block
	commit := func(from, to int64) {
		for h := from; h <= to; h++ {
			blk := testBlock(h, 2, 10, a, b)
			blocks = append(blocks, blk)
			s.hub.BlockCommitted(blk)
		}
	}
	for _, tc := range []struct {
		name    string
		account *tx.Address
		query   bool // resume with the query parameter, not the header
	}{
		{"every event", nil, false},
		{"account b", &b, false},
		{"query parameter", &a, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := ts.URL + "/v1/events"
			if tc.account != nil {
				url += "?account=" + tc.account.String()
			}
			first := len(blocks)
			ctx, cancel := context.WithCancel(t.Context())
			_, br := openStream(t, ctx, url, "")
			waitOpen(t, s.hub, 1)
			commit(int64(first)+1, int64(first)+3)
			want := idsOf(tc.account, blocks[first:]...)
			half := len(want)/2 + 1
			got := readIDs(t, br, half)
			cancel()
			waitOpen(t, s.hub, 0)
			commit(int64(first)+4, int64(first)+6) // missed entirely

			last := got[len(got)-1]
			header := last
			if tc.query {
				url += map[bool]string{true: "&", false: "?"}[tc.account != nil] + "last_event_id=" + last
				header = ""
			}
			res, br := openStream(t, t.Context(), url, header)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("resume after %s: HTTP %d", last, res.StatusCode)
			}
			waitOpen(t, s.hub, 1)
			commit(int64(first)+7, int64(first)+7) // live after the replay
			want = idsOf(tc.account, blocks[first:]...)
			got = append(got, readIDs(t, br, len(want)-half)...)
			if !slices.Equal(got, want) {
				t.Errorf("events before and after resuming at %s: %v; want %v", last, got, want)
			}
			res.Body.Close()
			waitOpen(t, s.hub, 0)
		})
	}
}

// TestStreamResumeErrors: an ID the hub can no longer replay is not_found,
// a malformed one malformed; neither opens a stream.
func TestStreamResumeErrors(t *testing.T) {
	s, ts := streamServer(t, StreamOptions{HistoryEvents: 4})
	for h := int64(1); h <= 3; h++ {
		s.hub.BlockCommitted(testBlock(h, 2, 10, tx.Address{1})) // 4 events a block
	}
	for _, tc := range []struct {
		lastID string
		status int
		code   tx.Code
	}{
		{"2-2", 404, tx.CodeNotFound}, // history holds 3-0 to 3-3: 2-3 is its floor, 2-3 is gone
		{"0-0", 404, tx.CodeNotFound},
		{"2", 400, tx.CodeMalformed},
		{"a-1", 400, tx.CodeMalformed},
		{"2--1", 400, tx.CodeMalformed},
	} {
		res, _ := openStream(t, t.Context(), ts.URL+"/v1/events", tc.lastID)
		var body map[string]v1.Error
		json.NewDecoder(res.Body).Decode(&body)
		if res.StatusCode != tc.status || body["error"].Code != tc.code {
			t.Errorf("Last-Event-ID %s: HTTP %d %+v; want %d %s", tc.lastID, res.StatusCode, body, tc.status, tc.code)
		}
	}
	// 2-3 is the floor: everything after it is kept.
	if res, _ := openStream(t, t.Context(), ts.URL+"/v1/events", "2-3"); res.StatusCode != 200 {
		t.Errorf("Last-Event-ID 2-3: HTTP %d; want 200", res.StatusCode)
	}
}

// TestStreamCaps: beyond the streams a client or the node may have open, a
// stream is refused with 429 busy, and a closed stream frees its place.
func TestStreamCaps(t *testing.T) {
	s, ts := streamServer(t, StreamOptions{MaxStreams: 3, MaxStreamsPerClient: 2})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	for range 2 {
		if res, _ := openStream(t, ctx, ts.URL+"/v1/events", ""); res.StatusCode != 200 {
			t.Fatalf("stream: HTTP %d; want 200", res.StatusCode)
		}
	}
	check429 := func(what string, res *http.Response) {
		t.Helper()
		var body map[string]v1.Error
		json.NewDecoder(res.Body).Decode(&body)
		if res.StatusCode != http.StatusTooManyRequests || body["error"].Name != "busy" || res.Header.Get("Retry-After") == "" {
			t.Errorf("%s: HTTP %d %+v, Retry-After %q; want 429 busy with a Retry-After", what, res.StatusCode, body, res.Header.Get("Retry-After"))
		}
	}
	res, _ := openStream(t, ctx, ts.URL+"/v1/events", "")
	check429("third stream of one client", res)

	// Another host may open one more, which fills the node.
	other := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/v1/events", nil).WithContext(ctx)
		r.RemoteAddr = "192.0.2.1:1234"
		w := httptest.NewRecorder()
		go s.events(w, r)
		return w
	}
	other()
	waitOpen(t, s.hub, 3)
	r := httptest.NewRequest("GET", "/v1/events", nil)
	r.RemoteAddr = "192.0.2.2:1234"
	w := httptest.NewRecorder()
	s.events(w, r)
	check429("a stream beyond the node's", w.Result())

	// Closing the streams frees their places.
	cancel()
	waitOpen(t, s.hub, 0)
	if res, _ := openStream(t, t.Context(), ts.URL+"/v1/events", ""); res.StatusCode != 200 {
		t.Errorf("stream after the others closed: HTTP %d; want 200", res.StatusCode)
	}
}
