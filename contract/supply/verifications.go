package supply

import (
	"strconv"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// TypeVerifications is the message type of supply/verifications.
const TypeVerifications uint64 = 68

// MaxReceipts bounds the receipts of one supply/verifications message: at
// about 100 bytes each, 512 fit a 64 KiB transaction.
const MaxReceipts = 512

// EventVerification is the audit event of one DSCSA verification answer.
const EventVerification = "supply.verification"

// Why a verification answers not verified; "" is verified. The names are
// stable: they are recorded on the chain.
const (
	ReasonUnknown        = "unknown_identifier"  // no such GTIN and serial
	ReasonLotMismatch    = "lot_mismatch"        // the lot asked is not the commissioned one
	ReasonExpiryMismatch = "expiry_mismatch"     // the expiry asked is not the commissioned one
	ReasonLotExpiry      = "lot_expiry_mismatch" // neither matches
	ReasonRecalled       = "recalled"            // the item's lot is recalled
	ReasonQuarantined    = "quarantined"         // a cold-chain excursion
	ReasonDispensed      = "dispensed"           // no longer in the supply chain: a clone if seen again
	ReasonDecommissioned = "decommissioned"
	ReasonDestroyed      = "destroyed"
	maxReason            = 32
)

var reasons = []string{"", ReasonUnknown, ReasonLotMismatch, ReasonExpiryMismatch, ReasonLotExpiry,
	ReasonRecalled, ReasonQuarantined, ReasonDispensed, ReasonDecommissioned, ReasonDestroyed}

// Reason returns why v is not an identifier a trading partner may accept
// for distribution, or "" if it is: unknown first, then a mismatch of lot
// or expiry, then a status that takes the item out of distribution.
func (v Verification) Reason() string {
	switch {
	case !v.Known:
		return ReasonUnknown
	case v.LotMismatch && v.ExpiryMismatch:
		return ReasonLotExpiry
	case v.LotMismatch:
		return ReasonLotMismatch
	case v.ExpiryMismatch:
		return ReasonExpiryMismatch
	}
	switch v.Status {
	case Recalled, Quarantined, Dispensed, Decommissioned, Destroyed:
		return string(v.Status)
	}
	return ""
}

// Receipt is what the chain keeps of one verification answer: who asked
// (an account), the identifier asked (lot and expiry as given, "" and 0 if
// not), the committed height whose state answered, and the answer's reason
// ("" for verified). Anyone can check it by running Verify on the state at
// Height.
type Receipt struct {
	Requester tx.Address `json:"requester"`
	GTIN      string     `json:"gtin"`
	Serial    string     `json:"serial"`
	Lot       string     `json:"lot,omitempty"`
	Expiry    uint32     `json:"expiry,omitempty"`
	Height    int64      `json:"height"`
	Reason    string     `json:"reason,omitempty"`
}

// Verifications records the answers the signer's node gave to DSCSA
// verification requests, many in one transaction: a node answers at once
// from committed state and records its receipts in batches, so that every
// answer is an audit event without a transaction each. The signer must be
// an active admin or service member of an organization, the responder.
type Verifications struct {
	Receipts []Receipt `json:"receipts"`
}

func (Verifications) Type() uint64 { return TypeVerifications }

func (m Verifications) EncodeTo(w *wire.Writer) {
	w.Uint(uint64(len(m.Receipts)))
	for _, r := range m.Receipts {
		w.Raw(r.Requester[:])
		w.String(r.GTIN)
		w.String(r.Serial)
		w.String(r.Lot)
		w.Uint(uint64(r.Expiry))
		w.Uint(uint64(r.Height))
		w.String(r.Reason)
	}
}

func readVerifications(r *wire.Reader) Verifications {
	n := r.Count(MaxReceipts)
	m := Verifications{Receipts: make([]Receipt, 0, n)}
	for i := 0; i < n && r.Err() == nil; i++ {
		var rc Receipt
		copy(rc.Requester[:], r.Raw(tx.AddressSize))
		rc.GTIN, rc.Serial, rc.Lot = r.String(14), r.String(MaxSerial), r.String(MaxLot)
		expiry := r.Uint()
		if expiry > 99991231 {
			expiry = 1 // refused by validate as no date
		}
		rc.Expiry = uint32(expiry)
		h := r.Uint()
		if h > 1<<62 {
			h = 0 // refused by validate
		}
		rc.Height = int64(h)
		rc.Reason = r.String(maxReason)
		m.Receipts = append(m.Receipts, rc)
	}
	return m
}

func (m Verifications) validate() error {
	if len(m.Receipts) == 0 {
		return tx.Rejectf(tx.CodeInvalid, "verifications hold 1 to %d receipts", MaxReceipts)
	}
	for i, r := range m.Receipts {
		if err := r.validate(); err != nil {
			return tx.Rejectf(codeOf(err), "receipt %d: %s", i, msgOf(err))
		}
	}
	return nil
}

func (r Receipt) validate() error {
	switch {
	case r.Requester == tx.Address{}:
		return tx.Rejectf(tx.CodeInvalid, "requester is missing")
	case r.Height < 1:
		return tx.Rejectf(tx.CodeInvalid, "height is the committed height that answered, at least 1")
	case r.Lot != "" && validateLot(r.Lot) != nil:
		return validateLot(r.Lot)
	case r.Expiry != 0 && !validDate(r.Expiry):
		return tx.Rejectf(tx.CodeInvalid, "expiry is a date YYYYMMDD")
	}
	known := false
	for _, s := range reasons {
		known = known || s == r.Reason
	}
	if !known {
		return tx.Rejectf(tx.CodeInvalid, "reason %q is not a verification reason", r.Reason)
	}
	return SGTIN(r.GTIN, r.Serial).Validate()
}

// verifications emits one supply.verification event per receipt, naming
// the requester's account (its event stream and audit trail) and the
// responder's organization.
func verifications(ctx *contract.Context, m Verifications) error {
	a, err := identity.RequireOwnRole(ctx, identity.Admin, identity.Service)
	if err != nil {
		return err
	}
	for i, r := range m.Receipts {
		if r.Height > ctx.Height {
			return tx.Rejectf(tx.CodeInvalid, "receipt %d: height %d is not committed yet", i, r.Height)
		}
		ctx.Emit(contract.Event{
			Type: EventVerification,
			Attrs: []contract.Attr{
				{Key: "gtin", Value: r.GTIN}, {Key: "serial", Value: r.Serial},
				{Key: "verified", Value: strconv.FormatBool(r.Reason == "")}, {Key: "reason", Value: r.Reason},
				{Key: "requester", Value: r.Requester.String()}, {Key: "height", Value: strconv.FormatInt(r.Height, 10)},
				{Key: "responder", Value: a.Org}, {Key: "org", Value: a.Org},
			},
			Accounts: []tx.Address{r.Requester},
		})
	}
	return nil
}

// VerificationOf returns the receipt a supply.verification event records
// (without lot and expiry, which the event leaves out) and the responder,
// and false if e is not one.
func VerificationOf(e contract.Event) (Receipt, string, bool) {
	if e.Type != EventVerification {
		return Receipt{}, "", false
	}
	req, err1 := tx.ParseAddress(e.Attr("requester"))
	h, err2 := strconv.ParseInt(e.Attr("height"), 10, 64)
	r := Receipt{Requester: req, GTIN: e.Attr("gtin"), Serial: e.Attr("serial"), Height: h, Reason: e.Attr("reason")}
	return r, e.Attr("responder"), err1 == nil && err2 == nil
}

// ValidateLot checks a lot number (GS1 AI 10): 1 to MaxLot characters of
// GS1 character set 82.
func ValidateLot(lot string) error { return validateLot(lot) }
