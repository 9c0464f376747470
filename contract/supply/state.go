package supply

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// State keys. Every key of the contract starts with "S/" and a letter
// (identity and the others own the one-letter prefixes):
//
//	S/p/GTIN                 product
//	S/i/EPC                  item or logistic unit
//	S/l/GTIN LOT \0 SERIAL   the lot's items → holder ("" once out of the chain): a recall's one prefix
//	S/h/GTIN LOT             the lot's holders, a set kept in one value
//	S/r/GTIN LOT             the lot's recall
//	S/e/HASH                 recorded event
//	S/j/EPC \0 SEQ           the EPC's events in order (SEQ: 8 bytes, big-endian)
//	S/g/GLN                  the party directory: the GLN's owner
func productKey(gtin string) []byte { return append([]byte("S/p/"), gtin...) }
func itemKey(e EPC) []byte          { return append([]byte("S/i/"), e...) }
func holdersKey(gtin, lot string) []byte {
	return append(append([]byte("S/h/"), gtin...), lot...)
}
func recallKey(gtin, lot string) []byte { return append(append([]byte("S/r/"), gtin...), lot...) }
func eventKey(h [32]byte) []byte        { return append([]byte("S/e/"), h[:]...) }

// LotPrefix is the prefix of the keys of every item of gtin's lot, whose
// last part is the item's serial.
func LotPrefix(gtin, lot string) []byte {
	k := append(append([]byte("S/l/"), gtin...), lot...)
	return append(k, 0)
}

// setLotHolder records holder as the holder of gtin's serial in the lot's
// index, so that listing a lot's units and holders reads one prefix.
func setLotHolder(s contract.Store, gtin, lot, serial, holder string) error {
	return s.Set(append(LotPrefix(gtin, lot), serial...), []byte(holder))
}

func journeyPrefix(e EPC) []byte { return append(append([]byte("S/j/"), e...), 0) }

func journeyKey(e EPC, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(journeyPrefix(e), seq)
}

// Product is a registered GTIN.
type Product struct {
	GTIN      string `json:"gtin"`
	Owner     string `json:"owner"` // the brand owner organization
	NDC       string `json:"ndc,omitempty"`
	Excursion string `json:"excursion,omitempty"`
	// Contact is the account that registered the product: it is notified of
	// its suspect serials and quarantines.
	Contact tx.Address `json:"contact"`
	Height  int64      `json:"height"`
}

// LoadProduct returns the product gtin, or nil.
func LoadProduct(s identity.Reader, gtin string) (*Product, error) {
	b, err := s.Get(productKey(gtin))
	if err != nil || b == nil {
		return nil, err
	}
	r := wire.NewReader(b)
	p := &Product{GTIN: gtin, Owner: r.String(64), NDC: r.String(MaxNDC), Excursion: r.String(1 << 12)}
	copy(p.Contact[:], r.Raw(tx.AddressSize))
	p.Height = int64(r.Uint())
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode product: %w", err)
	}
	return p, nil
}

func saveProduct(s contract.Store, p *Product) error {
	w := wire.NewWriter(64 + len(p.Excursion))
	w.String(p.Owner)
	w.String(p.NDC)
	w.String(p.Excursion)
	w.Raw(p.Contact[:])
	w.Uint(uint64(p.Height))
	return s.Set(productKey(p.GTIN), w.Bytes())
}

// Status is an item's state as the chain reports it.
type Status string

// The statuses. An item's stored status is one of the first six; Recalled
// and Quarantined are reported over a live one (active, in transit,
// received) while its lot is recalled or it is quarantined, recall first.
const (
	Active         Status = "active"
	InTransit      Status = "in_transit"
	Received       Status = "received"
	Dispensed      Status = "dispensed"
	Decommissioned Status = "decommissioned"
	Destroyed      Status = "destroyed"
	Recalled       Status = "recalled"
	Quarantined    Status = "quarantined"
)

// live reports whether an item in status s is still in the supply chain.
func (s Status) live() bool { return s == Active || s == InTransit || s == Received }

// Item is the state of one SGTIN or SSCC.
type Item struct {
	EPC    EPC    `json:"epc"`
	Status Status `json:"status"` // the stored status; see Reported
	// Holder is the organization holding the item (its shipper while in
	// transit), and HolderContact the account that last brought it there:
	// commissioned, packed or received it.
	Holder        string     `json:"holder"`
	HolderContact tx.Address `json:"holder_contact"`
	Destination   string     `json:"destination,omitempty"` // while in transit
	Lot           string     `json:"lot,omitempty"`
	Expiry        uint32     `json:"expiry,omitempty"` // YYYYMMDD
	Parent        EPC        `json:"parent,omitempty"`
	Children      []EPC      `json:"children,omitempty"` // sorted
	Quarantined   bool       `json:"quarantined,omitempty"`
	Events        uint64     `json:"events"` // entries in its journey
	Since         int64      `json:"since"`  // the height that commissioned or created it
}

// LoadItem returns the item e, or nil.
func LoadItem(s identity.Reader, e EPC) (*Item, error) {
	b, err := s.Get(itemKey(e))
	if err != nil || b == nil {
		return nil, err
	}
	r := wire.NewReader(b)
	it := &Item{EPC: e, Status: Status(r.String(maxCode)), Holder: r.String(64)}
	copy(it.HolderContact[:], r.Raw(tx.AddressSize))
	it.Destination = r.String(64)
	it.Lot = r.String(MaxLot)
	it.Expiry = uint32(r.Uint())
	it.Parent = EPC(r.String(maxEPC))
	it.Children = readEPCs(r)
	it.Quarantined = r.Bool()
	it.Events = r.Uint()
	it.Since = int64(r.Uint())
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode item: %w", err)
	}
	return it, nil
}

func saveItem(s contract.Store, it *Item) error {
	w := wire.NewWriter(96 + len(it.Children)*40)
	w.String(string(it.Status))
	w.String(it.Holder)
	w.Raw(it.HolderContact[:])
	w.String(it.Destination)
	w.String(it.Lot)
	w.Uint(uint64(it.Expiry))
	w.String(string(it.Parent))
	writeEPCs(w, it.Children)
	w.Bool(it.Quarantined)
	w.Uint(it.Events)
	w.Uint(uint64(it.Since))
	return s.Set(itemKey(it.EPC), w.Bytes())
}

// Reported returns the status an item shows: its stored status, or, while
// it is live, recalled (if recalled is true, its lot's recall) or
// quarantined.
func (it *Item) Reported(recalled bool) Status {
	switch {
	case !it.Status.live():
		return it.Status
	case recalled:
		return Recalled
	case it.Quarantined:
		return Quarantined
	}
	return it.Status
}

// addChild and removeChild keep Children sorted and without duplicates.
func (it *Item) addChild(c EPC) {
	if i, found := slices.BinarySearch(it.Children, c); !found {
		it.Children = slices.Insert(it.Children, i, c)
	}
}

func (it *Item) removeChild(c EPC) {
	if i, found := slices.BinarySearch(it.Children, c); found {
		it.Children = slices.Delete(it.Children, i, i+1)
	}
}

// Holding is one organization's part of a lot: how many of its live items
// it holds, and the account to notify.
type Holding struct {
	Org     string     `json:"org"`
	Items   uint64     `json:"items"`
	Contact tx.Address `json:"contact"`
}

// Holders returns the holders of gtin's lot, ordered by organization.
func Holders(s identity.Reader, gtin, lot string) ([]Holding, error) {
	b, err := s.Get(holdersKey(gtin, lot))
	if err != nil || b == nil {
		return nil, err
	}
	r := wire.NewReader(b)
	n := r.Count(len(b))
	hs := make([]Holding, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		h := Holding{Org: r.String(64), Items: r.Uint()}
		copy(h.Contact[:], r.Raw(tx.AddressSize))
		hs = append(hs, h)
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode holders: %w", err)
	}
	return hs, nil
}

// moveHolding counts n more (or fewer, n < 0) of gtin's lot at org, whose
// contact becomes contact if it is set. An organization holding none leaves
// the set.
func moveHolding(s contract.Store, gtin, lot, org string, contact tx.Address, n int64) error {
	if lot == "" {
		return nil
	}
	hs, err := Holders(s, gtin, lot)
	if err != nil {
		return err
	}
	i, found := slices.BinarySearchFunc(hs, org, func(h Holding, o string) int {
		switch {
		case h.Org < o:
			return -1
		case h.Org > o:
			return 1
		}
		return 0
	})
	if !found {
		hs = slices.Insert(hs, i, Holding{Org: org})
	}
	hs[i].Items = uint64(int64(hs[i].Items) + n)
	if contact != (tx.Address{}) {
		hs[i].Contact = contact
	}
	if hs[i].Items == 0 || int64(hs[i].Items) < 0 {
		hs = slices.Delete(hs, i, i+1)
	}
	if len(hs) == 0 {
		return s.Delete(holdersKey(gtin, lot))
	}
	w := wire.NewWriter(len(hs) * 48)
	w.Uint(uint64(len(hs)))
	for _, h := range hs {
		w.String(h.Org)
		w.Uint(h.Items)
		w.Raw(h.Contact[:])
	}
	return s.Set(holdersKey(gtin, lot), w.Bytes())
}

// RecallRecord is a lot's recall.
type RecallRecord struct {
	GTIN   string     `json:"gtin"`
	Lot    string     `json:"lot"`
	By     tx.Address `json:"by"`
	Height int64      `json:"height"`
}

// LoadRecall returns the recall of gtin's lot, or nil.
func LoadRecall(s identity.Reader, gtin, lot string) (*RecallRecord, error) {
	if lot == "" {
		return nil, nil
	}
	b, err := s.Get(recallKey(gtin, lot))
	if err != nil || b == nil {
		return nil, err
	}
	r := wire.NewReader(b)
	rec := &RecallRecord{GTIN: gtin, Lot: lot}
	copy(rec.By[:], r.Raw(tx.AddressSize))
	rec.Height = int64(r.Uint())
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode recall: %w", err)
	}
	return rec, nil
}

// EventRecord is what the chain keeps of a recorded event.
type EventRecord struct {
	Hash        tx.Hash `json:"hash"`
	Org         string  `json:"org"` // the capturing organization
	Height      int64   `json:"height"`
	Kind        Kind    `json:"kind"`
	Action      Action  `json:"action"`
	BizStep     string  `json:"biz_step,omitempty"`
	Disposition string  `json:"disposition,omitempty"`
	// DeclaredBy is the hash of the error declaration that declared the
	// event erroneous, if one did.
	DeclaredBy *tx.Hash `json:"declared_by,omitempty"`
}

// LoadEvent returns the recorded event with hash h, or nil.
func LoadEvent(s identity.Reader, h [32]byte) (*EventRecord, error) {
	b, err := s.Get(eventKey(h))
	if err != nil || b == nil {
		return nil, err
	}
	r := wire.NewReader(b)
	e := &EventRecord{Hash: tx.Hash(h), Org: r.String(64), Height: int64(r.Uint()), Kind: Kind(r.Uint()), Action: Action(r.Uint())}
	e.BizStep, e.Disposition = r.String(maxCode), r.String(maxCode)
	if d := r.Blob(32); len(d) == 32 {
		e.DeclaredBy = new(tx.Hash)
		copy(e.DeclaredBy[:], d)
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode event record: %w", err)
	}
	return e, nil
}

func saveEvent(s contract.Store, e *EventRecord) error {
	w := wire.NewWriter(64)
	w.String(e.Org)
	w.Uint(uint64(e.Height))
	w.Uint(uint64(e.Kind))
	w.Uint(uint64(e.Action))
	w.String(e.BizStep)
	w.String(e.Disposition)
	if e.DeclaredBy != nil {
		w.Blob(e.DeclaredBy[:])
	} else {
		w.Blob(nil)
	}
	return s.Set(eventKey(e.Hash), w.Bytes())
}
