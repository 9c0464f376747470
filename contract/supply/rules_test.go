package supply_test

import (
	"bytes"
	"reflect"
	"slices"
	"testing"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/condition"
	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/tx"
)

// A serial seen where it cannot be is recorded and flagged, naming its
// brand owner and holder so that both hear of it.
func TestSuspect(t *testing.T) {
	for _, c := range []struct {
		name       string
		prepare    func(ch *chain, p supply.EPC)
		step       string
		reason     string
		holder     string
		notifyWith []string // organizations whose admins the event names
	}{
		{"never commissioned", func(*chain, supply.EPC) {}, "inspecting", "never_commissioned", "", []string{maker, pharmacy}},
		{"dispensed", func(ch *chain, p supply.EPC) {
			ch.ship(maker, pharmacy, p)
			ch.step(pharmacy, supply.StepReceiving, p)
			ch.step(pharmacy, supply.StepDispensing, p)
		}, "inspecting", "dispensed", pharmacy, []string{maker, pharmacy}},
		{"decommissioned, then shipped", func(ch *chain, p supply.EPC) {
			ch.step(maker, supply.StepDecommissioning, p)
		}, supply.StepShipping, "decommissioned", maker, []string{maker, pharmacy}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ch := newChain(t)
			p := supply.SGTIN(gtinA, "CLONE1")
			if c.name != "never commissioned" {
				ch.commission("L1", 20271231, p)
			}
			c.prepare(ch, p)
			e := ch.ev(supply.ObjectEvent, supply.Observe, c.step, p)
			e.Destination = wholesaler
			if code := ch.record(pharmacy, e); code != tx.CodeOK {
				t.Fatalf("record = %v; want ok (recorded and flagged)", code)
			}
			sus := ch.eventsOf(supply.EventSuspect)
			if len(sus) != 1 {
				t.Fatalf("%d suspect events; want 1", len(sus))
			}
			got, ok := supply.SuspectOf(sus[0])
			want := supply.Suspect{Event: hexOf(e.Hash), EPC: p, Reason: c.reason, BrandOwner: maker, Holder: c.holder}
			if !ok || got != want {
				t.Errorf("SuspectOf = %+v, %v; want %+v", got, ok, want)
			}
			for _, org := range c.notifyWith {
				if !slices.Contains(sus[0].Accounts, addr(org)) {
					t.Errorf("suspect event accounts %v lack %s's", sus[0].Accounts, org)
				}
			}
			// The audit log indexes the event under each "org" it names.
			if orgs := sus[0].Values("org"); !slices.Contains(orgs, maker) || (c.holder != "" && !slices.Contains(orgs, c.holder)) {
				t.Errorf("suspect event orgs %v; want the brand owner and the holder", orgs)
			}
			if rec, _ := supply.LoadEvent(ch.s, e.Hash); rec == nil {
				t.Error("the suspect sighting's event is not recorded")
			}
		})
	}
	t.Run("a clone among genuine packs", func(t *testing.T) {
		ch := newChain(t)
		packs := items(2)
		ch.commission("L1", 0, packs...)
		clone := supply.SGTIN(gtinA, "CLONE2")
		if code := ch.ship(maker, wholesaler, packs[0], clone, packs[1]); code != tx.CodeOK {
			t.Fatalf("ship = %v; want ok", code)
		}
		if n := len(ch.eventsOf(supply.EventSuspect)); n != 1 {
			t.Errorf("%d suspect events; want 1", n)
		}
		ch.wantStatus(packs[1], supply.InTransit, maker)
	})
	t.Run("commissioned again after decommissioning", func(t *testing.T) {
		ch := newChain(t)
		p := items(1)[0]
		ch.commission("L1", 0, p)
		ch.step(maker, supply.StepDecommissioning, p)
		ch.commission("L1", 0, p)
		if n := len(ch.eventsOf(supply.EventSuspect)); n != 1 {
			t.Errorf("%d suspect events; want 1", n)
		}
		ch.wantStatus(p, supply.Decommissioned, maker)
	})
}

func TestDuplicatesAndErrorDeclarations(t *testing.T) {
	ch := newChain(t)
	p := items(1)[0]
	first := ch.ev(supply.ObjectEvent, supply.Add, supply.StepCommissioning, p)
	ch.mustRecord(maker, first)
	insp := ch.ev(supply.ObjectEvent, supply.Observe, "inspecting", p)
	ch.mustRecord(maker, insp)

	declare := func(hash, corrects [32]byte) supply.Event {
		e := insp
		e.Hash, e.Corrects = hash, &corrects
		return e
	}
	other := ch.ev(supply.ObjectEvent, supply.Observe, "inspecting", p).Hash
	for _, c := range []struct {
		name string
		org  string
		e    supply.Event
		want tx.Code
	}{
		{"the same event again", maker, insp, tx.CodeAlreadyExists},
		{"declared by another organization", wholesaler, declare(insp.Hash, insp.Hash), tx.CodeWrongOrganization},
		{"declaring an unknown event", maker, declare(other, other), tx.CodeNotFound},
		{"error declaration under the same hash", maker, declare(insp.Hash, insp.Hash), tx.CodeOK},
		{"declared twice", maker, declare(other, insp.Hash), tx.CodeAlreadyExists},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ch.record(c.org, c.e); got != c.want {
				t.Errorf("record = %v; want %v", got, c.want)
			}
		})
	}
	if s := tx.CodeAlreadyExists.HTTPStatus(); s != 409 {
		t.Errorf("a duplicate answers HTTP %d; want 409", s)
	}
	rec, err := supply.LoadEvent(ch.s, insp.Hash)
	if err != nil || rec == nil || rec.DeclaredBy == nil || *rec.DeclaredBy != tx.Hash(insp.Hash) {
		t.Errorf("LoadEvent = %+v, %v; want declared erroneous by its declaration", rec, err)
	}
	ch.wantStatus(p, supply.Active, maker)
}

// A reading that breaks the cold-chain rule quarantines the case and its
// packs in the same record; shipping and dispensing them are refused until
// the brand owner's release.
func TestColdChain(t *testing.T) {
	packs, cs := items(3), supply.SSCC(ssccA)
	reading := func(ch *chain, r supply.Reading) tx.Code {
		e := ch.ev(supply.ObjectEvent, supply.Observe, "storing", cs)
		e.Readings = []supply.Reading{{Type: "Temperature", Value: 5000, UOM: "CEL"}, r}
		return ch.record(maker, e)
	}
	for _, c := range []struct {
		name        string
		r           supply.Reading
		quarantined bool
	}{
		{"within 2 to 8 °C", supply.Reading{Type: "Temperature", Value: 8000, UOM: "CEL"}, false},
		{"above 8 °C", supply.Reading{Type: "Temperature", Value: 8001, UOM: "CEL"}, true},
		{"below 2 °C", supply.Reading{Type: "Temperature", Value: -500, UOM: "CEL"}, true},
		{"an alarm", supply.Reading{Type: "Humidity", Value: 0, Exception: "ALARM_CONDITION"}, true},
		{"another sensor", supply.Reading{Type: "Humidity", Value: 90000}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ch := newChain(t)
			ch.commission("L1", 20271231, packs...)
			ch.pack(maker, cs, packs...)
			if code := reading(ch, c.r); code != tx.CodeOK {
				t.Fatalf("record reading = %v; want ok", code)
			}
			qs := ch.eventsOf(supply.EventQuarantined)
			if !c.quarantined {
				if len(qs) != 0 {
					t.Errorf("%d quarantines; want none", len(qs))
				}
				return
			}
			q, ok := supply.QuarantineOf(qs[0])
			if len(qs) != 1 || !ok || q.EPC != cs || q.Items != 4 || q.GTIN != gtinA || q.Holder != maker {
				t.Fatalf("quarantines %+v; want the case and its 3 packs", qs)
			}
			ch.wantStatus(packs[1], supply.Quarantined, maker)
			if code := ch.ship(maker, wholesaler, cs); code != tx.CodeInvalid {
				t.Errorf("ship quarantined case = %v; want invalid", code)
			}
			if code := ch.step(maker, supply.StepDispensing, packs[0]); code != tx.CodeInvalid {
				t.Errorf("dispense quarantined pack = %v; want invalid", code)
			}
			if code := ch.exec(rival, supply.Release{EPCs: []supply.EPC{cs}}); code != tx.CodeWrongOrganization {
				t.Errorf("release by another brand owner = %v; want wrong_organization", code)
			}
			ch.must(maker, supply.Release{EPCs: []supply.EPC{cs}})
			ch.wantStatus(packs[1], supply.Active, maker)
			if code := ch.ship(maker, wholesaler, cs); code != tx.CodeOK {
				t.Errorf("ship released case = %v; want ok", code)
			}
		})
	}
}

// Each EPC an event names is judged by the rules of the products under it:
// a product without a cold chain beside one with it.
func TestColdChainPerEPC(t *testing.T) {
	ch := newChain(t)
	warm, cold := supply.SGTIN(gtinB, "W1"), items(1)[0]
	ch.commission("L1", 0, cold)
	ch.mustRecord(rival, ch.ev(supply.ObjectEvent, supply.Add, supply.StepCommissioning, warm))
	e := ch.ev(supply.ObjectEvent, supply.Observe, "storing", warm, cold)
	e.Readings = []supply.Reading{{Type: "Temperature", Value: 25000, UOM: "CEL"}}
	ch.mustRecord(pharmacy, e)
	ch.wantStatus(warm, supply.Active, rival)
	ch.wantStatus(cold, supply.Quarantined, maker)
}

func TestExpiry(t *testing.T) {
	for _, c := range []struct {
		expiry uint32
		want   tx.Code
	}{
		{20250531, tx.CodeInvalid}, // the day before the block's date
		{20250601, tx.CodeOK},      // the block's date: still usable
		{0, tx.CodeOK},             // none given
	} {
		ch := newChain(t)
		p := items(1)[0]
		ch.commission("L1", c.expiry, p)
		if got := ch.step(maker, supply.StepDispensing, p); got != c.want {
			t.Errorf("dispense, expiry %d, block date 20250601 = %v; want %v", c.expiry, got, c.want)
		}
	}
}

func TestRecall(t *testing.T) {
	ch := newChain(t)
	lot1, lot2 := items(5), supply.SGTIN(gtinA, "OTHERLOT")
	ch.commission("L1", 20271231, lot1...)
	ch.commission("L2", 20271231, lot2)
	ch.ship(maker, wholesaler, lot1[:3]...)
	ch.step(wholesaler, supply.StepReceiving, lot1[:3]...)
	ch.ship(wholesaler, pharmacy, lot1[0])
	ch.step(pharmacy, supply.StepReceiving, lot1[0])

	if code := ch.exec(rival, supply.Recall{GTIN: gtinA, Lot: "L1"}); code != tx.CodeWrongOrganization {
		t.Errorf("recall by another brand owner = %v; want wrong_organization", code)
	}
	ch.must(maker, supply.Recall{GTIN: gtinA, Lot: "L1"})
	var got []supply.RecallNotice
	for _, e := range ch.eventsOf(supply.EventRecallNotice) {
		n, ok := supply.RecallNoticeOf(e)
		if !ok || !slices.Equal(e.Values("org"), []string{n.Holder}) {
			t.Fatalf("RecallNoticeOf(%+v) = %+v, %v; want a notice indexed under its holder", e, n, ok)
		}
		got = append(got, n)
	}
	want := []supply.RecallNotice{
		{GTIN: gtinA, Lot: "L1", Holder: maker, Items: 2},
		{GTIN: gtinA, Lot: "L1", Holder: pharmacy, Items: 1},
		{GTIN: gtinA, Lot: "L1", Holder: wholesaler, Items: 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("recall notices %+v; want %+v", got, want)
	}
	if len(ch.eventsOf(supply.EventRecalled)) != 1 {
		t.Error("no supply.recalled event")
	}
	ch.wantStatus(lot1[0], supply.Recalled, pharmacy)
	ch.wantStatus(lot2, supply.Active, maker)
	if code := ch.step(pharmacy, supply.StepDispensing, lot1[0]); code != tx.CodeInvalid {
		t.Errorf("dispense recalled = %v; want invalid", code)
	}
	if code := ch.ship(pharmacy, maker, lot1[0]); code != tx.CodeOK {
		t.Errorf("return recalled to its maker = %v; want ok", code)
	}
	if code := ch.exec(maker, supply.Recall{GTIN: gtinA, Lot: "L1"}); code != tx.CodeAlreadyExists {
		t.Errorf("recall again = %v; want already_exists", code)
	}
	var listed []string
	if err := supply.LotUnits(ch.s, gtinA, "L1", func(serial, holder string) bool {
		listed = append(listed, serial+"@"+holder)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	// S0000 went to the pharmacy and back in transit (still the pharmacy's
	// until its maker receives it).
	wantUnits := []string{"S0000@" + pharmacy, "S0001@" + wholesaler, "S0002@" + wholesaler, "S0003@" + maker, "S0004@" + maker}
	if !slices.Equal(listed, wantUnits) {
		t.Errorf("LotUnits = %v; want %v", listed, wantUnits)
	}
}

func TestVerify(t *testing.T) {
	ch := newChain(t)
	p := items(1)[0]
	ch.commission("L1", 20271231, p)
	gtin, serial, _ := p.Item()
	for _, c := range []struct {
		name, gtin, serial, lot string
		expiry                  uint32
		want                    supply.Verification
	}{
		{"genuine", gtin, serial, "L1", 20271231, supply.Verification{Known: true, Verified: true, Status: supply.Active, BrandOwner: maker}},
		{"lot and expiry not asked", gtin, serial, "", 0, supply.Verification{Known: true, Verified: true, Status: supply.Active, BrandOwner: maker}},
		{"lot mismatch", gtin, serial, "L9", 20271231, supply.Verification{Known: true, Status: supply.Active, LotMismatch: true, BrandOwner: maker}},
		{"expiry mismatch", gtin, serial, "L1", 20280101, supply.Verification{Known: true, Status: supply.Active, ExpiryMismatch: true, BrandOwner: maker}},
		{"unknown serial", gtin, "NOPE", "L1", 0, supply.Verification{}},
		{"bad GTIN", "09521234543214", serial, "", 0, supply.Verification{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := supply.Verify(ch.s, c.gtin, c.serial, c.lot, c.expiry)
			if err != nil || got != c.want {
				t.Errorf("Verify(%s, %s, %s, %d) = %+v, %v; want %+v", c.gtin, c.serial, c.lot, c.expiry, got, err, c.want)
			}
		})
	}
}

// A document of 100 events, each naming a pack with a lot, an expiry,
// parties and a reading, fits one transaction under the default limit.
func TestHundredEventsFitATransaction(t *testing.T) {
	ch := newChain(t)
	var es []supply.Event
	for i, p := range items(100) {
		e := ch.ev(supply.ObjectEvent, supply.Observe, supply.StepShipping, p)
		e.Hash[0] = byte(i)
		e.Disposition, e.Source, e.Destination, e.Lot, e.Expiry = "in_transit", maker, wholesaler, "LOT-2025-0001", 20271231
		e.Readings = []supply.Reading{{Type: "Temperature", Value: 5000, UOM: "CEL"}}
		es = append(es, e)
	}
	m := contract.Encode(supply.Record{Events: es})
	const envelope = 256 // chain ID, signer, sequence, signature, lengths
	if n := len(m.Body) + envelope; n > tx.DefaultLimits.MaxTxBytes {
		t.Errorf("100 events take %d bytes; want at most %d", n, tx.DefaultLimits.MaxTxBytes)
	}
}

var sampleMsgs = []contract.Msg{
	supply.RegisterProduct{Owner: maker, GTIN: gtinA, NDC: "12345-6789-01", Excursion: `value > 8000`},
	supply.Record{Events: []supply.Event{{
		Hash: [32]byte{1}, Kind: supply.AggregationEvent, Action: supply.Add, BizStep: "packing", Disposition: "in_progress",
		EPCs: []supply.EPC{supply.SGTIN(gtinA, "A1")}, Parent: supply.SSCC(ssccA), Source: maker, Destination: wholesaler,
		Lot: "L1", Expiry: 20271231, Readings: []supply.Reading{{Type: "Temperature", Value: -1500, UOM: "CEL", Exception: "ALARM_CONDITION"}},
	}, {
		Hash: [32]byte{2}, Kind: supply.TransformationEvent, Inputs: []supply.EPC{supply.SGTIN(gtinA, "A2")},
		Outputs: []supply.EPC{supply.SGTIN(gtinA, "A3")}, Corrects: &[32]byte{1},
	}}},
	supply.Release{EPCs: []supply.EPC{supply.SSCC(ssccA)}},
	supply.Recall{GTIN: gtinA, Lot: "L1"},
	supply.Verifications{Receipts: []supply.Receipt{
		{Requester: addr(pharmacy), GTIN: gtinA, Serial: "A1", Lot: "L1", Expiry: 20271231, Height: 7},
		{Requester: addr(wholesaler), GTIN: gtinB, Serial: "B9", Height: 8, Reason: supply.ReasonUnknown},
	}},
	supply.ClaimParties{Org: maker, GLNs: []string{glnMaker, glnMakerDC}},
	supply.ReleaseParties{Org: maker, GLNs: []string{glnMakerDC}},
}

func TestEncodeDecode(t *testing.T) {
	c := newChain(t).c
	for _, m := range sampleMsgs {
		enc := contract.Encode(m)
		got, err := c.Decode(enc.Type, enc.Body)
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("Decode(Encode(%+v)) = %+v, %v; want the message", m, got, err)
		}
	}
	ev := func(f func(e *supply.Event)) contract.Msg {
		e := supply.Event{Hash: [32]byte{1}, Kind: supply.ObjectEvent, Action: supply.Observe, EPCs: []supply.EPC{supply.SGTIN(gtinA, "A1")}}
		f(&e)
		return supply.Record{Events: []supply.Event{e}}
	}
	for name, bad := range map[string]contract.Msg{
		"no events":         supply.Record{},
		"no hash":           ev(func(e *supply.Event) { e.Hash = [32]byte{} }),
		"unknown type":      ev(func(e *supply.Event) { e.Kind = 9 }),
		"no action":         ev(func(e *supply.Event) { e.Action = supply.NoAction }),
		"bizStep URI":       ev(func(e *supply.Event) { e.BizStep = "urn:epcglobal:cbv:bizstep:shipping" }),
		"malformed EPC":     ev(func(e *supply.Event) { e.EPCs = []supply.EPC{"urn:epc:id:sgtin:0614141.107346.2017"} }),
		"wrong GTIN check":  ev(func(e *supply.Event) { e.EPCs = []supply.EPC{supply.SGTIN("09521234543214", "1")} }),
		"EPC twice":         ev(func(e *supply.Event) { e.EPCs = append(e.EPCs, e.EPCs[0]) }),
		"aggregation alone": ev(func(e *supply.Event) { e.Kind, e.Action = supply.AggregationEvent, supply.Add }),
		"bad expiry":        ev(func(e *supply.Event) { e.Expiry = 20250230 }),
		"bad party":         ev(func(e *supply.Event) { e.Destination = "Not An Org" }),
		"reading no type":   ev(func(e *supply.Event) { e.Readings = []supply.Reading{{Value: 1}} }),
		"lot with space":    supply.Recall{GTIN: gtinA, Lot: "L 1"},
		"empty release":     supply.Release{},
		"no GLNs":           supply.ClaimParties{Org: maker},
		"GLN check digit":   supply.ClaimParties{Org: maker, GLNs: []string{glnMaker[:12] + "0"}},
		"GLN twice":         supply.ReleaseParties{Org: maker, GLNs: []string{glnMaker, glnMaker}},
		"GLN of 12 digits":  supply.ClaimParties{Org: maker, GLNs: []string{glnMaker[:12]}},
	} {
		enc := contract.Encode(bad)
		if _, err := c.Decode(enc.Type, enc.Body); err == nil {
			t.Errorf("Decode(%s) = nil error; want a rejection", name)
		} else if code, _ := tx.CodeOf(err); code != tx.CodeInvalid && code != tx.CodeAlreadyExists {
			t.Errorf("Decode(%s) code %v; want invalid", name, code)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, m := range sampleMsgs {
		enc := contract.Encode(m)
		f.Add(enc.Type, enc.Body)
	}
	c := supply.New(condition.NewEngine(16)).Describe()
	f.Fuzz(func(t *testing.T, typ uint64, body []byte) {
		m, err := c.Decode(typ, body)
		if err != nil {
			if _, ok := tx.CodeOf(err); !ok {
				t.Fatalf("Decode(%d, %x) = %v; want a *tx.Rejection", typ, body, err)
			}
			return
		}
		if enc := contract.Encode(m); enc.Type != typ || !bytes.Equal(enc.Body, body) {
			t.Fatalf("Encode(Decode(%d, %x)) = %d, %x; want the input", typ, body, enc.Type, enc.Body)
		}
	})
}
