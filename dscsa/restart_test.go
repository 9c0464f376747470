package dscsa_test

import (
	"context"
	"encoding/xml"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/dscsa"
	"github.com/careledger/careledger/nodetest"
)

// TestSubscriptionsSurviveRestart: a subscription outlives a restart of
// its node, and its deliveries go on from where they stopped: a document
// the webhook had refused until the stop is delivered after the restart
// (read back from the block store), once; one delivered before is not
// delivered again; and what commits after the restart follows.
func TestSubscriptionsSurviveRestart(t *testing.T) {
	sn := startSupply(t)
	ctx := context.Background()
	hook := &webhook{got: make(chan struct{}, 16), refused: make(chan struct{}, 1)}
	hs := httptest.NewServer(hook)
	defer hs.Close()
	sub, err := sn.Client.Subscribe(ctx, sn.token(pharmacy), dscsa.QueryShipments, v1.SubscriptionRequest{Dest: hs.URL, SignatureToken: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := supply.SGTIN(gtin, "R1"), supply.SGTIN(gtin, "R2"), supply.SGTIN(gtin, "R3")
	sn.record(maker, supply.StepCommissioning, supply.Add, "", "", a, b, c)
	sn.record(maker, supply.StepShipping, supply.Observe, maker, pharmacy, a)
	wait(t, hook.got, "the first shipment")

	hook.mu.Lock()
	hook.down = true
	hook.mu.Unlock()
	sn.record(maker, supply.StepShipping, supply.Observe, maker, pharmacy, b)
	wait(t, hook.refused, "an attempt of the second shipment")
	sn.Stop(t)
	hook.mu.Lock()
	hook.down = false
	hook.mu.Unlock()

	sn.Node = nodetest.Open(t, sn.Home)
	wait(t, hook.got, "the second shipment, after the restart")
	sn.record(maker, supply.StepShipping, supply.Observe, maker, pharmacy, c)
	wait(t, hook.got, "the third shipment")

	hook.mu.Lock()
	var shipped []string
	var heights []int64
	for _, d := range hook.docs {
		if d.EPCISBody.QueryResults.SubscriptionID != sub.ID {
			t.Errorf("a document for subscription %q; want %q", d.EPCISBody.QueryResults.SubscriptionID, sub.ID)
		}
		for _, e := range d.EPCISBody.QueryResults.ResultsBody.EventList {
			shipped = append(shipped, attr(e, "event"))
			heights = append(heights, e.Height)
		}
	}
	hook.mu.Unlock()
	want := []string{sn.eventHex(2), sn.eventHex(3), sn.eventHex(4)} // the three shipping events
	if strings.Join(shipped, " ") != strings.Join(want, " ") || !slices.IsSorted(heights) {
		t.Errorf("delivered shipping events %q at heights %v; want %q, each once, in order", shipped, heights, want)
	}
	list, err := sn.Client.Subscriptions(ctx, sn.token(pharmacy), dscsa.QueryShipments)
	if err != nil || len(list) != 1 || list[0].ID != sub.ID || list[0].Delivered != 3 {
		t.Errorf("after the restart, Subscriptions = %+v, %v; want %s with 3 deliveries", list, err, sub.ID)
	}

	// The file carries its checksum: a damaged one is reported, not read
	// as other cursors.
	sn.Stop(t)
	file := filepath.Join(sn.Home, "data", "dscsa", "subscriptions.json")
	if err := dscsa.CheckSubscriptionsFile(file); err != nil {
		t.Fatalf("the stopped node's subscriptions file: %v", err)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/3] ^= 1
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := dscsa.CheckSubscriptionsFile(file); err == nil {
		t.Error("a subscriptions file with a flipped byte checks; want it reported damaged")
	}
}

// TestSubscriptionDeliversXML: a subscription whose request's Accept
// prefers XML gets EPCIS 2.0 XML query documents.
func TestSubscriptionDeliversXML(t *testing.T) {
	sn := startSupply(t)
	hook := &webhook{got: make(chan struct{}, 16)}
	hs := httptest.NewServer(hook)
	defer hs.Close()
	status, body := sn.post(t, sn.token(pharmacy), "/epcis/queries/"+dscsa.QueryShipments+"/subscriptions", "application/xml", `{"dest":"`+hs.URL+`"}`)
	if status != 201 || !strings.Contains(body, `"format":"application/xml"`) {
		t.Fatalf("subscribe with Accept: application/xml = %d %s; want 201 with the XML format", status, body)
	}
	a := supply.SGTIN(gtin, "X1")
	sn.record(maker, supply.StepCommissioning, supply.Add, "", "", a)
	sn.record(maker, supply.StepShipping, supply.Observe, maker, pharmacy, a)
	wait(t, hook.got, "the shipment")
	hook.mu.Lock()
	raw := hook.raw[0]
	hook.mu.Unlock()
	var d struct {
		XMLName xml.Name
		Body    struct {
			Results struct {
				QueryName string `xml:"queryName"`
				Ledger    struct {
					Events []struct {
						Type  string `xml:"type,attr"`
						Attrs []struct {
							Key   string `xml:"key,attr"`
							Value string `xml:",chardata"`
						} `xml:"attr"`
					} `xml:"ledgerEvent"`
				} `xml:"resultsBody>ledgerEventList"`
			} `xml:"QueryResults"`
		} `xml:"EPCISBody"`
	}
	if err := xml.Unmarshal(raw, &d); err != nil {
		t.Fatalf("the delivery is not XML: %v\n%s", err, raw)
	}
	evs := d.Body.Results.Ledger.Events
	if d.XMLName.Local != "EPCISQueryDocument" || d.Body.Results.QueryName != dscsa.QueryShipments || len(evs) != 1 || evs[0].Type != supply.EventRecorded {
		t.Errorf("XML delivery %s; want an EPCISQueryDocument with the one shipping event", raw)
	}
}

// TestWebhookFromInitialRecordTime: a webhook subscribed with an
// initialRecordTime receives the shipments committed since then, which a
// subscription from now on does not; both receive what commits after.
func TestWebhookFromInitialRecordTime(t *testing.T) {
	sn := startSupply(t)
	ctx := context.Background()
	since := time.Now()
	a := supply.SGTIN(gtin, "IRT1")
	sn.record(maker, supply.StepCommissioning, supply.Add, "", "", a)
	sn.record(maker, supply.StepShipping, supply.Observe, maker, pharmacy, a)

	back, fresh := &webhook{got: make(chan struct{}, 16)}, &webhook{got: make(chan struct{}, 16)}
	hsBack, hsFresh := httptest.NewServer(back), httptest.NewServer(fresh)
	defer hsBack.Close()
	defer hsFresh.Close()
	if _, err := sn.Client.Subscribe(ctx, sn.token(pharmacy), dscsa.QueryShipments, v1.SubscriptionRequest{Dest: hsBack.URL, InitialRecordTime: &since}); err != nil {
		t.Fatal(err)
	}
	if _, err := sn.Client.Subscribe(ctx, sn.token(pharmacy), dscsa.QueryShipments, v1.SubscriptionRequest{Dest: hsFresh.URL}); err != nil {
		t.Fatal(err)
	}
	wait(t, back.got, "the shipment committed before the subscription")

	b := supply.SGTIN(gtin, "IRT2")
	sn.record(maker, supply.StepCommissioning, supply.Add, "", "", b)
	sn.record(maker, supply.StepShipping, supply.Observe, maker, pharmacy, b)
	wait(t, fresh.got, "the later shipment")
	wait(t, back.got, "the later shipment")
	fresh.mu.Lock()
	defer fresh.mu.Unlock()
	if len(fresh.docs) != 1 {
		t.Errorf("the subscription from now on received %d documents; want the later shipment's alone", len(fresh.docs))
	}
}
