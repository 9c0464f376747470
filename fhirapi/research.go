package fhirapi

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/careledger/careledger/audit"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/custodian"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/tx"
)

// The research face: trials on the chain as FHIR ResearchStudy (id: the
// trial ID) and their participants as ResearchSubject (id: TRIAL.ADDRESS,
// the participant's account in hex). Both are derived from the trials
// contract's state; a ResearchStudy starts from the sponsor's document when
// this node keeps it and it still matches the chain's commitment, so a
// document changed after registration is never served as the trial's.
//
// Writes carry a transaction signed by the one the contract asks, in the
// extension SignedTxURL (valueBase64Binary), as a Consent carries a signed
// grant: POST /fhir/ResearchStudy with a trials/register message, signed by
// the sponsor's researcher or admin and sent to the sponsor's node, which
// keeps the document; POST /fhir/ResearchSubject with a trials/enroll
// message. What comes back is derived from the committed state.
const (
	SignedTxURL = "urn:careledger:signed-tx"
	trialSystem = "urn:careledger:trial"
	// The chain's facts that R4's ResearchStudy and ResearchSubject have
	// no element for.
	boardURL        = "urn:careledger:ethics-board"
	inForceURL      = "urn:careledger:protocol-version-in-force"
	versionsURL     = "urn:careledger:protocol-versions"
	commitmentURL   = "urn:careledger:study-commitment"
	documentURL     = "urn:careledger:study-document"
	consentedURL    = "urn:careledger:consented-version"
	reconsentURL    = "urn:careledger:reconsent-needed"
	objectiveSystem = "http://terminology.hl7.org/CodeSystem/research-study-objective-type"
)

// The study document's states, in the documentURL extension.
const (
	documentHeld    = "held"    // kept here, matching the commitment: the resource is built on it
	documentAbsent  = "absent"  // not kept at this node (another sponsor's, or registered by the CLI)
	documentAltered = "altered" // kept here but no longer matching: left out
)

// trialOf returns the trial id names, or nil.
func (s *Server) trialOf(id string) (*trials.Trial, error) {
	if trials.ValidateID("trial", id) != nil {
		return nil, nil
	}
	return trials.LoadTrial(s.state(), id)
}

// readResearchStudy serves GET /fhir/ResearchStudy/{id}: a registered
// trial, public to the network as its history of versions and approvals
// is; any other id is a ResearchStudy stored here.
func (s *Server) readResearchStudy(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	t, err := s.trialOf(r.PathValue("id"))
	if err != nil {
		return err
	}
	if t == nil {
		return s.readAs(w, r, who, "ResearchStudy")
	}
	res, err := s.studyResource(t)
	if err != nil {
		return err
	}
	writeResource(w, http.StatusOK, res)
	return nil
}

// studyDocument returns what a study's commitment covers: the
// ResearchStudy with id the trial's, without meta (the server's) and
// without the signed transaction that carried it.
func studyDocument(res *fhir.Resource, trial string) (*fhir.Resource, error) {
	var m map[string]any
	if err := json.Unmarshal(res.Canonical(), &m); err != nil {
		return nil, err
	}
	delete(m, "meta")
	m["id"] = trial
	if exts, ok := m["extension"].([]any); ok {
		exts = slices.DeleteFunc(exts, func(e any) bool {
			em, _ := e.(map[string]any)
			return em["url"] == SignedTxURL
		})
		if len(exts) == 0 {
			delete(m, "extension")
		} else {
			m["extension"] = exts
		}
	}
	return parseMap(m)
}

// StudyCommitment returns the commitment a trials/register message makes
// to a ResearchStudy: the SHA-256 of its canonical JSON with id the trial
// ID, no meta and no SignedTxURL extension. The CLI and the portal commit
// to the same bytes.
func StudyCommitment(res *fhir.Resource, trial string) ([32]byte, error) {
	doc, err := studyDocument(res, trial)
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(doc.Canonical()), nil
}

// studyStatus is the trial's R4 status: in review until the board approves
// its first version, then active.
func studyStatus(t *trials.Trial) string {
	if t.InForce == 0 {
		return "in-review"
	}
	return "active"
}

// studyResource returns trial t as a ResearchStudy.
func (s *Server) studyResource(t *trials.Trial) (*fhir.Resource, error) {
	m, docState, err := s.studyBase(t)
	if err != nil {
		return nil, err
	}
	versions, err := s.trialVersions(t)
	if err != nil {
		return nil, err
	}
	m["id"] = t.ID
	m["status"] = studyStatus(t)
	m["sponsor"] = identifierRef(orgSystem, t.Sponsor)
	ids, _ := m["identifier"].([]any)
	m["identifier"] = append([]any{map[string]any{"system": trialSystem, "value": t.ID}}, ids...)
	// The outcomes of the version in force (before any approval, those of
	// version 1): the chain's, which replace the document's objectives.
	current := versions[0]
	if t.InForce > 0 {
		current = versions[t.InForce-1]
	}
	var objectives []any
	for _, role := range []struct {
		code string
		ids  []string
	}{{trials.Primary, current.Primary}, {trials.Secondary, current.Secondary}} {
		for _, id := range role.ids {
			objectives = append(objectives, map[string]any{"name": id, "type": map[string]any{"coding": []any{coding(objectiveSystem, role.code)}}})
		}
	}
	m["objective"] = objectives
	exts, _ := m["extension"].([]any)
	exts = append(exts,
		map[string]any{"url": boardURL, "valueIdentifier": map[string]any{"system": orgSystem, "value": t.Board}},
		map[string]any{"url": commitmentURL, "valueString": hex.EncodeToString(t.Study[:])},
		map[string]any{"url": documentURL, "valueCode": docState},
		map[string]any{"url": inForceURL, "valueUnsignedInt": t.InForce},
	)
	for _, v := range versions {
		exts = append(exts, versionExtension(v))
	}
	m["extension"] = exts
	return parseMap(m)
}

// studyBase returns the sponsor's document of t as a map if this node
// keeps it and it matches the chain's commitment, else a bare
// ResearchStudy; and which of the two it is.
func (s *Server) studyBase(t *trials.Trial) (map[string]any, string, error) {
	bare := map[string]any{"resourceType": "ResearchStudy"}
	stored, err := s.c.Document("ResearchStudy", t.ID)
	if err != nil || stored == nil {
		return bare, documentAbsent, err
	}
	doc, err := studyDocument(stored, t.ID)
	if err != nil {
		return nil, "", err
	}
	if sha256.Sum256(doc.Canonical()) != t.Study {
		return bare, documentAltered, nil
	}
	var m map[string]any
	if err := json.Unmarshal(doc.Canonical(), &m); err != nil {
		return nil, "", err
	}
	return m, documentHeld, nil
}

// trialVersions returns t's protocol versions, from 1.
func (s *Server) trialVersions(t *trials.Trial) ([]*trials.Version, error) {
	var vs []*trials.Version
	for n := uint64(1); n <= t.Versions; n++ {
		v, err := trials.LoadVersion(s.state(), t.ID, n)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return nil, fmt.Errorf("trial %s lacks version %d", t.ID, n)
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// versionExtension describes one protocol version: its number, the
// commitments of its protocol and analysis plan, its outcomes and, once
// approved, the block of the approval.
func versionExtension(v *trials.Version) map[string]any {
	sub := []any{
		map[string]any{"url": "number", "valueUnsignedInt": v.Number},
		map[string]any{"url": "protocol", "valueString": hex.EncodeToString(v.Protocol[:])},
		map[string]any{"url": "sap", "valueString": hex.EncodeToString(v.SAP[:])},
		map[string]any{"url": "proposedHeight", "valueUnsignedInt": v.ProposedHeight},
	}
	for _, id := range v.Primary {
		sub = append(sub, map[string]any{"url": trials.Primary, "valueString": id})
	}
	for _, id := range v.Secondary {
		sub = append(sub, map[string]any{"url": trials.Secondary, "valueString": id})
	}
	if !v.Pending() {
		sub = append(sub, map[string]any{"url": "approvedHeight", "valueUnsignedInt": v.ApprovedHeight},
			map[string]any{"url": "approver", "valueString": v.Approver.String()})
	}
	return map[string]any{"url": versionsURL, "extension": sub}
}

// searchParams of the research views: what each accepts, nothing else.
var (
	studyParams   = []string{"_id", "status", "sponsor"}
	subjectParams = []string{"study", "individual", "patient", "status"}
)

// researchForm parses a search's parameters, refusing one that the view
// does not serve (a parameter ignored would widen the answer).
func researchForm(r *http.Request, typ string, allowed []string) (url.Values, error) {
	if err := r.ParseForm(); err != nil {
		return nil, fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: "search parameters do not parse"})
	}
	for name := range r.Form {
		if !slices.Contains(allowed, name) {
			return nil, fhir.NewError(fhir.ErrUnsupported, fhir.Issue{Diagnostics: fmt.Sprintf("%s is searched by %s only", typ, strings.Join(allowed, ", "))})
		}
	}
	return r.Form, nil
}

// refValue returns a reference search value without its type: "Type/x"
// and "x" name x; a reference to another type names nothing ("", false).
func refValue(v, typ string) (string, bool) {
	if t, id, ok := strings.Cut(v, "/"); ok {
		return id, t == typ
	}
	return v, true
}

// matchesAny reports whether a token parameter's values (comma-separated, any
// of them matching) include v; no values match everything.
func matchesAny(values []string, v string) bool {
	if len(values) == 0 {
		return true
	}
	for _, vs := range values {
		if slices.Contains(strings.Split(vs, ","), v) {
			return true
		}
	}
	return false
}

// searchResearchStudy serves GET /fhir/ResearchStudy: the trials on the
// chain, in order of registration, by _id, status and sponsor (an
// organization ID or Organization/ID). Every member of the network may see
// every trial; ResearchStudies stored here that are no trial's are not
// searched.
func (s *Server) searchResearchStudy(w http.ResponseWriter, r *http.Request, _ *identity.Account) error {
	form, err := researchForm(r, "ResearchStudy", studyParams)
	if err != nil {
		return err
	}
	var sponsors []string
	for _, v := range form["sponsor"] {
		for _, x := range strings.Split(v, ",") {
			if id, ok := refValue(x, "Organization"); ok {
				sponsors = append(sponsors, id)
			}
		}
	}
	if len(form["sponsor"]) > 0 && len(sponsors) == 0 {
		return writeSearchSet(w, r, "ResearchStudy", nil)
	}
	ids, err := s.registeredTrials()
	if err != nil {
		return err
	}
	var matches []*fhir.Resource
	for _, id := range ids {
		if !matchesAny(form["_id"], id) {
			continue
		}
		t, err := trials.LoadTrial(s.state(), id)
		if err != nil {
			return err
		}
		if t == nil || !matchesAny(form["status"], studyStatus(t)) || len(sponsors) > 0 && !slices.Contains(sponsors, t.Sponsor) {
			continue
		}
		res, err := s.studyResource(t)
		if err != nil {
			return err
		}
		matches = append(matches, res)
	}
	return writeSearchSet(w, r, "ResearchStudy", matches)
}

// registeredTrials returns the IDs of the trials registered, in order of
// registration, from the audit log's index of registrations.
func (s *Server) registeredTrials() ([]string, error) {
	evs, err := s.loggedEvents(func() ([]uint64, error) { return s.audit.TypeEvents(trials.EventRegistered, 0, 1<<30) })
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range evs {
		if id := e.Attr("trial"); id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// loggedEvents returns the contract events at the audit log's indexes
// that list returns, in log order.
func (s *Server) loggedEvents(list func() ([]uint64, error)) ([]contract.Event, error) {
	if s.audit == nil {
		return nil, nil
	}
	idx, err := list()
	if err != nil {
		return nil, err
	}
	out := make([]contract.Event, 0, len(idx))
	for _, i := range idx {
		leaf, err := s.audit.Leaf(i)
		if err != nil {
			return nil, err
		}
		ev, err := audit.DecodeEvent(leaf)
		if err != nil {
			return nil, err
		}
		out = append(out, ev.Event)
	}
	return out, nil
}

// trialsOf returns the trials org sponsors or oversees as ethics board,
// in order of registration.
func (s *Server) trialsOf(org string) ([]string, error) {
	ids, err := s.registeredTrials()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range ids {
		t, err := trials.LoadTrial(s.state(), id)
		if err != nil {
			return nil, err
		}
		if t != nil && (t.Sponsor == org || t.Board == org) {
			out = append(out, id)
		}
	}
	return out, nil
}

// participantEvents are the trials events that name a participant.
var participantEvents = []string{trials.EventConsented, trials.EventEnrolled, trials.EventWithdrawn}

// subjectID returns the ResearchSubject id of participant p of trial, ""
// when it does not fit a FHIR id (a trial ID of more than 23 characters or
// with '_').
func subjectID(trial string, p tx.Address) string {
	id := trial + "." + p.String()
	if !fhir.ValidID(id) {
		return ""
	}
	return id
}

// parseSubjectID splits a ResearchSubject id at its last '.' into a
// trial and a participant.
func parseSubjectID(id string) (string, tx.Address, bool) {
	i := strings.LastIndexByte(id, '.')
	if i < 0 {
		return "", tx.Address{}, false
	}
	a, err := tx.ParseAddress(id[i+1:])
	// Only the one spelling subjectID gives: lowercase hex.
	return id[:i], a, err == nil && a.String() == id[i+1:] && trials.ValidateID("trial", id[:i]) == nil
}

// subjectStatus is a participant's R4 status: withdrawn; on study once
// enrolled; pending once consented.
func subjectStatus(p *trials.Participant) string {
	switch {
	case p.WithdrawnHeight != 0:
		return "withdrawn"
	case p.EnrolledHeight != 0:
		return "on-study"
	}
	return "pending-on-study"
}

// subjectResource returns participant p of trial t as a ResearchSubject.
// A participant enrolled under an earlier version than the one in force
// is still on study, but their data is not captured until they consent
// again (reconsent-needed).
func subjectResource(t *trials.Trial, addr tx.Address, p *trials.Participant) (*fhir.Resource, error) {
	m := map[string]any{
		"resourceType": "ResearchSubject",
		"status":       subjectStatus(p),
		"study":        map[string]any{"reference": "ResearchStudy/" + t.ID},
		"individual":   identifierRef(custodian.PatientSystem, addr.String()),
		"extension": []any{
			map[string]any{"url": consentedURL, "valueUnsignedInt": p.Consented},
			map[string]any{"url": reconsentURL, "valueBoolean": p.WithdrawnHeight == 0 && p.Consented != t.InForce},
		},
	}
	if id := subjectID(t.ID, addr); id != "" {
		m["id"] = id
	}
	return parseMap(m)
}

// maySeeSubject reports whether who may see addr's part in trial t: the
// participant and their delegates, and the members of the sponsor and of
// the ethics board.
func (s *Server) maySeeSubject(who *identity.Account, t *trials.Trial, addr tx.Address) (bool, error) {
	if who.Kind == identity.Member && (who.Org == t.Sponsor || who.Org == t.Board) {
		return true, nil
	}
	return identity.ActsFor(s.state(), who.Address, addr)
}

// readResearchSubject serves GET /fhir/ResearchSubject/{id}: a
// participant of a trial (TRIAL.ADDRESS), or a ResearchSubject stored here.
func (s *Server) readResearchSubject(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	trial, addr, ok := parseSubjectID(r.PathValue("id"))
	if !ok {
		return s.readAs(w, r, who, "ResearchSubject")
	}
	notFound := fhir.NewError(fhir.ErrNotFound, fhir.Issue{Diagnostics: "no such participant"})
	t, err := s.trialOf(trial)
	if err != nil || t == nil {
		return orNotFound(err, notFound)
	}
	p, err := trials.LoadParticipant(s.state(), t.ID, addr)
	if err != nil || p == nil {
		return orNotFound(err, notFound)
	}
	if ok, err := s.maySeeSubject(who, t, addr); err != nil || !ok {
		return orForbidden(err, "only the participant, a delegate, and the sponsor's and the ethics board's members see a participant")
	}
	if err := s.patientInScope(r, addr.String(), "ResearchSubject"); err != nil {
		return err
	}
	res, err := subjectResource(t, addr, p)
	if err != nil {
		return err
	}
	writeResource(w, http.StatusOK, res)
	return nil
}

func orNotFound(err, notFound error) error {
	if err != nil {
		return err
	}
	return notFound
}

// searchResearchSubject serves GET /fhir/ResearchSubject: by study (a
// trial), by individual or patient (an account address or a Patient held
// here), by status; naming neither study nor patient, a patient's own and
// a member's organization's trials (as sponsor or board). Only the
// participants the caller may see are returned, in the order they first
// consented.
func (s *Server) searchResearchSubject(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	form, err := researchForm(r, "ResearchSubject", subjectParams)
	if err != nil {
		return err
	}
	pairs, err := s.subjectCandidates(form, who)
	if err != nil {
		return err
	}
	var matches []*fhir.Resource
	for _, c := range pairs {
		t, err := trials.LoadTrial(s.state(), c.trial)
		if err != nil {
			return err
		}
		p, err := trials.LoadParticipant(s.state(), c.trial, c.addr)
		if err != nil {
			return err
		}
		if t == nil || p == nil || !matchesAny(form["status"], subjectStatus(p)) {
			continue
		}
		if ok, err := s.maySeeSubject(who, t, c.addr); err != nil {
			return err
		} else if !ok || s.patientInScope(r, c.addr.String(), "ResearchSubject") != nil {
			continue
		}
		res, err := subjectResource(t, c.addr, p)
		if err != nil {
			return err
		}
		matches = append(matches, res)
	}
	return writeSearchSet(w, r, "ResearchSubject", matches)
}

// candidate is a participant of a trial that a search may return.
type candidate struct {
	trial string
	addr  tx.Address
}

// subjectCandidates returns the trial and participant pairs the search's
// study and patient name, from the audit log's index of events by
// account (a patient's trials) or by organization (a trial's sponsor's
// events).
func (s *Server) subjectCandidates(form url.Values, who *identity.Account) ([]candidate, error) {
	var err error
	studies := []string{}
	for _, v := range form["study"] {
		if id, ok := refValue(v, "ResearchStudy"); ok {
			studies = append(studies, id)
		}
	}
	patients := append(slices.Clone(form["individual"]), form["patient"]...)
	if len(form["study"]) == 0 && len(patients) == 0 {
		// Naming neither, a patient searches their own trials, a member
		// those their organization sponsors or oversees.
		if who.Kind != identity.Member {
			patients = []string{who.Address.String()}
		} else if studies, err = s.trialsOf(who.Org); err != nil || len(studies) == 0 {
			return nil, err
		}
	}
	var addrs []tx.Address
	for _, v := range patients {
		if a, ok := s.patientOfRef(v); ok {
			addrs = append(addrs, a)
		}
	}
	if len(form["study"]) > 0 && len(studies) == 0 || len(patients) > 0 && len(addrs) == 0 {
		return nil, nil // a reference to another type, or a patient unknown here, matches nothing
	}
	var out []candidate
	add := func(c candidate) {
		if !slices.Contains(out, c) && (len(studies) == 0 || slices.Contains(studies, c.trial)) &&
			(len(addrs) == 0 || slices.Contains(addrs, c.addr)) {
			out = append(out, c)
		}
	}
	if len(addrs) > 0 {
		for _, a := range addrs {
			evs, err := s.loggedEvents(func() ([]uint64, error) { return s.audit.AccountEvents(a, 0, 1<<30) })
			if err != nil {
				return nil, err
			}
			for _, e := range evs {
				if slices.Contains(participantEvents, e.Type) {
					add(candidate{e.Attr("trial"), a})
				}
			}
		}
		return out, nil
	}
	for _, id := range studies {
		t, err := s.trialOf(id)
		if err != nil {
			return nil, err
		}
		if t == nil {
			continue
		}
		evs, err := s.loggedEvents(func() ([]uint64, error) { return s.audit.OrgEvents(t.Sponsor, 0, 1<<30) })
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			if slices.Contains(participantEvents, e.Type) && e.Attr("trial") == t.ID {
				if a, err := tx.ParseAddress(e.Attr("participant")); err == nil {
					add(candidate{t.ID, a})
				}
			}
		}
	}
	return out, nil
}

// patientOfRef returns the account a patient reference names: an account
// address, or a Patient held here linked to one.
func (s *Server) patientOfRef(v string) (tx.Address, bool) {
	id, ok := refValue(v, "Patient")
	if !ok {
		return tx.Address{}, false
	}
	if a, err := tx.ParseAddress(id); err == nil {
		return a, true
	}
	if !fhir.ValidID(id) {
		return tx.Address{}, false
	}
	pseudonym, err := s.c.PseudonymOf(id)
	if err != nil {
		return tx.Address{}, false
	}
	a, err := tx.ParseAddress(pseudonym)
	return a, err == nil
}

// signedMsg returns the transaction in res's SignedTxURL extension, which
// must hold exactly one message of type typ, and that message; nil when
// res has no such extension.
func signedMsg(res *fhir.Resource, typ uint64) ([]byte, *tx.Tx, contract.Msg, error) {
	var body struct {
		Extension []struct {
			URL               string `json:"url"`
			ValueBase64Binary string `json:"valueBase64Binary"`
		} `json:"extension"`
	}
	json.Unmarshal(res.Canonical(), &body)
	var signed string
	for _, e := range body.Extension {
		if e.URL == SignedTxURL {
			signed = e.ValueBase64Binary
		}
	}
	if signed == "" {
		return nil, nil, nil, nil
	}
	expr := []string{res.Type() + ".extension"}
	c := trials.New(nil).Describe() // register and enroll decode without the rules' engine
	name := c.Msg(typ).Name
	raw, err := base64.StdEncoding.DecodeString(signed)
	if err != nil {
		return nil, nil, nil, fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: "the signed transaction is not base64", Expression: expr})
	}
	t, err := tx.Decode(raw, tx.DefaultLimits)
	if err != nil || len(t.Msgs) != 1 || t.Msgs[0].Type != typ {
		return nil, nil, nil, fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: "the signed transaction must hold one " + name + " message", Expression: expr})
	}
	m, err := c.Decode(typ, t.Msgs[0].Body)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", name, err) // a rejection answers by its code
	}
	return raw, t, m, nil
}

// createStored stores a resource posted without a signed transaction as a
// record, as POST /fhir/{type} would, conditionally with If-None-Exist.
func (s *Server) createStored(w http.ResponseWriter, r *http.Request, who *identity.Account, res *fhir.Resource) error {
	if q, err := ifNoneExist(r, res.Type()); q != nil || err != nil {
		if err != nil {
			return err
		}
		return s.createIfNoneExist(w, r, who, res, q)
	}
	res, err := s.c.Create(r.Context(), who, res)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fhirBase(r)+"/"+res.Type()+"/"+res.ID()+"/_history/"+res.Meta().VersionID)
	writeResource(w, http.StatusCreated, res)
	return nil
}

// registerStudy serves POST /fhir/ResearchStudy. With a signed
// trials/register message whose study commitment is this ResearchStudy's
// (StudyCommitment), sent to the sponsor's node by the member who signed
// it, the document is kept here under the trial's ID and the registration
// relayed; the answer is the trial's ResearchStudy. Without one, the
// ResearchStudy is stored as a record.
func (s *Server) registerStudy(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	res, err := s.body(r, "ResearchStudy")
	if err != nil {
		return err
	}
	raw, signed, msg, err := signedMsg(res, trials.TypeRegister)
	if err != nil {
		return err
	}
	if signed == nil {
		return s.createStored(w, r, who, res)
	}
	if r.Header.Get("If-None-Exist") != "" {
		return fhir.NewError(fhir.ErrUnsupported, fhir.Issue{Diagnostics: "a signed message is not created conditionally"})
	}
	m := msg.(trials.Register)
	if m.Sponsor != s.c.Org() || who.Kind != identity.Member || who.Org != m.Sponsor {
		return fhir.NewError(fhir.ErrForbidden, fhir.Issue{Diagnostics: "a trial is registered at its sponsor's node, by a member of the sponsor"})
	}
	if tx.AddressOf(signed.Signer) != who.Address {
		return fhir.NewError(fhir.ErrForbidden, fhir.Issue{Diagnostics: "the registration must be signed by the account that posts it"})
	}
	doc, err := studyDocument(res, m.Trial)
	if err != nil {
		return err
	}
	if sha256.Sum256(doc.Canonical()) != m.Study {
		return fhir.NewError(fhir.ErrUnprocessable, fhir.Issue{Diagnostics: "the registration's study commitment is not this ResearchStudy's (SHA-256 of its canonical JSON, id the trial ID, without meta and the signed transaction)"})
	}
	if old, err := s.trialOf(m.Trial); err != nil {
		return err
	} else if old != nil {
		return tx.Rejectf(tx.CodeAlreadyExists, "trial %s is already registered", m.Trial)
	}
	// The document is kept before the registration is relayed: a trial on
	// the chain whose document this node lost would be worse than a
	// document kept for a registration refused (which no trial serves).
	if _, err := s.c.PutDocument(r.Context(), doc); err != nil {
		return err
	}
	if _, err := s.c.Relay(r.Context(), raw); err != nil {
		return fmt.Errorf("registration refused: %w", err)
	}
	t, err := s.trialOf(m.Trial)
	if err != nil || t == nil {
		return orNotFound(err, fhir.NewError(fhir.ErrNotFound, fhir.Issue{Diagnostics: "the trial committed but is not readable yet"}))
	}
	out, err := s.studyResource(t)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fhirBase(r)+"/ResearchStudy/"+t.ID)
	writeResource(w, http.StatusCreated, out)
	return nil
}

// enrollSubject serves POST /fhir/ResearchSubject. With a signed
// trials/enroll message naming the ResearchSubject's study (ResearchStudy/
// TRIAL, or an identifier of system urn:careledger:trial) and individual
// (a Patient held here, or an identifier of system urn:careledger:patient),
// the enrollment is relayed and the answer is the participant's
// ResearchSubject; the contract refuses it without consent to the version
// in force. Without one, it is refused.
func (s *Server) enrollSubject(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	res, err := s.body(r, "ResearchSubject")
	if err != nil {
		return err
	}
	raw, signed, msg, err := signedMsg(res, trials.TypeEnroll)
	if err != nil {
		return err
	}
	if signed == nil {
		// Not stored as a record: the fhir package does not file a
		// ResearchSubject under its patient, so it would be open to all.
		return fhir.NewError(fhir.ErrUnprocessable, fhir.Issue{Diagnostics: "a ResearchSubject is an enrollment: post it with a signed trials/enroll message in extension " + SignedTxURL})
	}
	if r.Header.Get("If-None-Exist") != "" {
		return fhir.NewError(fhir.ErrUnsupported, fhir.Issue{Diagnostics: "a signed message is not created conditionally"})
	}
	m := msg.(trials.Enroll)
	var body struct {
		Study      reference `json:"study"`
		Individual reference `json:"individual"`
	}
	json.Unmarshal(res.Canonical(), &body)
	if trial, ok := body.Study.names("ResearchStudy", trialSystem); !ok || trial != m.Trial {
		return fhir.NewError(fhir.ErrUnprocessable, fhir.Issue{Diagnostics: "the ResearchSubject's study is not the trial the enrollment names", Expression: []string{"ResearchSubject.study"}})
	}
	if !s.individualIs(body.Individual, m.Participant) {
		return fhir.NewError(fhir.ErrUnprocessable, fhir.Issue{Diagnostics: "the ResearchSubject's individual is not the participant the enrollment names", Expression: []string{"ResearchSubject.individual"}})
	}
	if _, err := s.c.Relay(r.Context(), raw); err != nil {
		return fmt.Errorf("enrollment refused: %w", err)
	}
	t, err := s.trialOf(m.Trial)
	if err != nil {
		return err
	}
	p, err := trials.LoadParticipant(s.state(), m.Trial, m.Participant)
	if err != nil || t == nil || p == nil {
		return orNotFound(err, fhir.NewError(fhir.ErrNotFound, fhir.Issue{Diagnostics: "the enrollment committed but is not readable yet"}))
	}
	out, err := subjectResource(t, m.Participant, p)
	if err != nil {
		return err
	}
	if id := out.ID(); id != "" {
		w.Header().Set("Location", fhirBase(r)+"/ResearchSubject/"+id)
	}
	writeResource(w, http.StatusCreated, out)
	return nil
}

// reference is a FHIR Reference's literal and logical forms.
type reference struct {
	Reference  string `json:"reference"`
	Identifier struct {
		System string `json:"system"`
		Value  string `json:"value"`
	} `json:"identifier"`
}

// names returns the id r names, as a reference to typ or an identifier of
// system.
func (r reference) names(typ, system string) (string, bool) {
	if r.Identifier.System == system && r.Identifier.Value != "" {
		return r.Identifier.Value, true
	}
	t, id, ok := strings.Cut(r.Reference, "/")
	return id, ok && t == typ && id != ""
}

// individualIs reports whether r names participant: by the identifier of
// their account, or as a Patient held here linked to it.
func (s *Server) individualIs(r reference, participant tx.Address) bool {
	if r.Identifier.System == custodian.PatientSystem {
		a, err := tx.ParseAddress(r.Identifier.Value)
		return err == nil && a == participant
	}
	typ, id, ok := strings.Cut(r.Reference, "/")
	if !ok || typ != "Patient" {
		return false
	}
	a, ok := s.patientOfRef(id)
	return ok && a == participant
}
