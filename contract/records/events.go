package records

import (
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/tx"
)

// The records contract's event types.
const (
	EventAnchored = "records.anchored"
	EventErased   = "records.erased"
)

// Erasure is what a records.erased event says: Record ("Type/id", or "*"
// for all of the patient's records) of Patient at Custodian was erased.
type Erasure struct {
	Custodian string
	Patient   tx.Address
	Record    string
}

// ErasureOf returns the erasure e records, and false if e is not one.
func ErasureOf(e contract.Event) (Erasure, bool) {
	if e.Type != EventErased {
		return Erasure{}, false
	}
	p, err := tx.ParseAddress(e.Attr("patient"))
	return Erasure{Custodian: e.Attr("custodian"), Patient: p, Record: e.Attr("record")}, err == nil
}

// Anchoring is what a records.anchored event says: Custodian anchored
// records, about Patient unless it is the zero address.
type Anchoring struct {
	Custodian string
	Patient   tx.Address
}

// AnchoringOf returns the anchoring e records, and false if e is not one.
func AnchoringOf(e contract.Event) (Anchoring, bool) {
	if e.Type != EventAnchored {
		return Anchoring{}, false
	}
	a := Anchoring{Custodian: e.Attr("custodian")}
	if p := e.Attr("patient"); p != "" {
		var err error
		if a.Patient, err = tx.ParseAddress(p); err != nil {
			return Anchoring{}, false
		}
	}
	return a, true
}
