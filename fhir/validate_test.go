package fhir_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/careledger/careledger/fhir"
)

// A value that must never appear in an error: it stands for health data.
const secret = "SECRET-VALUE"

func TestValidateIssues(t *testing.T) {
	v := testValidator(t)
	obs := func(fields string) string {
		return `{"resourceType":"Observation","status":"final","code":{"text":"x"}` + fields + `}`
	}
	tests := []struct {
		name     string
		resource string
		want     []string // "code at expression"
	}{
		{"valid", obs(``), nil},
		// The R4 JSON schema requires only complex elements: a primitive
		// such as status may come as _status (extensions only).
		{"missing required", `{"resourceType":"Observation"}`, []string{"required at Observation.code"}},
		{"unknown code", `{"resourceType":"Observation","status":"` + secret + `","code":{}}`, []string{"code-invalid at Observation.status"}},
		{"unknown element", obs(`,"` + secret + `":1,"foo":2`), []string{"structure at Observation.?", "structure at Observation.foo"}},
		{"wrong JSON type", obs(`,"category":{"text":"` + secret + `"}`), []string{"structure at Observation.category"}},
		{"bad dateTime", obs(`,"effectiveDateTime":"2020-13-01` + secret + `"`), []string{"value at Observation.effectiveDateTime"}},
		{"bad nested", obs(`,"valueQuantity":{"value":"12"},"component":[{"code":{},"valueString":""}]`), []string{"structure at Observation.valueQuantity.value", "value at Observation.component[0].valueString"}},
		{"contained invalid", obs(`,"contained":[{"resourceType":"Patient","id":"p","gender":"` + secret + `"}]`), []string{"code-invalid at Observation.contained[0].gender"}},
		{"contained unknown type", obs(`,"contained":[{"resourceType":"Nope","id":"p"}]`), []string{"not-supported at Observation.contained[0].resourceType"}},
		{"contained valid", obs(`,"contained":[{"resourceType":"Patient","id":"p","gender":"other"}]`), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.Validate(mustParse(t, tt.resource))
			var got []string
			if err != nil {
				var fe *fhir.Error
				if !errors.As(err, &fe) || !errors.Is(err, fhir.ErrInvalid) {
					t.Fatalf("Validate = %v (%T); want an *fhir.Error of kind ErrInvalid", err, err)
				}
				for _, is := range fe.Issues {
					got = append(got, is.Code+" at "+strings.Join(is.Expression, ","))
					if strings.Contains(is.Diagnostics, secret) {
						t.Errorf("issue diagnostics %q contain the value", is.Diagnostics)
					}
				}
				_, body := fhir.Outcome(err)
				if strings.Contains(err.Error(), secret) || strings.Contains(string(body), secret) {
					t.Errorf("error %q or its outcome contains the value", err)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Validate(%s) issues = %q; want %q", tt.resource, got, tt.want)
			}
		})
	}
}

func TestValidateDiagnostics(t *testing.T) {
	v := testValidator(t)
	tests := []struct{ resource, want string }{
		{`{"resourceType":"Observation","code":{},"effectiveDateTime":"2020-13-01"}`, "value is not a valid dateTime"},
		{`{"resourceType":"Observation","code":{},"issued":"2020-01-01"}`, "value is not a valid instant"},
		{`{"resourceType":"Observation","code":{},"valueString":""}`, "value is not a valid string"},
		{`{"resourceType":"Patient","id":"p","birthDate":"1990-1-1"}`, "value is not a valid date"},
		{`{"resourceType":"Patient","gender":"x"}`, "code is not one of: male, female, other, unknown"},
		{`{"resourceType":"Patient","active":"yes"}`, "wrong JSON type: got string, want boolean"},
		{`{"resourceType":"Patient","name":[{"given":["a"],"nickname":"b"}]}`, "unknown element"},
	}
	for _, tt := range tests {
		err := v.Validate(mustParse(t, tt.resource))
		is := fhir.IssuesOf(err)
		if err == nil || len(is) != 1 || is[0].Diagnostics != tt.want {
			t.Errorf("Validate(%s) = %v; want one issue %q", tt.resource, err, tt.want)
		}
	}
}

func TestValidateConcurrent(t *testing.T) {
	schema := readShared(t, "fhir-schema/fhir.schema.json")
	v, err := fhir.NewValidator(schema) // fresh: types compile during the race
	if err != nil {
		t.Fatal(err)
	}
	// Resources of several types, some invalid (Observation, Encounter,
	// Condition and Immunization require complex elements), and what a
	// sequential run says of each.
	var rs []*fhir.Resource
	var want []bool
	for i, typ := range []string{"Patient", "Observation", "Condition", "Encounter", "Procedure", "Immunization", "Organization", "Practitioner"} {
		r := mustParse(t, `{"resourceType":"`+typ+`","id":"x`+fmt.Sprint(i)+`"}`)
		rs = append(rs, r)
		want = append(want, testValidator(t).Validate(r) != nil)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				k := (g + i) % len(rs)
				if err := v.Validate(rs[k]); (err != nil) != want[k] {
					errs <- fmt.Errorf("Validate(%s) = %v; want error %v", rs[k], err, want[k])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestValidateBundle(t *testing.T) {
	v := testValidator(t)
	body := func(typ string) string {
		return `{"resourceType":"Bundle","type":"` + typ + `","entry":[
			{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient","gender":"male"},"request":{"method":"POST","url":"Patient"}},
			{"fullUrl":"urn:uuid:2","resource":{"resourceType":"Patient","gender":"` + secret + `"},"request":{"method":"POST","url":"Patient"}},
			{"request":{"method":"GET","url":"Patient/1"},"response":{"status":200}}
		]}`
	}
	tb, err := fhir.ParseBundle([]byte(body("transaction")))
	if err != nil {
		t.Fatal(err)
	}
	err = v.ValidateBundle(tb)
	var fe *fhir.Error
	if !errors.As(err, &fe) || len(fe.Issues) != 2 {
		t.Fatalf("ValidateBundle(transaction) = %v; want 2 issues", err)
	}
	want := []string{"Bundle.entry[1].resource.gender", "Bundle.entry[2].response.status"}
	for i, is := range fe.Issues {
		if is.Expression[0] != want[i] {
			t.Errorf("issue %d at %s; want %s", i, is.Expression[0], want[i])
		}
	}

	bb, err := fhir.ParseBundle([]byte(body("batch")))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.ValidateBundle(bb); err != nil {
		t.Fatalf("ValidateBundle(batch) = %v; want per-entry errors only", err)
	}
	for i, wantErr := range []bool{false, true, true} {
		if got := bb.Entries[i].Err != nil; got != wantErr {
			t.Errorf("batch entry %d: Err = %v; want error %v", i, bb.Entries[i].Err, wantErr)
		}
	}
}
