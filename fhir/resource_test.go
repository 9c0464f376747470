package fhir_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/careledger/careledger/fhir"
)

func TestParseErrors(t *testing.T) {
	deep := `{"resourceType":"Basic","extension":` + strings.Repeat(`[`, 200) + strings.Repeat(`]`, 200) + `}`
	tests := []struct {
		name   string
		in     string
		lim    fhir.Limits
		kind   error
		status int
		code   string
	}{
		{"not JSON", `{"resourceType":"Patient","name":` + secret, fhir.Limits{}, fhir.ErrInvalid, 400, "structure"},
		{"trailing data", `{"resourceType":"Patient"} {}`, fhir.Limits{}, fhir.ErrInvalid, 400, "structure"},
		{"not an object", `["` + secret + `"]`, fhir.Limits{}, fhir.ErrInvalid, 400, "structure"},
		{"no resourceType", `{"id":"1"}`, fhir.Limits{}, fhir.ErrInvalid, 400, "required"},
		{"resourceType not a string", `{"resourceType":5}`, fhir.Limits{}, fhir.ErrInvalid, 400, "structure"},
		{"unknown resourceType", `{"resourceType":"` + secret + `"}`, fhir.Limits{}, fhir.ErrUnsupported, 400, "not-supported"},
		{"bad id", `{"resourceType":"Patient","id":"` + secret + ` x"}`, fhir.Limits{}, fhir.ErrInvalid, 400, "value"},
		{"id not a string", `{"resourceType":"Patient","id":1}`, fhir.Limits{}, fhir.ErrInvalid, 400, "value"},
		{"bad lastUpdated", `{"resourceType":"Patient","meta":{"lastUpdated":"2020-01-01"}}`, fhir.Limits{}, fhir.ErrInvalid, 400, "value"},
		{"meta not an object", `{"resourceType":"Patient","meta":[]}`, fhir.Limits{}, fhir.ErrInvalid, 400, "structure"},
		{"duplicate key", `{"resourceType":"Patient","gender":"male","gender":"` + secret + `"}`, fhir.Limits{}, fhir.ErrInvalid, 400, "structure"},
		{"invalid UTF-8", "{\"resourceType\":\"Patient\",\"gender\":\"\xff\"}", fhir.Limits{}, fhir.ErrInvalid, 400, "structure"},
		{"lone surrogate", `{"resourceType":"Patient","gender":"\ud800"}`, fhir.Limits{}, fhir.ErrInvalid, 400, "structure"},
		{"too deep", deep, fhir.Limits{}, fhir.ErrInvalid, 400, "structure"},
		{"too large", `{"resourceType":"Patient","gender":"` + strings.Repeat("x", 100) + `"}`, fhir.Limits{MaxResourceBytes: 100}, fhir.ErrTooLarge, 413, "too-costly"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tt.lim.Parse([]byte(tt.in))
			if err == nil {
				t.Fatalf("Parse(%q) = %v; want an error", tt.in, r)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("Parse(%q) = %v; want kind %v", tt.in, err, tt.kind)
			}
			status, body := fhir.Outcome(err)
			if status != tt.status {
				t.Errorf("Outcome(Parse(%q)) status = %d; want %d", tt.in, status, tt.status)
			}
			if is := fhir.IssuesOf(err); len(is) != 1 || is[0].Code != tt.code || is[0].Severity != "error" {
				t.Errorf("IssuesOf(Parse(%q)) = %+v; want one error of code %s", tt.in, is, tt.code)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(string(body), secret) {
				t.Errorf("Parse(%q) error %q or outcome %s contains the value", tt.in, err, body)
			}
		})
	}
}

func TestCanonical(t *testing.T) {
	a := mustParse(t, "{ \"resourceType\" : \"Basic\",\n\t\"b\": 1.50, \"a\": [\"x\\u0041\", \"\\u00e9\\/\", \"<&>\\u2028\", \"\\u0001\\n\\\"\\\\\", \"\\ud83d\\ude00\"], \"c\": {\"z\": null, \"y\": [true, false, -0, 1e+05]} }")
	b := mustParse(t, `{"c":{"y":[true,false,-0,1e+05],"z":null},"a":["xA","é/","<&>`+"\u2028"+`","\u0001\n\"\\","😀"],"b":1.50,"resourceType":"Basic"}`)
	want := `{"a":["xA","é/","<&>` + "\u2028" + `","\u0001\n\"\\","😀"],"b":1.50,"c":{"y":[true,false,-0,1e+05],"z":null},"resourceType":"Basic"}`
	for _, r := range []*fhir.Resource{a, b} {
		if got := string(r.Canonical()); got != want {
			t.Errorf("Canonical() = %s; want %s", got, want)
		}
	}
}

func TestSetIDSetMeta(t *testing.T) {
	r := mustParse(t, `{"resourceType":"Observation","id":"old","meta":{"profile":["http://example.org/p"],"versionId":"9"},"status":"final","code":{}}`)
	if err := r.SetID("new-1"); err != nil {
		t.Fatal(err)
	}
	updated := time.Date(2024, 5, 6, 7, 8, 9, 123_000_000, time.FixedZone("", 3600))
	r.SetMeta(3, updated)
	if r.ID() != "new-1" {
		t.Errorf("ID() = %q; want new-1", r.ID())
	}
	if m := r.Meta(); m.VersionID != "3" || !m.LastUpdated.Equal(updated) {
		t.Errorf("Meta() = %+v; want version 3 updated %v", m, updated)
	}
	want := `{"code":{},"id":"new-1","meta":{"lastUpdated":"2024-05-06T06:08:09.123Z","profile":["http://example.org/p"],"versionId":"3"},"resourceType":"Observation","status":"final"}`
	if got := string(r.Canonical()); got != want {
		t.Errorf("Canonical() = %s; want %s", got, want)
	}
	back := mustParse(t, string(r.Canonical()))
	if back.ID() != "new-1" || back.Meta() != r.Meta() {
		t.Errorf("Parse(Canonical()) = %v %+v; want new-1 %+v", back, back.Meta(), r.Meta())
	}
	if err := r.SetID("no spaces"); !errors.Is(err, fhir.ErrInvalid) {
		t.Errorf("SetID(invalid) = %v; want ErrInvalid", err)
	}
	c := r.Clone()
	c.SetMeta(4, updated)
	if r.Meta().VersionID != "3" {
		t.Error("SetMeta on a Clone changed the original")
	}

	bare := mustParse(t, `{"resourceType":"Patient"}`)
	if m := bare.Meta(); m != (fhir.Meta{}) || bare.ID() != "" {
		t.Errorf("Meta() of a resource without meta = %+v, ID %q; want zero", m, bare.ID())
	}
	bare.SetMeta(1, time.Unix(0, 0))
	if got, want := string(bare.Canonical()), `{"meta":{"lastUpdated":"1970-01-01T00:00:00Z","versionId":"1"},"resourceType":"Patient"}`; got != want {
		t.Errorf("Canonical() = %s; want %s", got, want)
	}
}

func TestLimitsValidate(t *testing.T) {
	if err := fhir.DefaultLimits.Validate(); err != nil {
		t.Errorf("DefaultLimits.Validate() = %v", err)
	}
	if err := (fhir.Limits{MaxDepth: -1}).Validate(); err == nil {
		t.Error("Validate() of a negative limit = nil; want an error")
	}
	if got := (fhir.Limits{}).EnsureDefaults(); got != fhir.DefaultLimits {
		t.Errorf("Limits{}.EnsureDefaults() = %+v; want %+v", got, fhir.DefaultLimits)
	}
}
