package fhirapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/custodian"
	"github.com/careledger/careledger/disclosure"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/tx"
)

// Patients' grants are readable as FHIR Consent resources with ids
// "grant-N", derived from the chain. A Consent posted with the extension
// SignedGrantURL, whose value is a transaction the patient (or a delegate)
// signed holding one consent/grant message, becomes that grant: the signed
// grant is what counts, and the Consent returned is derived from it. Other
// Consents (a scanned form, say) are records like any other.
const (
	SignedGrantURL = "urn:careledger:signed-grant"
	grantPrefix    = "grant-"
	conditionURL   = "urn:careledger:condition"
)

func coding(system, code string) map[string]any {
	return map[string]any{"system": system, "code": code}
}

func identifierRef(system, value string) map[string]any {
	return map[string]any{"identifier": map[string]any{"system": system, "value": value}}
}

// grantConsent returns grant g as a FHIR Consent.
func grantConsent(g *consent.StoredGrant) (*fhir.Resource, error) {
	status := "active"
	if g.Revoked != 0 {
		status = "inactive"
	}
	var actor map[string]any
	switch e := g.Grantee; {
	case e.Member != (tx.Address{}):
		actor = identifierRef("urn:careledger:account", e.Member.String())
	case e.Team != 0:
		actor = identifierRef("urn:careledger:care-team", strconv.FormatUint(e.Team, 10))
	case e.Role != "":
		actor = identifierRef("urn:careledger:org-role", e.Org+"/"+string(e.Role))
	default:
		actor = identifierRef("urn:careledger:org", e.Org)
	}
	provision := map[string]any{
		"type": "permit",
		"actor": []any{map[string]any{
			"role":      map[string]any{"coding": []any{coding("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP")}},
			"reference": actor,
		}},
	}
	period := map[string]any{"start": time.Unix(g.NotBefore, 0).UTC().Format(time.RFC3339)}
	if g.NotAfter != 0 {
		period["end"] = time.Unix(g.NotAfter, 0).UTC().Format(time.RFC3339)
	}
	provision["period"] = period
	var purposes, classes, codes, data []any
	for _, p := range g.Purposes {
		purposes = append(purposes, coding("http://terminology.hl7.org/CodeSystem/v3-ActReason", p))
	}
	for _, t := range g.Scope.Types {
		if t != "*" {
			classes = append(classes, coding("http://hl7.org/fhir/resource-types", t))
		}
	}
	for _, c := range g.Scope.Categories {
		codes = append(codes, map[string]any{"coding": []any{map[string]any{"code": c}}})
	}
	for _, r := range g.Scope.Records {
		data = append(data, map[string]any{"meaning": "instance", "reference": map[string]any{"reference": r}})
	}
	for k, v := range map[string][]any{"purpose": purposes, "class": classes, "code": codes, "data": data} {
		if len(v) > 0 {
			provision[k] = v
		}
	}
	c := map[string]any{
		"resourceType": "Consent",
		"id":           grantPrefix + strconv.FormatUint(g.ID, 10),
		"status":       status,
		"identifier":   []any{map[string]any{"system": "urn:careledger:grant", "value": strconv.FormatUint(g.ID, 10)}},
		"scope":        map[string]any{"coding": []any{coding("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy")}},
		"category":     []any{map[string]any{"coding": []any{coding("http://loinc.org", "59284-0")}}},
		"patient":      identifierRef(custodian.PatientSystem, g.Patient.String()),
		"performer":    []any{identifierRef("urn:careledger:account", g.By.String())},
		"policyRule":   map[string]any{"coding": []any{coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "OPTIN")}},
		"provision":    provision,
	}
	if g.Condition != "" {
		c["extension"] = []any{map[string]any{"url": conditionURL, "valueString": g.Condition}}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return fhir.Parse(b)
}

// readConsent serves GET /fhir/Consent/{id}: a grant, or a stored Consent.
func (s *Server) readConsent(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	n, ok := strings.CutPrefix(r.PathValue("id"), grantPrefix)
	if !ok {
		return s.readAs(w, r, who, "Consent")
	}
	id, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		return fhir.NewError(fhir.ErrNotFound, fhir.Issue{Diagnostics: "no such grant"})
	}
	g, err := consent.LoadGrant(s.state(), id)
	if err != nil {
		return err
	}
	if g == nil {
		return fhir.NewError(fhir.ErrNotFound, fhir.Issue{Diagnostics: "no such grant"})
	}
	if err := s.patientInScope(r, g.Patient.String(), "Consent"); err != nil {
		return err
	}
	if ok, err := disclosure.MayReadGrant(s.state(), who, g); err != nil || !ok {
		return orForbidden(err, "only the patient, a delegate, the grantee, an auditor or a privacy officer reads a grant")
	}
	c, err := grantConsent(g)
	if err != nil {
		return err
	}
	writeResource(w, http.StatusOK, c)
	return nil
}

// orForbidden returns err, or, if nil, a 403 saying why.
func orForbidden(err error, why string) error {
	if err != nil {
		return err
	}
	return fhir.NewError(fhir.ErrForbidden, fhir.Issue{Diagnostics: why})
}

// searchConsent serves GET /fhir/Consent?patient=ID: the patient's grants
// that who may read (as GET /v1/patients/{address}/grants: all of them to
// the patient, a delegate, an auditor or a privacy officer, else those
// naming who or who's organization) and the Consent records held here
// that the consent contract lets who read. A caller who may read none of
// either is refused (403), as the JSON API refuses one whom no grant names.
func (s *Server) searchConsent(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	if err := r.ParseForm(); err != nil {
		return fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: "search parameters do not parse"})
	}
	q, err := fhir.ParseQuery("Consent", r.Form)
	if err != nil {
		return err
	}
	req, err := s.requesterOf(r, who)
	if err != nil {
		return err
	}
	stored, err := s.c.Search(r.Context(), req, q)
	if err != nil {
		return err
	}
	gs, mayList, err := s.visibleGrants(r, who, q.Patient())
	if err != nil {
		return err
	}
	if !mayList && len(stored) == 0 {
		return orForbidden(nil, "neither the patient's grants nor their Consent records held here are for this account to read")
	}
	var all []*fhir.Resource
	for _, g := range gs {
		c, err := grantConsent(g)
		if err != nil {
			return err
		}
		all = append(all, c)
	}
	all = append(all, stored...)
	write(w, http.StatusOK, fhir.SearchSet(q, fhirBase(r), len(all), q.Page(all)).Canonical())
	return nil
}

// visibleGrants returns the grants of the patient whose Patient resource
// is id that who may read (within the token's SMART scopes), and whether who may list that patient's grants
// at all (the JSON API's grants rule): who may read the patient's trail, or
// some grant names who. A patient not held here has no grants to show.
func (s *Server) visibleGrants(r *http.Request, who *identity.Account, id string) ([]*consent.StoredGrant, bool, error) {
	pseudonym, err := s.c.PseudonymOf(id)
	if err != nil {
		return nil, false, nil
	}
	addr, err := tx.ParseAddress(pseudonym)
	if err != nil {
		return nil, false, nil
	}
	if err := s.patientInScope(r, pseudonym, "Consent"); err != nil {
		return nil, false, err
	}
	gs, all, err := disclosure.GrantsFor(s.state(), who, addr)
	return gs, all || len(gs) > 0, err
}

// createConsent serves POST /fhir/Consent: a signed grant becomes a grant
// on the chain; any other Consent is stored as a record.
func (s *Server) createConsent(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	res, err := s.body(r, "Consent")
	if err != nil {
		return err
	}
	var c struct {
		Extension []struct {
			URL               string `json:"url"`
			ValueBase64Binary string `json:"valueBase64Binary"`
		} `json:"extension"`
	}
	json.Unmarshal(res.Canonical(), &c)
	var signed string
	for _, e := range c.Extension {
		if e.URL == SignedGrantURL {
			signed = e.ValueBase64Binary
		}
	}
	if signed == "" {
		if res, err = s.c.Create(r.Context(), who, res); err != nil {
			return err
		}
		w.Header().Set("Location", fhirBase(r)+"/Consent/"+res.ID()+"/_history/"+res.Meta().VersionID)
		writeResource(w, http.StatusCreated, res)
		return nil
	}
	raw, err := base64.StdEncoding.DecodeString(signed)
	if err != nil {
		return fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: "the signed grant is not base64", Expression: []string{"Consent.extension"}})
	}
	t, err := tx.Decode(raw, tx.DefaultLimits)
	if err != nil || len(t.Msgs) != 1 || t.Msgs[0].Type != consent.TypeGrant {
		return fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: "the signed grant must be a transaction of one consent/grant message", Expression: []string{"Consent.extension"}})
	}
	result, err := s.c.Relay(r.Context(), raw)
	if err != nil {
		return fmt.Errorf("grant refused: %w", err) // a rejection answers by its code
	}
	var id uint64
	for _, e := range result.Events {
		if g, ok := consent.GrantedOf(e); ok {
			id = g
		}
	}
	g, err := consent.LoadGrant(s.state(), id)
	if err != nil || g == nil {
		return fhir.NewError(fhir.ErrNotFound, fhir.Issue{Diagnostics: "the grant committed but is not readable yet"})
	}
	out, err := grantConsent(g)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fhirBase(r)+"/Consent/"+out.ID())
	writeResource(w, http.StatusCreated, out)
	return nil
}
