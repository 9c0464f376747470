package fhir_test

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/careledger/careledger/fhir"
)

const patchBase = `{"resourceType":"Observation","id":"o1","status":"preliminary","code":{"text":"glucose"},"note":[{"text":"a"},{"text":"b"}]}`

// TestPatch applies RFC 6902's operations (its appendix A's shapes) to a
// resource and requires the patched canonical JSON, or the error kind a
// client is answered with: 400 for a malformed document, 422 for one that
// does not apply or would change the type or id.
func TestPatch(t *testing.T) {
	for _, tc := range []struct {
		name, patch, want string
		kind              error
	}{
		{"replace", `[{"op":"replace","path":"/status","value":"final"}]`,
			`{"code":{"text":"glucose"},"id":"o1","note":[{"text":"a"},{"text":"b"}],"resourceType":"Observation","status":"final"}`, nil},
		{"add to array", `[{"op":"add","path":"/note/1","value":{"text":"x"}}]`,
			`{"code":{"text":"glucose"},"id":"o1","note":[{"text":"a"},{"text":"x"},{"text":"b"}],"resourceType":"Observation","status":"preliminary"}`, nil},
		{"append, test, remove", `[{"op":"add","path":"/note/-","value":{"text":"c"}},{"op":"test","path":"/note/0/text","value":"a"},{"op":"remove","path":"/note/0"}]`,
			`{"code":{"text":"glucose"},"id":"o1","note":[{"text":"b"},{"text":"c"}],"resourceType":"Observation","status":"preliminary"}`, nil},
		{"move and copy", `[{"op":"copy","from":"/code","path":"/valueCodeableConcept"},{"op":"move","from":"/note/1","path":"/note/0"}]`,
			`{"code":{"text":"glucose"},"id":"o1","note":[{"text":"b"},{"text":"a"}],"resourceType":"Observation","status":"preliminary","valueCodeableConcept":{"text":"glucose"}}`, nil},
		{"escaped pointer", `[{"op":"add","path":"/a~1b~0c","value":1}]`,
			`{"a/b~c":1,"code":{"text":"glucose"},"id":"o1","note":[{"text":"a"},{"text":"b"}],"resourceType":"Observation","status":"preliminary"}`, nil},
		{"empty patch", `[]`, `{"code":{"text":"glucose"},"id":"o1","note":[{"text":"a"},{"text":"b"}],"resourceType":"Observation","status":"preliminary"}`, nil},
		{"failed test", `[{"op":"test","path":"/status","value":"final"},{"op":"replace","path":"/status","value":"amended"}]`, "", fhir.ErrUnprocessable},
		{"missing path", `[{"op":"replace","path":"/valueString","value":"x"}]`, "", fhir.ErrUnprocessable},
		{"negative index", `[{"op":"remove","path":"/note/-1"}]`, "", fhir.ErrUnprocessable},
		{"type changed", `[{"op":"replace","path":"/resourceType","value":"Condition"}]`, "", fhir.ErrUnprocessable},
		{"id changed", `[{"op":"replace","path":"/id","value":"o2"}]`, "", fhir.ErrUnprocessable},
		{"id removed", `[{"op":"remove","path":"/id"}]`, "", fhir.ErrUnprocessable},
		{"result not a resource", `[{"op":"remove","path":"/resourceType"}]`, "", fhir.ErrUnprocessable},
		{"not an array", `{"op":"remove","path":"/status"}`, "", fhir.ErrInvalid},
		{"not JSON", `[{"op":`, "", fhir.ErrInvalid},
		{"unknown op", `[{"op":"merge","path":"/status","value":1}]`, "", fhir.ErrInvalid},
		{"no value", `[{"op":"add","path":"/status"}]`, "", fhir.ErrInvalid},
		{"no from", `[{"op":"copy","path":"/x"}]`, "", fhir.ErrInvalid},
		{"path not a pointer", `[{"op":"remove","path":"status"}]`, "", fhir.ErrInvalid},
		{"bad escape", `[{"op":"remove","path":"/a~2"}]`, "", fhir.ErrInvalid},
		{"duplicate member", `[{"op":"remove","path":"/status","path":"/id"}]`, "", fhir.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := fhir.Parse([]byte(patchBase))
			if err != nil {
				t.Fatal(err)
			}
			got, err := fhir.DefaultLimits.Patch(r, []byte(tc.patch))
			if tc.kind != nil {
				if !errors.Is(err, tc.kind) {
					t.Fatalf("Patch(%s) = %v; want kind %v", tc.patch, err, tc.kind)
				}
				return
			}
			if err != nil {
				t.Fatalf("Patch(%s) = %v", tc.patch, err)
			}
			if string(got.Canonical()) != tc.want {
				t.Errorf("Patch(%s) = %s; want %s", tc.patch, got.Canonical(), tc.want)
			}
			if string(r.Canonical()) != string(mustParse(t, patchBase).Canonical()) {
				t.Errorf("Patch changed its input: %s", r.Canonical())
			}
		})
	}
}

// TestPatchKeepsContentOutOfErrors requires that a failing patch's answer
// names neither the resource's values nor the patch's.
func TestPatchKeepsContentOutOfErrors(t *testing.T) {
	r := mustParse(t, `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"HIV-positive"}}`)
	for _, p := range []string{
		`[{"op":"test","path":"/code/text","value":"HIV-negative"}]`,
		`[{"op":"replace","path":"/code/secret-name","value":"x"}]`,
		`[{"op":"copy","from":"/code/HIV-positive","path":"/x"}]`,
	} {
		_, err := fhir.DefaultLimits.Patch(r, []byte(p))
		if err == nil || strings.Contains(err.Error(), "HIV") || strings.Contains(err.Error(), "secret") {
			t.Errorf("Patch(%s) = %v; want an error without content", p, err)
		}
	}
}

// TestParseParameters maps an operation's Parameters body to the query the
// same operation takes by GET.
func TestParseParameters(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       url.Values
		kind       error
	}{
		{"none", `{"resourceType":"Parameters"}`, url.Values{}, nil},
		{"primitives", `{"resourceType":"Parameters","parameter":[{"name":"start","valueDate":"2020-01-01"},{"name":"_count","valueInteger":10},{"name":"_type","valueCode":"Observation"},{"name":"_type","valueCode":"Condition"},{"name":"flag","valueBoolean":true}]}`,
			url.Values{"start": {"2020-01-01"}, "_count": {"10"}, "_type": {"Observation", "Condition"}, "flag": {"true"}}, nil},
		{"identifier", `{"resourceType":"Parameters","parameter":[{"name":"identifier","valueIdentifier":{"system":"urn:careledger:patient","value":"ab12"}}]}`,
			url.Values{"identifier": {"urn:careledger:patient|ab12"}}, nil},
		{"identifier escaped", `{"resourceType":"Parameters","parameter":[{"name":"identifier","valueIdentifier":{"system":"s","value":"a|b,c"}}]}`,
			url.Values{"identifier": {`s|a\|b\,c`}}, nil},
		{"coding without system", `{"resourceType":"Parameters","parameter":[{"name":"code","valueCoding":{"code":"x"}}]}`,
			url.Values{"code": {"x"}}, nil},
		{"reference", `{"resourceType":"Parameters","parameter":[{"name":"patient","valueReference":{"reference":"Patient/p1"}}]}`,
			url.Values{"patient": {"Patient/p1"}}, nil},
		{"not Parameters", `{"resourceType":"Patient"}`, nil, fhir.ErrInvalid},
		{"not JSON", `{"resourceType":`, nil, fhir.ErrInvalid},
		{"not a resource", `[]`, nil, fhir.ErrInvalid},
		{"parameter not an array", `{"resourceType":"Parameters","parameter":{}}`, nil, fhir.ErrInvalid},
		{"no name", `{"resourceType":"Parameters","parameter":[{"valueString":"x"}]}`, nil, fhir.ErrInvalid},
		{"no value", `{"resourceType":"Parameters","parameter":[{"name":"x"}]}`, nil, fhir.ErrInvalid},
		{"two values", `{"resourceType":"Parameters","parameter":[{"name":"x","valueString":"a","valueCode":"b"}]}`, nil, fhir.ErrInvalid},
		{"empty reference", `{"resourceType":"Parameters","parameter":[{"name":"x","valueReference":{}}]}`, nil, fhir.ErrInvalid},
		{"array value", `{"resourceType":"Parameters","parameter":[{"name":"x","valueString":["a"]}]}`, nil, fhir.ErrInvalid},
		{"resource", `{"resourceType":"Parameters","parameter":[{"name":"x","resource":{"resourceType":"Patient"}}]}`, nil, fhir.ErrUnsupported},
		{"part", `{"resourceType":"Parameters","parameter":[{"name":"x","part":[]}]}`, nil, fhir.ErrUnsupported},
		{"period", `{"resourceType":"Parameters","parameter":[{"name":"x","valuePeriod":{"start":"2020"}}]}`, nil, fhir.ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := fhir.DefaultLimits.ParseParameters([]byte(tc.body))
			if tc.kind != nil {
				if !errors.Is(err, tc.kind) {
					t.Fatalf("ParseParameters(%s) = %v, %v; want kind %v", tc.body, got, err, tc.kind)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseParameters(%s) = %v, %v; want %v", tc.body, got, err, tc.want)
			}
		})
	}
}
