package api

import (
	"net/http"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/disclosure"
	"github.com/careledger/careledger/tx"
)

// guardians(param): as patient, and also the guardians of the patient the
// path names, who must see the recovery they are asked to approve.
func guardians(param string) access {
	return access{name: "guardians(" + param + ")", allow: func(v identity.Reader, who *identity.Account, r *http.Request) (bool, error) {
		a, err := tx.ParseAddress(r.PathValue(param))
		if err != nil {
			return true, nil
		}
		if ok, err := disclosure.MayRead(v, who, a); ok || err != nil {
			return ok, err
		}
		g, err := identity.Guardians(v, a)
		return g != nil && g.HasGuardian(who.Address), err
	}}
}

// patientRecovery answers a patient's guardians and pending recovery.
func (s *Server) patientRecovery(w http.ResponseWriter, r *http.Request) {
	addr, err := pathAddress(r)
	if err != nil {
		writeError(w, err)
		return
	}
	v := s.b.App.State()
	g, err := identity.Guardians(v, addr)
	if err != nil {
		writeError(w, err)
		return
	}
	minDelay, err := identity.MinRecoveryDelay(v)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v1.RecoveryAnswer{Guardians: g, MinDelay: minDelay})
}
