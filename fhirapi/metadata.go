package fhirapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/careledger/careledger/fhir"
)

// searchParams are the search parameters the fhir package parses where a
// type defines them, each with a value that parses, for probing.
var searchParams = []struct{ name, typ, sample string }{
	{"_id", "token", "x"},
	{"_lastUpdated", "date", "2020"},
	{"patient", "reference", "x"},
	{"subject", "reference", "Patient/x"},
	{"code", "token", "x"},
	{"date", "date", "2020"},
	{"category", "token", "x"},
	{"identifier", "token", "x"},
	{"status", "token", "x"},
	{"name", "string", "x"},
	{"family", "string", "x"},
	{"given", "string", "x"},
	{"birthdate", "date", "2020"},
	{"encounter", "reference", "Encounter/x"},
	{"performer", "reference", "Practitioner/x"},
	{"requester", "reference", "Practitioner/x"},
	{"organization", "reference", "Organization/x"},
	{"general-practitioner", "reference", "Practitioner/x"},
	{"_sort", "special", "_id"},
	{"_total", "special", "accurate"},
	{"_summary", "special", "true"},
	{"_elements", "special", "id"},
}

// viewParams are the search parameters of the views' own search handlers
// (auditevent.go, consent.go, claims.go, schedule.go), which serve
// those types' searches in place of fhir.ParseQuery's.
var viewParams = map[string][]map[string]any{
	"AuditEvent": {{"name": "patient", "type": "reference"}, {"name": "date", "type": "date"}, {"name": "agent", "type": "reference"}, {"name": "type", "type": "token"}},
	"Consent":    {{"name": "patient", "type": "reference"}},
	// claims.go's views of the chain's decisions
	"ClaimResponse":        {{"name": "patient", "type": "reference"}, {"name": "request", "type": "reference"}},
	"ExplanationOfBenefit": {{"name": "patient", "type": "reference"}},
	// schedule.go's views of schedules, slots and bookings
	"Schedule":    {{"name": "actor", "type": "reference"}, {"name": "service-category", "type": "token"}},
	"Slot":        {{"name": "schedule", "type": "reference"}, {"name": "start", "type": "date"}, {"name": "status", "type": "token"}, {"name": "service-category", "type": "token"}},
	"Appointment": {{"name": "patient", "type": "reference"}, {"name": "actor", "type": "reference"}, {"name": "date", "type": "date"}, {"name": "status", "type": "token"}, {"name": "service-category", "type": "token"}},
	// research.go's views of the trials on the chain
	"ResearchStudy":   {{"name": "_id", "type": "token"}, {"name": "status", "type": "token"}, {"name": "sponsor", "type": "reference"}},
	"ResearchSubject": {{"name": "study", "type": "reference"}, {"name": "individual", "type": "reference"}, {"name": "patient", "type": "reference"}, {"name": "status", "type": "token"}},
}

// operationDefinitions are the canonical definitions of the operations,
// by name and the level of the route that serves them.
var operationDefinitions = map[string]string{
	"anchor":                            "urn:careledger:operation:anchor",
	"Patient everything":                "http://hl7.org/fhir/OperationDefinition/Patient-everything",
	"system export":                     "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
	"Patient export":                    "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
	"Group export":                      "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export",
	"Claim submit":                      "http://hl7.org/fhir/OperationDefinition/Claim-submit",
	"CoverageEligibilityRequest submit": "urn:careledger:operation:eligibility-submit",
}

// declared is what the routes declare of one resource type, or of the
// whole system: restful interaction codes (and conditional forms) and
// operations, in the order of the route table.
type declared struct {
	codes, operations []string
}

func (d *declared) add(declares string) {
	for _, c := range strings.Fields(declares) {
		if op, ok := strings.CutPrefix(c, "$"); ok {
			if !slices.Contains(d.operations, op) {
				d.operations = append(d.operations, op)
			}
		} else if !slices.Contains(d.codes, c) {
			d.codes = append(d.codes, c)
		}
	}
}

// routeLevel returns the type a route pattern serves: "{type}" for the
// generic routes, a type's name, or "" for the system level.
func routeLevel(pattern string) string {
	_, path, _ := strings.Cut(pattern, " ")
	seg, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(path, "/fhir"), "/"), "/")
	if seg == "" || seg == "{$}" || seg[0] == '$' {
		return ""
	}
	return seg
}

// declarations returns what the routes declare, by level.
func (s *Server) declarations() map[string]*declared {
	levels := map[string]*declared{}
	for _, rt := range s.routes() {
		lvl := routeLevel(rt.pattern)
		if levels[lvl] == nil {
			levels[lvl] = &declared{}
		}
		levels[lvl].add(rt.declares)
	}
	return levels
}

// errViewSearch marks a type whose search is a view's own: the records
// stored of it are not what its search finds, so no conditional form.
var errViewSearch = errors.New("searched as a view")

// resourceCapability returns the CapabilityStatement's entry for typ, or
// nil when no route serves it.
func resourceCapability(typ string, levels map[string]*declared) map[string]any {
	var d declared
	if levels["{type}"] != nil {
		d = *levels["{type}"]
	}
	if own := levels[typ]; own != nil {
		d.codes = append(slices.Clone(d.codes), own.codes...)
		d.operations = append(slices.Clone(d.operations), own.operations...)
	}
	res := map[string]any{"type": typ}
	// Conditional forms search the records stored here: they are served
	// where the fhir package searches the type (a view's own search, such
	// as research.go's, does not serve them).
	params := searchParamsOf(typ)
	_, noRecords := fhir.ParseQuery(typ, url.Values{})
	if _, view := viewParams[typ]; view {
		noRecords = errViewSearch
	}
	var interactions []map[string]any
	for _, code := range d.codes {
		switch {
		case strings.HasPrefix(code, "conditional-") && (params == nil || noRecords != nil):
		case code == "conditional-create":
			res["conditionalCreate"] = true
		case code == "conditional-update":
			res["conditionalUpdate"] = true
		case code == "conditional-delete":
			res["conditionalDelete"] = "single"
		case code == "search-type" && params == nil:
		case code == "search-type":
			res["searchParam"] = params
			inc, rev := fhir.Includes(typ)
			if len(inc) > 0 {
				res["searchInclude"] = inc
			}
			if len(rev) > 0 {
				res["searchRevInclude"] = rev
			}
			fallthrough
		default:
			interactions = append(interactions, map[string]any{"code": code})
		}
	}
	if len(interactions) == 0 {
		return nil
	}
	res["interaction"] = interactions
	if slices.ContainsFunc(d.codes, func(c string) bool { return c == "update" || c == "vread" }) {
		res["versioning"] = "versioned"
		res["readHistory"] = true
		res["updateCreate"] = true
	}
	if ops := operations(typ, d.operations); ops != nil {
		res["operation"] = ops
	}
	return res
}

// searchParamsOf returns the search parameters of typ, nil if it is not
// searched.
func searchParamsOf(typ string) []map[string]any {
	if p, ok := viewParams[typ]; ok {
		return p
	}
	if _, err := fhir.ParseQuery(typ, url.Values{}); err != nil {
		return nil
	}
	params := []map[string]any{}
	for _, p := range searchParams {
		if _, err := fhir.ParseQuery(typ, url.Values{p.name: {p.sample}}); err == nil {
			params = append(params, map[string]any{"name": p.name, "type": p.typ})
		}
	}
	return params
}

// operations returns the CapabilityStatement's operations of a level (a
// type, or "system").
func operations(level string, names []string) []map[string]any {
	var ops []map[string]any
	for _, name := range names {
		def := operationDefinitions[level+" "+name]
		if def == "" {
			def = operationDefinitions[name]
		}
		ops = append(ops, map[string]any{"name": name, "definition": def})
	}
	return ops
}

// metadata serves the CapabilityStatement. It is built from the route
// table and from what the fhir package parses, so it can claim neither an
// interaction nor a parameter that the server refuses.
func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	levels := s.declarations()
	var resources []map[string]any
	for _, typ := range fhir.ResourceTypes() {
		if res := resourceCapability(typ, levels); res != nil {
			resources = append(resources, res)
		}
	}
	system := levels[""]
	var interactions []map[string]any
	for _, code := range system.codes {
		interactions = append(interactions, map[string]any{"code": code})
	}
	validation := "Resources are parsed (a JSON object of an R4 resource type); no schema is configured."
	if s.validates {
		validation = "Resources are validated against the FHIR R4 JSON schema."
	}
	cs := map[string]any{
		"resourceType": "CapabilityStatement",
		"status":       "active",
		"date":         "2026-12-03",
		"kind":         "instance",
		"fhirVersion":  "4.0.1",
		"format":       []string{"application/fhir+json"},
		"instantiates": []string{"http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"},
		"software":     map[string]any{"name": "CareLedger"},
		"implementation": map[string]any{
			"description": "A CareLedger custodian node. Every read is decided by the consent contract and its receipt is committed on the chain before data is returned. Operations are served by GET and by POST with a Parameters body. " + validation,
			"url":         fhirBase(r),
		},
		"rest": []map[string]any{{
			"mode": "server",
			"security": map[string]any{
				"description": "Bearer tokens from POST /v1/auth/token (a signed challenge), optionally limited by SMART v2 scopes: see .well-known/smart-configuration. Purpose of use: X-Purpose-Of-Use header; break the glass: X-Break-Glass: true with ETREAT and X-Break-Glass-Reason (unconscious, life_threatening, unable_to_consent or other).",
			},
			"resource":    resources,
			"interaction": interactions,
			"operation":   operations("system", system.operations),
		}},
	}
	b, err := json.Marshal(cs)
	if err != nil {
		s.fail(w, err)
		return
	}
	write(w, http.StatusOK, b)
}
