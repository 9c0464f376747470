package apptest

import (
	"crypto/sha256"
	"fmt"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/tx"
)

// scriptGTIN is the script's product, owned by OrgC (type pharma), with a
// 2 to 8 °C cold chain.
const scriptGTIN = "09521234543213"

// supplyModel is the script generator's picture of the supply state.
type supplyModel struct {
	product  bool
	events   int // event hashes used
	items    []*itemModel
	recalled map[string]bool   // lots
	last     [32]byte          // the hash of the last event recorded
	parties  map[string]string // the party directory: GLN → owner
}

type itemModel struct {
	epc         supply.EPC
	lot         string
	holder      string
	inTransit   bool
	quarantined bool
	dispensed   bool
}

func (g *scriptGen) orgAdmin(org string) *modelAccount {
	return g.pick(func(a *modelAccount) bool { return activeAdmin(a) && a.org == org })
}

func (g *scriptGen) registerProduct() (ScriptTx, bool) {
	a := g.orgAdmin(OrgC)
	if a == nil || g.supply.product {
		return ScriptTx{}, false
	}
	g.supply.product = true
	m := supply.RegisterProduct{Owner: OrgC, GTIN: scriptGTIN, NDC: "12345-6789-01", Excursion: `type == "Temperature" && (value < 2000 || value > 8000)`}
	return ScriptTx{g.next(a, true, contract.Encode(m)), tx.CodeOK, "register product"}, true
}

// itemWhere returns a random modelled item satisfying ok, or nil.
func (g *scriptGen) itemWhere(ok func(*itemModel) bool) *itemModel {
	var c []*itemModel
	for _, it := range g.supply.items {
		if ok(it) {
			c = append(c, it)
		}
	}
	if len(c) == 0 {
		return nil
	}
	return c[g.rng.IntN(len(c))]
}

func (g *scriptGen) supplyEvent(step string, action supply.Action, epcs ...supply.EPC) supply.Event {
	g.supply.events++
	h := sha256.Sum256(fmt.Appendf(nil, "script event %d", g.supply.events))
	return supply.Event{Hash: h, Kind: supply.ObjectEvent, Action: action, BizStep: step, EPCs: epcs}
}

// supplyRecord records one event the model knows the outcome of:
// commissioning, shipping from OrgC to OrgA, receiving, an excursion,
// dispensing, a duplicate, or a never-commissioned serial (a suspect).
func (g *scriptGen) supplyRecord() (ScriptTx, bool) {
	c, a := g.orgAdmin(OrgC), g.orgAdmin(OrgA)
	if !g.supply.product || c == nil || a == nil {
		return ScriptTx{}, false
	}
	held := func(org string) func(*itemModel) bool {
		return func(it *itemModel) bool { return it.holder == org && !it.inTransit && !it.dispensed }
	}
	rec := func(signer *modelAccount, code tx.Code, what string, e supply.Event) (ScriptTx, bool) {
		if code == tx.CodeOK {
			g.supply.last = e.Hash
		}
		return ScriptTx{g.next(signer, true, contract.Encode(supply.Record{Events: []supply.Event{e}})), code, what}, true
	}
	switch g.rng.IntN(7) {
	case 0:
		if it := g.itemWhere(func(it *itemModel) bool { return held(OrgC)(it) && !it.quarantined }); it != nil {
			e := g.supplyEvent(supply.StepShipping, supply.Observe, it.epc)
			e.Source, e.Destination = OrgC, OrgA
			it.inTransit = true
			return rec(c, tx.CodeOK, "ship", e)
		}
	case 1:
		if it := g.itemWhere(func(it *itemModel) bool { return it.inTransit }); it != nil {
			it.inTransit, it.holder = false, OrgA
			return rec(a, tx.CodeOK, "receive", g.supplyEvent(supply.StepReceiving, supply.Observe, it.epc))
		}
	case 2:
		if it := g.itemWhere(held(OrgC)); it != nil {
			e := g.supplyEvent("storing", supply.Observe, it.epc)
			e.Readings = []supply.Reading{{Type: "Temperature", Value: int64(g.rng.IntN(12000)) - 1000, UOM: "CEL"}}
			v := e.Readings[0].Value
			it.quarantined = it.quarantined || v < 2000 || v > 8000
			return rec(c, tx.CodeOK, "reading", e)
		}
	case 3:
		if it := g.itemWhere(held(OrgA)); it != nil {
			code := tx.CodeOK
			if it.quarantined || g.supply.recalled[it.lot] {
				code = tx.CodeInvalid
			} else {
				it.dispensed = true
			}
			return rec(a, code, "dispense", g.supplyEvent(supply.StepDispensing, supply.Observe, it.epc))
		}
	case 4:
		if last := g.supply.last; last != ([32]byte{}) {
			e := g.supplyEvent("inspecting", supply.Observe, supply.SGTIN(scriptGTIN, "NEVER"))
			e.Hash = last
			return rec(c, tx.CodeAlreadyExists, "duplicate event", e)
		}
	case 5:
		return rec(a, tx.CodeOK, "suspect serial", g.supplyEvent("inspecting", supply.Observe, supply.SGTIN(scriptGTIN, fmt.Sprintf("CLONE%d", g.supply.events))))
	}
	lot := fmt.Sprintf("L%d", len(g.supply.items)%3)
	var epcs []supply.EPC
	for range 2 {
		it := &itemModel{epc: supply.SGTIN(scriptGTIN, fmt.Sprintf("S%d", len(g.supply.items))), lot: lot, holder: OrgC}
		g.supply.items = append(g.supply.items, it)
		epcs = append(epcs, it.epc)
	}
	e := g.supplyEvent(supply.StepCommissioning, supply.Add, epcs...)
	e.Lot = lot
	return rec(c, tx.CodeOK, "commission", e)
}

func (g *scriptGen) supplyRelease() (ScriptTx, bool) {
	c := g.orgAdmin(OrgC)
	it := g.itemWhere(func(it *itemModel) bool { return it.quarantined && !it.dispensed })
	if c == nil || it == nil {
		return ScriptTx{}, false
	}
	it.quarantined = false
	m := supply.Release{EPCs: []supply.EPC{it.epc}}
	return ScriptTx{g.next(c, true, contract.Encode(m)), tx.CodeOK, "release"}, true
}

func (g *scriptGen) supplyRecall() (ScriptTx, bool) {
	c := g.orgAdmin(OrgC)
	if c == nil || !g.supply.product {
		return ScriptTx{}, false
	}
	lot := fmt.Sprintf("L%d", g.rng.IntN(3))
	code := tx.CodeOK
	if g.supply.recalled[lot] {
		code = tx.CodeAlreadyExists
	}
	if g.supply.recalled == nil {
		g.supply.recalled = map[string]bool{}
	}
	g.supply.recalled[lot] = true
	m := supply.Recall{GTIN: scriptGTIN, Lot: lot}
	return ScriptTx{g.next(c, true, contract.Encode(m)), code, "recall"}, true
}

// supplyVerifications records a receipt of a verification OrgA's node
// answered: of a modelled item (verified, as far as the script knows) or of
// a serial never commissioned.
func (g *scriptGen) supplyVerifications() (ScriptTx, bool) {
	a, asker := g.orgAdmin(OrgA), g.pick(activeMember)
	if a == nil || asker == nil {
		return ScriptTx{}, false
	}
	r := supply.Receipt{Requester: tx.AddressOf(Pub(asker.key)), GTIN: scriptGTIN, Serial: "NEVER", Height: 1, Reason: supply.ReasonUnknown}
	if it := g.itemWhere(func(*itemModel) bool { return true }); it != nil {
		_, r.Serial, _ = it.epc.Item()
		r.Lot, r.Reason = it.lot, ""
	}
	m := supply.Verifications{Receipts: []supply.Receipt{r}}
	return ScriptTx{g.next(a, true, contract.Encode(m)), tx.CodeOK, "verifications"}, true
}

// scriptGLNs are the GLNs organizations of the script claim and release.
var scriptGLNs = []string{"0614141000005", "0614141000012", "0614142000004", "0614143000003"}

// supplyParties claims or releases a GLN for an organization: refused when
// another organization owns it (claim) or it is not the organization's
// (release).
func (g *scriptGen) supplyParties() (ScriptTx, bool) {
	org := []string{OrgA, OrgB, OrgC}[g.rng.IntN(3)]
	a := g.orgAdmin(org)
	if a == nil {
		return ScriptTx{}, false
	}
	if g.supply.parties == nil {
		g.supply.parties = map[string]string{}
	}
	gln := scriptGLNs[g.rng.IntN(len(scriptGLNs))]
	owner := g.supply.parties[gln]
	if g.rng.IntN(3) == 0 {
		code := tx.CodeNotFound
		if owner == org {
			code = tx.CodeOK
			delete(g.supply.parties, gln)
		}
		m := supply.ReleaseParties{Org: org, GLNs: []string{gln}}
		return ScriptTx{g.next(a, true, contract.Encode(m)), code, "release parties"}, true
	}
	code := tx.CodeOK
	if owner != "" && owner != org {
		code = tx.CodeAlreadyExists
	} else {
		g.supply.parties[gln] = org
	}
	m := supply.ClaimParties{Org: org, GLNs: []string{gln}}
	return ScriptTx{g.next(a, true, contract.Encode(m)), code, "claim parties"}, true
}
