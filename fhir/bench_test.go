package fhir_test

import (
	"crypto/sha256"
	"encoding/json"
	"testing"

	"github.com/careledger/careledger/fhir"
)

const benchBundle = "synthea/smart-on-fhir-generated-sample-data/Clemente_Kreiger_1484a42d-0eaf-4654-9cbf-6b050a5cd73b.json"

// benchResources returns the JSON of every resource of a Synthea patient
// bundle, and of its first Observation.
func benchResources(b *testing.B) (all [][]byte, observation []byte) {
	var bundle struct {
		Entry []struct {
			Resource json.RawMessage
		}
	}
	if err := json.Unmarshal(readShared(b, benchBundle), &bundle); err != nil {
		b.Fatal(err)
	}
	for _, e := range bundle.Entry {
		all = append(all, e.Resource)
		var t struct{ ResourceType string }
		json.Unmarshal(e.Resource, &t)
		if t.ResourceType == "Observation" && observation == nil {
			observation = e.Resource
		}
	}
	return all, observation
}

// BenchmarkValidate validates a typical Observation and every resource of
// a Synthea patient, beside a baseline that only decodes the same bytes
// with encoding/json into map[string]any.
func BenchmarkValidate(b *testing.B) {
	all, obs := benchResources(b)
	v := testValidator(b)
	parse := func(raw [][]byte) []*fhir.Resource {
		var rs []*fhir.Resource
		for _, r := range raw {
			p, err := fhir.Parse(r)
			if err != nil {
				b.Fatal(err)
			}
			if err := v.Validate(p); err != nil { // compiles the type
				b.Fatal(err)
			}
			rs = append(rs, p)
		}
		return rs
	}
	one, many := parse([][]byte{obs}), parse(all)

	b.Run("baseline=json.Unmarshal/Observation", func(b *testing.B) {
		b.SetBytes(int64(len(obs)))
		for b.Loop() {
			var m map[string]any
			if err := json.Unmarshal(obs, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Observation", func(b *testing.B) {
		b.SetBytes(int64(len(obs)))
		for b.Loop() {
			if err := v.Validate(one[0]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline=json.Unmarshal/patient", func(b *testing.B) {
		for b.Loop() {
			for _, r := range all {
				var m map[string]any
				if err := json.Unmarshal(r, &m); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(all)), "µs/resource")
	})
	b.Run("patient", func(b *testing.B) {
		for b.Loop() {
			for _, r := range many {
				if err := v.Validate(r); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(many)), "µs/resource")
	})
}

// BenchmarkParseCanonical parses and canonicalizes a typical Observation,
// beside the closest encoding/json equivalent: Unmarshal into
// map[string]any (UseNumber not set, so numbers become float64) and Marshal,
// which sorts map keys.
func BenchmarkParseCanonical(b *testing.B) {
	_, obs := benchResources(b)
	b.Run("baseline=json.Unmarshal+Marshal", func(b *testing.B) {
		b.SetBytes(int64(len(obs)))
		for b.Loop() {
			var m map[string]any
			if err := json.Unmarshal(obs, &m); err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Parse+Canonical", func(b *testing.B) {
		b.SetBytes(int64(len(obs)))
		for b.Loop() {
			r, err := fhir.Parse(obs)
			if err != nil {
				b.Fatal(err)
			}
			r.Canonical()
		}
	})
}

// BenchmarkImport is the whole import path of one Synthea patient: parse
// the Bundle, validate every resource, resolve references, and hash each
// resource's canonical bytes. It reports resources per second on one core.
func BenchmarkImport(b *testing.B) {
	raw := readShared(b, benchBundle)
	v := testValidator(b)
	entries := 0
	for b.Loop() {
		bundle, err := fhir.ParseBundle(raw)
		if err != nil {
			b.Fatal(err)
		}
		if err := v.ValidateBundle(bundle); err != nil {
			b.Fatal(err)
		}
		plan, err := fhir.Resolve(bundle, idGen("b"), newMemStore())
		if err != nil {
			b.Fatal(err)
		}
		for _, op := range plan.Ops {
			sha256.Sum256(op.Resource.Canonical())
		}
		entries = len(plan.Ops)
	}
	b.ReportMetric(float64(b.N*entries)/b.Elapsed().Seconds(), "resources/s")
}

// BenchmarkMatch runs a typical patient search (code and date range) over
// every resource of a Synthea patient.
func BenchmarkMatch(b *testing.B) {
	all, _ := benchResources(b)
	var rs []*fhir.Resource
	for _, raw := range all {
		r, err := fhir.Parse(raw)
		if err != nil {
			b.Fatal(err)
		}
		rs = append(rs, r)
	}
	q, err := fhir.ParseQuery("Observation", map[string][]string{
		"code": {"http://loinc.org|8302-2,http://loinc.org|29463-7"},
		"date": {"ge2015-01-01", "lt2020"},
	})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		for _, r := range rs {
			q.Match(r)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(rs)), "ns/resource")
}
