package client_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/careledger/careledger/client"
)

// TestEventsAfter checks that EventsAfter sends Last-Event-ID, that events
// carry their id lines (none for a node's notice), and that the channel
// closes at an overflow event.
func TestEventsAfter(t *testing.T) {
	var gotLastID string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotLastID = r.Header.Get("Last-Event-ID")
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, ": connected\n\n"+
			"id: 5-0\nevent: tx.committed\ndata: {\"height\":5,\"type\":\"tx.committed\"}\n\n"+
			": keep-alive\n\n"+
			"event: audit.accounting_compiled\ndata: {\"height\":4,\"type\":\"audit.accounting_compiled\"}\n\n"+
			"id: 5-1\nevent: identity.patient_registered\ndata: {\"height\":5,\"type\":\"identity.patient_registered\"}\n\n"+
			"event: overflow\ndata: {\"last_event_id\":\"5-1\"}\n\n"+
			"id: 6-0\nevent: tx.committed\ndata: {\"height\":6,\"type\":\"tx.committed\"}\n\n")
	}))
	defer ts.Close()
	events, err := client.New(ts.URL).EventsAfter(t.Context(), "", nil, "4-2")
	if err != nil {
		t.Fatalf("EventsAfter: %v", err)
	}
	var got []string
	for e := range events {
		got = append(got, e.ID+" "+e.Type)
	}
	want := []string{"5-0 tx.committed", " audit.accounting_compiled", "5-1 identity.patient_registered"}
	if !slices.Equal(got, want) || gotLastID != "4-2" {
		t.Errorf("EventsAfter(4-2) sent Last-Event-ID %q and read %q; want 4-2 and %q", gotLastID, got, want)
	}
}
