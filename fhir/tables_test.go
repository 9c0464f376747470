package fhir

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite tables_gen.go from the definitions in ../../shared/data")

// dataDir is the shared test data, beside the repository checkout.
const dataDir = "../../shared/data"

// readData returns a file of the shared test data, skipping the test when
// the folder is absent (CI has it).
func readData(tb testing.TB, rel string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, rel))
	if os.IsNotExist(err) {
		tb.Skipf("shared test data absent (%s); CI runs this test", filepath.Join(dataDir, rel))
	}
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// The resource types CareLedger serves with search: every type R4 gives a
// patient search parameter (so each such record is filed under its
// patient), but those served as views of the chain (AuditEvent,
// ClaimResponse, CoverageEligibilityRequest and Response) and
// RiskAssessment (whose date parameter reads a choice element the
// generator does not resolve), and the shared types around them.
var tableTypes = []string{
	"Account", "AllergyIntolerance", "Appointment", "AppointmentResponse", "Basic", "BodyStructure",
	"CarePlan", "CareTeam", "ChargeItem", "Claim", "ClinicalImpression", "Communication",
	"CommunicationRequest", "Composition", "Condition", "Consent", "Contract", "Coverage",
	"DetectedIssue", "Device", "DeviceRequest", "DeviceUseStatement", "DiagnosticReport",
	"DocumentManifest", "DocumentReference", "Encounter", "EnrollmentRequest", "EpisodeOfCare",
	"ExplanationOfBenefit", "FamilyMemberHistory", "Flag", "Goal", "GuidanceResponse", "ImagingStudy",
	"Immunization", "ImmunizationEvaluation", "ImmunizationRecommendation", "Invoice", "List",
	"Location", "MeasureReport", "Media", "Medication", "MedicationAdministration",
	"MedicationDispense", "MedicationRequest", "MedicationStatement", "MolecularSequence",
	"NutritionOrder", "Observation", "Organization", "Patient", "Person", "Practitioner",
	"PractitionerRole", "Procedure", "Provenance", "QuestionnaireResponse", "RelatedPerson",
	"RequestGroup", "ResearchSubject", "ServiceRequest", "Specimen",
	"SupplyDelivery", "Task", "VisionPrescription",
}

// The supported search parameters (where a type defines them).
var tableCodes = []string{"_id", "_lastUpdated", "birthdate", "category", "code", "date", "encounter", "family", "general-practitioner", "given", "identifier", "name", "organization", "patient", "performer", "requester", "status", "subject"}

// TestTables checks tables_gen.go against the R4 definitions, or rewrites it
// with -update.
func TestTables(t *testing.T) {
	schema := readData(t, "fhir-schema/fhir.schema.json")
	defs := readData(t, "fhir-examples/definitions/Bundle-searchParams.json")
	src, err := generateTables(schema, defs)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("tables_gen.go", src, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile("tables_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, src) {
		t.Fatal("tables_gen.go does not match the definitions in ../../shared/data; run go generate ./fhir and review the diff")
	}
}

type schemaDoc struct {
	Discriminator struct {
		Mapping map[string]string `json:"mapping"`
	} `json:"discriminator"`
	Definitions map[string]schemaDef `json:"definitions"`
}

type schemaDef struct {
	Properties map[string]schemaProp `json:"properties"`
	Pattern    string                `json:"pattern"`
	Type       string                `json:"type"`
}

type schemaProp struct {
	Ref   string `json:"$ref"`
	Items *struct {
		Ref     string `json:"$ref"`
		Pattern string `json:"pattern"`
		Enum    []any  `json:"enum"`
	} `json:"items"`
	Pattern string `json:"pattern"`
	Enum    []any  `json:"enum"`
	Type    string `json:"type"`
}

type searchParamDef struct {
	Code       string   `json:"code"`
	Base       []string `json:"base"`
	Type       string   `json:"type"`
	Expression string   `json:"expression"`
	Target     []string `json:"target"`
}

// generateTables returns the source of tables_gen.go.
func generateTables(schemaJSON, defsJSON []byte) ([]byte, error) {
	var schema schemaDoc
	if err := json.Unmarshal(schemaJSON, &schema); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	var bundle struct {
		Entry []struct {
			Resource searchParamDef `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(defsJSON, &bundle); err != nil {
		return nil, fmt.Errorf("search parameters: %w", err)
	}
	g := &tableGen{schema: &schema, patterns: map[string]string{}}
	// Primitive types by their pattern, to name elements whose schema
	// inlines the pattern instead of referring to the type. Where types share
	// a pattern (string and markdown; uri, url and canonical) the first of
	// this list wins; only the distinction between dates and tokens matters.
	for _, name := range []string{"dateTime", "date", "instant", "time", "code", "id", "string", "uri", "oid", "uuid", "positiveInt", "unsignedInt", "integer", "decimal", "base64Binary", "markdown", "url", "canonical"} {
		if d, ok := schema.Definitions[name]; ok && d.Pattern != "" {
			if _, dup := g.patterns[d.Pattern]; !dup {
				g.patterns[d.Pattern] = name
			}
		}
	}

	var types []string
	for t := range schema.Discriminator.Mapping {
		types = append(types, t)
	}
	slices.Sort(types)

	params := map[string]map[string]string{} // type -> code -> Go literal
	var aboutPatient []string                // every type with a patient parameter
	for _, e := range bundle.Entry {
		d := e.Resource
		if d.Code == "patient" {
			aboutPatient = append(aboutPatient, d.Base...)
		}
		if !slices.Contains(tableCodes, d.Code) {
			continue
		}
		for _, base := range d.Base {
			if base != "Resource" && !slices.Contains(tableTypes, base) {
				continue
			}
			lit, err := g.param(base, d)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", base, d.Code, err)
			}
			if params[base] == nil {
				params[base] = map[string]string{}
			}
			params[base][d.Code] = lit
		}
	}

	var b bytes.Buffer
	b.WriteString("// Code generated by TestTables in tables_test.go from fhir.schema.json and Bundle-searchParams.json (FHIR R4 4.0.1); DO NOT EDIT.\n\npackage fhir\n\n")
	b.WriteString("var resourceTypes = map[string]bool{\n")
	for _, t := range types {
		fmt.Fprintf(&b, "%q: true,\n", t)
	}
	b.WriteString("}\n\nvar searchParams = map[string]map[string]*searchParam{\n")
	for _, base := range sortedKeys(params) {
		fmt.Fprintf(&b, "%q: {\n", base)
		for _, code := range sortedKeys(params[base]) {
			fmt.Fprintf(&b, "%q: %s,\n", code, params[base][code])
		}
		b.WriteString("},\n")
	}
	b.WriteString("}\n\nvar patientTypes = map[string]bool{\n")
	slices.Sort(aboutPatient)
	for _, t := range slices.Compact(aboutPatient) {
		fmt.Fprintf(&b, "%q: true,\n", t)
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}

type tableGen struct {
	schema   *schemaDoc
	patterns map[string]string
}

// param returns the Go literal of one parameter of one base type.
func (g *tableGen) param(base string, d searchParamDef) (string, error) {
	var typ string
	switch d.Type {
	case "token":
		typ = "paramToken"
	case "date":
		typ = "paramDate"
	case "reference":
		typ = "paramReference"
	case "string":
		typ = "paramString"
	default:
		return "", fmt.Errorf("parameter type %q is not supported", d.Type)
	}
	var paths []string
	for _, expr := range strings.Split(d.Expression, "|") {
		expr = strings.TrimSpace(expr)
		if !strings.HasPrefix(expr, base+".") && !strings.HasPrefix(expr, "("+base+".") {
			continue
		}
		eps, err := g.paths(base, expr, d.Type)
		if err != nil {
			return "", err
		}
		for _, ep := range eps {
			refType := ep.refType
			// The patient parameter is about Patient references. R4 lists
			// Group among the targets of its shared definition only because
			// several types share it; each element it reads is either
			// Reference(Patient) or filtered with where(resolve() is Patient).
			if d.Code == "patient" {
				refType = "Patient"
			}
			paths = append(paths, fmt.Sprintf("{keys: %#v, typ: %q, refType: %q}", ep.keys, ep.typ, refType))
		}
	}
	if len(paths) == 0 {
		return "", fmt.Errorf("no element in expression %q", d.Expression)
	}
	targets := slices.Clone(d.Target)
	slices.Sort(targets)
	lit := fmt.Sprintf("{typ: %s, paths: []elementPath{%s}", typ, strings.Join(paths, ", "))
	if len(targets) > 0 {
		lit += fmt.Sprintf(", targets: %#v", targets)
	}
	return lit + "}", nil
}

// paths resolves one FHIRPath expression of the simple forms R4 uses for
// the supported parameters: "T.a.b", "(T.a as X)" and
// "T.a.where(resolve() is X)".
func (g *tableGen) paths(base, expr, paramType string) ([]elementPath, error) {
	var asType, refType string
	if strings.HasPrefix(expr, "(") {
		inner, ok := strings.CutSuffix(expr[1:], ")")
		path, typ, ok2 := strings.Cut(inner, " as ")
		if !ok || !ok2 {
			return nil, fmt.Errorf("unsupported expression %q", expr)
		}
		expr, asType = path, typ
	}
	if path, typ, ok := strings.Cut(expr, ".where(resolve() is "); ok {
		typ, ok = strings.CutSuffix(typ, ")")
		if !ok {
			return nil, fmt.Errorf("unsupported expression %q", expr)
		}
		expr, refType = path, typ
	}
	if strings.ContainsAny(expr, "()[] ") {
		return nil, fmt.Errorf("unsupported expression %q", expr)
	}
	segs := strings.Split(expr, ".")[1:]
	def := base
	if base == "Resource" {
		def = "Observation" // any resource: id and meta are common to all
	}
	var out []elementPath
	if err := g.walk(def, segs, nil, asType, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", expr, err)
	}
	// Keep the elements whose type the parameter type can read: a choice
	// such as Procedure.performed[x] has string and Age forms that a date
	// parameter ignores.
	var kept []elementPath
	for _, ep := range out {
		if readable(paramType, ep.typ) {
			ep.refType = refType
			kept = append(kept, ep)
		}
	}
	if len(kept) == 0 {
		return nil, fmt.Errorf("%s: no element of a type a %s parameter reads", expr, paramType)
	}
	return kept, nil
}

func readable(paramType, elemType string) bool {
	switch paramType {
	case "token":
		return slices.Contains([]string{"CodeableConcept", "Coding", "Identifier", "code", "id", "string", "uri", "boolean"}, elemType)
	case "date":
		return slices.Contains([]string{"date", "dateTime", "instant", "Period", "Timing"}, elemType)
	case "reference":
		return elemType == "Reference"
	case "string":
		return slices.Contains([]string{"string", "HumanName", "Address", "markdown"}, elemType)
	}
	return false
}

func (g *tableGen) walk(def string, segs, keys []string, asType string, out *[]elementPath) error {
	d, ok := g.schema.Definitions[def]
	if !ok {
		return fmt.Errorf("no schema definition %q", def)
	}
	seg := segs[0]
	type step struct{ key, typ string }
	var steps []step
	if p, ok := d.Properties[seg]; ok {
		steps = append(steps, step{seg, g.propType(p)})
	} else {
		// A choice element: seg followed by a type name.
		for _, name := range sortedKeys(d.Properties) {
			suffix, ok := strings.CutPrefix(name, seg)
			if !ok || suffix == "" || suffix[0] < 'A' || suffix[0] > 'Z' {
				continue
			}
			if asType != "" && len(segs) == 1 && suffix != asType {
				continue
			}
			typ := suffix
			if prim := strings.ToLower(suffix[:1]) + suffix[1:]; g.schema.Definitions[prim].Properties == nil {
				if _, ok := g.schema.Definitions[prim]; ok {
					typ = prim
				}
			}
			steps = append(steps, step{name, typ})
		}
	}
	if len(steps) == 0 {
		return fmt.Errorf("no element %q in %s", seg, def)
	}
	for _, s := range steps {
		k := append(slices.Clone(keys), s.key)
		if len(segs) == 1 {
			*out = append(*out, elementPath{keys: k, typ: s.typ})
			continue
		}
		if err := g.walk(s.typ, segs[1:], k, asType, out); err != nil {
			return err
		}
	}
	return nil
}

// propType names the FHIR type of a property from its schema.
func (g *tableGen) propType(p schemaProp) string {
	ref, pattern, enum := p.Ref, p.Pattern, p.Enum
	if p.Items != nil {
		ref, pattern, enum = p.Items.Ref, p.Items.Pattern, p.Items.Enum
	}
	switch {
	case ref != "":
		return strings.TrimPrefix(ref, "#/definitions/")
	case len(enum) > 0:
		return "code"
	case pattern != "":
		if name, ok := g.patterns[pattern]; ok {
			return name
		}
	case p.Type == "boolean":
		return "boolean"
	}
	return "unknown"
}
