package dscsa_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/dscsa"
)

// dialStream opens a WebSocket subscription to a named query with a bearer
// token ("" for none) and the query string given, and returns the
// connection, or the refusal's status.
func (sn *supplyNode) dialStream(t *testing.T, token, query, params string) (*websocket.Conn, int) {
	t.Helper()
	u := "ws" + strings.TrimPrefix(sn.URL, "http") + "/epcis/queries/" + query + "/events?" + params
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	conn, res, err := websocket.DefaultDialer.Dial(u, h)
	if errors.Is(err, websocket.ErrBadHandshake) {
		res.Body.Close()
		return nil, res.StatusCode
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, res.StatusCode
}

// readDocument reads a stream's next message as a query document.
func readDocument(t *testing.T, conn *websocket.Conn, what string) dscsa.QueryDocument {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	kind, msg, err := conn.ReadMessage()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	var d dscsa.QueryDocument
	if err := json.Unmarshal(msg, &d); kind != websocket.TextMessage || err != nil {
		t.Fatalf("%s: message of kind %d does not decode: %v", what, kind, err)
	}
	return d
}

// TestSubscriptionsStreamByWebSocket: a trading partner's WebSocket on a
// named query receives the matching events of each block as it commits,
// and only those concerning its organization; an unauthenticated or
// unentitled upgrade is refused before it opens; a stopping node closes
// its streams with 1001 (going away).
func TestSubscriptionsStreamByWebSocket(t *testing.T) {
	sn := startSupply(t)
	for _, c := range []struct {
		token, query, params string
		want                 int
	}{
		{"", dscsa.QueryShipments, "stream=true", http.StatusUnauthorized},
		{sn.token(hospital), dscsa.QueryShipments, "stream=true", http.StatusForbidden},
		{sn.token(pharmacy), "Everything", "stream=true", http.StatusNotFound},
		{sn.token(pharmacy), dscsa.QueryShipments, "minute=5&hour=1", http.StatusUnprocessableEntity},
		{sn.token(pharmacy), dscsa.QueryShipments, "stream=true&initialRecordTime=yesterday", http.StatusUnprocessableEntity},
	} {
		if conn, status := sn.dialStream(t, c.token, c.query, c.params); conn != nil || status != c.want {
			t.Errorf("upgrade to a stream of %s?%s (token %t): %d; want %d", c.query, c.params, c.token != "", status, c.want)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, sn.URL+"/epcis/queries/"+dscsa.QueryShipments+"/events?stream=true", nil)
	req.Header.Set("Authorization", "Bearer "+sn.token(pharmacy))
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("GET of the named query's events without an upgrade: %v %v; want 422 (only subscriptions are offered)", res, err)
	} else {
		res.Body.Close()
	}
	toPharmacy, status := sn.dialStream(t, sn.token(pharmacy), dscsa.QueryShipments, "stream=true")
	if status != http.StatusSwitchingProtocols {
		t.Fatalf("the pharmacy's upgrade: %d; want 101", status)
	}
	toWholesaler, _ := sn.dialStream(t, sn.token(wholesaler), dscsa.QueryShipments, "stream=true")
	xmlHeader := http.Header{"Authorization": {"Bearer " + sn.token(pharmacy)}, "Accept": {"application/xml"}}
	inXML, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(sn.URL, "http")+"/epcis/queries/"+dscsa.QueryShipments+"/events?stream=true", xmlHeader)
	if err != nil {
		t.Fatal(err)
	}
	defer inXML.Close()

	a, b := supply.SGTIN(gtin, "WS1"), supply.SGTIN(gtin, "WS2")
	sn.record(maker, supply.StepCommissioning, supply.Add, "", "", a, b)
	sn.record(maker, supply.StepShipping, supply.Observe, maker, pharmacy, a)
	sn.record(maker, supply.StepShipping, supply.Observe, maker, wholesaler, b)

	d := readDocument(t, toPharmacy, "the pharmacy's stream")
	evs := d.EPCISBody.QueryResults.ResultsBody.EventList
	if d.Type != "EPCISQueryDocument" || d.EPCISBody.QueryResults.QueryName != dscsa.QueryShipments || len(evs) != 1 ||
		attr(evs[0], "destination") != pharmacy || attr(evs[0], "event") != sn.eventHex(2) {
		t.Errorf("the pharmacy's stream got %+v; want the shipment of event 2 to %s", d, pharmacy)
	}
	shipped := evs[0].Time
	inXML.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, msg, err := inXML.ReadMessage(); err != nil || !strings.Contains(string(msg), "<EPCISQueryDocument") || !strings.Contains(string(msg), sn.eventHex(2)) {
		t.Errorf("the pharmacy's stream with Accept: application/xml got %.200s, %v; want the shipment in an EPCIS XML query document", msg, err)
	}
	// The shipment to the pharmacy committed first: the wholesaler's first
	// message is its own shipment, so it never saw the pharmacy's.
	d = readDocument(t, toWholesaler, "the wholesaler's stream")
	evs = d.EPCISBody.QueryResults.ResultsBody.EventList
	if len(evs) != 1 || attr(evs[0], "destination") != wholesaler || attr(evs[0], "event") != sn.eventHex(3) {
		t.Errorf("the wholesaler's stream got %+v; want only the shipment of event 3 to %s", evs, wholesaler)
	}

	// A stream from an initialRecordTime starts with the first block
	// committed then or after: here, the shipment's again.
	since, _ := sn.dialStream(t, sn.token(pharmacy), dscsa.QueryShipments, "stream=true&initialRecordTime="+shipped.UTC().Format(time.RFC3339Nano))
	d = readDocument(t, since, "the stream since the shipment")
	if evs := d.EPCISBody.QueryResults.ResultsBody.EventList; len(evs) != 1 || attr(evs[0], "event") != sn.eventHex(2) {
		t.Errorf("the stream since the shipment began with %+v; want the shipment of event 2", evs)
	}
	// Its subscriptionID ends it, as a webhook's does: the node closes it
	// with 1000.
	if err := sn.Client.Unsubscribe(context.Background(), sn.token(pharmacy), dscsa.QueryShipments, d.EPCISBody.QueryResults.SubscriptionID); err != nil {
		t.Errorf("Unsubscribe of a stream: %v", err)
	}
	since.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, _, err := since.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Errorf("a stream after its Unsubscribe: %v; want a close 1000", err)
	}

	sn.Stop(t)
	toPharmacy.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, _, err = toPharmacy.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Errorf("the pharmacy's stream as the node stops: %v; want a close 1001 (going away)", err)
	}
}

// TestStreamPing: a stream's client is pinged; one that answers (its
// reads answer pings) keeps its stream past several intervals and still
// receives a shipment, one that does not (it never reads) finds its stream
// closed by the node.
func TestStreamPing(t *testing.T) {
	t.Cleanup(dscsa.SetStreamPing(100 * time.Millisecond))
	sn := startSupply(t)
	answering, _ := sn.dialStream(t, sn.token(pharmacy), dscsa.QueryShipments, "stream=true")
	silent, _ := sn.dialStream(t, sn.token(wholesaler), dscsa.QueryShipments, "stream=true")
	docs := make(chan dscsa.QueryDocument, 1)
	go func() {
		for {
			_, msg, err := answering.ReadMessage()
			if err != nil {
				close(docs)
				return
			}
			var d dscsa.QueryDocument
			if json.Unmarshal(msg, &d) == nil {
				docs <- d
			}
		}
	}()
	time.Sleep(time.Second) // ten intervals: the silent client answered none

	silent.SetReadDeadline(time.Now().Add(5 * time.Second))
	var err error
	for err == nil {
		_, _, err = silent.ReadMessage() // the pings are read here, too late
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("the silent client's stream is still open after ten ping intervals: %v", err)
	}

	a := supply.SGTIN(gtin, "PING1")
	sn.record(maker, supply.StepCommissioning, supply.Add, "", "", a)
	sn.record(maker, supply.StepShipping, supply.Observe, maker, pharmacy, a)
	select {
	case d, ok := <-docs:
		if !ok {
			t.Fatal("the answering client's stream was closed")
		}
		if d.EPCISBody.QueryResults.SubscriptionID == "" {
			t.Errorf("the shipment's document names no subscription: %+v", d)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the answering client received no shipment")
	}
}
