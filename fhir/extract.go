package fhir

import (
	"slices"
	"strings"
)

// eachValue calls fn with every value at keys below v, flattening arrays
// (FHIRPath semantics: a path over a repeating element yields all items).
func eachValue(v any, keys []string, fn func(any)) {
	if len(keys) == 0 {
		if list, ok := v.([]any); ok {
			for _, e := range list {
				fn(e)
			}
			return
		}
		fn(v)
		return
	}
	switch v := v.(type) {
	case map[string]any:
		if c, ok := v[keys[0]]; ok {
			eachValue(c, keys[1:], fn)
		}
	case []any:
		for _, e := range v {
			eachValue(e, keys, fn)
		}
	}
}

// token is one value a token parameter can match: a system (possibly "")
// and a code.
type token struct {
	system, code string
}

// eachToken calls fn with the token values of element type typ in v.
func eachToken(v any, typ string, fn func(token)) {
	switch typ {
	case "CodeableConcept":
		m, _ := v.(map[string]any)
		codings, _ := m["coding"].([]any)
		for _, c := range codings {
			eachToken(c, "Coding", fn)
		}
	case "Coding":
		m, _ := v.(map[string]any)
		system, _ := m["system"].(string)
		if code, ok := m["code"].(string); ok {
			fn(token{system, code})
		}
	case "Identifier":
		m, _ := v.(map[string]any)
		system, _ := m["system"].(string)
		if value, ok := m["value"].(string); ok {
			fn(token{system, value})
		}
	case "boolean":
		if b, ok := v.(bool); ok {
			if b {
				fn(token{"", "true"})
			} else {
				fn(token{"", "false"})
			}
		}
	default: // code, id, string, uri
		if s, ok := v.(string); ok {
			fn(token{"", s})
		}
	}
}

// ref is a resolved reference: a resource type and id.
type ref struct {
	typ, id string
}

// parseRef reads a literal reference to a resource on a FHIR server:
// "Type/id", "Type/id/_history/v", or an absolute URL ending so. It rejects
// contained ("#x"), urn:, conditional ("Type?...") and malformed references.
func parseRef(s string) (ref, bool) {
	if s == "" || s[0] == '#' || strings.HasPrefix(s, "urn:") || strings.ContainsAny(s, "?#") {
		return ref{}, false
	}
	if i := strings.Index(s, "/_history/"); i >= 0 {
		s = s[:i]
	}
	slash := strings.LastIndexByte(s, '/')
	if slash <= 0 {
		return ref{}, false
	}
	id := s[slash+1:]
	rest := s[:slash]
	typ := rest[strings.LastIndexByte(rest, '/')+1:]
	if !IsResourceType(typ) || !ValidID(id) {
		return ref{}, false
	}
	if len(typ) != len(rest) && !strings.Contains(rest, "://") {
		// Relative references are exactly Type/id.
		return ref{}, false
	}
	return ref{typ, id}, true
}

// eachRef calls fn with the reference in v (a Reference), if it names a
// resource on a server.
func eachRef(v any, fn func(ref)) {
	m, _ := v.(map[string]any)
	if s, ok := m["reference"].(string); ok {
		if r, ok := parseRef(s); ok {
			fn(r)
		}
	}
}

// eachRange calls fn with the date ranges of element type typ in v.
func eachRange(v any, typ string, fn func(dateRange)) {
	switch typ {
	case "Period":
		m, _ := v.(map[string]any)
		if m == nil {
			return
		}
		r := dateRange{openStart, openEnd}
		if s, ok := m["start"].(string); ok {
			if d, ok := parseDateRange(s); ok {
				r.lo = d.lo
			}
		}
		if s, ok := m["end"].(string); ok {
			if d, ok := parseDateRange(s); ok {
				r.hi = d.hi
			}
		}
		if r.lo != openStart || r.hi != openEnd {
			fn(r)
		}
	case "Timing":
		m, _ := v.(map[string]any)
		events, _ := m["event"].([]any)
		for _, e := range events {
			eachRange(e, "dateTime", fn)
		}
	default: // date, dateTime, instant
		if s, ok := v.(string); ok {
			if d, ok := parseDateRange(s); ok {
				fn(d)
			}
		}
	}
}

// InPatientCompartment reports whether resources of type typ belong to a
// patient: Patient itself and the types with a patient search parameter
// (which follows the R4 patient compartment: subject, patient, beneficiary
// or target as the type defines). Types outside it, such as Organization,
// Practitioner, Location and Medication, are shared.
func InPatientCompartment(typ string) bool {
	return typ == "Patient" || searchParams[typ]["patient"] != nil
}

// AboutPatient reports whether R4 gives resources of type typ a patient
// search parameter: they are about a patient, whether or not this package
// serves the type (InPatientCompartment). A server that keeps each
// patient's data apart must not store such a resource as shared.
func AboutPatient(typ string) bool { return patientTypes[typ] }

// Patients returns the distinct ids of the patients r belongs to: for a
// Patient its own id, for a type in the patient compartment the Patient
// references its patient parameter reads (after Bundle resolution, so of the
// form Patient/id), sorted.
func Patients(r *Resource) []string {
	if r.typ == "Patient" {
		if r.id == "" {
			return nil
		}
		return []string{r.id}
	}
	p := searchParams[r.typ]["patient"]
	if p == nil {
		return nil
	}
	var ids []string
	for _, path := range p.paths {
		eachValue(r.tree, path.keys, func(v any) {
			eachRef(v, func(rf ref) {
				if rf.typ == "Patient" && !slices.Contains(ids, rf.id) {
					ids = append(ids, rf.id)
				}
			})
		})
	}
	slices.Sort(ids)
	return ids
}

// PatientOf returns the id of the one patient r belongs to. ok is false if r
// is of a type outside the patient compartment (see InPatientCompartment),
// names no patient, or names more than one; a server that keeps each
// patient's data apart should refuse a clinical resource for which ok is
// false rather than store it as shared.
func PatientOf(r *Resource) (patientID string, ok bool) {
	ids := Patients(r)
	if len(ids) != 1 {
		return "", false
	}
	return ids[0], true
}

// Categories returns the codes of the resource's category search parameter
// (Observation.category, Condition.category, AllergyIntolerance.category,
// ...), each coding both as "system|code" and as the plain code, sorted and
// without duplicates, for matching consent scopes. A code without a system
// appears once, plain.
func Categories(r *Resource) []string {
	p := paramFor(r.typ, "category")
	if p == nil {
		return nil
	}
	var out []string
	for _, path := range p.paths {
		eachValue(r.tree, path.keys, func(v any) {
			eachToken(v, path.typ, func(t token) {
				out = append(out, t.code)
				if t.system != "" {
					out = append(out, t.system+"|"+t.code)
				}
			})
		})
	}
	slices.Sort(out)
	return slices.Compact(out)
}
