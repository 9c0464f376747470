package disclosure

import (
	"slices"

	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

// Who may read a patient's grants: both APIs (GET /v1/grants/{id} and
// /fhir/Consent) apply these rules, so that a grant is never readable
// through one API and not the other.

// NamesGrantee reports whether grant g names who, or who's organization,
// as grantee.
func NamesGrantee(g *consent.StoredGrant, who *identity.Account) bool {
	return g.Grantee.Member == who.Address || (who.Kind == identity.Member && who.Org != "" && g.Grantee.Org == who.Org)
}

// MayReadGrant reports whether who may read grant g: whoever may read its
// patient's trail (MayRead: the patient, a delegate, an auditor or a
// privacy officer), and its grantee (NamesGrantee).
func MayReadGrant(s identity.Reader, who *identity.Account, g *consent.StoredGrant) (bool, error) {
	if NamesGrantee(g, who) {
		return true, nil
	}
	return MayRead(s, who, g.Patient)
}

// GrantsFor returns the grants of patient that who may read: all of them
// (all true) to whom MayRead allows, else those that name who or who's
// organization, nil if none.
func GrantsFor(s identity.Reader, who *identity.Account, patient tx.Address) (gs []*consent.StoredGrant, all bool, err error) {
	if gs, err = consent.PatientGrants(s, patient); err != nil {
		return nil, false, err
	}
	if all, err = MayRead(s, who, patient); err != nil || all {
		return gs, all, err
	}
	return slices.DeleteFunc(gs, func(g *consent.StoredGrant) bool { return !NamesGrantee(g, who) }), false, nil
}
