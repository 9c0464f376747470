package api

import (
	"encoding/hex"
	"errors"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/disclosure"
	"github.com/careledger/careledger/tx"
)

// claim(param): the members of the claim's provider and payer, its patient
// and whoever may read the patient's trail (disclosure.MayRead: delegates,
// auditors, privacy officers).
func claim(param string) access {
	return access{name: "claim(" + param + ")", allow: func(v identity.Reader, who *identity.Account, r *http.Request) (bool, error) {
		id, err := claimID(r.PathValue(param))
		if err != nil {
			return true, nil
		}
		d, err := claims.LoadDecision(v, id)
		if err != nil || d == nil {
			return d == nil, err
		}
		if who.Kind == identity.Member && (who.Org == d.Provider || who.Org == d.Payer) {
			return true, nil
		}
		return disclosure.MayRead(v, who, d.Patient)
	}}
}

func claimID(s string) ([32]byte, error) {
	var id [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return id, tx.Rejectf(tx.CodeMalformed, "a claim ID is 64 hex characters")
	}
	copy(id[:], b)
	return id, nil
}

func (s *Server) getLedgerAccount(w http.ResponseWriter, r *http.Request) {
	org := r.PathValue("id")
	if err := identity.ValidateOrgID(org); err != nil {
		writeError(w, err)
		return
	}
	v := s.b.App.State()
	if o, err := identity.LoadOrg(v, org); err != nil || o == nil {
		found[v1.LedgerAccount](w, nil, err, "organization")
		return
	}
	a := v1.LedgerAccount{Account: org, Height: v.Version()}
	var err error
	if a.Balance, err = ledger.Balance(v, org); err == nil {
		if a.Entries, err = ledger.HistoryLen(v, org); err == nil {
			a.Pending, err = claims.Pending(v, org)
		}
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) getLedgerHistory(w http.ResponseWriter, r *http.Request) {
	org := r.PathValue("id")
	if err := identity.ValidateOrgID(org); err != nil {
		writeError(w, err)
		return
	}
	before, limit, err := pageParams(r)
	if err != nil {
		writeError(w, err)
		return
	}
	seq := uint64(math.MaxUint64)
	if before > 0 {
		seq = uint64(before)
	}
	es, err := ledger.History(s.b.App.State(), org, seq, limit)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v1.LedgerHistory{Account: org, Entries: es})
}

func (s *Server) getClaim(w http.ResponseWriter, r *http.Request) {
	id, err := claimID(r.PathValue("claim"))
	if err != nil {
		writeError(w, err)
		return
	}
	v := s.b.App.State()
	d, err := claims.LoadDecision(v, id)
	if err != nil || d == nil {
		found[v1.ClaimAnswer](w, nil, err, "claim")
		return
	}
	as, err := claims.LoadAppeals(v, id)
	if err == nil {
		err = s.receiptClaimRead(r, d)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, claimAnswer(d, as))
}

// receiptClaimRead has the chain record the caller's read of d before it
// is answered, unless the caller is a member of its provider: for payment
// (HPAYMT) by the payer's members, at the patient's request (PATRQT) by
// the patient or a delegate, for operations (HOPERAT) by an auditor.
func (s *Server) receiptClaimRead(r *http.Request, d *claims.Decision) error {
	who := caller(r)
	if s.b.ClaimReads == nil || who.Kind == identity.Member && who.Org == d.Provider {
		return nil
	}
	purpose := "PATRQT"
	switch {
	case who.Kind == identity.Member && who.Org == d.Payer:
		purpose = "HPAYMT"
	case who.Kind == identity.Member:
		purpose = "HOPERAT"
	}
	return s.b.ClaimReads(r.Context(), who, purpose, "ClaimAnswer", [][32]byte{d.Claim})
}

// claimAnswer is the API's view of a decision and its appeals.
func claimAnswer(d *claims.Decision, as []claims.AppealRecord) v1.ClaimAnswer {
	use := "claim"
	if d.Use == claims.UsePreauth {
		use = "preauthorization"
	}
	out := v1.ClaimAnswer{
		Claim: hex.EncodeToString(d.Claim[:]), Use: use, Patient: d.Patient, Provider: d.Provider, Payer: d.Payer,
		Coverage: d.Coverage, Height: d.Height, Outcome: d.Outcome(), Lines: d.Lines, Benefit: d.Benefit,
		PatientOwes: d.PatientOwes, Paid: d.Paid, Settled: d.Settled, Appeals: []v1.Appeal{},
	}
	for _, a := range as {
		ap := v1.Appeal{Lines: a.Lines, Reason: a.Reason, State: a.State.String(), Filed: a.Filed, Decided: a.Decided,
			DecisionReason: a.DecisionReason, Benefit: a.Benefit}
		if a.Letter != ([32]byte{}) {
			ap.Letter = hex.EncodeToString(a.Letter[:])
		}
		out.Appeals = append(out.Appeals, ap)
	}
	return out
}

// orgMember(param): the members of the organization only.
func orgMember(param string) access {
	return access{name: "orgMember(" + param + ")", allow: func(v identity.Reader, who *identity.Account, r *http.Request) (bool, error) {
		return who.Kind == identity.Member && who.Org == r.PathValue(param), nil
	}}
}

// listClaims serves GET /v1/orgs/{id}/claims: a page of the claims the
// organization is the payer or the provider of, newest first, filtered by
// status and dates of service (from, to: YYYYMMDD).
func (s *Server) listClaims(w http.ResponseWriter, r *http.Request) {
	org := r.PathValue("id")
	f, err := claimFilter(r)
	if err == nil {
		err = identity.ValidateOrgID(org)
	}
	before, limit, perr := pageParams(r)
	if err = errors.Join(err, perr); err != nil {
		writeError(w, err)
		return
	}
	seq := uint64(math.MaxUint64)
	if before > 0 {
		seq = uint64(before)
	}
	v := s.b.App.State()
	cs, next, err := claims.ClaimsOf(v, org, f, seq, limit)
	if err != nil {
		writeError(w, err)
		return
	}
	out := v1.ClaimList{Org: org, Claims: make([]v1.ClaimSummary, len(cs)), Next: next, Height: v.Version()}
	for i, c := range cs {
		out.Claims[i] = claimSummary(c)
	}
	writeJSON(w, http.StatusOK, out)
}

// claimFilter reads a claims list's status, from and to.
func claimFilter(r *http.Request) (claims.ListFilter, error) {
	q := r.URL.Query()
	f := claims.ListFilter{Status: q.Get("status")}
	if f.Status != "" && !slices.Contains(claims.Statuses, f.Status) {
		return f, tx.Rejectf(tx.CodeInvalid, "status is one of %s", strings.Join(claims.Statuses, ", "))
	}
	for _, d := range []struct {
		name string
		to   *uint32
	}{{"from", &f.From}, {"to", &f.To}} {
		if s := q.Get(d.name); s != "" {
			t, err := time.Parse("20060102", s)
			if err != nil {
				return f, tx.Rejectf(tx.CodeInvalid, "%s is a date YYYYMMDD", d.name)
			}
			*d.to = uint32(t.Year()*10000 + int(t.Month())*100 + t.Day())
		}
	}
	return f, nil
}

func claimSummary(c claims.ListedClaim) v1.ClaimSummary {
	d := c.Decision
	use := "claim"
	if d.Use == claims.UsePreauth {
		use = "preauthorization"
	}
	out := v1.ClaimSummary{
		Seq: c.Seq, Claim: hex.EncodeToString(d.Claim[:]), Use: use, Patient: d.Patient, Provider: d.Provider, Payer: d.Payer,
		Height: d.Height, From: c.From, To: c.To, Status: c.Status, Outcome: d.Outcome(), Lines: len(d.Lines),
		Benefit: d.Benefit, PatientOwes: d.PatientOwes, Settled: d.Settled, Edits: []string{}, Versions: []uint64{}, Appeals: len(c.Appeals),
	}
	for _, l := range d.Lines {
		out.Submitted += l.Submitted
		out.Eligible += l.Eligible
		for _, e := range l.Edits {
			if !slices.Contains(out.Edits, e) {
				out.Edits = append(out.Edits, e)
			}
		}
		if l.Version != 0 && !slices.Contains(out.Versions, l.Version) {
			out.Versions = append(out.Versions, l.Version)
		}
	}
	return out
}

// listPolicies serves GET /v1/orgs/{id}/policies: a payer's policy
// versions with their sizes.
func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request) {
	payer := r.PathValue("id")
	if err := identity.ValidateOrgID(payer); err != nil {
		writeError(w, err)
		return
	}
	v := s.b.App.State()
	if o, err := identity.LoadOrg(v, payer); err != nil || o == nil {
		found[v1.PolicyList](w, nil, err, "organization")
		return
	}
	vs, err := claims.Policies(v, payer)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v1.PolicyList{Payer: payer, Versions: vs})
}
