package supply

import (
	"github.com/careledger/careledger/contract/identity"
)

// Verification is the answer to a DSCSA verification of a product
// identifier (GTIN, serial, lot, expiry), from ledger state.
type Verification struct {
	// Known is whether the serial was commissioned by its GTIN's brand
	// owner: the identifier is genuine.
	Known bool `json:"known"`
	// Verified is Known with the lot and expiry asked (if any) matching:
	// the answer a dispenser acts on.
	Verified       bool   `json:"verified"`
	Status         Status `json:"status,omitempty"`
	LotMismatch    bool   `json:"lot_mismatch,omitempty"`
	ExpiryMismatch bool   `json:"expiry_mismatch,omitempty"`
	BrandOwner     string `json:"brand_owner,omitempty"`
}

// Verify answers whether gtin and serial name a commissioned item, its
// reported status, and whether lot and expiry (YYYYMMDD) match the
// commissioned ones; an empty lot or zero expiry is not compared. It reads
// state only: a pure function of s.
func Verify(s identity.Reader, gtin, serial, lot string, expiry uint32) (Verification, error) {
	var v Verification
	e := SGTIN(gtin, serial)
	if e.Validate() != nil {
		return v, nil
	}
	it, err := LoadItem(s, e)
	if err != nil || it == nil {
		return v, err
	}
	p, err := LoadProduct(s, gtin)
	if err != nil || p == nil {
		return v, err
	}
	rc, err := LoadRecall(s, gtin, it.Lot)
	if err != nil {
		return v, err
	}
	v.Known, v.Status, v.BrandOwner = true, it.Reported(rc != nil), p.Owner
	v.LotMismatch = lot != "" && lot != it.Lot
	v.ExpiryMismatch = expiry != 0 && expiry != it.Expiry
	v.Verified = !v.LotMismatch && !v.ExpiryMismatch
	return v, nil
}

// Iterator reads state in key order; state.View satisfies it.
type Iterator = identity.Iterator

// ItemStatus returns item e and the status it reports, or nil.
func ItemStatus(s identity.Reader, e EPC) (*Item, Status, error) {
	it, err := LoadItem(s, e)
	if err != nil || it == nil {
		return nil, "", err
	}
	recalled := false
	if gtin, _, ok := e.Item(); ok {
		rc, err := LoadRecall(s, gtin, it.Lot)
		if err != nil {
			return nil, "", err
		}
		recalled = rc != nil
	}
	return it, it.Reported(recalled), nil
}

// Journey returns the hashes of the events that named e, in the order they
// were recorded.
func Journey(s Iterator, e EPC) ([][32]byte, error) {
	var out [][32]byte
	err := s.Iterate(journeyPrefix(e), func(_, v []byte) bool {
		var h [32]byte
		copy(h[:], v)
		out = append(out, h)
		return true
	})
	return out, err
}

// LotUnits calls fn for every item of gtin's lot, in serial order, with its
// holder ("" for an item dispensed, decommissioned or destroyed), until fn
// returns false: a recall's list of units, read from the lot's one prefix.
func LotUnits(s Iterator, gtin, lot string, fn func(serial, holder string) bool) error {
	prefix := LotPrefix(gtin, lot)
	return s.Iterate(prefix, func(k, v []byte) bool { return fn(string(k[len(prefix):]), string(v)) })
}
