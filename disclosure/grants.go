package disclosure

import (
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

// Who may read a patient's grants: both APIs (GET /v1/grants/{id} and
// /fhir/Consent) apply these rules, so that a grant is never readable
// through one API and not the other.

// NamesGrantee reports whether grant g names who, who's organization, or
// a care team who is on, as grantee.
func NamesGrantee(s identity.Reader, g *consent.StoredGrant, who *identity.Account) (bool, error) {
	if g.Grantee.Team != 0 {
		return g.Names(s, who)
	}
	return g.Grantee.Member == who.Address || (who.Kind == identity.Member && who.Org != "" && g.Grantee.Org == who.Org), nil
}

// MayReadGrant reports whether who may read grant g: whoever may read its
// patient's trail (MayRead: the patient, a delegate, an auditor or a
// privacy officer), and its grantee (NamesGrantee).
func MayReadGrant(s identity.Reader, who *identity.Account, g *consent.StoredGrant) (bool, error) {
	if named, err := NamesGrantee(s, g, who); err != nil || named {
		return named, err
	}
	return MayRead(s, who, g.Patient)
}

// GrantsFor returns the grants of patient that who may read: all of them
// (all true) to whom MayRead allows, else those that name who, who's
// organization or a team who is on, nil if none.
func GrantsFor(s identity.Reader, who *identity.Account, patient tx.Address) (gs []*consent.StoredGrant, all bool, err error) {
	if gs, err = consent.PatientGrants(s, patient); err != nil {
		return nil, false, err
	}
	if all, err = MayRead(s, who, patient); err != nil || all {
		return gs, all, err
	}
	var named []*consent.StoredGrant
	for _, g := range gs {
		ok, err := NamesGrantee(s, g, who)
		if err != nil {
			return nil, false, err
		}
		if ok {
			named = append(named, g)
		}
	}
	return named, false, nil
}
