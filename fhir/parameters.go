package fhir

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
)

// ParseParameters parses the Parameters resource that invokes an operation
// by POST as the query the same operation takes by GET: each parameter's
// name with its value as query text. A primitive value[x] is its JSON text
// (a number or boolean as written); a valueIdentifier or valueCoding is
// system|value (system|code), as a token search parameter writes it; a
// valueReference is its reference. A parameter with a resource, parts, or
// another complex value is an error of kind ErrUnsupported; a body that is
// not a Parameters resource, of kind ErrInvalid. Errors name parameters
// only when their names look like names, and never repeat values.
func (l Limits) ParseParameters(b []byte) (url.Values, error) {
	r, err := l.Parse(b)
	if err != nil {
		return nil, err
	}
	if r.Type() != "Parameters" {
		return nil, errorAt(ErrInvalid, "structure", "", "an operation's body must be a Parameters resource")
	}
	q := url.Values{}
	raw, present := r.tree["parameter"]
	if !present {
		return q, nil
	}
	ps, ok := raw.([]any)
	if !ok {
		return nil, errorAt(ErrInvalid, "structure", "Parameters.parameter", "parameter must be an array")
	}
	for i, p := range ps {
		at := joinIndex("Parameters.parameter", i)
		m, ok := p.(map[string]any)
		if !ok {
			return nil, errorAt(ErrInvalid, "structure", at, "a parameter must be an object")
		}
		name, ok := m["name"].(string)
		if !ok || name == "" {
			return nil, errorAt(ErrInvalid, "required", joinKey(at, "name"), "a parameter needs a name")
		}
		v, err := parameterValue(m, at, name)
		if err != nil {
			return nil, err
		}
		q.Add(name, v)
	}
	return q, nil
}

// parameterValue returns the query text of one parameter's value[x].
func parameterValue(m map[string]any, at, name string) (string, error) {
	var key string
	for k := range m {
		switch {
		case k == "resource" || k == "part":
			return "", errorAt(ErrUnsupported, "not-supported", joinKey(at, k), "parameter %s: only parameters with simple values are supported", paramName(name))
		case strings.HasPrefix(k, "value"):
			if key != "" {
				return "", errorAt(ErrInvalid, "structure", at, "parameter %s has more than one value[x]", paramName(name))
			}
			key = k
		}
	}
	if key == "" {
		return "", errorAt(ErrInvalid, "required", at, "parameter %s has no value[x]", paramName(name))
	}
	at = joinKey(at, key)
	switch v := m[key].(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case map[string]any:
		return complexValue(key, v, at, name)
	case json.Number:
		return v.String(), nil
	}
	return "", errorAt(ErrInvalid, "structure", at, "parameter %s: value[x] must be a primitive or an Identifier, Coding or Reference", paramName(name))
}

// complexValue returns the query text of the complex types a search
// parameter can take.
func complexValue(key string, v map[string]any, at, name string) (string, error) {
	str := func(k string) string { s, _ := v[k].(string); return s }
	switch key {
	case "valueIdentifier":
		return joinToken(str("system"), str("value")), nil
	case "valueCoding":
		return joinToken(str("system"), str("code")), nil
	case "valueReference":
		if ref := str("reference"); ref != "" {
			return ref, nil
		}
		return "", errorAt(ErrInvalid, "required", at, "parameter %s: a Reference needs a reference", paramName(name))
	}
	return "", errorAt(ErrUnsupported, "not-supported", at, "parameter %s: this value type is not supported", paramName(name))
}

// joinToken writes a token search value: system|code, or the code alone
// when there is no system, each part with the search escapes.
func joinToken(system, code string) string {
	if system == "" {
		return escapeSearch(code)
	}
	return escapeSearch(system) + "|" + escapeSearch(code)
}

// escapeSearch escapes the characters a search value separates with.
var escapeSearch = strings.NewReplacer(`\`, `\\`, `|`, `\|`, `,`, `\,`, `$`, `\$`).Replace
