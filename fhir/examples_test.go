package fhir_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/careledger/careledger/fhir"
)

// knownInvalid lists the official R4 examples that the R4 JSON schema
// rejects, with the reason. They are errors in the examples (or limits of
// the schema), not in this package; the test fails if one starts to pass or
// another starts to fail.
//
// It is empty: all 411 validate. One depends on the regex dialect:
// DiagnosticReport-gingival-mass.json has a U+00A0 (no-break space) in
// resultsInterpreter[0].display. The string pattern ^[ \r\n\t\S]+$ accepts
// it with Go's RE2, whose \s is ASCII whitespace as in XML Schema, from
// which FHIR took the pattern; an ECMA-262 validator (ajv, Python
// jsonschema), whose \s includes U+00A0, rejects it.
var knownInvalid = map[string]string{}

// decodeStd decodes with encoding/json, keeping numbers exact.
func decodeStd(t testing.TB, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestHL7Examples parses every official example resource and Bundle,
// checks that Canonical round-trips and keeps the content (numbers
// included), and validates each against the schema.
func TestHL7Examples(t *testing.T) {
	v := testValidator(t)
	files := append(globShared(t, "fhir-examples/resources/*.json"), globShared(t, "fhir-examples/bundles/*.json")...)
	var invalid []string
	for _, file := range files {
		name := filepath.Base(file)
		raw := readShared(t, "fhir-examples/"+filepath.Base(filepath.Dir(file))+"/"+name)
		r, err := fhir.Parse(raw)
		if err != nil {
			t.Errorf("%s: Parse = %v", name, err)
			continue
		}
		c := r.Canonical()
		r2, err := fhir.Parse(c)
		if err != nil {
			t.Errorf("%s: Parse(Canonical) = %v", name, err)
			continue
		}
		if c2 := r2.Canonical(); !bytes.Equal(c, c2) {
			t.Errorf("%s: Canonical(Parse(Canonical(r))) differs from Canonical(r)", name)
		}
		if !reflect.DeepEqual(decodeStd(t, raw), decodeStd(t, c)) {
			t.Errorf("%s: Canonical(r) does not decode to the original content", name)
		}
		if err := v.Validate(r); err != nil {
			invalid = append(invalid, name)
			reason, known := knownInvalid[name]
			if !known {
				t.Errorf("%s: Validate = %v", name, err)
			} else {
				t.Logf("%s: known invalid (%s): %v", name, reason, err)
			}
			var fe *fhir.Error
			if !errors.As(err, &fe) || !errors.Is(err, fhir.ErrInvalid) || len(fe.Issues) == 0 {
				t.Errorf("%s: Validate = %#v; want an *Error of kind ErrInvalid with issues", name, err)
			}
		}
	}
	for name := range knownInvalid {
		if !slices.Contains(invalid, name) {
			t.Errorf("%s is listed as known invalid but validates; remove it from knownInvalid", name)
		}
	}
	t.Logf("%d examples parsed and round-tripped; %d validate against the schema, %d do not: %s",
		len(files), len(files)-len(invalid), len(invalid), strings.Join(invalid, ", "))
}
