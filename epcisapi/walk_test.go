package epcisapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/careledger/careledger/contract/supply"
)

const (
	pack1 = "urn:epc:id:sgtin:0614141.107346.1001"
	pack2 = "urn:epc:id:sgtin:0614141.107346.1002"
	pack3 = "urn:epc:id:sgtin:0614141.107346.1003"
	case1 = "urn:epc:id:sscc:0614141.1234567890"
	// A cold-chain product (2 to 8 °C) and its case.
	vial1 = "urn:epc:id:sgtin:0614141.107347.2001"
	case2 = "urn:epc:id:sscc:0614141.1234567891"
)

// TestWalk follows packages from commissioning at the manufacturer
// through a wholesaler to a pharmacy and dispensing, each organization
// capturing on its own node over HTTP; then a cold-chain excursion, a
// recall and a cloned serial.
func TestWalk(t *testing.T) {
	nodes := network(t)
	maker, wholesaler, pharmacy := nodes[0], nodes[1], nodes[2]
	makerTok, wholesalerTok, pharmacyTok := maker.Token(t, maker.Admin), wholesaler.Token(t, wholesaler.Admin), pharmacy.Token(t, pharmacy.Admin)

	send(t, maker, maker.Admin,
		supply.RegisterProduct{Owner: "org0", GTIN: gtinOf(t, pack1)},
		supply.RegisterProduct{Owner: "org0", GTIN: gtinOf(t, vial1), Excursion: `type == "Temperature" && (value < 2000 || value > 8000)`})

	// The manufacturer commissions, packs and ships to the wholesaler in
	// one document.
	shipped := doc(
		commission("2025-01-01T08:00:00Z", "L1", pack1, pack2, pack3),
		pack("2025-01-01T09:00:00Z", case1, pack1, pack2, pack3),
		move("2025-01-01T10:00:00Z", "shipping", "in_transit", makerGLN, wholesalerGLN, case1))
	captureOK(t, maker, makerTok, shipped)
	if it, st := itemOf(t, maker, pack2); st != supply.InTransit || it.Destination != "org1" {
		t.Fatalf("after shipping, pack2 is %s to %q; want in_transit to org1", st, it.Destination)
	}

	captureOK(t, wholesaler, wholesalerTok, doc(move("2025-01-02T08:00:00Z", "receiving", "in_progress", makerGLN, wholesalerGLN, case1)))
	captureOK(t, wholesaler, wholesalerTok, doc(move("2025-01-03T08:00:00Z", "shipping", "in_transit", wholesalerGLN, pharmacyGLN, case1)))
	captureOK(t, pharmacy, pharmacyTok, doc(move("2025-01-04T08:00:00Z", "receiving", "in_progress", wholesalerGLN, pharmacyGLN, case1)))
	captureOK(t, pharmacy, pharmacyTok, doc(observe("2025-01-05T08:00:00Z", "dispensing", pack1)))
	if it, st := itemOf(t, pharmacy, pack2); st != supply.Received || it.Holder != "org2" {
		t.Errorf("pack2 is %s at %q; want received at org2", st, it.Holder)
	}
	if _, st := itemOf(t, pharmacy, pack1); st != supply.Dispensed {
		t.Errorf("pack1 is %s; want dispensed", st)
	}

	t.Run("journey", func(t *testing.T) {
		// At the pharmacy: its own events in full; of the others' (from the
		// chain's journey of the case) the wholesaler's shipment to it in
		// full, fetched from the wholesaler's node, and the rest as hash
		// and summary.
		evs := queryEvents(t, pharmacy, pharmacyTok, "MATCH_anyEPC="+url.QueryEscape(case1))
		var bodies []string
		withheld := 0
		for _, e := range evs {
			if e["careledger:bodyWithheld"] == "true" {
				withheld++
				if !strings.HasPrefix(e["eventID"].(string), "ni:///sha-256;") {
					t.Errorf("a withheld event's eventID is %v; want its hash ID", e["eventID"])
				}
				continue
			}
			bodies = append(bodies, fmt.Sprint(e["bizStep"], " ", e["destinationList"]))
		}
		if len(bodies) != 2 || withheld != 3 || !strings.HasPrefix(bodies[1], "shipping") || !strings.Contains(bodies[1], pharmacyGLN) {
			t.Errorf("pharmacy's journey of the case: bodies %q and %d summaries; want its receiving, the shipment to it, and 3 summaries", bodies, withheld)
		}
		// The pharmacy's node fetches with the pharmacy's rights, so only
		// for the pharmacy's members: the manufacturer asking there gets
		// summaries of both shipments.
		ships := queryEvents(t, pharmacy, pharmacy.Token(t, maker.Admin), "EQ_bizStep=shipping&MATCH_epc="+url.QueryEscape(case1))
		if len(ships) != 2 {
			t.Errorf("the manufacturer at the pharmacy's node: %d shipments; want 2", len(ships))
		}
		for _, e := range ships {
			if e["careledger:bodyWithheld"] != "true" {
				t.Errorf("the manufacturer at the pharmacy's node read %v; want summaries only", e)
			}
		}
		// The wholesaler's shipment names the pharmacy: the pharmacy reads
		// its body at the wholesaler's node; the manufacturer does not.
		// (The chain adds the manufacturer's own shipment, as a summary.)
		q := "EQ_bizStep=shipping&MATCH_epc=" + url.QueryEscape(case1)
		if evs := queryEvents(t, wholesaler, wholesaler.Token(t, pharmacy.Admin), q); len(evs) != 2 || evs[0]["sourceList"] == nil || evs[1]["careledger:capturedBy"] != "org0" {
			t.Errorf("the pharmacy reading the wholesaler's shipment: %v; want its body, then the manufacturer's summary", evs)
		}
		if evs := queryEvents(t, wholesaler, wholesaler.Token(t, maker.Admin), q); len(evs) != 2 || evs[0]["careledger:bodyWithheld"] != "true" || evs[0]["careledger:capturedBy"] != "org1" {
			t.Errorf("the manufacturer reading the wholesaler's shipment to the pharmacy: %v; want a summary", evs)
		}
		lot := queryEvents(t, maker, makerTok, "EQ_ILMD_cbvmda:lotNumber=L1")
		if len(lot) != 1 || lot[0]["bizStep"] != "commissioning" {
			t.Errorf("manufacturer's events of lot L1: %v; want its commissioning", lot)
		}
	})

	t.Run("duplicate", func(t *testing.T) {
		j := capture(t, maker, makerTok, "application/ld+json", shipped)
		if j.Success || len(j.Errors) != 3 || j.Errors[0].Status != http.StatusConflict || !strings.HasPrefix(j.Errors[0].EventID, "ni:///sha-256;") {
			t.Errorf("capturing the document again: %+v; want three 409s naming the hashes", j)
		}
	})

	t.Run("cold chain", func(t *testing.T) {
		captureOK(t, maker, makerTok, doc(
			commission("2025-02-01T08:00:00Z", "V1", vial1),
			pack("2025-02-01T09:00:00Z", case2, vial1)))
		captureOK(t, maker, makerTok, doc(reading("2025-02-01T10:00:00Z", "12.5", case2)))
		if _, st := itemOf(t, maker, vial1); st != supply.Quarantined {
			t.Fatalf("after 12.5 °C the vial is %s; want quarantined", st)
		}
		j := capture(t, maker, makerTok, "application/ld+json", doc(move("2025-02-01T11:00:00Z", "shipping", "in_transit", makerGLN, wholesalerGLN, case2)))
		if j.Success || len(j.Errors) != 1 || j.Errors[0].Status < 400 || j.Errors[0].Status >= 500 || j.Errors[0].Event == nil {
			t.Errorf("shipping the quarantined case: %+v; want one 4xx error about the event", j)
		}
		if it, _ := itemOf(t, maker, case2); it.Holder != "org0" || it.Status == supply.InTransit {
			t.Errorf("the refused shipment moved the case: %+v", it)
		}
	})

	t.Run("recall", func(t *testing.T) {
		evs := send(t, maker, maker.Admin, supply.Recall{GTIN: gtinOf(t, pack1), Lot: "L1"})
		var holders []string
		for _, e := range evs {
			if e.Type == supply.EventRecallNotice {
				holders = append(holders, e.Attr("holder")+":"+e.Attr("items"))
			}
		}
		if len(holders) != 1 || holders[0] != "org2:2" {
			t.Errorf("recall notices %v; want the pharmacy holding 2", holders)
		}
	})

	t.Run("clone", func(t *testing.T) {
		// pack1 was dispensed: seen again, it is recorded and flagged.
		captureOK(t, pharmacy, pharmacyTok, doc(observe("2025-03-01T08:00:00Z", "inspecting", pack1)))
		// The brand owner's account index may trail the commit a little.
		for range 100 {
			txs, err := maker.Client.AccountTxs(t.Context(), makerTok, addressOf(maker), 0, 50)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range txs {
				for _, e := range r.Events {
					if s, ok := supply.SuspectOf(e); ok && strings.HasSuffix(string(s.EPC), "/21/1001") && s.Reason == string(supply.Dispensed) {
						return
					}
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Error("the brand owner was not told of the dispensed serial seen again")
	})
}
