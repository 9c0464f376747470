package fhirapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/careledger/careledger/custodian"
	"github.com/careledger/careledger/fhir"
)

// capabilityStatement is what the test reads of /fhir/metadata.
type capabilityStatement struct {
	Rest []struct {
		Resource []struct {
			Type              string
			Interaction       []struct{ Code string }
			SearchParam       []struct{ Name, Type string }
			Operation         []struct{ Name string }
			ConditionalCreate bool
			ConditionalUpdate bool
			ConditionalDelete string
		}
		Interaction []struct{ Code string }
		Operation   []struct{ Name string }
	}
}

// probe returns a value of a search parameter of the given type that
// parses.
func probe(name, typ string) string {
	switch {
	case typ == "date":
		return "2020"
	case name == "encounter":
		return "Encounter/x"
	case name == "organization":
		return "Organization/x"
	case typ == "reference":
		return "Practitioner/x"
	case name == "_sort":
		return "_id"
	case name == "_total":
		return "accurate"
	case name == "_summary":
		return "true"
	case name == "_elements":
		return "id"
	}
	return "x"
}

// TestCapabilityStatement exercises, through a real node, what
// /fhir/metadata declares: every declared type answers a read and a search
// by each declared parameter; every other interaction, conditional form
// and operation is exercised on the types that hold this test's records
// (Patient, Observation, Organization, Group; the other types share their
// routes); and the system's interactions and operations. One that does not
// work fails the test, and so does one it does not know how to exercise:
// declaring something new needs a line here.
func TestCapabilityStatement(t *testing.T) {
	s := newStory(t)
	status, body := s.fhir(s.drA, "GET", "metadata", nil)
	s.expect("metadata", status, http.StatusOK, body)
	var cs capabilityStatement
	if err := json.Unmarshal(body, &cs); err != nil || len(cs.Rest) != 1 {
		t.Fatalf("metadata %s: %v", body, err)
	}
	rest := cs.Rest[0]

	pid := s.create(obj("resourceType", "Patient", "identifier", []any{obj("system", custodian.PatientSystem, "value", addr(s.patient).String())}))
	observation := func() map[string]any {
		return obj("resourceType", "Observation", "status", "final", "code", obj("text", "glucose"), "subject", obj("reference", "Patient/"+pid))
	}
	newBody := map[string]func() map[string]any{
		"Patient":      func() map[string]any { return obj("resourceType", "Patient", "gender", "female") },
		"Observation":  observation,
		"Organization": func() map[string]any { return obj("resourceType", "Organization", "name", "Lab") },
		"Group": func() map[string]any {
			return obj("resourceType", "Group", "type", "person", "actual", true, "member", []any{obj("entity", obj("reference", "Patient/"+pid))})
		},
	}
	// within names the patient a search of a type in the patient
	// compartment must name.
	within := func(typ string) string {
		if typ == "Patient" {
			return "_id=" + pid + "&"
		}
		if fhir.InPatientCompartment(typ) || typ == "AuditEvent" || typ == "Consent" {
			return "patient=Patient/" + pid + "&"
		}
		return ""
	}
	sample := map[string]string{"Patient": pid}
	for typ, b := range newBody {
		if typ != "Patient" {
			sample[typ] = s.create(b())
		}
	}
	absent := map[string]string{"AuditEvent": "log-999999999", "Consent": "grant-999999999"}

	for _, res := range rest.Resource {
		typ := res.Type
		id, held := sample[typ]
		reader := s.drA
		if typ == "AuditEvent" || typ == "Consent" || typ == "ClaimResponse" || typ == "ExplanationOfBenefit" {
			reader = s.patient // the patient's own trail, grants and claims
		}
		for _, in := range res.Interaction {
			what := in.Code + " " + typ
			switch in.Code {
			case "read":
				want, path := http.StatusOK, typ+"/"+id
				if !held {
					want, path = http.StatusNotFound, typ+"/"+absent[typ]
					if absent[typ] == "" {
						path = typ + "/capability-probe"
					}
				}
				status, body := s.fhir(reader, "GET", path, nil)
				s.expect(what, status, want, body)
			case "search-type":
				for _, p := range res.SearchParam {
					q := within(typ) + url.Values{p.Name: {probe(p.Name, p.Type)}}.Encode()
					switch {
					case p.Name == "patient" || p.Name == "subject":
						q = p.Name + "=Patient/" + pid
					case p.Name == "_id" && typ == "Patient":
						q = "_id=" + pid
					}
					status, body := s.fhir(reader, "GET", typ+"?"+q, nil)
					s.expect(what+" by "+p.Name, status, http.StatusOK, body)
				}
			case "create":
				if held && newBody[typ] != nil {
					status, body := s.fhir(s.drA, "POST", typ, newBody[typ]())
					s.expect(what, status, http.StatusCreated, body)
				}
			case "update", "patch", "vread", "history-instance", "delete":
				if !held {
					continue // served by the same routes as the held types
				}
				exerciseInstance(s, in.Code, typ, id, newBody[typ])
			default:
				t.Errorf("metadata declares %s, which this test does not exercise", what)
			}
		}
		if held && newBody[typ] != nil {
			w := within(typ)
			if typ == "Patient" {
				w = "" // the condition's _id names the patient
			}
			exerciseConditional(s, typ, id, w, res.ConditionalCreate, res.ConditionalUpdate, res.ConditionalDelete, newBody[typ])
		}
		for _, op := range res.Operation {
			switch {
			case op.Name == "anchor" && held:
				for _, method := range []string{"GET", "POST"} {
					status, body := s.fhir(s.drA, method, typ+"/"+id+"/_history/1/$anchor", nil)
					s.expect(method+" $anchor on "+typ, status, http.StatusOK, body)
				}
			case op.Name == "anchor":
			case op.Name == "everything" && typ == "Patient":
				for _, method := range []string{"GET", "POST"} {
					status, body := s.fhir(s.drA, method, "Patient/"+pid+"/$everything", nil)
					s.expect(method+" $everything", status, http.StatusOK, body)
				}
			case op.Name == "submit" && typ == "Claim":
				claim := storyClaim(s)
				status, body := s.fhir(s.claimsAgent, "POST", "Claim/$submit", claim)
				s.expect("POST Claim/$submit", status, http.StatusCreated, body)
			case op.Name == "submit" && typ == "CoverageEligibilityRequest":
				status, body := s.fhir(s.patient, "POST", "CoverageEligibilityRequest/$submit", storyEligibility(s))
				s.expect("POST CoverageEligibilityRequest/$submit", status, http.StatusOK, body)
			case op.Name == "export" && (typ == "Patient" || typ == "Group"):
				path := "Patient/$export"
				if typ == "Group" {
					path = "Group/" + sample["Group"] + "/$export"
				}
				for _, method := range []string{"GET", "POST"} {
					status, body := s.fhir(s.drA, method, path, nil, "Prefer", "respond-async")
					s.expect(method+" "+path, status, http.StatusAccepted, body)
				}
			default:
				t.Errorf("metadata declares $%s on %s, which this test does not exercise", op.Name, typ)
			}
		}
	}

	for _, in := range rest.Interaction {
		entry := obj("request", obj("method", "GET", "url", "Patient/"+pid))
		if in.Code != "batch" && in.Code != "transaction" {
			t.Errorf("metadata declares the system interaction %s, which this test does not exercise", in.Code)
			continue
		}
		if in.Code == "transaction" {
			entry = obj("resource", newBody["Organization"](), "request", obj("method", "POST", "url", "Organization"))
		}
		status, body := s.fhir(s.drA, "POST", "", obj("resourceType", "Bundle", "type", in.Code, "entry", []any{entry}))
		s.expect(in.Code, status, http.StatusOK, body)
	}
	for _, op := range rest.Operation {
		if op.Name != "export" {
			t.Errorf("metadata declares the system operation $%s, which this test does not exercise", op.Name)
			continue
		}
		status, body := s.fhir(s.drA, "GET", "$export", nil, "Prefer", "respond-async")
		s.expect("system $export", status, http.StatusAccepted, body)
	}
}

// exerciseInstance exercises an interaction on the record typ/id, or, for
// a delete, on a record made for it.
func exerciseInstance(s *story, code, typ, id string, newBody func() map[string]any) {
	s.t.Helper()
	what := code + " " + typ
	switch code {
	case "update":
		b := newBody()
		b["id"] = id
		if typ == "Patient" {
			b["identifier"] = []any{obj("system", custodian.PatientSystem, "value", addr(s.patient).String())}
		}
		status, body := s.fhir(s.drA, "PUT", typ+"/"+id, b)
		s.expect(what, status, http.StatusOK, body)
	case "patch":
		status, body := s.fhir(s.drA, "PATCH", typ+"/"+id, []byte(`[{"op":"test","path":"/id","value":"`+id+`"}]`), "Content-Type", "application/json-patch+json")
		s.expect(what, status, http.StatusOK, body)
	case "vread":
		status, body := s.fhir(s.drA, "GET", typ+"/"+id+"/_history/1", nil)
		s.expect(what, status, http.StatusOK, body)
	case "history-instance":
		status, body := s.fhir(s.drA, "GET", typ+"/"+id+"/_history", nil)
		s.expect(what, status, http.StatusOK, body)
	case "delete":
		doomed := s.create(newBody())
		status, body := s.fhir(s.drA, "DELETE", typ+"/"+doomed, nil)
		s.expect(what, status, http.StatusNoContent, body)
	}
}

// exerciseConditional exercises the conditional forms declared for typ:
// a create that finds the record id, an update of it by search, and a
// delete by search of a record made for it.
func exerciseConditional(s *story, typ, id, within string, create, update bool, del string, newBody func() map[string]any) {
	s.t.Helper()
	if create {
		status, body := s.fhir(s.drA, "POST", typ, newBody(), "If-None-Exist", within+"_id="+id)
		s.expect("conditional create "+typ, status, http.StatusOK, body)
	}
	if update {
		b := newBody()
		if typ == "Patient" {
			b["identifier"] = []any{obj("system", custodian.PatientSystem, "value", addr(s.patient).String())}
		}
		status, body := s.fhir(s.drA, "PUT", typ+"?"+within+"_id="+id, b)
		s.expect("conditional update "+typ, status, http.StatusOK, body)
	}
	if del == "single" {
		doomed := s.create(newBody())
		status, body := s.fhir(s.drA, "DELETE", typ+"?"+within+"_id="+doomed, nil)
		s.expect("conditional delete "+typ, status, http.StatusNoContent, body)
	}
}
