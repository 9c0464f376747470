package claims

import (
	"slices"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// Read is the receipt of a read of claims' decisions: before a node
// answers a ClaimResponse or ExplanationOfBenefit built from the chain, it
// records that Reader read Claims, shown as View, for Purpose (an HL7
// PurposeOfUse code: HPAYMT, PATRQT, ...), as a custodian records a
// record's read with consent/access. The signer is the service key of the
// node answering. The contract decides each claim again: a member of its
// provider or payer, its patient, a delegate of the patient, or an auditor
// or privacy officer (who read every patient's trail) reads it; anyone
// else's read is refused whole.
type Read struct {
	Reader  tx.Address `json:"reader"`
	Purpose string     `json:"purpose"`
	View    string     `json:"view"`
	Claims  [][32]byte `json:"claims"`
}

// MaxReadClaims bounds the claims of one read's receipt; a larger answer
// is receipted in several.
const MaxReadClaims = 256

// Views are what a read shows a decision as: FHIR resources, or the JSON
// API's answer (GET /v1/claims/{claim}).
var Views = []string{"ClaimResponse", "ExplanationOfBenefit", "ClaimAnswer"}

// EventRead records one claim's read: claim, reader, as (the reader's
// relation to the claim: provider, payer, patient, delegate or auditor), view,
// purpose and node. It names the patient's account, so the patient's
// audit trail holds it.
const EventRead = "claims.read"

func (Read) Type() uint64 { return TypeRead }

func (m Read) EncodeTo(w *wire.Writer) {
	w.Raw(m.Reader[:])
	w.String(m.Purpose)
	w.String(m.View)
	w.Uint(uint64(len(m.Claims)))
	for _, c := range m.Claims {
		w.Raw(c[:])
	}
}

func readRead(r *wire.Reader) Read {
	var m Read
	copy(m.Reader[:], r.Raw(tx.AddressSize))
	m.Purpose, m.View = r.String(16), r.String(32)
	m.Claims = make([][32]byte, r.Count(MaxReadClaims))
	for i := range m.Claims {
		copy(m.Claims[i][:], r.Raw(32))
	}
	return m
}

func (m Read) validate() error {
	if m.Reader == (tx.Address{}) {
		return invalid("reader is required")
	}
	if m.Purpose == "" || len(m.Purpose) > 16 || !onlyUpper(m.Purpose) {
		return invalid("purpose is an HL7 PurposeOfUse code of 1 to 16 capital letters")
	}
	if !slices.Contains(Views, m.View) {
		return invalid("view is one of %v", Views)
	}
	if len(m.Claims) == 0 {
		return invalid("a read names 1 to %d claims", MaxReadClaims)
	}
	for i, c := range m.Claims {
		if c == ([32]byte{}) {
			return invalid("claim %d is all zeros", i)
		}
		if slices.Contains(m.Claims[:i], c) {
			return invalid("claim %d is named twice", i)
		}
	}
	return nil
}

func onlyUpper(s string) bool {
	for _, c := range []byte(s) {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

func readClaims(ctx *contract.Context, m Read) error {
	node, err := identity.RequireOwnRole(ctx, identity.Service)
	if err != nil {
		return err
	}
	reader, err := identity.LoadAccount(ctx.Store, m.Reader)
	if err != nil {
		return err
	}
	if reader == nil || reader.Suspended {
		return tx.Rejectf(tx.CodeNotFound, "reader %s is not an active account", m.Reader)
	}
	for _, id := range m.Claims {
		d, err := LoadDecision(ctx.Store, id)
		if err != nil {
			return err
		}
		if d == nil {
			return tx.Rejectf(tx.CodeNotFound, "no claim %x", id)
		}
		if m.View == "ExplanationOfBenefit" && d.Use != UseClaim {
			return invalid("claim %x is a preauthorization, which has no explanation of benefits", id)
		}
		as, err := relation(ctx.Store, reader, d)
		if err != nil {
			return err
		}
		if as == "" {
			return tx.Rejectf(tx.CodeUnauthorized, "%s is neither a party to claim %x nor its patient or a delegate", m.Reader, id)
		}
		ctx.Emit(contract.Event{
			Type: EventRead,
			Attrs: []contract.Attr{idattr(id), attr("reader", m.Reader.String()), attr("as", as), attr("view", m.View),
				attr("purpose", m.Purpose), attr("node", node.Org)},
			Accounts: []tx.Address{d.Patient, m.Reader},
		})
	}
	return nil
}

// relation returns how reader may read d: "provider" or "payer" for their
// members, "auditor" for an auditor or privacy officer, "patient",
// "delegate", or "" if it may not.
func relation(s identity.Reader, reader *identity.Account, d *Decision) (string, error) {
	member := reader.Kind == identity.Member
	switch {
	case member && reader.Org == d.Provider:
		return "provider", nil
	case member && reader.Org == d.Payer:
		return "payer", nil
	case member && (reader.HasRole(identity.Auditor) || reader.HasRole(identity.PrivacyOfficer)):
		return "auditor", nil
	case reader.Address == d.Patient:
		return "patient", nil
	}
	if ok, err := identity.ActsFor(s, reader.Address, d.Patient); err != nil || !ok {
		return "", err
	}
	return "delegate", nil
}
