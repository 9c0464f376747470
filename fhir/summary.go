package fhir

import (
	"slices"
	"strings"
)

// elementSet lists a type's top-level elements of one kind; a choice
// element (value[x]) is listed by its stem ("value").
type elementSet []string

// summaryElements are, per served type, the top-level elements R4 marks Σ
// (ElementDefinition.isSummary, the "Σ" flag of the resource pages), which
// _summary=true keeps; mandatoryElements are those with a minimum
// cardinality of 1, which _summary=text and _elements keep. The JSON schema
// in ../../shared/data has neither flag, so these are transcribed from the
// R4 (4.0.1) resource pages. Summary subsetting is of top-level elements
// only: a kept element is kept whole.
var summaryElements = map[string]elementSet{
	"AllergyIntolerance":       {"identifier", "clinicalStatus", "verificationStatus", "type", "category", "criticality", "code", "patient", "asserter"},
	"CarePlan":                 {"identifier", "instantiatesCanonical", "instantiatesUri", "basedOn", "replaces", "partOf", "status", "intent", "category", "title", "description", "subject", "encounter", "period", "created", "author", "addresses"},
	"CareTeam":                 {"identifier", "status", "category", "name", "subject", "encounter", "period", "managingOrganization"},
	"Claim":                    {"identifier", "status", "type", "use", "patient", "billablePeriod", "created", "insurer", "provider", "priority", "total"},
	"Condition":                {"identifier", "clinicalStatus", "verificationStatus", "code", "bodySite", "subject", "encounter", "onset", "recordedDate", "recorder", "asserter"},
	"Consent":                  {"identifier", "status", "scope", "category", "patient", "dateTime", "performer", "organization", "source", "policyRule", "verification", "provision"},
	"Coverage":                 {"identifier", "status", "type", "policyHolder", "subscriber", "subscriberId", "beneficiary", "dependent", "period", "payor", "order", "network"},
	"Device":                   {"udiCarrier", "status", "safety"},
	"DiagnosticReport":         {"identifier", "status", "category", "code", "subject", "encounter", "effective", "issued", "performer", "resultsInterpreter", "media"},
	"DocumentReference":        {"masterIdentifier", "identifier", "status", "docStatus", "type", "category", "subject", "date", "author", "relatesTo", "description", "securityLabel", "content", "context"},
	"Encounter":                {"identifier", "status", "class", "type", "serviceType", "subject", "episodeOfCare", "participant", "appointment", "reasonCode", "reasonReference", "diagnosis"},
	"ExplanationOfBenefit":     {"identifier", "status", "type", "use", "patient", "billablePeriod", "created", "insurer", "provider", "outcome", "insurance"},
	"Goal":                     {"lifecycleStatus", "achievementStatus", "category", "priority", "description", "subject", "start", "statusDate", "expressedBy"},
	"ImagingStudy":             {"identifier", "status", "modality", "subject", "encounter", "started", "basedOn", "referrer", "interpreter", "endpoint", "numberOfSeries", "numberOfInstances", "procedureReference", "procedureCode", "location", "reasonCode", "reasonReference", "note", "description", "series"},
	"Immunization":             {"status", "vaccineCode", "patient", "occurrence", "primarySource", "performer", "note", "isSubpotent"},
	"Location":                 {"identifier", "status", "operationalStatus", "name", "description", "mode", "type", "physicalType", "managingOrganization"},
	"Medication":               {"code", "status", "manufacturer", "amount"},
	"MedicationAdministration": {"instantiates", "partOf", "status", "medication", "subject", "effective", "performer"},
	"MedicationRequest":        {"status", "intent", "priority", "doNotPerform", "reported", "medication", "subject", "authoredOn", "requester", "performerType", "instantiatesCanonical", "instantiatesUri", "basedOn", "groupIdentifier"},
	"Observation":              {"identifier", "basedOn", "partOf", "status", "code", "subject", "focus", "encounter", "effective", "issued", "performer", "value", "hasMember", "derivedFrom", "component"},
	"Organization":             {"identifier", "active", "type", "name", "partOf"},
	"Patient":                  {"identifier", "active", "name", "telecom", "gender", "birthDate", "deceased", "address", "managingOrganization", "link"},
	"Practitioner":             {"identifier", "active", "name", "telecom", "address", "gender", "birthDate"},
	"PractitionerRole":         {"identifier", "active", "period", "practitioner", "organization", "code", "specialty", "location", "telecom"},
	"Procedure":                {"identifier", "instantiatesCanonical", "instantiatesUri", "basedOn", "partOf", "status", "statusReason", "category", "code", "subject", "encounter", "performed", "recorder", "asserter", "performer", "location", "reasonCode", "reasonReference", "bodySite", "outcome"},
	"Provenance":               {"target", "recorded"},
	"SupplyDelivery":           {"identifier", "basedOn", "partOf", "status", "occurrence"},
}

var mandatoryElements = map[string]elementSet{
	"AllergyIntolerance":       {"patient"},
	"CarePlan":                 {"status", "intent", "subject"},
	"Claim":                    {"status", "type", "use", "patient", "created", "provider", "priority", "insurance"},
	"Condition":                {"subject"},
	"Consent":                  {"status", "scope", "category"},
	"Coverage":                 {"status", "beneficiary", "payor"},
	"DiagnosticReport":         {"status", "code"},
	"DocumentReference":        {"status", "content"},
	"Encounter":                {"status", "class"},
	"ExplanationOfBenefit":     {"status", "type", "use", "patient", "created", "insurer", "provider", "outcome", "insurance"},
	"Goal":                     {"lifecycleStatus", "description", "subject"},
	"ImagingStudy":             {"status", "subject"},
	"Immunization":             {"status", "vaccineCode", "patient", "occurrence"},
	"MedicationAdministration": {"status", "medication", "subject", "effective"},
	"MedicationRequest":        {"status", "intent", "medication", "subject"},
	"Observation":              {"status", "code"},
	"Procedure":                {"status", "subject"},
	"Provenance":               {"target", "recorded", "agent"},
}

// baseElements are kept in every subset: what names the resource.
var baseElements = elementSet{"resourceType", "id", "meta", "implicitRules"}

// has reports whether key, a JSON property, is one of the set's elements:
// the element itself, a choice form of it (valueQuantity for value), or
// the primitive extension of either (_birthDate).
func (s elementSet) has(key string) bool {
	key = strings.TrimPrefix(key, "_")
	return slices.ContainsFunc(s, func(e string) bool {
		rest, ok := strings.CutPrefix(key, e)
		return ok && (rest == "" || rest[0] >= 'A' && rest[0] <= 'Z')
	})
}

// SubsettedTag is the meta.tag R4 requires on a resource returned with
// some of its elements left out.
var subsettedTag = map[string]any{
	"system":  "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
	"code":    "SUBSETTED",
	"display": "subsetted",
}

// Shape returns r as _summary or _elements asks, marked SUBSETTED; r itself
// when they ask for the whole resource. _elements applies to resources of
// the searched type (typ) only; _summary to every resource of the Bundle.
// For a type without a summary table (not one the server searches),
// _summary=true keeps all but the narrative, as _summary=data does.
func (res *ResultParams) Shape(typ string, r *Resource) *Resource {
	var keep func(key string) bool
	switch {
	case len(res.Elements) > 0 && r.typ == typ:
		want := slices.Concat(baseElements, mandatoryElements[r.typ], res.Elements)
		keep = want.has
	case res.Summary == "true" && summaryElements[r.typ] != nil:
		keep = slices.Concat(baseElements, mandatoryElements[r.typ], summaryElements[r.typ]).has
	case res.Summary == "text":
		keep = slices.Concat(baseElements, mandatoryElements[r.typ], elementSet{"text"}).has
	case res.Summary == "true" || res.Summary == "data":
		keep = func(key string) bool { return key != "text" }
	default:
		return r
	}
	tree := make(map[string]any, len(r.tree))
	for k, v := range r.tree {
		if keep(k) {
			tree[k] = v
		}
	}
	meta := map[string]any{}
	if m, ok := r.tree["meta"].(map[string]any); ok {
		for k, v := range m {
			meta[k] = v
		}
	}
	tags, _ := meta["tag"].([]any)
	meta["tag"] = append(slices.Clip(tags), subsettedTag)
	tree["meta"] = meta
	out := *r
	out.tree = tree
	return &out
}
