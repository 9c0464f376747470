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
	c, err := grantConsent(g)
	if err != nil {
		return err
	}
	writeResource(w, http.StatusOK, c)
	return nil
}

// searchConsent serves GET /fhir/Consent?patient=ID: the patient's grants
// (those that may be in force) and the Consent records held here.
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
	var all []*fhir.Resource
	if pseudonym, err := s.c.PseudonymOf(q.Patient()); err == nil {
		addr, _ := tx.ParseAddress(pseudonym)
		gs, err := consent.PatientGrants(s.state(), addr)
		if err != nil {
			return err
		}
		for _, g := range gs {
			c, err := grantConsent(g)
			if err != nil {
				return err
			}
			all = append(all, c)
		}
	}
	all = append(all, stored...)
	write(w, http.StatusOK, fhir.SearchSet(q, fhirBase(r), len(all), q.Page(all)).Canonical())
	return nil
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
