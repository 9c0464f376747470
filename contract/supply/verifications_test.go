package supply_test

import (
	"testing"

	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/tx"
)

func TestVerificationReasons(t *testing.T) {
	ch := newChain(t)
	live, gone := supply.SGTIN(gtinA, "V1"), supply.SGTIN(gtinA, "V2")
	ch.commission("LOT1", 20270131, live, gone)
	if code := ch.step(maker, "dispensing", gone); code != tx.CodeOK {
		t.Fatalf("dispensing = %v; want ok", code)
	}
	for _, c := range []struct {
		name, serial, lot string
		expiry            uint32
		want              string
	}{
		{"matching", "V1", "LOT1", 20270131, ""},
		{"nothing asked but the serial", "V1", "", 0, ""},
		{"unknown serial", "NOPE", "LOT1", 20270131, supply.ReasonUnknown},
		{"wrong lot", "V1", "LOT2", 20270131, supply.ReasonLotMismatch},
		{"wrong expiry", "V1", "LOT1", 20270130, supply.ReasonExpiryMismatch},
		{"both wrong", "V1", "LOT2", 20270130, supply.ReasonLotExpiry},
		{"dispensed", "V2", "LOT1", 20270131, supply.ReasonDispensed},
	} {
		v, err := supply.Verify(ch.s, gtinA, c.serial, c.lot, c.expiry)
		if err != nil || v.Reason() != c.want {
			t.Errorf("%s: Verify(%s, %s, %d).Reason() = %q, %v; want %q", c.name, c.serial, c.lot, c.expiry, v.Reason(), err, c.want)
		}
	}
	ch.must(maker, supply.Recall{GTIN: gtinA, Lot: "LOT1"})
	if v, _ := supply.Verify(ch.s, gtinA, "V1", "LOT1", 0); v.Reason() != supply.ReasonRecalled {
		t.Errorf("after the recall: Reason() = %q; want %q", v.Reason(), supply.ReasonRecalled)
	}
}

func TestVerificationsMessage(t *testing.T) {
	ch := newChain(t)
	asker := addr(pharmacy)
	ok := supply.Receipt{Requester: asker, GTIN: gtinA, Serial: "V1", Lot: "LOT1", Expiry: 20270131, Height: 1}
	for _, c := range []struct {
		name string
		org  string
		m    supply.Verifications
		want tx.Code
	}{
		{"a responder's receipts", wholesaler, supply.Verifications{Receipts: []supply.Receipt{ok, {Requester: asker, GTIN: gtinA, Serial: "X", Height: 1, Reason: supply.ReasonUnknown}}}, tx.CodeOK},
		{"no receipts", wholesaler, supply.Verifications{}, tx.CodeInvalid},
		{"unknown reason", wholesaler, supply.Verifications{Receipts: []supply.Receipt{{Requester: asker, GTIN: gtinA, Serial: "V1", Height: 1, Reason: "fine"}}}, tx.CodeInvalid},
		{"bad GTIN", wholesaler, supply.Verifications{Receipts: []supply.Receipt{{Requester: asker, GTIN: "09521234543214", Serial: "V1", Height: 1}}}, tx.CodeInvalid},
		{"no requester", wholesaler, supply.Verifications{Receipts: []supply.Receipt{{GTIN: gtinA, Serial: "V1", Height: 1}}}, tx.CodeInvalid},
		{"height not committed", wholesaler, supply.Verifications{Receipts: []supply.Receipt{{Requester: asker, GTIN: gtinA, Serial: "V1", Height: 1 << 40}}}, tx.CodeInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ch.exec(c.org, c.m); got != c.want {
				t.Fatalf("Verifications(%+v) by %s = %v; want %v", c.m, c.org, got, c.want)
			}
			if c.want != tx.CodeOK {
				return
			}
			evs := ch.eventsOf(supply.EventVerification)
			if len(evs) != len(c.m.Receipts) {
				t.Fatalf("%d supply.verification events; want one per receipt (%d)", len(evs), len(c.m.Receipts))
			}
			r, responder, ok := supply.VerificationOf(evs[1])
			if !ok || responder != c.org || r.Requester != asker || r.Serial != "X" || r.Reason != supply.ReasonUnknown || evs[1].Attr("verified") != "false" {
				t.Errorf("VerificationOf(%v) = %+v, %s, %v; want the second receipt, answered by %s", evs[1], r, responder, ok, c.org)
			}
			if len(evs[0].Accounts) != 1 || evs[0].Accounts[0] != asker {
				t.Errorf("event accounts = %v; want the requester %s", evs[0].Accounts, asker)
			}
		})
	}
}
