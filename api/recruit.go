package api

import (
	"context"
	"net/http"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/tx"
)

// Recruiter is this node's custodian side of recruitment (package
// recruit): it evaluates a trial's criteria over its own opted-in patients
// and keeps the matching patients' invitations.
type Recruiter interface {
	// Org is the organization whose records it evaluates.
	Org() string
	// Recruit evaluates the trial's current criteria and publishes the
	// count.
	Recruit(ctx context.Context, trial string) (v1.RecruitAnswer, error)
	// Invitations returns a patient's invitations kept here.
	Invitations(patient tx.Address) ([]v1.Invitation, error)
}

// SetRecruiter gives the server the node's recruiter, before it serves:
// the node makes it after the server, from the custodian's sender. Without
// one, the recruitment routes answer not_found.
func (s *Server) SetRecruiter(r Recruiter) { s.recruiter = r }

// actsFor(param): the patient the path parameter names or one of their
// delegates, and nobody else: not even an auditor, since what it serves
// (an invitation to a trial) says what the patient's records contain.
func actsFor(param string) access {
	return access{name: "actsFor(" + param + ")", allow: func(v identity.Reader, who *identity.Account, r *http.Request) (bool, error) {
		a, err := tx.ParseAddress(r.PathValue(param))
		if err != nil {
			return true, nil
		}
		return identity.ActsFor(v, who.Address, a)
	}}
}

// custodianStaff: an admin or service member of the organization whose
// records this node holds.
func (s *Server) custodianStaff() access {
	return access{name: "custodianStaff", allow: func(_ identity.Reader, who *identity.Account, _ *http.Request) (bool, error) {
		return s.recruiter != nil && who.Kind == identity.Member && who.Org == s.recruiter.Org() &&
			(who.HasRole(identity.Admin) || who.HasRole(identity.Service)), nil
	}}
}

// errNoRecruiter answers the recruitment routes of a node without a
// recruiter.
var errNoRecruiter = tx.Rejectf(tx.CodeNotFound, "this node does not recruit")

// getRecruitment serves a trial's published criteria and the custodians'
// counts: public to the network, and naming no patient.
func (s *Server) getRecruitment(w http.ResponseWriter, r *http.Request) {
	t, err := s.trialFromPath(r)
	if err != nil {
		writeError(w, err)
		return
	}
	st := s.b.App.State()
	ans := v1.RecruitmentAnswer{Trial: t.ID, Criteria: []*trials.CriteriaRevision{}}
	for n := uint64(1); n <= t.Criteria; n++ {
		c, err := trials.LoadCriteria(st, t.ID, n)
		if err != nil {
			writeError(w, err)
			return
		}
		ans.Criteria = append(ans.Criteria, c)
	}
	if ans.Counts, err = trials.Counts(st, t.ID); err != nil {
		writeError(w, err)
		return
	}
	if ans.Counts == nil {
		ans.Counts = []*trials.Count{}
	}
	for _, c := range ans.Counts {
		if c.Revision == t.Criteria {
			ans.Matched += c.Matched
		}
	}
	writeJSON(w, http.StatusOK, ans)
}

// recruit evaluates the trial's current criteria at this node now, as the
// node does when they commit: after patients opted in, or records changed.
func (s *Server) recruit(w http.ResponseWriter, r *http.Request) {
	if s.recruiter == nil {
		writeError(w, errNoRecruiter)
		return
	}
	id := r.PathValue("id")
	if err := trials.ValidateID("trial", id); err != nil {
		writeError(w, tx.Rejectf(tx.CodeMalformed, "%v", err))
		return
	}
	ans, err := s.recruiter.Recruit(r.Context(), id)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ans)
}

// patientInvitations serves the patient's invitations kept at this node.
func (s *Server) patientInvitations(w http.ResponseWriter, r *http.Request) {
	a, err := tx.ParseAddress(r.PathValue("address"))
	if err != nil {
		writeError(w, tx.Rejectf(tx.CodeMalformed, "%v", err))
		return
	}
	ans := v1.InvitationList{Invitations: []v1.Invitation{}}
	if s.recruiter != nil {
		if ans.Invitations, err = s.recruiter.Invitations(a); err != nil {
			writeError(w, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, ans)
}

// NotifyAccount sends a private notice to account to's own event streams
// (Hub.NotifyAccount).
func (s *Server) NotifyAccount(to tx.Address, e v1.StreamEvent) { s.hub.NotifyAccount(to, e) }
