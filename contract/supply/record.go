package supply

import (
	"encoding/hex"
	"errors"
	"slices"
	"strconv"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

// The CBV 2.0 business steps whose rules change items. Other steps (storing,
// inspecting, ...) are recorded, and their serials checked for suspects.
const (
	StepCommissioning   = "commissioning"
	StepShipping        = "shipping"
	StepReceiving       = "receiving"
	StepDispensing      = "dispensing"
	StepDecommissioning = "decommissioning"
	StepDestroying      = "destroying"
)

// recorder applies the events of one record message for org, the signer's
// organization.
type recorder struct {
	c        *Contract
	ctx      *contract.Context
	org      string
	today    uint32
	ev       *Event
	evHex    string
	touched  map[EPC]bool // EPCs an aggregate's step already changed in this event
	unpacked []EPC        // children an unpacking that named none took out
}

func (c *Contract) record(ctx *contract.Context, m Record) error {
	acct, err := identity.RequireOwnRole(ctx, identity.Service, identity.Admin, identity.Pharmacist)
	if err != nil {
		return err
	}
	r := &recorder{c: c, ctx: ctx, org: acct.Org, today: dateOf(ctx.Time)}
	for i := range m.Events {
		e := &m.Events[i]
		r.ev, r.evHex, r.touched, r.unpacked = e, hex.EncodeToString(e.Hash[:]), map[EPC]bool{}, nil
		if err := r.event(); err != nil {
			var rej *tx.Rejection
			if !errors.As(err, &rej) {
				return err // a fault
			}
			return tx.Rejectf(rej.Code, "event %d (%x): %s", i, e.Hash[:8], rej.Msg)
		}
	}
	return nil
}

func (r *recorder) event() error {
	e := r.ev
	if e.Corrects != nil {
		return r.declareError()
	}
	if old, err := LoadEvent(r.ctx.Store, e.Hash); err != nil {
		return err
	} else if old != nil {
		return tx.Rejectf(tx.CodeAlreadyExists, "the event was recorded at height %d", old.Height)
	}
	rec := &EventRecord{Hash: e.Hash, Org: r.org, Height: r.ctx.Height, Kind: e.Kind, Action: e.Action, BizStep: e.BizStep, Disposition: e.Disposition}
	if err := saveEvent(r.ctx.Store, rec); err != nil {
		return err
	}
	r.ctx.Emit(contract.Event{
		Type: EventRecorded,
		Attrs: append([]contract.Attr{
			{Key: "event", Value: r.evHex}, {Key: "kind", Value: e.Kind.String()},
			{Key: "action", Value: e.Action.String()}, {Key: "biz_step", Value: e.BizStep},
			{Key: "disposition", Value: e.Disposition}, {Key: "destination", Value: e.Destination},
		}, orgAttrs(r.org, e.Destination, e.Source)...), // the capturer, then the parties
		Accounts: []tx.Address{r.ctx.Signer},
	})
	if err := r.step(); err != nil {
		return err
	}
	if err := r.journey(); err != nil {
		return err
	}
	return r.coldChain()
}

// step applies the event's rules: aggregation by its action, other events
// by their business step.
func (r *recorder) step() error {
	e := r.ev
	switch {
	case e.Kind == AggregationEvent && e.Action == Add:
		return r.pack()
	case e.Kind == AggregationEvent && e.Action == Delete:
		return r.unpack()
	case e.BizStep == StepCommissioning && e.Action == Add:
		return r.commission()
	case e.BizStep == StepShipping:
		return r.forEachTop(r.ship)
	case e.BizStep == StepReceiving:
		return r.forEachTop(r.receive)
	case e.BizStep == StepDispensing:
		return r.forEachTop(func(it *Item) error { return r.retire(it, Dispensed) })
	case e.BizStep == StepDecommissioning:
		return r.forEachTop(func(it *Item) error { return r.retire(it, Decommissioned) })
	case e.BizStep == StepDestroying:
		return r.forEachTop(func(it *Item) error { return r.retire(it, Destroyed) })
	}
	return r.forEachTop(func(*Item) error { return nil })
}

// tops returns the EPCs the event acts on: its parent, then its EPCs and a
// transformation's inputs.
func (r *recorder) tops() []EPC {
	var out []EPC
	if r.ev.Parent != "" {
		out = append(out, r.ev.Parent)
	}
	out = append(out, r.ev.EPCs...)
	return append(out, r.ev.Inputs...)
}

// forEachTop calls fn for every EPC the event acts on that is present in
// the supply chain and not already moved along with an aggregate named
// before it; a serial that is not present is flagged suspect and skipped.
func (r *recorder) forEachTop(fn func(*Item) error) error {
	for _, e := range r.tops() {
		if r.touched[e] {
			continue
		}
		it, err := r.present(e)
		if err != nil {
			return err
		}
		if it == nil {
			continue
		}
		if err := fn(it); err != nil {
			return err
		}
	}
	return nil
}

// present returns the item e if it is in the supply chain. For a serial
// that was never commissioned, or was dispensed, decommissioned or
// destroyed, it emits supply.suspect and returns nil: the event is
// recorded, since it is evidence of a possible counterfeit or clone that
// the brand owner must see, and it changes nothing of the genuine item. An
// SSCC not seen before is not suspect (logistic units are not
// commissioned); it is nil too.
func (r *recorder) present(e EPC) (*Item, error) {
	it, err := LoadItem(r.ctx.Store, e)
	if err != nil || (it != nil && it.Status.live()) {
		return it, err
	}
	if e.IsSSCC() && it == nil {
		return nil, nil
	}
	return nil, r.suspect(e, it)
}

func (r *recorder) suspect(e EPC, it *Item) error {
	reason, holder, contact := "never_commissioned", "", tx.Address{}
	if it != nil {
		reason, holder, contact = string(it.Status), it.Holder, it.HolderContact
	}
	owner, ownerContact := "", tx.Address{}
	if gtin, _, ok := e.Item(); ok {
		p, err := LoadProduct(r.ctx.Store, gtin)
		if err != nil {
			return err
		}
		if p != nil {
			owner, ownerContact = p.Owner, p.Contact
		}
	}
	r.ctx.Emit(contract.Event{
		Type: EventSuspect,
		Attrs: append([]contract.Attr{
			{Key: "event", Value: r.evHex}, {Key: "epc", Value: string(e)}, {Key: "reason", Value: reason},
			{Key: "brand_owner", Value: owner}, {Key: "holder", Value: holder}, {Key: "seen_by", Value: r.org},
		}, orgAttrs(owner, holder, r.org)...),
		Accounts: notify(ownerContact, contact, r.ctx.Signer),
	})
	return nil
}

// requireHeld rejects an item the organization does not hold, or that is
// in transit.
func (r *recorder) requireHeld(it *Item) error {
	if it.Holder != r.org {
		return tx.Rejectf(tx.CodeUnauthorized, "%s is held by %s, not %s", it.EPC, it.Holder, r.org)
	}
	if it.Status == InTransit {
		return tx.Rejectf(tx.CodeInvalid, "%s is in transit to %s", it.EPC, it.Destination)
	}
	return nil
}

func (r *recorder) commission() error {
	e := r.ev
	for _, x := range e.EPCs {
		it, err := LoadItem(r.ctx.Store, x)
		if err != nil {
			return err
		}
		if it != nil && it.Status.live() {
			return tx.Rejectf(tx.CodeAlreadyExists, "%s is already commissioned", x)
		}
		if it != nil {
			if err := r.suspect(x, it); err != nil {
				return err
			}
			continue
		}
		it = &Item{EPC: x, Status: Active, Holder: r.org, HolderContact: r.ctx.Signer, Since: r.ctx.Height}
		if gtin, serial, ok := x.Item(); ok {
			p, err := LoadProduct(r.ctx.Store, gtin)
			if err != nil {
				return err
			}
			if p == nil || p.Owner != r.org {
				return tx.Rejectf(tx.CodeUnauthorized, "only the brand owner of GTIN %s commissions its serials", gtin)
			}
			it.Lot, it.Expiry = e.Lot, e.Expiry
			if err := r.addToLot(it, gtin, serial); err != nil {
				return err
			}
		}
		if err := saveItem(r.ctx.Store, it); err != nil {
			return err
		}
	}
	return nil
}

func (r *recorder) addToLot(it *Item, gtin, serial string) error {
	if it.Lot == "" {
		return nil
	}
	if err := setLotHolder(r.ctx.Store, gtin, it.Lot, serial, r.org); err != nil {
		return err
	}
	return moveHolding(r.ctx.Store, gtin, it.Lot, r.org, r.ctx.Signer, 1)
}

func (r *recorder) pack() error {
	e := r.ev
	parent, err := LoadItem(r.ctx.Store, e.Parent)
	if err != nil {
		return err
	}
	if parent == nil {
		if !e.Parent.IsSSCC() {
			return tx.Rejectf(tx.CodeNotFound, "parent %s is not commissioned", e.Parent)
		}
		parent = &Item{EPC: e.Parent, Status: Active, Holder: r.org, HolderContact: r.ctx.Signer, Since: r.ctx.Height}
	}
	if !parent.Status.live() {
		return tx.Rejectf(tx.CodeInvalid, "parent %s is %s", e.Parent, parent.Status)
	}
	if err := r.requireHeld(parent); err != nil {
		return err
	}
	depth, err := r.depth(parent)
	if err != nil {
		return err
	}
	for _, x := range e.EPCs {
		child, err := r.present(x)
		if err != nil {
			return err
		}
		if child == nil {
			if x.IsSSCC() {
				return tx.Rejectf(tx.CodeNotFound, "%s is not known", x)
			}
			continue
		}
		if err := r.adopt(parent, child, depth); err != nil {
			return err
		}
	}
	if len(parent.Children) > MaxEPCs {
		return tx.Rejectf(tx.CodeInvalid, "%s would hold more than %d children", e.Parent, MaxEPCs)
	}
	return saveItem(r.ctx.Store, parent)
}

// adopt packs child into parent, at depth below the top of its aggregate.
func (r *recorder) adopt(parent, child *Item, depth int) error {
	if err := r.requireHeld(child); err != nil {
		return err
	}
	if child.Parent != "" && child.Parent != parent.EPC {
		return tx.Rejectf(tx.CodeInvalid, "%s is packed in %s; unpack it first", child.EPC, child.Parent)
	}
	h, err := height(r.ctx.Store, child)
	if err != nil {
		return err
	}
	if depth+1+h > maxDepth {
		return tx.Rejectf(tx.CodeInvalid, "aggregation would be deeper than %d levels", maxDepth)
	}
	child.Parent = parent.EPC
	parent.addChild(child.EPC)
	return saveItem(r.ctx.Store, child)
}

// depth returns how far it is below the top of its aggregate, and rejects
// an aggregate that names the event's children among its ancestors (a
// cycle).
func (r *recorder) depth(it *Item) (int, error) {
	d := 0
	for p := it.Parent; p != ""; d++ {
		for _, x := range r.ev.EPCs {
			if x == p {
				return 0, tx.Rejectf(tx.CodeInvalid, "%s cannot be packed into its own content", x)
			}
		}
		if d >= maxDepth {
			return 0, errors.New("aggregation is deeper than its bound")
		}
		up, err := LoadItem(r.ctx.Store, p)
		if err != nil || up == nil {
			return 0, errors.Join(err, errors.New("aggregation names a missing parent"))
		}
		p = up.Parent
	}
	return d, nil
}

// height returns the levels of aggregation under it (0 for none).
func height(s identity.Reader, it *Item) (int, error) {
	h := 0
	err := walkLevels(s, it, 0, func(_ *Item, d int) error { h = max(h, d); return nil })
	return h, err
}

func (r *recorder) unpack() error {
	e := r.ev
	parent, err := r.present(e.Parent)
	if err != nil || parent == nil {
		if err == nil && e.Parent.IsSSCC() {
			err = tx.Rejectf(tx.CodeNotFound, "%s is not known", e.Parent)
		}
		return err
	}
	if err := r.requireHeld(parent); err != nil {
		return err
	}
	children := e.EPCs
	if len(children) == 0 {
		children = append([]EPC(nil), parent.Children...)
		r.unpacked = children
	}
	for _, x := range children {
		child, err := LoadItem(r.ctx.Store, x)
		if err != nil {
			return err
		}
		if child == nil || child.Parent != parent.EPC {
			return tx.Rejectf(tx.CodeInvalid, "%s is not packed in %s", x, parent.EPC)
		}
		child.Parent = ""
		parent.removeChild(x)
		if err := saveItem(r.ctx.Store, child); err != nil {
			return err
		}
	}
	return saveItem(r.ctx.Store, parent)
}

func (r *recorder) ship(top *Item) error {
	e := r.ev
	switch {
	case e.Destination == "":
		return tx.Rejectf(tx.CodeInvalid, "shipping names no destination owning party")
	case e.Destination == r.org:
		return tx.Rejectf(tx.CodeInvalid, "shipping to its own holder")
	case e.Source != "" && e.Source != r.org:
		return tx.Rejectf(tx.CodeWrongOrganization, "the source owning party %s is not the capturing organization %s", e.Source, r.org)
	}
	if org, err := identity.LoadOrg(r.ctx.Store, e.Destination); err != nil {
		return err
	} else if org == nil {
		return tx.Rejectf(tx.CodeNotFound, "destination organization %s does not exist", e.Destination)
	}
	if err := r.requireHeld(top); err != nil {
		return err
	}
	if skip, err := r.movesWithParent(top); skip || err != nil {
		return err
	}
	return walk(r.ctx.Store, top, func(it *Item) error {
		if it.Quarantined {
			return tx.Rejectf(tx.CodeInvalid, "%s is quarantined until its brand owner's release", it.EPC)
		}
		it.Status, it.Destination = InTransit, e.Destination
		r.touched[it.EPC] = true
		return saveItem(r.ctx.Store, it)
	})
}

func (r *recorder) receive(top *Item) error {
	if top.Status != InTransit || top.Destination != r.org {
		return tx.Rejectf(tx.CodeInvalid, "no shipment of %s to %s is in transit", top.EPC, r.org)
	}
	if d := r.ev.Destination; d != "" && d != r.org {
		return tx.Rejectf(tx.CodeWrongOrganization, "the destination owning party %s is not the receiving organization %s", d, r.org)
	}
	if skip, err := r.movesWithParent(top); skip || err != nil {
		return err
	}
	return walk(r.ctx.Store, top, func(it *Item) error {
		if gtin, serial, ok := it.EPC.Item(); ok && it.Lot != "" {
			if err := moveHolding(r.ctx.Store, gtin, it.Lot, it.Holder, tx.Address{}, -1); err != nil {
				return err
			}
			if err := moveHolding(r.ctx.Store, gtin, it.Lot, r.org, r.ctx.Signer, 1); err != nil {
				return err
			}
			if err := setLotHolder(r.ctx.Store, gtin, it.Lot, serial, r.org); err != nil {
				return err
			}
		}
		it.Status, it.Holder, it.HolderContact, it.Destination = Received, r.org, r.ctx.Signer, ""
		r.touched[it.EPC] = true
		return saveItem(r.ctx.Store, it)
	})
}

// movesWithParent reports whether top is packed in an aggregate the event
// also names, at any level (which moves it along), and rejects moving it
// out of aggregates the event does not name.
func (r *recorder) movesWithParent(top *Item) (bool, error) {
	tops := r.tops()
	for p, d := top.Parent, 0; p != ""; d++ {
		if slices.Contains(tops, p) {
			return true, nil
		}
		up, err := LoadItem(r.ctx.Store, p)
		if err != nil || up == nil || d >= maxDepth {
			return false, errors.Join(err, errors.New("aggregation names a missing parent or is too deep"))
		}
		p = up.Parent
	}
	if top.Parent == "" {
		return false, nil
	}
	return false, tx.Rejectf(tx.CodeInvalid, "%s is packed in %s: move the aggregate, or unpack it first", top.EPC, top.Parent)
}

// retire ends an item's life in the supply chain: dispensed to a patient,
// decommissioned or destroyed by its holder.
func (r *recorder) retire(it *Item, to Status) error {
	if err := r.requireHeld(it); err != nil {
		return err
	}
	if len(it.Children) > 0 {
		return tx.Rejectf(tx.CodeInvalid, "%s holds %d items: unpack it first", it.EPC, len(it.Children))
	}
	gtin, serial, isItem := it.EPC.Item()
	if to == Dispensed {
		if err := r.dispensable(it, gtin, isItem); err != nil {
			return err
		}
	}
	if isItem && it.Lot != "" {
		if err := moveHolding(r.ctx.Store, gtin, it.Lot, it.Holder, tx.Address{}, -1); err != nil {
			return err
		}
		if err := setLotHolder(r.ctx.Store, gtin, it.Lot, serial, ""); err != nil {
			return err
		}
	}
	if it.Parent != "" {
		parent, err := LoadItem(r.ctx.Store, it.Parent)
		if err != nil || parent == nil {
			return errors.Join(err, errors.New("item names a missing parent"))
		}
		parent.removeChild(it.EPC)
		if err := saveItem(r.ctx.Store, parent); err != nil {
			return err
		}
	}
	it.Status, it.Parent = to, ""
	return saveItem(r.ctx.Store, it)
}

// dispensable rejects dispensing a logistic unit, or an item that is
// quarantined, recalled or expired (by the block time's date).
func (r *recorder) dispensable(it *Item, gtin string, isItem bool) error {
	if !isItem {
		return tx.Rejectf(tx.CodeInvalid, "%s is a logistic unit, not a dispensable item", it.EPC)
	}
	if it.Quarantined {
		return tx.Rejectf(tx.CodeInvalid, "%s is quarantined until its brand owner's release", it.EPC)
	}
	if rc, err := LoadRecall(r.ctx.Store, gtin, it.Lot); err != nil {
		return err
	} else if rc != nil {
		return tx.Rejectf(tx.CodeInvalid, "%s is recalled (lot %s)", it.EPC, it.Lot)
	}
	if it.Expiry != 0 && r.today > it.Expiry {
		return tx.Rejectf(tx.CodeInvalid, "%s expired on %d", it.EPC, it.Expiry)
	}
	return nil
}

// journey appends the event to the journey of every EPC it names that the
// chain knows, and of everything aggregated under them, which moved with
// them.
func (r *recorder) journey() error {
	seen := map[EPC]bool{}
	for _, x := range slices.Concat(r.tops(), r.unpacked, r.ev.Outputs) {
		top, err := LoadItem(r.ctx.Store, x)
		if err != nil || top == nil || seen[x] {
			if err != nil {
				return err
			}
			continue
		}
		err = walk(r.ctx.Store, top, func(it *Item) error {
			if seen[it.EPC] {
				return nil
			}
			seen[it.EPC] = true
			if err := r.ctx.Store.Set(journeyKey(it.EPC, it.Events), r.ev.Hash[:]); err != nil {
				return err
			}
			it.Events++
			return saveItem(r.ctx.Store, it)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// coldChain quarantines each aggregate the event names, with everything
// under it, when one of its readings breaks the cold-chain rule of a
// product in it.
func (r *recorder) coldChain() error {
	if len(r.ev.Readings) == 0 {
		return nil
	}
	for _, x := range r.tops() {
		top, err := LoadItem(r.ctx.Store, x)
		if err != nil {
			return err
		}
		if top == nil || !top.Status.live() {
			continue
		}
		gtin, err := r.excursion(top)
		if err != nil {
			return err
		}
		if gtin == "" {
			continue
		}
		if err := r.quarantine(top, gtin); err != nil {
			return err
		}
	}
	return nil
}

// excursion returns the GTIN of the first product under top whose rule a
// reading of the event breaks, or "".
func (r *recorder) excursion(top *Item) (string, error) {
	var gtins []string
	err := walk(r.ctx.Store, top, func(it *Item) error {
		if g, _, ok := it.EPC.Item(); ok && !containsString(gtins, g) {
			gtins = append(gtins, g)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	for _, g := range gtins {
		p, err := LoadProduct(r.ctx.Store, g)
		if err != nil || p == nil || p.Excursion == "" {
			if err != nil {
				return "", err
			}
			continue
		}
		bad, err := r.c.breaks(p.Excursion, r.ev.Readings)
		if err != nil {
			return "", err
		}
		if bad != nil {
			return g, nil
		}
	}
	return "", nil
}

func (r *recorder) quarantine(top *Item, gtin string) error {
	n := 0
	err := walk(r.ctx.Store, top, func(it *Item) error {
		if !it.Status.live() || it.Quarantined {
			return nil
		}
		it.Quarantined = true
		n++
		return saveItem(r.ctx.Store, it)
	})
	if err != nil || n == 0 {
		return err
	}
	p, err := LoadProduct(r.ctx.Store, gtin)
	if err != nil {
		return err
	}
	r.ctx.Emit(contract.Event{
		Type: EventQuarantined,
		Attrs: append([]contract.Attr{
			{Key: "event", Value: r.evHex}, {Key: "epc", Value: string(top.EPC)}, {Key: "gtin", Value: gtin},
			{Key: "holder", Value: top.Holder}, {Key: "items", Value: strconv.Itoa(n)},
		}, orgAttrs(p.Owner, top.Holder)...),
		Accounts: notify(p.Contact, top.HolderContact, r.ctx.Signer),
	})
	return nil
}

// declareError marks the recorded event the declaration corrects as
// erroneous. It changes no item: the corrective events that follow do.
func (r *recorder) declareError() error {
	e := r.ev
	old, err := LoadEvent(r.ctx.Store, *e.Corrects)
	if err != nil {
		return err
	}
	switch {
	case old == nil:
		return tx.Rejectf(tx.CodeNotFound, "the event it corrects is not recorded")
	case old.Org != r.org:
		return tx.Rejectf(tx.CodeWrongOrganization, "only %s, which recorded the event, declares it erroneous", old.Org)
	case old.DeclaredBy != nil:
		return tx.Rejectf(tx.CodeAlreadyExists, "the event was already declared erroneous")
	}
	if e.Hash != *e.Corrects {
		if dup, err := LoadEvent(r.ctx.Store, e.Hash); err != nil {
			return err
		} else if dup != nil {
			return tx.Rejectf(tx.CodeAlreadyExists, "the event was recorded at height %d", dup.Height)
		}
		decl := &EventRecord{Hash: e.Hash, Org: r.org, Height: r.ctx.Height, Kind: e.Kind, Action: e.Action, BizStep: e.BizStep, Disposition: e.Disposition}
		if err := saveEvent(r.ctx.Store, decl); err != nil {
			return err
		}
	}
	h := tx.Hash(e.Hash)
	old.DeclaredBy = &h
	if err := saveEvent(r.ctx.Store, old); err != nil {
		return err
	}
	r.ctx.Emit(contract.Event{
		Type: EventErrorDeclared,
		Attrs: []contract.Attr{
			{Key: "event", Value: hex.EncodeToString(e.Corrects[:])}, {Key: "declaration", Value: r.evHex}, {Key: "org", Value: r.org},
		},
		Accounts: []tx.Address{r.ctx.Signer},
	})
	return nil
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
