package demo

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/tx"
)

// The demo's drug supply chain: Acme Pharma makes two products and ships a
// case of packs through North Wholesale to Corner Pharmacy. The GTINs and
// SSCC are GS1's documentation examples; nothing names a real product.
const (
	Manufacturer = "acme-pharma"
	Wholesaler   = "north-wholesale"
	Pharmacy     = "corner-pharmacy"
	// ProductGTIN is a tablet with no cold chain; VaccineGTIN a vaccine
	// kept between 2 and 8 °C.
	ProductGTIN = "09521234543213"
	VaccineGTIN = "09521234543220"
	// Lot and Expiry are the lot of every demo pack, and its expiry
	// (YYMMDD as GS1 AI 17 prints it).
	Lot        = "DEMO-LOT1"
	Expiry     = "281231"
	expiryDate = 20281231
	// CaseSSCC is the case that travels to the pharmacy.
	CaseSSCC = "106141412345678908"
	// The GLNs each organization claims in the chain's party directory
	// (GS1's documentation company prefixes 0614141 to 0614143), so that
	// EPCIS documents naming them (urn:epc:id:pgln:0614141.00000) resolve
	// to the organization at every node.
	ManufacturerGLN = "0614141000005"
	WholesalerGLN   = "0614142000004"
	PharmacyGLN     = "0614143000003"
)

// Pack returns the EPC of demo pack n (1 to 6) of ProductGTIN.
func Pack(n int) supply.EPC { return supply.SGTIN(ProductGTIN, fmt.Sprintf("PK%04d", n)) }

// supplyStep is one transaction of the demo's supply chain, signed by an
// organization's admin.
type supplyStep struct {
	org string
	msg contract.Msg
}

// event returns the chain's part of a demo EPCIS event. The demo records
// it through the contract's message directly; its hash stands for the CBV
// 2.0 hash a capture would compute from the document.
func event(n int, kind supply.Kind, action supply.Action, step, disposition string, epcs ...supply.EPC) supply.Event {
	return supply.Event{
		Hash: sha256.Sum256(fmt.Appendf(nil, "careledger demo event %d", n)), Kind: kind, Action: action,
		BizStep: step, Disposition: disposition, EPCs: epcs,
	}
}

func supplySteps() []supplyStep {
	packs := []supply.EPC{Pack(1), Pack(2), Pack(3), Pack(4), Pack(5), Pack(6)}
	commission := event(1, supply.ObjectEvent, supply.Add, supply.StepCommissioning, "active", packs...)
	commission.Lot, commission.Expiry = Lot, expiryDate
	pack := event(2, supply.AggregationEvent, supply.Add, "packing", "in_progress", packs[:4]...)
	pack.Parent = supply.SSCC(CaseSSCC)
	box := supply.SSCC(CaseSSCC)
	ship := func(n int, from, to string) supply.Event {
		e := event(n, supply.ObjectEvent, supply.Observe, supply.StepShipping, "in_transit", box)
		e.Source, e.Destination = from, to
		return e
	}
	receive := func(n int, from, to string) supply.Event {
		e := event(n, supply.ObjectEvent, supply.Observe, supply.StepReceiving, "in_progress", box)
		e.Source, e.Destination = from, to
		return e
	}
	return []supplyStep{
		{Manufacturer, supply.ClaimParties{Org: Manufacturer, GLNs: []string{ManufacturerGLN}}},
		{Wholesaler, supply.ClaimParties{Org: Wholesaler, GLNs: []string{WholesalerGLN}}},
		{Pharmacy, supply.ClaimParties{Org: Pharmacy, GLNs: []string{PharmacyGLN}}},
		{Manufacturer, supply.RegisterProduct{Owner: Manufacturer, GTIN: ProductGTIN, NDC: "12345-6789-01"}},
		{Manufacturer, supply.RegisterProduct{Owner: Manufacturer, GTIN: VaccineGTIN, NDC: "12345-6790-01",
			Excursion: `type == "Temperature" && (value < 2000 || value > 8000)`}},
		{Manufacturer, supply.Record{Events: []supply.Event{commission, pack, ship(3, Manufacturer, Wholesaler)}}},
		{Wholesaler, supply.Record{Events: []supply.Event{receive(4, Manufacturer, Wholesaler), ship(5, Wholesaler, Pharmacy)}}},
		{Pharmacy, supply.Record{Events: []supply.Event{receive(6, Wholesaler, Pharmacy)}}},
	}
}

// seedSupply records the demo's supply chain unless the pharmacy's
// journey of the case shows it already.
func seedSupply(ctx context.Context, c *client.Client, dir keys.Dir) error {
	pharmacist, err := dir.Load(adminKey(Pharmacy), nil)
	if err != nil {
		return fmt.Errorf("demo admin key: %w", err)
	}
	tok, err := c.Token(ctx, pharmacist)
	if err != nil {
		return err
	}
	if _, err := c.Journey(ctx, tok, "/00/"+CaseSSCC); err == nil {
		return nil
	} else if !client.IsCode(err, tx.CodeNotFound) {
		return err
	}
	for _, st := range supplySteps() {
		key, err := dir.Load(adminKey(st.org), nil)
		if err != nil {
			return fmt.Errorf("demo admin key: %w", err)
		}
		if _, err := c.Send(ctx, key, contract.Encode(st.msg)); err != nil {
			return fmt.Errorf("demo supply chain as %s: %w", st.org, err)
		}
	}
	return nil
}
