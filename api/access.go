package api

import (
	"context"
	"net/http"

	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/disclosure"
	"github.com/careledger/careledger/smart"
	"github.com/careledger/careledger/tx"
)

// access is who may call a route: the rule written next to it in the route
// table, enforced by guard before the handler runs. Name is the rule as the
// docs and openapi.json write it, such as "patient(address)".
type access struct {
	name string
	// open routes need no token; all others need a valid bearer token.
	open bool
	// allow decides whether who may see what the request names; nil lets any
	// registered account (a member or a patient) through. It answers true
	// when the request names nothing it can find, so that the handler
	// answers malformed or not found as it would for anyone allowed.
	allow func(v identity.Reader, who *identity.Account, r *http.Request) (bool, error)
}

// The access rules of the route table.
var (
	// open: anyone, no token (health, status, the API's description, login,
	// and signed transactions, which authenticate themselves).
	open = access{name: "open", open: true}
	// member: any registered account with a valid token: chain-wide views.
	member = access{name: "member"}
)

// patient(param): the patient the path parameter names, a delegate of the
// patient, an auditor or a privacy officer, as for the audit API
// (disclosure.MayRead).
func patient(param string) access {
	return access{name: "patient(" + param + ")", allow: func(v identity.Reader, who *identity.Account, r *http.Request) (bool, error) {
		a, err := tx.ParseAddress(r.PathValue(param))
		if err != nil {
			return true, nil
		}
		return disclosure.MayRead(v, who, a)
	}}
}

// mayReadAccount: who may read what concerns account a: as patient, and an
// admin or privacy officer of a's organization.
func mayReadAccount(v identity.Reader, who *identity.Account, a tx.Address) (bool, error) {
	if ok, err := disclosure.MayRead(v, who, a); ok || err != nil {
		return ok, err
	}
	acct, err := identity.LoadAccount(v, a)
	if err != nil || acct == nil {
		return acct == nil, err
	}
	return orgStaff(who, acct.Org), nil
}

// orgStaff reports whether who is an admin or privacy officer of org.
func orgStaff(who *identity.Account, org string) bool {
	return who.Kind == identity.Member && org != "" && who.Org == org &&
		(who.HasRole(identity.Admin) || who.HasRole(identity.PrivacyOfficer))
}

// auditor reports whether who reads every trail: an auditor or a privacy
// officer, as disclosure.MayRead has it.
func auditor(who *identity.Account) bool {
	return who.Kind == identity.Member && (who.HasRole(identity.Auditor) || who.HasRole(identity.PrivacyOfficer))
}

// account(param): as patient, and also the admins and privacy officers of
// the named account's organization.
func account(param string) access {
	return access{name: "account(" + param + ")", allow: func(v identity.Reader, who *identity.Account, r *http.Request) (bool, error) {
		a, err := tx.ParseAddress(r.PathValue(param))
		if err != nil {
			return true, nil
		}
		return mayReadAccount(v, who, a)
	}}
}

// key(param): account, for the account that holds the public key.
func key(param string) access {
	return access{name: "key(" + param + ")", allow: func(v identity.Reader, who *identity.Account, r *http.Request) (bool, error) {
		k, err := tx.ParsePubKey(r.PathValue(param))
		if err != nil {
			return true, nil
		}
		acct, err := identity.Resolve(v, k)
		if err != nil || acct == nil {
			return acct == nil, err
		}
		return mayReadAccount(v, who, acct.Address)
	}}
}

// org(param): the members of the organization, auditors and privacy
// officers.
func org(param string) access {
	return access{name: "org(" + param + ")", allow: func(v identity.Reader, who *identity.Account, r *http.Request) (bool, error) {
		return auditor(who) || (who.Kind == identity.Member && who.Org == r.PathValue(param)), nil
	}}
}

// orgAdmin(param): the admins and privacy officers of the organization, and
// auditors.
func orgAdmin(param string) access {
	return access{name: "orgAdmin(" + param + ")", allow: func(v identity.Reader, who *identity.Account, r *http.Request) (bool, error) {
		return (who.Kind == identity.Member && who.HasRole(identity.Auditor)) || orgStaff(who, r.PathValue(param)), nil
	}}
}

// grants(param): as patient, and also a member whom, or whose organization,
// one of the patient's grants names; the handler then lists only those
// grants (grantsFor).
func grants(param string) access {
	return access{name: "grants(" + param + ")", allow: func(v identity.Reader, who *identity.Account, r *http.Request) (bool, error) {
		a, err := tx.ParseAddress(r.PathValue(param))
		if err != nil {
			return true, nil
		}
		if ok, err := disclosure.MayRead(v, who, a); ok || err != nil {
			return ok, err
		}
		gs, err := grantsFor(v, who, a)
		return len(gs) > 0, err
	}}
}

// grantsFor returns the grants of patient that who may see: all of them to
// whom patient(param) allows, else those that name who or who's
// organization. Nil if none.
func grantsFor(v identity.Reader, who *identity.Account, patient tx.Address) ([]*consent.StoredGrant, error) {
	if who == nil { // no caller: the route's rule was not applied
		return nil, tx.Rejectf(tx.CodeUnauthenticated, "an Authorization: Bearer token is required")
	}
	gs, all, err := disclosure.GrantsFor(v, who, patient)
	if all && gs == nil {
		gs = []*consent.StoredGrant{}
	}
	return gs, err
}

// grant(param): as patient for the grant's patient, and the grantee or a
// member of the grantee organization (disclosure.MayReadGrant, which the
// FHIR API's Consent applies too).
func grant(param string) access {
	return access{name: "grant(" + param + ")", allow: func(v identity.Reader, who *identity.Account, r *http.Request) (bool, error) {
		g, err := loadByID(r, param, consent.LoadGrant, v)
		if err != nil || g == nil {
			return g == nil, err
		}
		return disclosure.MayReadGrant(v, who, g)
	}}
}

// team(param): as patient for the care team's patient, and whoever is on
// the team.
func team(param string) access {
	return access{name: "team(" + param + ")", allow: func(v identity.Reader, who *identity.Account, r *http.Request) (bool, error) {
		t, err := loadByID(r, param, consent.LoadTeam, v)
		if err != nil || t == nil {
			return t == nil, err
		}
		if t.Includes(who) {
			return true, nil
		}
		return disclosure.MayRead(v, who, t.Patient)
	}}
}

// request(param): as patient for the request's patient, and the requester
// and the admins and privacy officers of its organization.
func request(param string) access {
	return access{name: "request(" + param + ")", allow: func(v identity.Reader, who *identity.Account, r *http.Request) (bool, error) {
		q, err := loadByID(r, param, consent.LoadRequest, v)
		if err != nil || q == nil {
			return q == nil, err
		}
		if q.Requester == who.Address || orgStaff(who, q.Org) {
			return true, nil
		}
		return disclosure.MayRead(v, who, q.Patient)
	}}
}

// loadByID loads what the numeric path parameter names; nil for a
// malformed id or none stored.
func loadByID[T any](r *http.Request, param string, load func(consent.Reader, uint64) (*T, error), v identity.Reader) (*T, error) {
	id, err := pathUint(r, param)
	if err != nil {
		return nil, nil
	}
	return load(v, id)
}

// patientQuery(param): patient for the account the query parameter names;
// without it, member (a stream or list of everything, which blocks show any
// member anyway).
func patientQuery(param string) access {
	return access{name: "patient(?" + param + ")", allow: func(v identity.Reader, who *identity.Account, r *http.Request) (bool, error) {
		s := r.URL.Query().Get(param)
		if s == "" {
			return true, nil
		}
		a, err := tx.ParseAddress(s)
		if err != nil {
			return true, nil
		}
		return disclosure.MayRead(v, who, a)
	}}
}

// auditList: patient(?account) for one account's events, org(?org) for an
// organization's, member for all.
var auditList = access{name: "patient(?account), org(?org)", allow: func(v identity.Reader, who *identity.Account, r *http.Request) (bool, error) {
	q := r.URL.Query()
	if q.Get("account") != "" {
		return patientQuery("account").allow(v, who, r)
	}
	if o := q.Get("org"); o != "" {
		return auditor(who) || (who.Kind == identity.Member && who.Org == o), nil
	}
	return true, nil
}}

// scopeAllows applies a token's SMART scopes to the JSON API: its answers
// are not FHIR resources of one type, so a route whose rule concerns a
// patient, account or organization (every rule but open and member) needs
// a user/ or system/ scope that reads every type (user/*.rs, user/*.cruds,
// ...). Chain-wide views (member) take any token.
func scopeAllows(rule access, scopes smart.Scopes) error {
	if rule.allow == nil || scopes.Cover(smart.Read, "*") == smart.Full {
		return nil
	}
	return tx.Rejectf(tx.CodeUnauthorized, "the token's scopes do not cover the JSON API's route rule %s: it needs user/*.r or system/*.r", rule.name)
}

type callerKey struct{}

// caller returns the account guard authenticated, nil on an open route.
func caller(r *http.Request) *identity.Account {
	a, _ := r.Context().Value(callerKey{}).(*identity.Account)
	return a
}

// guard enforces rule before h: it authenticates the bearer token, asks the
// rule, and hands the caller to h in the request's context.
func (s *Server) guard(rule access, h http.Handler) http.Handler {
	if rule.open {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, scopes, err := s.auth.AuthenticateScopes(r)
		if err == nil && who.Kind == identity.Device {
			err = tx.Rejectf(tx.CodeUnauthorized, "a device's token serves only its readings at its custodian's FHIR API")
		}
		if err == nil {
			err = scopeAllows(rule, scopes)
		}
		if err != nil {
			writeError(w, err)
			return
		}
		if rule.allow != nil {
			ok, err := rule.allow(s.b.App.State(), who, r)
			if err == nil && !ok {
				err = tx.Rejectf(tx.CodeUnauthorized, "access rule %s does not let account %s read this", rule.name, who.Address)
			}
			if err != nil {
				writeError(w, err)
				return
			}
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, who)))
	})
}
