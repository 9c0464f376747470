package api

import (
	"net/http"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/trialreport"
	"github.com/careledger/careledger/tx"
)

// trialFromPath returns the trial the path's id names, rejecting an ID that
// is not one or a trial not registered.
func (s *Server) trialFromPath(r *http.Request) (*trials.Trial, error) {
	id := r.PathValue("id")
	if err := trials.ValidateID("trial", id); err != nil {
		return nil, tx.Rejectf(tx.CodeMalformed, "%v", err)
	}
	t, err := trials.LoadTrial(s.b.App.State(), id)
	if err == nil && t == nil {
		err = tx.Rejectf(tx.CodeNotFound, "no such trial")
	}
	return t, err
}

// getTrial serves a trial and its protocol versions: public to the
// network, as the history of versions and approvals is.
func (s *Server) getTrial(w http.ResponseWriter, r *http.Request) {
	t, err := s.trialFromPath(r)
	if err != nil {
		writeError(w, err)
		return
	}
	ans := v1.TrialAnswer{Trial: t, Versions: []*trials.Version{}}
	for n := uint64(1); n <= t.Versions; n++ {
		v, err := trials.LoadVersion(s.b.App.State(), t.ID, n)
		if err != nil {
			writeError(w, err)
			return
		}
		ans.Versions = append(ans.Versions, v)
	}
	writeJSON(w, http.StatusOK, ans)
}

// getTrialDataset serves a data commitment: the root a dataset file is
// checked against (careledger verify dataset).
func (s *Server) getTrialDataset(w http.ResponseWriter, r *http.Request) {
	t, err := s.trialFromPath(r)
	if err != nil {
		writeError(w, err)
		return
	}
	d, err := trials.LoadDataset(s.b.App.State(), t.ID, r.PathValue("name"))
	found(w, d, err, "dataset")
}

// trialReport serves the trial's outcome-switching report, signed by the
// node and verifiable offline (careledger verify trial-report).
func (s *Server) trialReport(w http.ResponseWriter, r *http.Request) {
	t, err := s.trialFromPath(r)
	if err != nil {
		writeError(w, err)
		return
	}
	cp, err := s.certifiedCheckpoint()
	if err != nil {
		auditError(w, err)
		return
	}
	rep, err := trialreport.Build(s.b.Audit.Cached(), s.b.App.ChainID(), t.ID, t.Sponsor, cp)
	if err == nil {
		err = rep.Sign(s.b.ReportKey)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
