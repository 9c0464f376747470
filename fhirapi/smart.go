package fhirapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/smart"
	"github.com/careledger/careledger/tx"
)

// need is what a route does with records, which a token's SMART scopes
// must cover: permissions on a resource type, the path's {type} when typ
// is "". A route with no permissions has its scopes checked elsewhere: a
// Bundle's entry by entry, a bulk export's status and files at its
// kick-off (TestScopeNeeds lists them).
type need struct {
	perms smart.Perms
	typ   string
}

// limit is what a token limited by scopes may reach in one request.
type limit struct {
	scopes smart.Scopes
	holder *identity.Account
	// reads are the permissions by which the request reads records: the
	// route's, or those of a Bundle's reading entries.
	reads smart.Perms
}

type limitKey struct{}

// limitOf returns the request's limit; nil when the token is not limited.
func limitOf(r *http.Request) *limit {
	l, _ := r.Context().Value(limitKey{}).(*limit)
	return l
}

// scopeRefused is the answer to what a token's scopes do not cover.
func scopeRefused(what string) error {
	return fhir.NewError(fhir.ErrForbidden, fhir.Issue{Diagnostics: "the token's scopes do not cover " + what})
}

// cover refuses p on typ unless the scopes cover it. What only patient/
// scopes cover must be a read or search: they cover no write.
func (l *limit) cover(p smart.Perms, typ string) error {
	switch l.scopes.Cover(p, typ) {
	case smart.None:
		return scopeRefused(p.String() + " on " + typ)
	case smart.Compartment:
		if p&^(smart.Read|smart.Search) != 0 {
			return scopeRefused(p.String() + " on " + typ + ": patient/ scopes cover reads and searches only")
		}
	}
	return nil
}

// scoped applies the token's scopes to the route before any handler runs,
// and hands the request's limit to the handler in its context.
func scoped(r *http.Request, who *identity.Account, scopes smart.Scopes, n need) (*http.Request, error) {
	if scopes == nil {
		return r, nil
	}
	l := &limit{scopes: scopes, holder: who}
	if n.perms != 0 {
		typ := n.typ
		if typ == "" {
			typ = r.PathValue("type")
		}
		if err := l.cover(n.perms, typ); err != nil {
			return nil, err
		}
		l.reads = n.perms & (smart.Read | smart.Search)
	}
	return r.WithContext(context.WithValue(r.Context(), limitKey{}, l)), nil
}

// entryPerms returns the permission a Bundle entry needs.
func entryPerms(e *fhir.Entry) smart.Perms {
	switch e.Method {
	case http.MethodPost:
		return smart.Create
	case http.MethodPut:
		return smart.Update
	case http.MethodDelete:
		return smart.Delete
	case http.MethodGet:
		if e.ID != "" {
			return smart.Read
		}
	}
	return smart.Search
}

// scopeEntries applies the token's scopes to each entry of b: a batch's
// entry they do not cover fails alone; a transaction with one is refused.
// The limit's reads become those of the entries that read.
func scopeEntries(r *http.Request, b *fhir.Bundle) error {
	l := limitOf(r)
	if l == nil {
		return nil
	}
	for i := range b.Entries {
		e := &b.Entries[i]
		if e.Err != nil {
			continue
		}
		p := entryPerms(e)
		if err := l.cover(p, e.Type); err != nil {
			if b.Type == "transaction" {
				return fhir.NewError(fhir.ErrForbidden, fhir.Issue{
					Diagnostics: fhir.IssuesOf(err)[0].Diagnostics,
					Expression:  []string{"Bundle.entry[" + strconv.Itoa(i) + "]"},
				})
			}
			e.Err = err
			continue
		}
		l.reads |= p & (smart.Read | smart.Search)
	}
	return nil
}

// compartment returns the request's limit as the custodian asks it before
// each consent decision; nil when the token is not limited.
func (s *Server) compartment(r *http.Request) func(tx.Address, []string) error {
	l := limitOf(r)
	if l == nil {
		return nil
	}
	return func(patient tx.Address, types []string) error {
		for _, typ := range types {
			if err := s.inCompartment(l, patient, typ); err != nil {
				return err
			}
		}
		return nil
	}
}

// inCompartment refuses records of patient of type typ when only patient/
// scopes cover reading them and the token's account does not act for
// patient (it is not the patient, nor a delegate the patient named).
func (s *Server) inCompartment(l *limit, patient tx.Address, typ string) error {
	if l == nil {
		return nil
	}
	switch l.scopes.Cover(l.reads, typ) {
	case smart.Full:
		return nil
	case smart.None:
		return scopeRefused(l.reads.String() + " on " + typ)
	}
	ok, err := identity.ActsFor(s.state(), l.holder.Address, patient)
	if err != nil || ok {
		return err
	}
	return scopeRefused("this patient's records: patient/ scopes cover those of the patients the token's account acts for")
}

// patientInScope applies the request's limit to records of type typ of
// patient (a pseudonym) that a handler releases without the custodian's
// consent decision, or before it.
func (s *Server) patientInScope(r *http.Request, patient, typ string) error {
	l := limitOf(r)
	if l == nil {
		return nil
	}
	// A pseudonym not linked to an account does not parse: the zero
	// address stands for it, for whom nobody acts.
	addr, _ := tx.ParseAddress(patient)
	return s.inCompartment(l, addr, typ)
}

// smartConfiguration serves the SMART discovery document at
// /fhir/.well-known/smart-configuration, as the JSON API does at the root.
func (s *Server) smartConfiguration(w http.ResponseWriter, r *http.Request) {
	b, err := json.Marshal(smart.Discovery(strings.TrimSuffix(fhirBase(r), "/fhir")))
	if err != nil {
		s.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}
