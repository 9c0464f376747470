package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/tx"
)

// subscriberBuffer is how many events a subscriber may fall behind before it
// is disconnected (it can reconnect and read what it missed from the index).
const subscriberBuffer = 1024

type subscriber struct {
	account *tx.Address // nil: every event
	ch      chan v1.StreamEvent
	over    chan struct{} // closed when the subscriber fell too far behind
}

// Hub fans committed events out to subscribers. It is an app.Listener.
type Hub struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

var _ app.Listener = (*Hub)(nil)

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: make(map[*subscriber]struct{})} }

// Subscribe returns a channel of the events concerning account (all events
// if account is nil), a channel closed if the subscriber falls behind, and a
// function that ends the subscription.
func (h *Hub) Subscribe(account *tx.Address) (<-chan v1.StreamEvent, <-chan struct{}, func()) {
	s := &subscriber{account: account, ch: make(chan v1.StreamEvent, subscriberBuffer), over: make(chan struct{})}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s.ch, s.over, func() {
		h.mu.Lock()
		delete(h.subs, s)
		h.mu.Unlock()
	}
}

// BlockCommitted sends the block's events without blocking.
func (h *Hub) BlockCommitted(b *app.Block) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) == 0 {
		return
	}
	for i := range b.Txs {
		r := &b.Txs[i]
		evs := append([]contract.Event{{
			Type:     "tx.committed",
			Attrs:    []contract.Attr{{Key: "signer", Value: r.Signer.String()}},
			Accounts: r.Accounts(),
		}}, r.Events...)
		for _, e := range evs {
			h.send(v1.StreamEvent{Height: b.Height, Time: b.Time, Tx: r.Hash, Code: r.Code, Type: e.Type, Attrs: e.Attrs, Accounts: e.Accounts})
		}
	}
}

// Notify sends a node's own notice (not a chain event, so it has no
// transaction), such as a compiled accounting of disclosures.
func (h *Hub) Notify(e v1.StreamEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.send(e)
}

// send delivers e to its subscribers; h.mu is held.
func (h *Hub) send(e v1.StreamEvent) {
	for s := range h.subs {
		if s.account != nil && !slices.Contains(e.Accounts, *s.account) {
			continue
		}
		select {
		case s.ch <- e:
		default:
			delete(h.subs, s)
			close(s.over)
		}
	}
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
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, fmt.Errorf("response writer cannot stream"))
		return
	}
	ch, over, cancel := s.hub.Subscribe(account)
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": connected\n\n")
	flusher.Flush()
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case <-over:
			fmt.Fprint(w, "event: overflow\ndata: {}\n\n")
			flusher.Flush()
			return
		case <-keepAlive.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case e := <-ch:
			data, err := json.Marshal(e)
			if err != nil {
				return
			}
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Type, data)
		}
		flusher.Flush()
	}
}
