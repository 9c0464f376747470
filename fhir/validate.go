package fhir

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// Validator checks resources against the FHIR R4 JSON schema. Each resource
// type is compiled on first use, from #/definitions/<Type> rather than the
// schema's root oneOf over all 146 types, and cached. A Validator is safe for
// concurrent use.
//
// The schema's ResourceList (a oneOf over every type, used for contained
// resources, Bundle.entry.resource and a few others) is replaced by "any
// object", and the Validator validates each nested resource itself against
// its own type: the oneOf would try every type, cost the most time of all
// and report 146 failures for one mistake.
type Validator struct {
	mu       sync.Mutex // guards compiler
	compiler *jsonschema.Compiler
	schemas  sync.Map // type -> *jsonschema.Schema

	// nested maps a definition name to its properties that lead to nested
	// resources, each to the definition it holds ("ResourceList" for a
	// resource).
	nested map[string]map[string]string

	// primitives names the FHIR primitive type of each pattern, for
	// messages: the schema often inlines a type's pattern.
	primitives map[string]string
}

const schemaURL = "urn:careledger:fhir-r4-schema"

// NewValidator returns a Validator for the FHIR R4 JSON schema given as
// JSON (fhir.schema.json as published with R4 4.0.1). Reading the file is
// the caller's.
func NewValidator(schemaJSON []byte) (*Validator, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, fmt.Errorf("fhir schema: %w", err)
	}
	root, ok := doc.(map[string]any)
	if !ok {
		return nil, errors.New("fhir schema: not a JSON object")
	}
	defs, ok := root["definitions"].(map[string]any)
	if !ok {
		return nil, errors.New("fhir schema: no definitions")
	}
	if _, ok := defs["ResourceList"]; !ok {
		return nil, errors.New("fhir schema: no ResourceList definition")
	}
	defs["ResourceList"] = map[string]any{"type": "object"}
	// The root oneOf refers to every type; drop it so that nothing compiles
	// it by accident.
	delete(root, "oneOf")
	delete(root, "discriminator")

	v := &Validator{compiler: jsonschema.NewCompiler(), nested: nestedResourcePaths(defs), primitives: map[string]string{}}
	// Where types share a pattern the first named here wins.
	for _, name := range []string{"dateTime", "date", "instant", "time", "id", "code", "string", "uri", "oid", "uuid",
		"positiveInt", "unsignedInt", "integer", "decimal", "base64Binary", "boolean", "markdown", "url", "canonical"} {
		d, _ := defs[name].(map[string]any)
		if p, ok := d["pattern"].(string); ok && v.primitives[p] == "" {
			v.primitives[p] = name
		}
	}
	if err := v.compiler.AddResource(schemaURL, root); err != nil {
		return nil, fmt.Errorf("fhir schema: %w", err)
	}
	return v, nil
}

// nestedResourcePaths finds, for each definition, the properties through
// which a ResourceList can be reached.
func nestedResourcePaths(defs map[string]any) map[string]map[string]string {
	direct := map[string]map[string]string{} // def -> prop -> referenced def
	for name, d := range defs {
		props, _ := d.(map[string]any)["properties"].(map[string]any)
		for prop, p := range props {
			pm, _ := p.(map[string]any)
			ref, _ := pm["$ref"].(string)
			if items, ok := pm["items"].(map[string]any); ok {
				ref, _ = items["$ref"].(string)
			}
			target, ok := strings.CutPrefix(ref, "#/definitions/")
			if !ok {
				continue
			}
			if direct[name] == nil {
				direct[name] = map[string]string{}
			}
			direct[name][prop] = target
		}
	}
	// A definition leads to a resource if one of its properties is a
	// ResourceList or a definition that leads to one; iterate to a fixpoint.
	leads := map[string]bool{"ResourceList": true}
	for changed := true; changed; {
		changed = false
		for name, props := range direct {
			if leads[name] {
				continue
			}
			for _, target := range props {
				if leads[target] {
					leads[name], changed = true, true
					break
				}
			}
		}
	}
	nested := map[string]map[string]string{}
	for name, props := range direct {
		if name == "ResourceList" {
			continue
		}
		for prop, target := range props {
			if leads[target] {
				if nested[name] == nil {
					nested[name] = map[string]string{}
				}
				nested[name][prop] = target
			}
		}
	}
	return nested
}

// schemaFor returns the compiled schema of a resource type.
func (v *Validator) schemaFor(typ string) (*jsonschema.Schema, error) {
	if s, ok := v.schemas.Load(typ); ok {
		return s.(*jsonschema.Schema), nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.schemas.Load(typ); ok {
		return s.(*jsonschema.Schema), nil
	}
	s, err := v.compiler.Compile(schemaURL + "#/definitions/" + typ)
	if err != nil {
		return nil, fmt.Errorf("compile the schema of %s: %w", typ, err)
	}
	v.schemas.Store(typ, s)
	return s, nil
}

// Validate checks r against the schema of its type, and each resource nested
// in it (contained resources, Bundle entries) against the schema of theirs.
// It returns nil or an *Error of kind ErrInvalid listing every issue.
func (v *Validator) Validate(r *Resource) error {
	var issues []Issue
	if err := v.validate(r.tree, r.typ, r.typ, &issues); err != nil {
		return err
	}
	if len(issues) > 0 {
		return &Error{Kind: ErrInvalid, Issues: issues}
	}
	return nil
}

func (v *Validator) validate(tree map[string]any, typ, at string, issues *[]Issue) error {
	s, err := v.schemaFor(typ)
	if err != nil {
		return err
	}
	if err := s.Validate(tree); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return fmt.Errorf("validate %s: %w", typ, err)
		}
		v.schemaIssues(ve, tree, at, issues)
	}
	return v.validateNested(tree, typ, at, issues)
}

// validateNested walks the properties of value (of schema definition def)
// that lead to nested resources, and validates each resource found.
func (v *Validator) validateNested(value map[string]any, def, at string, issues *[]Issue) error {
	for prop, target := range v.nested[def] {
		child, ok := value[prop]
		if !ok {
			continue
		}
		visit := func(c any, path string) error {
			m, ok := c.(map[string]any)
			if !ok {
				return nil // the schema reported the wrong type
			}
			if target != "ResourceList" {
				return v.validateNested(m, target, path, issues)
			}
			typ, _ := m["resourceType"].(string)
			if !IsResourceType(typ) {
				*issues = append(*issues, Issue{Code: "not-supported", Diagnostics: "resourceType is not an R4 resource type", Expression: []string{joinKey(path, "resourceType")}})
				return nil
			}
			return v.validate(m, typ, path, issues)
		}
		path := joinKey(at, prop)
		if list, ok := child.([]any); ok {
			for i, c := range list {
				if err := visit(c, joinIndex(path, i)); err != nil {
					return err
				}
			}
		} else if err := visit(child, path); err != nil {
			return err
		}
	}
	return nil
}

// ValidateBundle validates a parsed Bundle: its envelope against the
// Bundle schema and every entry's resource against its type's. For a
// transaction it returns one *Error listing every issue, with expressions
// such as "Bundle.entry[3].resource.status"; for a batch it records each
// failing entry's error in its Err and returns an error only for issues
// outside the entries.
func (v *Validator) ValidateBundle(b *Bundle) error {
	s, err := v.schemaFor("Bundle")
	if err != nil {
		return err
	}
	var envelope []Issue
	if err := s.Validate(b.tree); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return fmt.Errorf("validate Bundle: %w", err)
		}
		v.schemaIssues(ve, b.tree, "Bundle", &envelope)
	}
	perEntry := make([][]Issue, len(b.Entries))
	var outside []Issue
	for _, is := range envelope {
		if i, ok := entryIndex(is.Expression); ok && i < len(b.Entries) {
			perEntry[i] = append(perEntry[i], is)
		} else {
			outside = append(outside, is)
		}
	}
	for i := range b.Entries {
		e := &b.Entries[i]
		if e.Resource == nil || e.Err != nil {
			continue
		}
		at := joinKey(joinIndex("Bundle.entry", i), "resource")
		if err := v.validate(e.Resource.tree, e.Resource.typ, at, &perEntry[i]); err != nil {
			return err
		}
	}
	all := outside
	for i, issues := range perEntry {
		if len(issues) == 0 {
			continue
		}
		if b.Type == "batch" && b.Entries[i].Err == nil {
			b.Entries[i].Err = &Error{Kind: ErrInvalid, Issues: issues}
		} else if b.Type != "batch" {
			all = append(all, issues...)
		}
	}
	if len(all) > 0 {
		return &Error{Kind: ErrInvalid, Issues: all}
	}
	return nil
}

// entryIndex returns i when the expression is within Bundle.entry[i].
func entryIndex(expr []string) (int, bool) {
	if len(expr) == 0 {
		return 0, false
	}
	rest, ok := strings.CutPrefix(expr[0], "Bundle.entry[")
	if !ok {
		return 0, false
	}
	n, _, ok := strings.Cut(rest, "]")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(n)
	return i, err == nil
}

// schemaIssues turns the leaves of a validation error tree into issues. The
// messages are written here from the error kinds, not taken from the
// library, whose messages quote the offending values.
func (v *Validator) schemaIssues(ve *jsonschema.ValidationError, tree any, at string, issues *[]Issue) {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			v.schemaIssues(c, tree, at, issues)
		}
		return
	}
	path := instancePath(tree, ve.InstanceLocation, at)
	add := func(code, expr, format string, args ...any) {
		*issues = append(*issues, Issue{Code: code, Diagnostics: fmt.Sprintf(format, args...), Expression: []string{expr}})
	}
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			add("required", joinKey(path, m), "required element is missing")
		}
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			add("structure", joinKey(path, p), "unknown element")
		}
	case *kind.Type:
		add("structure", path, "wrong JSON type: got %s, want %s", k.Got, strings.Join(k.Want, " or "))
	case *kind.Enum:
		var want []string
		for _, w := range k.Want {
			if s, ok := w.(string); ok {
				want = append(want, s)
			}
		}
		add("code-invalid", path, "code is not one of: %s", strings.Join(want, ", "))
	case *kind.Const:
		add("value", path, "value must be %v", k.Want)
	case *kind.Pattern:
		if name := v.primitives[k.Want]; name != "" {
			add("value", path, "value is not a valid %s", name)
		} else {
			add("value", path, "value does not match the pattern of its type")
		}
	case *kind.MinItems:
		add("structure", path, "array must have at least %d items", k.Want)
	case *kind.MaxItems:
		add("structure", path, "array must have at most %d items", k.Want)
	case *kind.MinLength:
		add("value", path, "value must have at least %d characters", k.Want)
	case *kind.MaxLength:
		add("value", path, "value must have at most %d characters", k.Want)
	case *kind.FalseSchema:
		add("structure", path, "element not allowed")
	default:
		add("structure", path, "violates the schema keyword %s", strings.Join(ve.ErrorKind.KeywordPath(), "/"))
	}
}

// instancePath turns a JSON pointer's tokens into a FHIRPath-like
// expression, telling array indexes from keys by walking the tree.
func instancePath(tree any, loc []string, at string) string {
	path := at
	cur := tree
	for _, tok := range loc {
		switch c := cur.(type) {
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return path
			}
			path = joinIndex(path, i)
			cur = c[i]
		case map[string]any:
			path = joinKey(path, tok)
			cur = c[tok]
		default:
			return path
		}
	}
	return path
}
