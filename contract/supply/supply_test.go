package supply_test

import (
	"bytes"
	"maps"
	"slices"
	"testing"

	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/tx"
)

func TestCheckDigits(t *testing.T) {
	for _, c := range []struct {
		epc  supply.EPC
		want bool
	}{
		{supply.SGTIN("09521234543213", "1234"), true}, // GS1 Digital Link's example
		{supply.SGTIN("09521234543214", "1234"), false},
		{supply.SSCC("106141412345678908"), true}, // GS1 General Specifications' example
		{supply.SSCC("106141412345678907"), false},
		{supply.SGTIN("0952123454321", "1"), false},
		{supply.SGTIN("09521234543213", "has space"), false},
		{supply.SGTIN("09521234543213", "123456789012345678901"), false},
		{"urn:epc:id:sgtin:0614141.107346.2017", false},
	} {
		if got := c.epc.Validate() == nil; got != c.want {
			t.Errorf("Validate(%s) ok = %v; want %v", c.epc, got, c.want)
		}
	}
}

func TestRegisterProduct(t *testing.T) {
	ch := newChain(t)
	gtinC := withCheck("0952123454323")
	for _, c := range []struct {
		name string
		org  string
		m    supply.RegisterProduct
		want tx.Code
	}{
		{"new product", maker, supply.RegisterProduct{Owner: maker, GTIN: gtinC, NDC: "1234-5678-90"}, tx.CodeOK},
		{"owner changes its rule", maker, supply.RegisterProduct{Owner: maker, GTIN: gtinC, Excursion: `value > 8000`}, tx.CodeOK},
		{"another owner's GTIN", rival, supply.RegisterProduct{Owner: rival, GTIN: gtinC}, tx.CodeAlreadyExists},
		{"signer of another org", rival, supply.RegisterProduct{Owner: maker, GTIN: gtinC}, tx.CodeWrongOrganization},
		{"owner not pharma", pharmacy, supply.RegisterProduct{Owner: pharmacy, GTIN: withCheck("0952123454324")}, tx.CodeUnauthorized},
		{"wrong check digit", maker, supply.RegisterProduct{Owner: maker, GTIN: "09521234543214"}, tx.CodeInvalid},
		{"bad NDC", maker, supply.RegisterProduct{Owner: maker, GTIN: gtinC, NDC: "12-34"}, tx.CodeInvalid},
		{"rule not CEL", maker, supply.RegisterProduct{Owner: maker, GTIN: gtinC, Excursion: `value >`}, tx.CodeInvalid},
		{"rule not boolean", maker, supply.RegisterProduct{Owner: maker, GTIN: gtinC, Excursion: `value + 1`}, tx.CodeInvalid},
		{"rule reads the unknown", maker, supply.RegisterProduct{Owner: maker, GTIN: gtinC, Excursion: `temperature > 8`}, tx.CodeInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ch.exec(c.org, c.m); got != c.want {
				t.Errorf("RegisterProduct(%+v) by %s = %v; want %v", c.m, c.org, got, c.want)
			}
		})
	}
	p, err := supply.LoadProduct(ch.s, gtinC)
	if err != nil || p == nil || p.Owner != maker || p.Excursion != `value > 8000` {
		t.Errorf("LoadProduct = %+v, %v; want maker's with the changed rule", p, err)
	}
}

// A case of packs goes from the manufacturer through a wholesaler to a
// pharmacy, which unpacks it and dispenses one pack.
func TestJourney(t *testing.T) {
	ch := newChain(t)
	packs, cs := items(3), supply.SSCC(ssccA)
	ch.commission("L1", 20271231, packs...)
	ch.pack(maker, cs, packs...)
	if code := ch.ship(maker, wholesaler, cs); code != tx.CodeOK {
		t.Fatalf("ship case = %v; want ok", code)
	}
	ch.wantStatus(packs[0], supply.InTransit, maker)
	if code := ch.step(wholesaler, supply.StepReceiving, cs); code != tx.CodeOK {
		t.Fatalf("receive case = %v; want ok", code)
	}
	ch.wantStatus(cs, supply.Received, wholesaler)
	ch.wantStatus(packs[2], supply.Received, wholesaler)

	unpack := ch.ev(supply.AggregationEvent, supply.Delete, "unpacking")
	unpack.Parent = cs
	ch.mustRecord(wholesaler, unpack)
	if code := ch.ship(wholesaler, pharmacy, packs[0]); code != tx.CodeOK {
		t.Fatalf("ship pack = %v; want ok", code)
	}
	if code := ch.step(pharmacy, supply.StepReceiving, packs[0]); code != tx.CodeOK {
		t.Fatalf("receive pack = %v; want ok", code)
	}
	if code := ch.step(pharmacy, supply.StepDispensing, packs[0]); code != tx.CodeOK {
		t.Fatalf("dispense = %v; want ok", code)
	}
	ch.wantStatus(packs[0], supply.Dispensed, pharmacy)
	ch.wantStatus(packs[1], supply.Received, wholesaler)

	hs, err := supply.Holders(ch.s, gtinA, "L1")
	want := []supply.Holding{{Org: wholesaler, Items: 2, Contact: addr(wholesaler)}}
	if err != nil || !slices.Equal(hs, want) {
		t.Errorf("Holders = %+v, %v; want %+v (a dispensed pack is held by nobody)", hs, err, want)
	}
	j, err := supply.Journey(ch.s, packs[0])
	// commissioning, packing, shipping the case, receiving it, unpacking,
	// shipping the pack, receiving it, dispensing it.
	if err != nil || len(j) != 8 {
		t.Errorf("Journey(%s) = %d events, %v; want 8", packs[0], len(j), err)
	}
	if len(j) > 0 && j[len(j)-1] != ch.eventHash(ch.n) {
		t.Errorf("Journey ends with %x; want the dispensing event", j[len(j)-1])
	}
}

func TestShippingRules(t *testing.T) {
	packs, cs := items(3), supply.SSCC(ssccA)
	setup := func(t *testing.T) *chain {
		ch := newChain(t)
		ch.commission("L1", 20271231, packs...)
		ch.pack(maker, cs, packs[:2]...)
		return ch
	}
	for _, c := range []struct {
		name string
		run  func(ch *chain) tx.Code
		want tx.Code
	}{
		{"holder ships", func(ch *chain) tx.Code { return ch.ship(maker, wholesaler, packs[2]) }, tx.CodeOK},
		{"case and its packs named together", func(ch *chain) tx.Code { return ch.ship(maker, wholesaler, packs[0], cs, packs[1]) }, tx.CodeOK},
		{"a pallet and a pack inside its case named together", func(ch *chain) tx.Code {
			pallet := supply.SSCC(ssccB)
			ch.pack(maker, pallet, cs)
			return ch.ship(maker, wholesaler, packs[1], pallet)
		}, tx.CodeOK},
		{"non-holder ships", func(ch *chain) tx.Code { return ch.ship(wholesaler, pharmacy, packs[2]) }, tx.CodeUnauthorized},
		{"no destination", func(ch *chain) tx.Code { return ch.ship(maker, "", packs[2]) }, tx.CodeInvalid},
		{"unknown destination", func(ch *chain) tx.Code { return ch.ship(maker, "nobody-here", packs[2]) }, tx.CodeNotFound},
		{"source is not the shipper", func(ch *chain) tx.Code {
			e := ch.ev(supply.ObjectEvent, supply.Observe, supply.StepShipping, packs[2])
			e.Source, e.Destination = rival, wholesaler
			return ch.record(maker, e)
		}, tx.CodeWrongOrganization},
		{"pack out of its case", func(ch *chain) tx.Code { return ch.ship(maker, wholesaler, packs[0]) }, tx.CodeInvalid},
		{"shipped twice", func(ch *chain) tx.Code { return ch.ship(maker, pharmacy, packs[2]) }, tx.CodeInvalid},
		{"received by another", func(ch *chain) tx.Code { return ch.step(pharmacy, supply.StepReceiving, packs[2]) }, tx.CodeInvalid},
		{"received unshipped", func(ch *chain) tx.Code { return ch.step(wholesaler, supply.StepReceiving, packs[2]) }, tx.CodeInvalid},
		{"packed by a non-holder", func(ch *chain) tx.Code {
			e := ch.ev(supply.AggregationEvent, supply.Add, "packing", packs[2])
			e.Parent = supply.SSCC(ssccB)
			return ch.record(wholesaler, e)
		}, tx.CodeUnauthorized},
		{"packed in two cases", func(ch *chain) tx.Code {
			e := ch.ev(supply.AggregationEvent, supply.Add, "packing", packs[0])
			e.Parent = supply.SSCC(ssccB)
			return ch.record(maker, e)
		}, tx.CodeInvalid},
		{"a case packed into its own content", func(ch *chain) tx.Code {
			e := ch.ev(supply.AggregationEvent, supply.Add, "packing", cs)
			e.Parent = packs[0]
			return ch.record(maker, e)
		}, tx.CodeInvalid},
		{"dispensing a case", func(ch *chain) tx.Code { return ch.step(maker, supply.StepDispensing, cs) }, tx.CodeInvalid},
		{"commissioned by a non-owner", func(ch *chain) tx.Code {
			return ch.record(rival, ch.ev(supply.ObjectEvent, supply.Add, supply.StepCommissioning, supply.SGTIN(gtinA, "X1")))
		}, tx.CodeUnauthorized},
		{"commissioned twice", func(ch *chain) tx.Code {
			return ch.record(maker, ch.ev(supply.ObjectEvent, supply.Add, supply.StepCommissioning, packs[2]))
		}, tx.CodeAlreadyExists},
	} {
		t.Run(c.name, func(t *testing.T) {
			ch := setup(t)
			if c.name == "shipped twice" || c.name == "received by another" {
				ch.ship(maker, wholesaler, packs[2])
			}
			before := maps.Clone(ch.s)
			got := c.run(ch)
			if got != c.want {
				t.Errorf("code %v; want %v", got, c.want)
			}
			if got != tx.CodeOK && !maps.EqualFunc(before, ch.s, bytes.Equal) {
				t.Error("a rejected record changed the state")
			}
		})
	}
}

// A record is applied whole or not at all: a bad event rejects the
// events before it.
func TestRecordIsAtomic(t *testing.T) {
	ch := newChain(t)
	p := items(1)[0]
	ok := ch.ev(supply.ObjectEvent, supply.Add, supply.StepCommissioning, p)
	bad := ch.ev(supply.ObjectEvent, supply.Observe, supply.StepShipping, p) // no destination
	if code := ch.record(maker, ok, bad); code != tx.CodeInvalid {
		t.Fatalf("record = %v; want invalid", code)
	}
	if it, _ := supply.LoadItem(ch.s, p); it != nil {
		t.Errorf("the first event's item exists after its record was rejected")
	}
}

func (ch *chain) eventHash(n byte) [32]byte { return ch.ev2hash(n) }
