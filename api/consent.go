package api

import (
	"encoding/hex"
	"net/http"
	"strconv"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/governance"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/records"
	"github.com/careledger/careledger/tx"
)

func pathID(r *http.Request) (uint64, error) { return pathUint(r, "id") }

// pathUint returns the path parameter name as a positive integer.
func pathUint(r *http.Request, name string) (uint64, error) {
	id, err := strconv.ParseUint(r.PathValue(name), 10, 64)
	if err != nil || id == 0 {
		return 0, tx.Rejectf(tx.CodeMalformed, "%s must be a positive integer", name)
	}
	return id, nil
}

func pathAddress(r *http.Request) (tx.Address, error) {
	addr, err := tx.ParseAddress(r.PathValue("address"))
	if err != nil {
		return addr, tx.Rejectf(tx.CodeMalformed, "%v", err)
	}
	return addr, nil
}

// found writes v, or not_found when it is nil.
func found[T any](w http.ResponseWriter, v *T, err error, what string) {
	switch {
	case err != nil:
		writeError(w, err)
	case v == nil:
		writeError(w, tx.Rejectf(tx.CodeNotFound, "no such %s", what))
	default:
		writeJSON(w, http.StatusOK, v)
	}
}

func (s *Server) getGrant(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	g, err := consent.LoadGrant(s.b.App.State(), id)
	found(w, g, err, "grant")
}

func (s *Server) getTeam(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	t, err := consent.LoadTeam(s.b.App.State(), id)
	found(w, t, err, "care team")
}

func (s *Server) patientTeams(w http.ResponseWriter, r *http.Request) {
	addr, err := pathAddress(r)
	if err != nil {
		writeError(w, err)
		return
	}
	v := s.b.App.State()
	ids, err := consent.PatientTeams(v, addr)
	if err != nil {
		writeError(w, err)
		return
	}
	list := v1.TeamList{Teams: []*consent.Team{}}
	for _, id := range ids {
		t, err := consent.LoadTeam(v, id)
		if err != nil {
			writeError(w, err)
			return
		}
		list.Teams = append(list.Teams, t)
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) getRequest(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	q, err := consent.LoadRequest(s.b.App.State(), id)
	found(w, q, err, "request")
}

func (s *Server) patientGrants(w http.ResponseWriter, r *http.Request) {
	addr, err := pathAddress(r)
	if err != nil {
		writeError(w, err)
		return
	}
	// The route's rule let the caller in; these are the grants it may see.
	gs, err := grantsFor(s.b.App.State(), caller(r), addr)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v1.GrantList{Grants: append([]*consent.StoredGrant{}, gs...)})
}

func (s *Server) patientDelegates(w http.ResponseWriter, r *http.Request) {
	addr, err := pathAddress(r)
	if err != nil {
		writeError(w, err)
		return
	}
	ds, err := identity.Delegates(s.b.App.State(), addr)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v1.DelegateList{Delegates: append([]identity.Delegate{}, ds...)})
}

func (s *Server) orgReviews(w http.ResponseWriter, r *http.Request) {
	out := []*consent.PendingReview{}
	var derr error
	err := s.b.App.State().Iterate(consent.ReviewPrefix(r.PathValue("id")), func(_, v []byte) bool {
		rv, err := consent.DecodeReview(v)
		if err != nil {
			derr = err
			return false
		}
		out = append(out, rv)
		return true
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v1.ReviewList{Reviews: out})
}

func (s *Server) getAnchor(w http.ResponseWriter, r *http.Request) {
	b, err := hex.DecodeString(r.PathValue("root"))
	if err != nil || len(b) != 32 {
		writeError(w, tx.Rejectf(tx.CodeMalformed, "root must be 64 hex characters"))
		return
	}
	var root [32]byte
	copy(root[:], b)
	a, err := records.LoadAnchor(s.b.App.State(), root)
	found(w, a, err, "anchor")
}

func (s *Server) getProposal(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	v := s.b.App.State()
	p, err := governance.LoadProposal(v, id)
	if p != nil {
		p.Status = p.StatusAt(v.Version() + 1) // as a vote in the next block would find it
	}
	found(w, p, err, "proposal")
}

func (s *Server) listValidators(w http.ResponseWriter, r *http.Request) {
	vs, err := identity.Validators(s.b.App.State())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v1.ValidatorList{Validators: append([]identity.Validator{}, vs...)})
}
