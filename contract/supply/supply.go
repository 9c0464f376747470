// Package supply is the supply-chain contract: products and their
// cold-chain rules (master data), the state of every serialized item
// (SGTIN) and logistic unit (SSCC) that captured GS1 EPCIS 2.0 events
// change, quarantines, quality releases and recalls, and the reads the
// DSCSA verification and journey queries answer from.
//
// The chain keeps each event's CBV 2.0 hash as its key and the fields its
// rules need; the event's body stays at the capturing organization. The
// HTTP layer parses EPCIS documents, computes the hashes and converts EPCs
// (package epcis); this package never parses EPCIS.
//
// Rules: only the holder ships (to a destination), packs, dispenses or
// decommissions; receiving must match a shipment to the receiver; a serial
// seen although never commissioned, dispensed, decommissioned or destroyed
// is recorded and flagged suspect; an expired, recalled or quarantined item
// cannot be dispensed; a reading that breaks a product's cold-chain rule
// quarantines the items and everything aggregated under them, and shipping
// them is refused until the brand owner's release; a recall turns a lot's
// live items recalled and names every holder.
//
// supply imports contract, condition, identity, tx and wire.
package supply

import (
	"fmt"
	"strconv"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/condition"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// Contract executes supply messages.
type Contract struct {
	// Engine evaluates cold-chain rules.
	Engine *condition.Engine
}

// New returns the contract, evaluating cold-chain rules with engine.
func New(engine *condition.Engine) *Contract { return &Contract{Engine: engine} }

// Describe returns the supply contract's description.
func (c *Contract) Describe() contract.Contract {
	return contract.Contract{
		Name: "supply",
		Msgs: []contract.MsgSpec{
			contract.Message("supply/register_product", readRegisterProduct, c.validateProduct, c.registerProduct),
			contract.Message("supply/record", readRecord, Record.validate, c.record),
			contract.Message("supply/release", readRelease, Release.validate, release),
			contract.Message("supply/recall", readRecall, Recall.validate, recall),
			contract.Message("supply/verifications", readVerifications, Verifications.validate, verifications),
			contract.Message("supply/claim_parties", readClaimParties, ClaimParties.validate, claimParties),
			contract.Message("supply/release_parties", readReleaseParties, ReleaseParties.validate, releaseParties),
		},
		Events: eventSpecs(),
	}
}

func (c *Contract) validateProduct(m RegisterProduct) error { return m.validate(c.CheckExcursion) }

// requireOwner returns the signer's account if it is an admin or service
// member of org.
func requireOwner(ctx *contract.Context, org string) (*identity.Account, error) {
	return identity.RequireRole(ctx, org, identity.Admin, identity.Service)
}

func (c *Contract) registerProduct(ctx *contract.Context, m RegisterProduct) error {
	if _, err := requireOwner(ctx, m.Owner); err != nil {
		return err
	}
	org, err := identity.LoadOrg(ctx.Store, m.Owner)
	if err != nil {
		return err
	}
	if org.Type != identity.Pharma {
		return tx.Rejectf(tx.CodeUnauthorized, "a brand owner is an organization of type pharma, not %s", org.Type)
	}
	old, err := LoadProduct(ctx.Store, m.GTIN)
	if err != nil {
		return err
	}
	if old != nil && old.Owner != m.Owner {
		return tx.Rejectf(tx.CodeAlreadyExists, "GTIN %s belongs to %s", m.GTIN, old.Owner)
	}
	p := &Product{GTIN: m.GTIN, Owner: m.Owner, NDC: m.NDC, Excursion: m.Excursion, Contact: ctx.Signer, Height: ctx.Height}
	if err := saveProduct(ctx.Store, p); err != nil {
		return err
	}
	ctx.Emit(contract.Event{
		Type: EventProduct,
		Attrs: []contract.Attr{
			{Key: "gtin", Value: m.GTIN}, {Key: "owner", Value: m.Owner},
			{Key: "cold_chain", Value: strconv.FormatBool(m.Excursion != "")},
			{Key: "updated", Value: strconv.FormatBool(old != nil)},
		},
		Accounts: []tx.Address{ctx.Signer},
	})
	return nil
}

// productOwnedBy returns gtin's product, rejecting a GTIN not registered or
// not owned by the signer's organization.
func productOwnedBy(ctx *contract.Context, gtin string) (*Product, error) {
	p, err := LoadProduct(ctx.Store, gtin)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, tx.Rejectf(tx.CodeNotFound, "GTIN %s is not registered", gtin)
	}
	if _, err := requireOwner(ctx, p.Owner); err != nil {
		return nil, err
	}
	return p, nil
}

func recall(ctx *contract.Context, m Recall) error {
	p, err := productOwnedBy(ctx, m.GTIN)
	if err != nil {
		return err
	}
	if old, err := LoadRecall(ctx.Store, m.GTIN, m.Lot); err != nil {
		return err
	} else if old != nil {
		return tx.Rejectf(tx.CodeAlreadyExists, "lot %s of %s was recalled at height %d", m.Lot, m.GTIN, old.Height)
	}
	w := wire.NewWriter(32)
	w.Raw(ctx.Signer[:])
	w.Uint(uint64(ctx.Height))
	if err := ctx.Store.Set(recallKey(m.GTIN, m.Lot), w.Bytes()); err != nil {
		return err
	}
	hs, err := Holders(ctx.Store, m.GTIN, m.Lot)
	if err != nil {
		return err
	}
	lot := []contract.Attr{{Key: "gtin", Value: m.GTIN}, {Key: "lot", Value: m.Lot}}
	ctx.Emit(contract.Event{
		Type:     EventRecalled,
		Attrs:    append(lot, contract.Attr{Key: "brand_owner", Value: p.Owner}, contract.Attr{Key: "holders", Value: strconv.Itoa(len(hs))}, contract.Attr{Key: "org", Value: p.Owner}),
		Accounts: []tx.Address{ctx.Signer},
	})
	for _, h := range hs {
		ctx.Emit(contract.Event{
			Type:     EventRecallNotice,
			Attrs:    append(lot[:2:2], contract.Attr{Key: "holder", Value: h.Org}, contract.Attr{Key: "items", Value: strconv.FormatUint(h.Items, 10)}, contract.Attr{Key: "org", Value: h.Org}),
			Accounts: notify(h.Contact),
		})
	}
	return nil
}

func release(ctx *contract.Context, m Release) error {
	for _, e := range m.EPCs {
		top, err := LoadItem(ctx.Store, e)
		if err != nil {
			return err
		}
		if top == nil {
			return tx.Rejectf(tx.CodeNotFound, "%s is not known", e)
		}
		released := 0
		err = walk(ctx.Store, top, func(it *Item) error {
			if !it.Quarantined {
				return nil
			}
			if gtin, _, ok := it.EPC.Item(); ok {
				if _, err := productOwnedBy(ctx, gtin); err != nil {
					return err
				}
			}
			it.Quarantined = false
			released++
			return saveItem(ctx.Store, it)
		})
		if err != nil {
			return err
		}
		if released == 0 {
			return tx.Rejectf(tx.CodeInvalid, "nothing under %s is quarantined", e)
		}
		ctx.Emit(contract.Event{
			Type:     EventReleased,
			Attrs:    []contract.Attr{{Key: "epc", Value: string(e)}, {Key: "items", Value: strconv.Itoa(released)}, {Key: "holder", Value: top.Holder}},
			Accounts: notify(ctx.Signer, top.HolderContact),
		})
	}
	return nil
}

// maxDepth bounds aggregation: a pallet of cases of bundles of packs is 4.
const maxDepth = 8

// walk calls fn for it and everything aggregated under it, parents first,
// children in order. fn may change and save the item it is given.
func walk(s identity.Reader, it *Item, fn func(*Item) error) error {
	return walkLevels(s, it, 0, func(x *Item, _ int) error { return fn(x) })
}

// walkLevels calls fn as walk does, with each item's depth under it. An
// aggregate deeper than maxDepth or naming a missing child is a fault: the
// rules that pack items never make one.
func walkLevels(s identity.Reader, it *Item, d int, fn func(*Item, int) error) error {
	if d > maxDepth {
		return fmt.Errorf("aggregation under %s is deeper than %d", it.EPC, maxDepth)
	}
	children := it.Children
	if err := fn(it, d); err != nil {
		return err
	}
	for _, c := range children {
		child, err := LoadItem(s, c)
		if err != nil {
			return err
		}
		if child == nil {
			return fmt.Errorf("%s names missing child %s", it.EPC, c)
		}
		if err := walkLevels(s, child, d+1, fn); err != nil {
			return err
		}
	}
	return nil
}
