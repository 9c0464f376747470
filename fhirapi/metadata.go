package fhirapi

import (
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/careledger/careledger/fhir"
)

// searchParams are the search parameters the server supports where a type
// defines them, each with a value that parses, for probing.
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

// metadata serves the CapabilityStatement. It is built from what the fhir
// package parses, so it cannot claim a parameter the server refuses.
func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	var resources []map[string]any
	for _, typ := range fhir.SearchTypes() {
		var params []map[string]any
		for _, p := range searchParams {
			if _, err := fhir.ParseQuery(typ, url.Values{p.name: {p.sample}}); err == nil {
				params = append(params, map[string]any{"name": p.name, "type": p.typ})
			}
		}
		interactions := []map[string]any{}
		for _, code := range []string{"read", "vread", "update", "patch", "delete", "history-instance", "create", "search-type"} {
			interactions = append(interactions, map[string]any{"code": code})
		}
		res := map[string]any{
			"type": typ, "interaction": interactions, "versioning": "versioned",
			"readHistory": true, "updateCreate": true, "searchParam": params,
			// Conditional writes: fhirapi/conditional.go.
			"conditionalCreate": true, "conditionalUpdate": true, "conditionalDelete": "single",
		}
		// Operations are served by GET and by POST with a Parameters body.
		ops := []map[string]any{{"name": "anchor", "definition": "urn:careledger:operation:anchor"}}
		inc, rev := fhir.Includes(typ)
		if len(inc) > 0 {
			res["searchInclude"] = inc
		}
		if len(rev) > 0 {
			res["searchRevInclude"] = rev
		}
		if typ == "Patient" {
			ops = append(ops,
				map[string]any{"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"},
				map[string]any{"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"})
		}
		res["operation"] = ops
		resources = append(resources, res)
	}
	validation := "Resources are parsed (a JSON object of an R4 resource type); no schema is configured."
	if s.validates {
		validation = "Resources are validated against the FHIR R4 JSON schema."
	}
	cs := map[string]any{
		"resourceType": "CapabilityStatement",
		"status":       "active",
		"date":         "2026-11-21",
		"kind":         "instance",
		"fhirVersion":  "4.0.1",
		"format":       []string{"application/fhir+json"},
		"instantiates": []string{"http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"},
		"software":     map[string]any{"name": "CareLedger"},
		"implementation": map[string]any{
			"description": "A CareLedger custodian node. Every read is decided by the consent contract and its receipt is committed on the chain before data is returned. " + validation,
			"url":         fhirBase(r),
		},
		"rest": []map[string]any{{
			"mode": "server",
			"security": map[string]any{
				"description": "Bearer tokens from POST /v1/auth/token (a signed challenge), optionally limited by SMART v2 scopes: see .well-known/smart-configuration. Purpose of use: X-Purpose-Of-Use header; break the glass: X-Break-Glass: true with ETREAT.",
			},
			"resource":    resources,
			"interaction": []map[string]any{{"code": "transaction"}, {"code": "batch"}},
			// Bulk Data (v2): each patient's release decided by consent.
			"operation": []map[string]any{
				{"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"},
				{"name": "group-export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"},
			},
		}},
	}
	b, err := json.Marshal(cs)
	if err != nil {
		s.fail(w, err)
		return
	}
	write(w, http.StatusOK, b)
}
