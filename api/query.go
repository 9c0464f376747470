package api

import (
	"net/http"

	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

func (s *Server) account(w http.ResponseWriter, acct *identity.Account, err error) {
	if err != nil {
		writeError(w, err)
		return
	}
	if acct == nil {
		writeError(w, tx.Rejectf(tx.CodeNotFound, "no such account"))
		return
	}
	writeJSON(w, http.StatusOK, acct)
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) {
	addr, err := tx.ParseAddress(r.PathValue("address"))
	if err != nil {
		writeError(w, tx.Rejectf(tx.CodeMalformed, "%v", err))
		return
	}
	acct, err := identity.LoadAccount(s.b.App.State(), addr)
	s.account(w, acct, err)
}

func (s *Server) getKey(w http.ResponseWriter, r *http.Request) {
	key, err := tx.ParsePubKey(r.PathValue("pubkey"))
	if err != nil {
		writeError(w, tx.Rejectf(tx.CodeMalformed, "%v", err))
		return
	}
	acct, err := identity.Resolve(s.b.App.State(), key)
	s.account(w, acct, err)
}

func (s *Server) listOrgs(w http.ResponseWriter, r *http.Request) {
	orgs, err := identity.Organizations(s.b.App.State())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"orgs": orgs})
}

func (s *Server) getOrg(w http.ResponseWriter, r *http.Request) {
	o, err := identity.LoadOrg(s.b.App.State(), r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	if o == nil {
		writeError(w, tx.Rejectf(tx.CodeNotFound, "no such organization"))
		return
	}
	writeJSON(w, http.StatusOK, o)
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request) {
	v := s.b.App.State()
	id := r.PathValue("id")
	if o, err := identity.LoadOrg(v, id); err != nil || o == nil {
		if err == nil {
			err = tx.Rejectf(tx.CodeNotFound, "no such organization")
		}
		writeError(w, err)
		return
	}
	members, err := identity.Members(v, id)
	if err != nil {
		writeError(w, err)
		return
	}
	if members == nil {
		members = []*identity.Account{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"members": members})
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request) {
	s.account(w, caller(r), nil)
}
