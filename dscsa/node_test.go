package dscsa_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/dscsa"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/tx"
)

const (
	maker      = "acme-pharma"
	wholesaler = "north-wholesale"
	pharmacy   = "corner-pharmacy"
	hospital   = "mercy-hospital"
	gtin       = "09521234543213"
	lot        = "LOT42"
	expiry     = 20301231 // 17=301231
)

// supplyNode is a running node of the maker, with a wholesaler, a pharmacy
// and a hospital beside it, and the maker's product registered.
type supplyNode struct {
	*nodetest.Node
	t      testing.TB
	admins map[string]ed25519.PrivKey
	events int
}

func startSupply(t testing.TB) *supplyNode {
	t.Helper()
	n := nodetest.Start(t, node.InitOptions{
		Org: node.Org{ID: maker, Name: "Acme Pharma", Type: identity.Pharma},
		Others: []node.Org{
			{ID: wholesaler, Name: "North Wholesale", Type: identity.Pharma},
			{ID: pharmacy, Name: "Corner Pharmacy", Type: identity.Pharma},
			{ID: hospital, Name: "Mercy Hospital", Type: identity.Provider},
		},
	})
	sn := &supplyNode{Node: n, t: t, admins: map[string]ed25519.PrivKey{maker: n.Admin}}
	for _, org := range []string{wholesaler, pharmacy, hospital} {
		k, err := node.KeysDir(n.Home).Load(org+"-admin", nil)
		if err != nil {
			t.Fatal(err)
		}
		sn.admins[org] = k
	}
	sn.send(maker, supply.RegisterProduct{Owner: maker, GTIN: gtin})
	return sn
}

func (sn *supplyNode) send(org string, m contract.Msg) {
	sn.t.Helper()
	if _, err := sn.Client.Send(context.Background(), sn.admins[org], contract.Encode(m)); err != nil {
		sn.t.Fatalf("%T by %s: %v", m, org, err)
	}
}

// record records one event by org's admin.
func (sn *supplyNode) record(org, step string, action supply.Action, from, to string, epcs ...supply.EPC) {
	sn.t.Helper()
	sn.events++
	e := supply.Event{
		Hash: sha256.Sum256([]byte{byte(sn.events)}), Kind: supply.ObjectEvent, Action: action, BizStep: step,
		EPCs: epcs, Source: from, Destination: to,
	}
	if step == supply.StepCommissioning {
		e.Lot, e.Expiry = lot, expiry
	}
	sn.send(org, supply.Record{Events: []supply.Event{e}})
}

func (sn *supplyNode) token(org string) string { return sn.Token(sn.t, sn.admins[org]) }

// eventHex is the hash, in hex, of the n-th event record gave.
func (sn *supplyNode) eventHex(n int) string {
	h := sha256.Sum256([]byte{byte(n)})
	return hex.EncodeToString(h[:])
}

// post posts body to path with a bearer token and an Accept header, and
// returns the status and body.
func (sn *supplyNode) post(t *testing.T, token, path, accept, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, sn.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestVerificationAgainstNode(t *testing.T) {
	sn := startSupply(t)
	ctx := context.Background()
	live, gone := supply.SGTIN(gtin, "S1"), supply.SGTIN(gtin, "S2")
	sn.record(maker, supply.StepCommissioning, supply.Add, "", "", live, gone)
	sn.record(maker, supply.StepDispensing, supply.Observe, "", "", gone)
	tok := sn.token(pharmacy)
	asker := tx.AddressOf(sn.admins[pharmacy].PubKey().Bytes())
	stream, err := sn.Client.Events(ctx, tok, &asker)
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name            string
		req             client.VerifyRequest
		verified        bool
		reason, lmsCode string
		info            string
	}{
		{"genuine", client.VerifyRequest{GTIN: gtin, Serial: "S1", Lot: lot, Expiry: "301231", CorrUUID: "c-1"}, true, "", "", ""},
		{"serial only", client.VerifyRequest{GTIN: gtin, Serial: "S1"}, true, "", "", ""},
		{"unknown serial", client.VerifyRequest{GTIN: gtin, Serial: "FAKE1", Lot: lot}, false, supply.ReasonUnknown, "No_match_GTIN_Serial", ""},
		{"lot mismatch", client.VerifyRequest{GTIN: gtin, Serial: "S1", Lot: "LOT41", Expiry: "301231"}, false, supply.ReasonLotMismatch, "No_match_GTIN_Serial_Lot", ""},
		{"expiry mismatch", client.VerifyRequest{GTIN: gtin, Serial: "S1", Lot: lot, Expiry: "301130"}, false, supply.ReasonExpiryMismatch, "No_match_GTIN_Serial_Expiry", ""},
		{"end of month as 00", client.VerifyRequest{GTIN: gtin, Serial: "S1", Expiry: "301200"}, true, "", "", ""},
		{"dispensed: a clone if seen again", client.VerifyRequest{GTIN: gtin, Serial: "S2"}, false, supply.ReasonDispensed, "Not_for_re-distribution", "Suspect"},
	}
	for _, c := range cases {
		a, err := sn.Client.Verify(ctx, tok, c.req)
		if err != nil {
			t.Fatalf("%s: Verify(%+v): %v", c.name, c.req, err)
		}
		if a.Data.Verified != c.verified || a.Reason != c.reason || a.Data.VerificationFailureReason != c.lmsCode || a.Data.AdditionalInfo != c.info {
			t.Errorf("%s: Verify(%+v) = %+v; want verified %v, reason %q (%s, %s)", c.name, c.req, a, c.verified, c.reason, c.lmsCode, c.info)
		}
		if a.Responder != maker || a.Height < 1 || a.VerificationTimestamp == "" {
			t.Errorf("%s: responder %q, height %d, timestamp %q; want %s, a committed height and a time", c.name, a.Responder, a.Height, a.VerificationTimestamp, maker)
		}
	}
	sn.send(maker, supply.Recall{GTIN: gtin, Lot: lot})
	if a, err := sn.Client.Verify(ctx, tok, client.VerifyRequest{GTIN: gtin, Serial: "S1"}); err != nil || a.Data.Verified || a.Data.AdditionalInfo != "Recalled" || a.Status != "recalled" {
		t.Errorf("after the recall: Verify = %+v, %v; want not verified, Recalled", a, err)
	}

	// Every answer is an audit event naming the asker, on its stream.
	want := len(cases) + 1
	got := map[string]int{}
	deadline := time.After(20 * time.Second)
	for n := 0; n < want; {
		select {
		case e := <-stream:
			if r, responder, ok := supply.VerificationOf(contract.Event{Type: e.Type, Attrs: e.Attrs}); ok {
				if r.Requester != asker || responder != maker {
					t.Errorf("receipt %+v by %s; want the asker %s, answered by %s", r, responder, asker, maker)
				}
				got[r.Reason]++
				n++
			}
		case <-deadline:
			t.Fatalf("%v receipts on the asker's stream after 20 s; want %d", got, want)
		}
	}
	if got[""] != 3 || got[supply.ReasonRecalled] != 1 || got[supply.ReasonUnknown] != 1 {
		t.Errorf("receipts by reason %v; want 3 verified, 1 recalled, 1 unknown among them", got)
	}
}

func TestVerificationRefusals(t *testing.T) {
	sn := startSupply(t)
	ctx := context.Background()
	get := func(path, token string) (int, v1.Error) {
		req, _ := http.NewRequest(http.MethodGet, sn.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var e struct{ Error v1.Error }
		json.NewDecoder(res.Body).Decode(&e)
		return res.StatusCode, e.Error
	}
	tok := sn.token(pharmacy)
	for _, c := range []struct {
		name, path, token string
		status            int
		code              tx.Code
	}{
		{"no token", "/01/" + gtin + "/21/S1", "", 401, tx.CodeUnauthenticated},
		{"not a trading partner", "/01/" + gtin + "/21/S1", sn.token(hospital), 403, tx.CodeUnauthorized},
		{"bad check digit", "/01/09521234543214/21/S1", tok, 400, tx.CodeMalformed},
		{"serial too long", "/01/" + gtin + "/21/" + strings.Repeat("9", 21), tok, 400, tx.CodeMalformed},
		{"bad expiry", "/01/" + gtin + "/21/S1?17=301332", tok, 400, tx.CodeMalformed},
		{"bad lot", "/01/" + gtin + "/21/S1?10=" + strings.Repeat("L", 21), tok, 400, tx.CodeMalformed},
		{"unknown link type", "/01/" + gtin + "/21/S1?linkType=gs1:pip", tok, 400, tx.CodeMalformed},
		{"no journey of an unknown item", "/01/" + gtin + "/21/NOPE?linkType=gs1:traceability", tok, 404, tx.CodeNotFound},
		{"no route under /01/", "/01/" + gtin, tok, 404, tx.CodeNotFound},
	} {
		status, e := get(c.path, c.token)
		if status != c.status || e.Code != c.code {
			t.Errorf("%s: GET %s = %d %v (%s); want %d %v", c.name, c.path, status, e.Code, e.Message, c.status, c.code)
		}
	}
	// The node keeps serving.
	if _, err := sn.Client.Verify(ctx, tok, client.VerifyRequest{GTIN: gtin, Serial: "S1"}); err != nil {
		t.Errorf("Verify after bad requests: %v", err)
	}
}

func TestJourney(t *testing.T) {
	sn := startSupply(t)
	ctx := context.Background()
	item := supply.SGTIN(gtin, "J1")
	sn.record(maker, supply.StepCommissioning, supply.Add, "", "", item)
	sn.record(maker, supply.StepShipping, supply.Observe, maker, wholesaler, item)
	sn.record(wholesaler, supply.StepReceiving, supply.Observe, maker, wholesaler, item)
	j, err := sn.Client.Journey(ctx, sn.token(pharmacy), string(item))
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, e := range j.Events {
		steps = append(steps, e.BizStep+"@"+e.Org)
		if !strings.HasPrefix(e.EventID, "ni:///sha-256;") || e.Type != "ObjectEvent" {
			t.Errorf("journey event %+v; want a CBV 2.0 hash URI and its type", e)
		}
	}
	if got, want := strings.Join(steps, " "), "commissioning@acme-pharma shipping@acme-pharma receiving@north-wholesale"; got != want || j.Holder != wholesaler || j.Status != "received" || j.Lot != lot {
		t.Errorf("Journey(%s) = %s, holder %s, status %s, lot %s; want %s, held received by %s, lot %s", item, got, j.Holder, j.Status, j.Lot, want, wholesaler, lot)
	}
}

// webhook is a subscriber's endpoint: it fails its first failFirst
// deliveries with 503, then keeps what it is sent.
type webhook struct {
	mu        sync.Mutex
	failFirst int
	down      bool          // answer 503 while set
	refused   chan struct{} // an attempt answered 503, if not nil
	docs      []dscsa.QueryDocument
	sigs      []bool
	got       chan struct{}
	raw       [][]byte // XML deliveries, as received
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failFirst > 0 || h.down {
		if h.failFirst > 0 {
			h.failFirst--
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		if h.refused != nil {
			select {
			case h.refused <- struct{}{}:
			default:
			}
		}
		return
	}
	if r.Header.Get("Content-Type") == dscsa.FormatXML {
		h.raw = append(h.raw, body)
		h.got <- struct{}{}
		return
	}
	var d dscsa.QueryDocument
	if err := json.Unmarshal(body, &d); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.docs = append(h.docs, d)
	h.sigs = append(h.sigs, r.Header.Get(dscsa.SignatureHeader) == dscsa.Sign([]byte("secret"), body))
	h.got <- struct{}{}
}

func TestSubscriptionsDeliverByWebhook(t *testing.T) {
	sn := startSupply(t)
	ctx := context.Background()
	shipments := &webhook{failFirst: 1, got: make(chan struct{}, 16)}
	recalls := &webhook{got: make(chan struct{}, 16)}
	hs, hr := httptest.NewServer(shipments), httptest.NewServer(recalls)
	defer hs.Close()
	defer hr.Close()
	tok := sn.token(pharmacy)
	sub, err := sn.Client.Subscribe(ctx, tok, dscsa.QueryShipments, v1.SubscriptionRequest{Dest: hs.URL, SignatureToken: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sn.Client.Subscribe(ctx, tok, dscsa.QueryRecalls, v1.SubscriptionRequest{Dest: hr.URL}); err != nil {
		t.Fatal(err)
	}
	if _, err := sn.Client.Subscribe(ctx, tok, "Everything", v1.SubscriptionRequest{Dest: hr.URL}); !client.IsCode(err, tx.CodeNotFound) {
		t.Errorf("Subscribe to an unknown query: %v; want not_found", err)
	}
	if _, err := sn.Client.Subscribe(ctx, tok, dscsa.QueryRecalls, v1.SubscriptionRequest{Dest: "file:///etc/passwd"}); !client.IsCode(err, tx.CodeInvalid) {
		t.Errorf("Subscribe with a file URL: %v; want invalid", err)
	}

	a, b := supply.SGTIN(gtin, "W1"), supply.SGTIN(gtin, "W2")
	sn.record(maker, supply.StepCommissioning, supply.Add, "", "", a, b)
	sn.record(maker, supply.StepShipping, supply.Observe, maker, wholesaler, b) // not to the pharmacy
	sn.record(maker, supply.StepShipping, supply.Observe, maker, pharmacy, a)
	wait(t, shipments.got, "the shipment to the pharmacy")
	sn.record(pharmacy, supply.StepReceiving, supply.Observe, maker, pharmacy, a)
	sn.send(maker, supply.Recall{GTIN: gtin, Lot: lot})
	wait(t, recalls.got, "the recall notice")

	shipments.mu.Lock()
	if len(shipments.docs) != 1 || !shipments.sigs[0] {
		t.Fatalf("shipments webhook got %d documents (signed: %v); want 1, signed, after one retry", len(shipments.docs), shipments.sigs)
	}
	d := shipments.docs[0]
	shipments.mu.Unlock()
	evs := d.EPCISBody.QueryResults.ResultsBody.EventList
	if d.Type != "EPCISQueryDocument" || d.EPCISBody.QueryResults.SubscriptionID != sub.ID || len(evs) != 1 ||
		evs[0].Type != supply.EventRecorded || attr(evs[0], "destination") != pharmacy {
		t.Errorf("shipments document %+v; want one shipping event to %s for subscription %s", d, pharmacy, sub.ID)
	}
	recalls.mu.Lock()
	evs = recalls.docs[0].EPCISBody.QueryResults.ResultsBody.EventList
	recalls.mu.Unlock()
	if len(evs) != 1 || evs[0].Type != supply.EventRecallNotice || attr(evs[0], "holder") != pharmacy || attr(evs[0], "items") != "1" {
		t.Errorf("recalls document events %+v; want the notice that the pharmacy holds 1 item of the lot", evs)
	}

	list, err := sn.Client.Subscriptions(ctx, tok, dscsa.QueryShipments)
	if err != nil || len(list) != 1 || list[0].Delivered != 1 {
		t.Errorf("Subscriptions = %+v, %v; want the one, with 1 delivery", list, err)
	}
	if err := sn.Client.Unsubscribe(ctx, sn.token(wholesaler), dscsa.QueryShipments, sub.ID); !client.IsCode(err, tx.CodeNotFound) {
		t.Errorf("another organization's Unsubscribe: %v; want not_found", err)
	}
	if err := sn.Client.Unsubscribe(ctx, tok, dscsa.QueryShipments, sub.ID); err != nil {
		t.Errorf("Unsubscribe: %v", err)
	}
}

func attr(e v1.StreamEvent, k string) string {
	return contract.Event{Attrs: e.Attrs}.Attr(k)
}

func wait(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(20 * time.Second):
		t.Fatalf("no delivery of %s in 20 s", what)
	}
}

// TestLotRecallLookup walks a lot to two holders, dispenses one unit and
// recalls the lot: the lookup lists the holders, every unit with its
// holder and status, page by page.
func TestLotRecallLookup(t *testing.T) {
	sn := startSupply(t)
	ctx := context.Background()
	var units []supply.EPC
	for _, s := range []string{"L1", "L2", "L3"} {
		units = append(units, supply.SGTIN(gtin, s))
	}
	sn.record(maker, supply.StepCommissioning, supply.Add, "", "", units...)
	sn.record(maker, supply.StepShipping, supply.Observe, maker, pharmacy, units[1:]...)
	sn.record(pharmacy, supply.StepReceiving, supply.Observe, maker, pharmacy, units[1:]...)
	sn.record(pharmacy, supply.StepDispensing, supply.Observe, "", "", units[2])
	sn.send(maker, supply.Recall{GTIN: gtin, Lot: lot})

	tok := sn.token(pharmacy)
	l, err := sn.Client.Lot(ctx, tok, gtin, lot, 2, "")
	if err != nil {
		t.Fatal(err)
	}
	next, err := sn.Client.Lot(ctx, tok, gtin, lot, 2, l.NextPageToken)
	if err != nil || l.NextPageToken == "" {
		t.Fatalf("the second page: %v (token %q)", err, l.NextPageToken)
	}
	var got []string
	for _, u := range append(l.Units, next.Units...) {
		got = append(got, u.Serial+":"+u.Status+"@"+u.Holder)
	}
	want := "L1:recalled@acme-pharma L2:recalled@corner-pharmacy L3:dispensed@"
	if strings.Join(got, " ") != want || !l.Recalled || l.RecalledAt == 0 || !l.Known || next.NextPageToken != "" {
		t.Errorf("Lot = %s, recalled %v at %d, known %v, then %q; want %s, recalled, known, one more page", strings.Join(got, " "), l.Recalled, l.RecalledAt, l.Known, next.NextPageToken, want)
	}
	if want := []v1.LotHolder{{Org: maker, Items: 1}, {Org: pharmacy, Items: 1}}; !slices.Equal(l.Holders, want) {
		t.Errorf("Lot holders = %v; want %v", l.Holders, want)
	}

	unknown, err := sn.Client.Lot(ctx, tok, gtin, "NO-SUCH-LOT", 0, "")
	if err != nil || unknown.Known || unknown.Recalled || len(unknown.Units) != 0 {
		t.Errorf("Lot(unknown lot) = %+v, %v; want an empty answer", unknown, err)
	}
	for _, c := range []struct {
		who, gtin, page string
		perPage         int
		code            tx.Code
	}{
		{hospital, gtin, "", 0, tx.CodeUnauthorized},
		{pharmacy, "09521234543214", "", 0, tx.CodeMalformed},
		{pharmacy, gtin, "", 5000, tx.CodeInvalid},
		{pharmacy, gtin, "!", 0, tx.CodeInvalid},
	} {
		_, err := sn.Client.Lot(ctx, sn.token(c.who), c.gtin, lot, c.perPage, c.page)
		if !client.IsCode(err, c.code) {
			t.Errorf("Lot(%s, %s, perPage %d, page %q) as %s: %v; want %v", c.gtin, lot, c.perPage, c.page, c.who, err, c.code)
		}
	}
}
