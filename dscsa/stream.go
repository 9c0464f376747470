package dscsa

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/tx"
)

// WebSocket subscriptions, as the EPCIS 2.0 REST binding defines them: a
// GET of /epcis/queries/{queryName}/events?stream=true that asks to upgrade
// to a WebSocket subscribes the caller's organization for as long as the
// connection lives. Each committed block's matches arrive as one text
// message, the same EPCISQueryDocument a webhook is posted (its
// subscriptionID is the stream's), in the format the request's Accept
// header chose. A stream starts with the blocks that commit after it
// opens, or with the first block committed at or after its
// initialRecordTime; it is not kept in the subscriptions file, so a
// restart of the node ends it (the client reconnects with the
// initialRecordTime of the last block it got, or subscribes a webhook).

// upgrader upgrades stream requests. Its default origin check refuses a
// browser page of another origin; the bearer token is the authentication.
var upgrader = websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 16 << 10}

// maxClientMessage bounds what a stream reads from its client: the binding
// gives the client nothing to say, so only control frames are expected.
const maxClientMessage = 1 << 10

// streamPing is how often a stream's client is pinged, so that a proxy
// keeps a quiet stream open and a client gone without a close is noticed:
// a stream whose client answers no ping for two intervals is ended.
var streamPing = 30 * time.Second

// The query parameters of a subscription by WebSocket: stream, or a
// schedule (which this node does not offer).
var scheduleParams = []string{"second", "minute", "hour", "dayOfMonth", "month", "dayOfWeek"}

// stream serves a WebSocket subscription. Everything is checked before the
// upgrade, so that a refusal is an ordinary HTTP answer (401, 403, 404,
// 422) and not a connection that opens and closes.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	if !websocket.IsWebSocketUpgrade(r) {
		writeError(w, tx.Rejectf(tx.CodeInvalid, "this node offers named queries as subscriptions only: upgrade to a WebSocket with stream=true, or POST a webhook to .../subscriptions (GET /epcis/events answers queries)"))
		return
	}
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
	from, err := validateStreamQuery(r)
	if err != nil {
		writeError(w, err)
		return
	}
	format, err := deliveryFormat(r.Header.Get("Accept"))
	if err != nil {
		writeError(w, err)
		return
	}
	if err := s.subs.roomFor(acct.Org); err != nil {
		writeError(w, err)
		return
	}
	cursor, err := s.subs.cursorAt(from)
	if err != nil {
		writeError(w, err)
		return
	}
	var h http.Header
	if !from.IsZero() {
		h = http.Header{"Gs1-Query-Min-Record-Time": {from.UTC().Format(time.RFC3339Nano)}}
	}
	conn, err := upgrader.Upgrade(w, r, h)
	if err != nil {
		return // the upgrader has answered
	}
	s.subs.addStream(name, acct.Org, format, conn, cursor)
}

// validateStreamQuery checks the query of a WebSocket subscription and
// returns its initialRecordTime (zero if absent): stream=true (the binding
// asks for stream or a schedule; only streams are offered).
func validateStreamQuery(r *http.Request) (time.Time, error) {
	q := r.URL.Query()
	for _, p := range scheduleParams {
		if q.Has(p) {
			return time.Time{}, tx.Rejectf(tx.CodeInvalid, "scheduled subscriptions (%s) are not offered; subscribe with stream=true", p)
		}
	}
	if v := q["stream"]; len(v) != 1 || v[0] != "true" {
		return time.Time{}, tx.Rejectf(tx.CodeInvalid, "only streaming subscriptions are offered: stream=true")
	}
	v := q["initialRecordTime"]
	if len(v) == 0 {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v[0])
	if len(v) > 1 || err != nil {
		return time.Time{}, tx.Rejectf(tx.CodeInvalid, "initialRecordTime is one RFC 3339 date-time, such as 2026-01-02T15:04:05Z")
	}
	return t, nil
}

// cursorAt returns the cursor of a stream that starts with the first block
// committed at or after t (the blocks from now on if t is zero): the height
// before it, found by a binary search over the block times, which are
// monotonic (log2 of the height block reads). A block the node cannot read
// back counts as before t.
func (ss *subscriptions) cursorAt(t time.Time) (int64, error) {
	ss.mu.Lock()
	latest := ss.latest
	ss.mu.Unlock()
	if t.IsZero() {
		return latest, nil
	}
	lo, hi := int64(1), latest+1 // the answer is in [lo, hi]
	for lo < hi {
		mid := lo + (hi-lo)/2
		b, err := ss.block(mid)
		if err != nil {
			return 0, err
		}
		if b != nil && !b.Time.Before(t) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo - 1, nil
}

// roomFor reports whether org may hold one more subscription.
func (ss *subscriptions) roomFor(org string) error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.roomForLocked(org)
}

func (ss *subscriptions) roomForLocked(org string) error {
	n := 0
	for _, o := range ss.subs {
		if o.Org == org {
			n++
		}
	}
	if n >= ss.opts.MaxPerOrg {
		return tx.Rejectf(tx.CodeInvalid, "an organization holds at most %d subscriptions", ss.opts.MaxPerOrg)
	}
	return nil
}

// addStream starts delivering the blocks after cursor to conn, and reading
// conn for its close. A node already stopping closes it at once.
func (ss *subscriptions) addStream(name, org, format string, conn *websocket.Conn, cursor int64) {
	var id [16]byte
	rand.Read(id[:])
	sb := &sub{
		Subscription: v1.Subscription{ID: hex.EncodeToString(id[:]), QueryName: name, Org: org, Stream: true, Format: format},
		conn:         conn,
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	sb.Cursor = cursor
	ss.start(sb)
	if ss.closing {
		sb.end()
	}
	ss.wg.Add(2)
	go ss.readStream(sb, streamPing)
	go ss.pingStream(sb, streamPing)
}

// readStream reads the client's frames, so that its pings are answered and
// a close, a broken connection or two ping intervals without a frame from
// it (a pong, at least) end the stream. Messages are ignored.
func (ss *subscriptions) readStream(sb *sub, ping time.Duration) {
	defer ss.wg.Done()
	alive := func(string) error { return sb.conn.SetReadDeadline(time.Now().Add(2 * ping)) }
	alive("")
	sb.conn.SetPongHandler(alive)
	sb.conn.SetReadLimit(maxClientMessage)
	for {
		if _, _, err := sb.conn.ReadMessage(); err != nil {
			sb.end()
			return
		}
		alive("")
	}
}

// pingStream pings the stream's client every interval until the stream
// ends. WriteControl may run beside the deliveries' writes.
func (ss *subscriptions) pingStream(sb *sub, every time.Duration) {
	defer ss.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-sb.stop:
			return
		case <-t.C:
			if err := sb.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(every)); err != nil {
				sb.end()
				return
			}
		}
	}
}

// send writes one document to a stream. A write that fails or times out
// ends the stream: its client is gone or too slow to keep.
func (ss *subscriptions) send(sb *sub, doc []byte) (ok, stopped bool) {
	select {
	case <-sb.stop:
		return false, true
	default:
	}
	sb.conn.SetWriteDeadline(time.Now().Add(ss.opts.Timeout))
	if err := sb.conn.WriteMessage(websocket.TextMessage, doc); err != nil {
		sb.end()
		return false, true
	}
	return true, false
}

// closeStream says goodbye to a stream's client (1001 when the node
// stops, 1000 otherwise), closes the connection and forgets the stream.
func (ss *subscriptions) closeStream(sb *sub) {
	ss.mu.Lock()
	code := websocket.CloseNormalClosure
	if ss.closing {
		code = websocket.CloseGoingAway
	}
	for i, o := range ss.subs {
		if o == sb {
			ss.subs = append(ss.subs[:i:i], ss.subs[i+1:]...)
			break
		}
	}
	ss.mu.Unlock()
	msg := websocket.FormatCloseMessage(code, "subscription ended")
	sb.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	sb.conn.Close()
}
