package fhirapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/careledger/careledger/audit"
	"github.com/careledger/careledger/audit/auditdb"
	"github.com/careledger/careledger/claimfhir"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/tx"
)

// The claims face (claimfhir does the mapping): a provider's claims agent
// submits a Claim, stored here like any record, and is answered with the
// ClaimResponse of the decision committed in the block; the provider's
// and the payer's members, the patient and their delegates read
// ClaimResponses and ExplanationOfBenefits built from the chain's decisions,
// each read by anyone but the provider's members receipted on the chain
// (claims/read) before it is answered;
// anyone with a token asks whether a coverage is in force.

// submitClaim serves POST /fhir/Claim and POST /fhir/Claim/$submit (whose
// body is the Claim, or Parameters holding it as "resource"): 201 with the
// ClaimResponse, the Claim's Location and the ClaimResponse's
// Content-Location.
func (s *Server) submitClaim(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	if err := s.c.MaySubmitClaims(who); err != nil {
		return err // before the body is looked at
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, int64(s.limits.MaxResourceBytes)+1))
	if err != nil {
		return err
	}
	if r.Header.Get("If-None-Exist") != "" {
		return fhir.NewError(fhir.ErrUnsupported, fhir.Issue{Diagnostics: claimfhir.CodeUnsupported + ": a Claim's create is its submission; a conditional create of a Claim is not served"})
	}
	if b, err = claimOfParameters(b); err != nil {
		return err
	}
	res, err := s.limits.Parse(b)
	if err != nil {
		return err
	}
	if res.Type() != "Claim" {
		return fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: claimfhir.CodeNotClaim + ": the body is not a Claim"})
	}
	c, err := claimfhir.Decode(res.Canonical())
	if err != nil {
		return err
	}
	if err := s.checkClaimParties(c); err != nil {
		return err
	}
	var submitted claims.Submit
	stored, _, err := s.c.SubmitClaim(r.Context(), who, res, func(patient tx.Address, birth uint32, commitment [32]byte) (tx.Msg, error) {
		if err := s.checkCoverageOf(c, patient); err != nil {
			return tx.Msg{}, err
		}
		if err := c.Resolve(func(id string) (string, error) { return s.c.ConditionCode(id, patient) }); err != nil {
			return tx.Msg{}, err
		}
		m, err := c.Submit(commitment, s.c.Org(), patient, birth)
		submitted = m
		return contract.Encode(m), err
	})
	if err != nil {
		return err
	}
	d, err := claims.LoadDecision(s.state(), submitted.Claim)
	if err != nil || d == nil {
		return errors.Join(errors.New("decision of a committed claim not in state"), err)
	}
	dd := &claimfhir.Decided{Decision: d, Time: time.Now().UTC(), AuditEvent: -1, Request: stored.ID()}
	if ev, ok := s.decisionEvent(d); ok {
		dd.AuditEvent, dd.Time = ev.index, ev.time
	}
	cr, err := claimfhir.ClaimResponse(dd)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fhirBase(r)+"/Claim/"+stored.ID()+"/_history/1")
	w.Header().Set("Content-Location", fhirBase(r)+"/ClaimResponse/"+cr.ID())
	write(w, http.StatusCreated, cr.Canonical())
	return nil
}

// claimOfParameters returns the Claim a $submit's Parameters hold as
// "resource", or b when it is not Parameters.
func claimOfParameters(b []byte) ([]byte, error) {
	var p struct {
		ResourceType string
		Parameter    []struct {
			Name     string
			Resource json.RawMessage
		}
	}
	if json.Unmarshal(b, &p) != nil || p.ResourceType != "Parameters" {
		return b, nil
	}
	for _, prm := range p.Parameter {
		if prm.Name == "resource" && len(prm.Resource) > 0 {
			return prm.Resource, nil
		}
	}
	return nil, fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: claimfhir.CodeNotClaim + ": $submit takes the Claim as the parameter resource"})
}

// checkClaimParties refuses, before anything is stored, a claim whose
// payer or coverage the committed state does not know. The contract checks
// again in the block.
func (s *Server) checkClaimParties(c *claimfhir.Claim) error {
	st := s.state()
	o, err := identity.LoadOrg(st, c.Payer)
	if err != nil {
		return err
	}
	if o == nil || o.Type != identity.Payer {
		return fhir.NewError(fhir.ErrUnprocessable, fhir.Issue{Diagnostics: claimfhir.CodeInsurer + ": the insurer is not a payer on the chain", Expression: []string{"Claim.insurer"}})
	}
	cov, err := claims.LoadCoverage(st, c.Payer, c.Coverage)
	if err != nil {
		return err
	}
	if cov == nil {
		return fhir.NewError(fhir.ErrUnprocessable, fhir.Issue{Diagnostics: claimfhir.CodeCoverage + ": the payer has no such coverage", Expression: []string{"Claim.insurance[0].coverage"}})
	}
	return nil
}

// checkCoverageOf refuses, before anything is stored, a claim whose
// coverage is another patient's or whose patient's account is not a
// registered patient.
func (s *Server) checkCoverageOf(c *claimfhir.Claim, patient tx.Address) error {
	st := s.state()
	cov, err := claims.LoadCoverage(st, c.Payer, c.Coverage)
	if err != nil {
		return err
	}
	if cov == nil || cov.Patient != patient {
		return fhir.NewError(fhir.ErrUnprocessable, fhir.Issue{Diagnostics: claimfhir.CodeCoverage + ": the coverage is not the patient's", Expression: []string{"Claim.insurance[0].coverage"}})
	}
	acct, err := identity.LoadAccount(st, patient)
	if err != nil {
		return err
	}
	if acct == nil || acct.Kind != identity.Patient {
		return fhir.NewError(fhir.ErrUnprocessable, fhir.Issue{Diagnostics: claimfhir.CodePatient + ": the Patient's account is not a registered patient", Expression: []string{"Claim.patient"}})
	}
	return nil
}

// decisionEvent is where the audit log holds a decision's event.
type decisionEvent struct {
	index int64
	time  time.Time
}

// decisionEvents returns the adjudicated events of patient's claims in
// the audit log, by claim, and the claims in the log's order.
func (s *Server) decisionEvents(patient tx.Address) (map[[32]byte]decisionEvent, [][32]byte, error) {
	idx, err := s.audit.AccountEvents(patient, 0, 1<<30)
	if err != nil {
		return nil, nil, err
	}
	out := map[[32]byte]decisionEvent{}
	var order [][32]byte
	for _, i := range idx {
		leaf, err := s.audit.Leaf(i)
		if err != nil {
			return nil, nil, err
		}
		ev, err := audit.DecodeEvent(leaf)
		if err != nil {
			return nil, nil, err
		}
		if ev.Event.Type != claims.EventAdjudicated {
			continue
		}
		id, ok := claimfhir.ParseID(ev.Event.Attr("claim"))
		if !ok {
			continue
		}
		if _, seen := out[id]; !seen {
			order = append(order, id)
		}
		out[id] = decisionEvent{int64(i), ev.Time}
	}
	return out, order, nil
}

// decisionEvent finds d's event in the audit log among the events of its
// block. The node writes the log when it commits the block: a decision
// just committed may not be there yet, so it waits a little.
func (s *Server) decisionEvent(d *claims.Decision) (decisionEvent, bool) {
	for range 50 {
		ev, ok, err := s.eventInBlock(d)
		if err != nil || ok {
			return ev, ok
		}
		time.Sleep(20 * time.Millisecond)
	}
	return decisionEvent{}, false
}

// eventInBlock looks for d's event among the log's events of d's block,
// between the checkpoints of the block before and of its own.
func (s *Server) eventInBlock(d *claims.Decision) (decisionEvent, bool, error) {
	end, err := s.audit.Checkpoint(d.Height)
	if errors.Is(err, auditdb.ErrNotFound) {
		return decisionEvent{}, false, nil
	}
	if err != nil {
		return decisionEvent{}, false, err
	}
	var start uint64
	if prev, err := s.audit.Checkpoint(d.Height - 1); err == nil {
		start = prev.Size
	} else if !errors.Is(err, auditdb.ErrNotFound) {
		return decisionEvent{}, false, err
	}
	want := claimfhir.ID(d.Claim)
	for i := start; i < end.Size; i++ {
		leaf, err := s.audit.Leaf(i)
		if err != nil {
			return decisionEvent{}, false, err
		}
		ev, err := audit.DecodeEvent(leaf)
		if err != nil {
			return decisionEvent{}, false, err
		}
		if ev.Event.Type == claims.EventAdjudicated && ev.Event.Attr("claim") == want {
			return decisionEvent{int64(i), ev.Time}, true, nil
		}
	}
	return decisionEvent{}, false, nil
}

// mayReadDecision reports whether who may read d: a member of its
// provider or payer, or the patient or a delegate.
func (s *Server) mayReadDecision(who *identity.Account, d *claims.Decision) (bool, error) {
	if who.Kind == identity.Member && (who.Org == d.Provider || who.Org == d.Payer) {
		return true, nil
	}
	return identity.ActsFor(s.state(), who.Address, d.Patient)
}

// decided returns the decision id names, if who may read it.
func (s *Server) decided(r *http.Request, who *identity.Account, id, typ string) (*claimfhir.Decided, error) {
	claim, ok := claimfhir.ParseID(id)
	var d *claims.Decision
	var err error
	if ok {
		d, err = claims.LoadDecision(s.state(), claim)
	}
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, fhir.NewError(fhir.ErrNotFound, fhir.Issue{Diagnostics: "no claim was decided under this id"})
	}
	if ok, err := s.mayReadDecision(who, d); err != nil || !ok {
		if err != nil {
			return nil, err
		}
		return nil, fhir.NewError(fhir.ErrForbidden, fhir.Issue{Diagnostics: "only the provider, the payer, the patient and their delegates read a claim's decision"})
	}
	if err := s.patientInScope(r, d.Patient.String(), typ); err != nil {
		return nil, err
	}
	dd := &claimfhir.Decided{Decision: d, AuditEvent: -1}
	if ev, ok, err := s.eventInBlock(d); err != nil {
		return nil, err
	} else if ok {
		dd.AuditEvent, dd.Time = ev.index, ev.time
	}
	return dd, nil
}

// receiptReads has the chain record who's read of the decisions ds, shown
// as typ, and waits for the receipt before they are answered, as a
// record's read waits for its consent decision (claims/read). A member of
// a claim's provider reads its own claim without one. The purpose is the
// X-Purpose-Of-Use header's, else payment (HPAYMT) for a member and the
// patient's request (PATRQT) for a patient or delegate.
func (s *Server) receiptReads(r *http.Request, who *identity.Account, typ string, ds []*claimfhir.Decided) error {
	var ids [][32]byte
	for _, d := range ds {
		if who.Kind != identity.Member || who.Org != d.Provider {
			ids = append(ids, d.Claim)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	purpose := r.Header.Get("X-Purpose-Of-Use")
	if purpose == "" {
		purpose = "PATRQT"
		if who.Kind == identity.Member {
			purpose = "HPAYMT"
		}
	}
	return s.c.ReceiptClaimReads(r.Context(), who, purpose, typ, ids)
}

// readClaimResponse serves GET /fhir/ClaimResponse/{id}: the decision of
// the claim whose commitment id is in hex. Any other id is a
// ClaimResponse stored here like any resource.
func (s *Server) readClaimResponse(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	return s.readDecided(w, r, who, "ClaimResponse", claimfhir.ClaimResponse)
}

// readExplanationOfBenefit serves GET /fhir/ExplanationOfBenefit/{id} as
// readClaimResponse does.
func (s *Server) readExplanationOfBenefit(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	return s.readDecided(w, r, who, "ExplanationOfBenefit", claimfhir.ExplanationOfBenefit)
}

func (s *Server) readDecided(w http.ResponseWriter, r *http.Request, who *identity.Account, typ string, view func(*claimfhir.Decided) (*fhir.Resource, error)) error {
	if _, ok := claimfhir.ParseID(r.PathValue("id")); !ok {
		return s.readAs(w, r, who, typ)
	}
	d, err := s.decided(r, who, r.PathValue("id"), typ)
	if err != nil {
		return err
	}
	if typ == "ExplanationOfBenefit" && d.Use != claims.UseClaim {
		return fhir.NewError(fhir.ErrNotFound, fhir.Issue{Diagnostics: "a preauthorization has no explanation of benefits"})
	}
	if err := s.receiptReads(r, who, typ, []*claimfhir.Decided{d}); err != nil {
		return err
	}
	res, err := view(d)
	if err != nil {
		return err
	}
	writeResource(w, http.StatusOK, res)
	return nil
}

// searchClaimResponse serves GET /fhir/ClaimResponse: by patient (an
// account address or a Patient held here) the decisions of the patient's
// claims who may read, oldest first (ClaimResponses stored here are not searched);
// by request=Claim/ID (a Claim held here) that claim's decision only.
func (s *Server) searchClaimResponse(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	return s.searchWith(w, r, who, "ClaimResponse", func(form url.Values) ([]*fhir.Resource, bool, error) {
		var ds []*claimfhir.Decided
		var err error
		request, patient := form.Get("request"), form.Get("patient")
		switch {
		case request != "":
			form.Del("request")
			form.Del("patient")
			if ds, err = s.decidedByRequest(r, who, request); err == nil && patient != "" {
				ds, err = s.filterPatient(ds, patient)
			}
		case patient != "":
			ds, err = s.decidedOf(r, who, patient, "ClaimResponse")
		}
		if err == nil {
			err = s.receiptReads(r, who, "ClaimResponse", ds)
		}
		res, err := asResources(ds, err, claimfhir.ClaimResponse)
		return res, false, err // fhir has no search of ClaimResponse records
	})
}

// filterPatient keeps the decisions of patient p.
func (s *Server) filterPatient(ds []*claimfhir.Decided, p string) ([]*claimfhir.Decided, error) {
	addr, err := s.patientAddress(p)
	if err != nil {
		return nil, nil // a patient not known here has none of them
	}
	var out []*claimfhir.Decided
	for _, d := range ds {
		if d.Patient == addr {
			out = append(out, d)
		}
	}
	return out, nil
}

// asResources returns the decisions as resources.
func asResources(ds []*claimfhir.Decided, err error, view func(*claimfhir.Decided) (*fhir.Resource, error)) ([]*fhir.Resource, error) {
	if err != nil {
		return nil, err
	}
	out := make([]*fhir.Resource, len(ds))
	for i, d := range ds {
		if out[i], err = view(d); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// searchExplanationOfBenefit serves GET /fhir/ExplanationOfBenefit: by
// patient, an explanation of benefits per claim (not preauthorization) of
// the patient, to the patient and their delegates (and the claims'
// providers and payers), then the ExplanationOfBenefits stored here.
func (s *Server) searchExplanationOfBenefit(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	return s.searchWith(w, r, who, "ExplanationOfBenefit", func(form url.Values) ([]*fhir.Resource, bool, error) {
		if form.Get("patient") == "" {
			return nil, true, nil
		}
		ds, err := s.decidedOf(r, who, form.Get("patient"), "ExplanationOfBenefit")
		if err == nil {
			err = s.receiptReads(r, who, "ExplanationOfBenefit", ds)
		}
		res, err := asResources(ds, err, claimfhir.ExplanationOfBenefit)
		return res, true, err
	})
}

// decidedOf returns the decisions of patient p that who may read, to be
// shown as resources of typ (an ExplanationOfBenefit: claims only), in
// the order of the audit log, if the token's scopes reach the patient.
func (s *Server) decidedOf(r *http.Request, who *identity.Account, p, typ string) ([]*claimfhir.Decided, error) {
	patient, err := s.patientAddress(p)
	if err != nil {
		var fe *fhir.Error
		if errors.As(err, &fe) && errors.Is(fe.Kind, fhir.ErrNotFound) {
			return nil, nil // a Patient not held here has no decisions to find here
		}
		return nil, err
	}
	if err := s.patientInScope(r, patient.String(), typ); err != nil {
		return nil, err
	}
	evs, order, err := s.decisionEvents(patient)
	if err != nil {
		return nil, err
	}
	var out []*claimfhir.Decided
	for _, id := range order {
		d, err := claims.LoadDecision(s.state(), id)
		if err != nil {
			return nil, err
		}
		if d == nil || typ == "ExplanationOfBenefit" && d.Use != claims.UseClaim {
			continue
		}
		if ok, err := s.mayReadDecision(who, d); err != nil {
			return nil, err
		} else if ok {
			out = append(out, &claimfhir.Decided{Decision: d, Time: evs[id].time, AuditEvent: evs[id].index})
		}
	}
	return out, nil
}

// decidedByRequest returns the decision of the Claim held here that ref
// (Claim/ID or ID) names, if who may read it.
func (s *Server) decidedByRequest(r *http.Request, who *identity.Account, ref string) ([]*claimfhir.Decided, error) {
	id := strings.TrimPrefix(ref, "Claim/")
	if !fhir.ValidID(id) {
		return nil, nil
	}
	commitment, err := s.c.ClaimCommitment(id)
	if err != nil {
		var fe *fhir.Error
		if errors.As(err, &fe) && (errors.Is(fe.Kind, fhir.ErrNotFound) || errors.Is(fe.Kind, fhir.ErrGone)) {
			return nil, nil
		}
		return nil, err
	}
	d, err := s.decided(r, who, claimfhir.ID(commitment), "ClaimResponse")
	if err != nil {
		var fe *fhir.Error
		if errors.As(err, &fe) && (errors.Is(fe.Kind, fhir.ErrNotFound) || errors.Is(fe.Kind, fhir.ErrForbidden)) {
			return nil, nil
		}
		return nil, err
	}
	d.Request = id
	return []*claimfhir.Decided{d}, nil
}

// eligibility serves POST /fhir/CoverageEligibilityRequest/$submit: the
// CoverageEligibilityResponse of the ledger's state, to the patient (and
// delegates), and to members of providers and of the payer asked.
func (s *Server) eligibility(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, int64(s.limits.MaxResourceBytes)+1))
	if err != nil {
		return err
	}
	if b, err = claimOfParameters(b); err != nil {
		return err
	}
	req, err := claimfhir.DecodeEligibility(b)
	if err != nil {
		return err
	}
	if req.PatientID != "" {
		if req.Patient, err = s.patientAddress(req.PatientID); err != nil {
			return err
		}
	}
	if err := s.mayAskEligibility(who, req); err != nil {
		return err
	}
	if err := s.patientInScope(r, req.Patient.String(), "CoverageEligibilityResponse"); err != nil {
		return err
	}
	st, err := s.standing(req)
	if err != nil {
		return err
	}
	res, err := claimfhir.EligibilityResponse(req, st, time.Now())
	if err != nil {
		return err
	}
	writeResource(w, http.StatusOK, res)
	return nil
}

func (s *Server) mayAskEligibility(who *identity.Account, req *claimfhir.EligibilityRequest) error {
	if who.Kind == identity.Member {
		if who.Org == req.Payer {
			return nil
		}
		o, err := identity.LoadOrg(s.state(), who.Org)
		if err != nil || o != nil && o.Type == identity.Provider {
			return err
		}
	} else if ok, err := identity.ActsFor(s.state(), who.Address, req.Patient); err != nil || ok {
		return err
	}
	return fhir.NewError(fhir.ErrForbidden, fhir.Issue{Diagnostics: "eligibility is asked by the patient, a delegate, a provider or the payer"})
}

// standing reads what the ledger says of the coverage on the date asked.
func (s *Server) standing(req *claimfhir.EligibilityRequest) (claimfhir.Standing, error) {
	st := s.state()
	in, cov, err := claims.Eligible(st, req.Payer, req.Coverage, req.Patient, req.Date)
	if err != nil || cov == nil || cov.Patient != req.Patient {
		return claimfhir.Standing{}, err
	}
	plan, err := claims.LoadPlan(st, req.Payer, cov.Plan)
	if err != nil || plan == nil {
		return claimfhir.Standing{}, err
	}
	used, err := claims.LoadAccumulators(st, req.Payer, req.Coverage, claims.PlanYear(req.Date, plan.YearStart))
	if err != nil {
		return claimfhir.Standing{}, err
	}
	return claimfhir.Standing{InForce: in, Coverage: cov, Plan: plan, Used: used}, nil
}
