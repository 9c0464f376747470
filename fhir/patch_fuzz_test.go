package fhir_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/careledger/careledger/fhir"
)

// FuzzPatch checks PATCH handling: Patch never panics, refuses with an
// *fhir.Error of the kinds a client is answered with (400, 413, 422), and
// what it accepts keeps the resource's type and id and is a resource that
// parses back to the same canonical bytes.
func FuzzPatch(f *testing.F) {
	f.Add([]byte(patchBase), []byte(`[{"op":"replace","path":"/status","value":"final"}]`))
	f.Add([]byte(patchBase), []byte(`[{"op":"copy","from":"/note","path":"/note/0"},{"op":"copy","from":"/note","path":"/note/0"}]`))
	f.Add([]byte(patchBase), []byte(`[{"op":"move","from":"/note","path":"/note/0"}]`))
	f.Add([]byte(patchBase), []byte(`[{"op":"add","path":"","value":{"resourceType":"Observation","id":"o1"}}]`))
	f.Add([]byte(`{"resourceType":"Patient"}`), []byte(`[{"op":"add","path":"/id","value":"p1"}]`))
	f.Add([]byte(patchBase), []byte(`[{"op":"test","path":"/note/01","value":{"text":"b"}}]`))
	f.Fuzz(func(t *testing.T, resource, patch []byte) {
		r, err := fhir.Parse(resource)
		if err != nil {
			return
		}
		before := string(r.Canonical())
		got, err := fhir.DefaultLimits.Patch(r, patch)
		if string(r.Canonical()) != before {
			t.Fatalf("Patch(%s) changed its input", patch)
		}
		if err != nil {
			var fe *fhir.Error
			if !errors.As(err, &fe) || len(fe.Issues) == 0 ||
				!errors.Is(err, fhir.ErrInvalid) && !errors.Is(err, fhir.ErrUnprocessable) && !errors.Is(err, fhir.ErrTooLarge) {
				t.Fatalf("Patch(%s) = %v (%T); want an *Error of kind invalid, unprocessable or too large", patch, err, err)
			}
			return
		}
		if got.Type() != r.Type() || got.ID() != r.ID() {
			t.Fatalf("Patch(%s) = %s; want the type and id of %s", patch, got, r)
		}
		again, err := fhir.Parse(got.Canonical())
		if err != nil || string(again.Canonical()) != string(got.Canonical()) {
			t.Fatalf("the patched resource %s does not parse back: %v", got.Canonical(), err)
		}
	})
}

// FuzzParseParameters checks the Parameters body of an operation invoked by
// POST: ParseParameters never panics, refuses with an *fhir.Error of kind
// invalid, unsupported or too large, and what it accepts, written back as
// valueString parameters, parses to the same query.
func FuzzParseParameters(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Parameters","parameter":[{"name":"identifier","valueIdentifier":{"system":"urn:careledger:patient","value":"ab"}}]}`))
	f.Add([]byte(`{"resourceType":"Parameters","parameter":[{"name":"_count","valueInteger":1e3},{"name":"b","valueBoolean":false},{"name":"c","valueCoding":{"system":"s|,","code":"\\"}}]}`))
	f.Add([]byte(`{"resourceType":"Parameters","parameter":[{"name":"p","valueReference":{"reference":"Patient/x"}},{"name":"r","resource":{"resourceType":"Patient"}}]}`))
	f.Add([]byte(`{"resourceType":"Parameters","parameter":[{"name":"x","valueString":null}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		q, err := fhir.DefaultLimits.ParseParameters(body)
		if err != nil {
			var fe *fhir.Error
			if !errors.As(err, &fe) || len(fe.Issues) == 0 ||
				!errors.Is(err, fhir.ErrInvalid) && !errors.Is(err, fhir.ErrUnsupported) && !errors.Is(err, fhir.ErrTooLarge) {
				t.Fatalf("ParseParameters(%q) = %v (%T); want an *Error of kind invalid, unsupported or too large", body, err, err)
			}
			return
		}
		ps := []map[string]string{}
		for name, vs := range q {
			for _, v := range vs {
				ps = append(ps, map[string]string{"name": name, "valueString": v})
			}
		}
		b, err := json.Marshal(map[string]any{"resourceType": "Parameters", "parameter": ps})
		if err != nil {
			t.Fatal(err)
		}
		back, err := fhir.DefaultLimits.ParseParameters(b)
		if err != nil {
			t.Fatalf("ParseParameters(%s) = %v; want what %q gave", b, err, body)
		}
		if len(back) != len(q) {
			t.Fatalf("round trip of %q: %v; want %v", body, back, q)
		}
		for name := range q {
			if !reflect.DeepEqual(back[name], q[name]) {
				t.Fatalf("round trip of %q: %s = %v; want %v", body, name, back[name], q[name])
			}
		}
	})
}
