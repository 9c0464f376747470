package fhir_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/careledger/careledger/fhir"
)

func mustQuery(t *testing.T, typ, raw string) *fhir.Query {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	q, err := fhir.ParseQuery(typ, v)
	if err != nil {
		t.Fatalf("ParseQuery(%s, %s) = %v", typ, raw, err)
	}
	return q
}

func TestParseQueryErrors(t *testing.T) {
	tests := []struct {
		typ, raw string
		kind     error
		mention  string // a word the diagnostics must contain
	}{
		{"Nope", "", fhir.ErrUnknownType, ""},
		{"Questionnaire", "", fhir.ErrUnsupported, "Questionnaire"},
		{"Observation", "name=x&_foo=1&code=1", fhir.ErrUnsupported, "_foo, name"},
		{"Observation", "_count=-1", fhir.ErrInvalid, "_count"},
		{"Observation", "_count=x", fhir.ErrInvalid, "_count"},
		{"Observation", "_count=1&_count=2", fhir.ErrInvalid, "_count"},
		{"Observation", "_offset=99999999", fhir.ErrInvalid, "_offset"},
		{"Observation", "date=2020-13", fhir.ErrInvalid, "date"},
		{"Observation", "date=ap2020", fhir.ErrInvalid, "prefix"},
		{"Observation", "code:text=x", fhir.ErrInvalid, "modifier"},
		{"Observation", "code=a|b|c", fhir.ErrInvalid, "code"},
		{"Observation", "code=", fhir.ErrInvalid, "code"},
		{"Observation", "subject=a b", fhir.ErrInvalid, "subject"},
		{"Observation", "subject:Organization=1", fhir.ErrInvalid, "modifier"},
		{"Observation", "subject:Patient=Group/1", fhir.ErrInvalid, "subject"},
		{"Observation", "status:missing=maybe", fhir.ErrInvalid, "missing"},
		{"Organization", "patient=1", fhir.ErrUnsupported, "patient"},
	}
	for _, tt := range tests {
		v, _ := url.ParseQuery(tt.raw)
		q, err := fhir.ParseQuery(tt.typ, v)
		if !errors.Is(err, tt.kind) {
			t.Errorf("ParseQuery(%s, %s) = %v, %v; want kind %v", tt.typ, tt.raw, q, err, tt.kind)
			continue
		}
		if !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("ParseQuery(%s, %s) = %v; want it to mention %q", tt.typ, tt.raw, err, tt.mention)
		}
	}
	if got := fhir.StatusOf(func() error { _, err := fhir.ParseQuery("Nope", nil); return err }()); got != 404 {
		t.Errorf("status of an unknown type in a search = %d; want 404", got)
	}
}

func TestQueryMatch(t *testing.T) {
	obs := mustParse(t, `{"resourceType":"Observation","id":"o1","meta":{"lastUpdated":"2024-01-02T03:04:05Z"},
		"status":"final",
		"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],
		"code":{"coding":[{"system":"http://loinc.org","code":"8302-2"},{"code":"height"}]},
		"identifier":[{"system":"urn:x","value":"a,b|c"}],
		"subject":{"reference":"Patient/p1"},
		"effectivePeriod":{"start":"2020-06-15T10:00:00Z"}}`)
	tests := []struct {
		raw  string
		want bool
	}{
		{"", true},
		{"_id=o1", true}, {"_id=o2,o1", true}, {"_id=o2", false},
		{"_lastUpdated=2024-01-02", true}, {"_lastUpdated=lt2024", false},
		{"code=8302-2", true}, {"code=http://loinc.org|8302-2", true}, {"code=http://snomed.info/sct|8302-2", false},
		{"code=|height", true}, {"code=|8302-2", false}, {"code=http://loinc.org|", true}, {"code=x,height", true},
		{"code=8302-2&code=height", true}, {"code=8302-2&code=x", false},
		{"code:not=x", true}, {"code:not=8302-2", false},
		{"category=vital-signs", true}, {"category=laboratory", false},
		{"status=final", true}, {"status=preliminary,final", true}, {"status:not=final", false},
		{"status:missing=false", true}, {"status:missing=true", false},
		{`identifier=urn:x|a\,b\|c`, true}, {`identifier=a\,b\|c`, true}, {"identifier=a", false},
		{"patient=p1", true}, {"patient=Patient/p1", true}, {"patient=p2", false},
		{"subject=p1", true}, {"subject=Patient/p1", true}, {"subject:Patient=p1", true}, {"subject=Group/p1", false},
		{"subject=https://other.example/fhir/Patient/p1", true},
		{"date=2020", false}, {"date=ge2020", true}, {"date=2020-06-15", false}, {"date=ge2020-06-15", true}, {"date=gt2030", true},
		{"date=lt2020-06-15", false}, {"date=le2020-06-15", false}, {"date=sa2020-06-14", true}, {"date=eb2021", false},
		{"date:missing=true", false},
		{"_count=1&_offset=3&_format=json", true},
	}
	for _, tt := range tests {
		if got := mustQuery(t, "Observation", tt.raw).Match(obs); got != tt.want {
			t.Errorf("ParseQuery(Observation, %s).Match(obs) = %v; want %v", tt.raw, got, tt.want)
		}
	}
	if mustQuery(t, "Condition", "").Match(obs) {
		t.Error("a Condition query matches an Observation")
	}
	group := mustParse(t, `{"resourceType":"Observation","subject":{"reference":"Group/p1"},"status":"final","code":{}}`)
	if mustQuery(t, "Observation", "patient=p1").Match(group) {
		t.Error("patient=p1 matches an Observation about Group/p1")
	}
}

func TestQueryPatient(t *testing.T) {
	tests := []struct {
		typ, raw, want string
	}{
		{"Observation", "patient=p1", "p1"},
		{"Observation", "patient=Patient/p1&code=x", "p1"},
		{"Observation", "subject=Patient/p1", "p1"},
		{"Observation", "subject:Patient=p1", "p1"},
		{"Observation", "subject=p1", ""},            // could be a Group, Device or Location
		{"Observation", "patient=p1,p2", ""},         // two patients
		{"Observation", "patient=p1&patient=p2", ""}, // contradiction: matches nothing
		{"Observation", "patient=p1&patient=p1,p2", "p1"},
		{"Observation", "patient:missing=false", ""},
		{"Observation", "code=x", ""},
		{"Claim", "patient=p1", "p1"},
		{"Coverage", "patient=p1", "p1"},
		{"Patient", "_id=p1", "p1"},
		{"Patient", "_id=p1,p2", ""},
		{"Encounter", "_id=p1", ""},
	}
	for _, tt := range tests {
		if got := mustQuery(t, tt.typ, tt.raw).Patient(); got != tt.want {
			t.Errorf("ParseQuery(%s, %s).Patient() = %q; want %q", tt.typ, tt.raw, got, tt.want)
		}
	}
}

func TestPaging(t *testing.T) {
	q := mustQuery(t, "Observation", "patient=p1&code=a,b&_count=10&_offset=20")
	got := q.Links("https://n/fhir/Observation", 35)
	base := "https://n/fhir/Observation?_count=10&code=a%2Cb&patient=p1"
	want := []fhir.Link{
		{Relation: "self", URL: base + "&_offset=20"},
		{Relation: "first", URL: base},
		{Relation: "previous", URL: base + "&_offset=10"},
		{Relation: "next", URL: base + "&_offset=30"},
		{Relation: "last", URL: base + "&_offset=30"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Links = %v; want %v", got, want)
	}
	if q := mustQuery(t, "Observation", "_count=5000"); q.Count != fhir.MaxCount {
		t.Errorf("_count=5000 gives Count %d; want %d", q.Count, fhir.MaxCount)
	}
	if q := mustQuery(t, "Observation", ""); q.Count != fhir.DefaultCount || q.Offset != 0 {
		t.Errorf("no _count gives Count %d Offset %d; want %d, 0", q.Count, q.Offset, fhir.DefaultCount)
	}

	var rs []*fhir.Resource
	for _, id := range []string{"a", "b", "c"} {
		rs = append(rs, mustParse(t, `{"resourceType":"Observation","id":"`+id+`","status":"final","code":{}}`))
	}
	q = mustQuery(t, "Observation", "_count=2&_offset=2")
	page := q.Page(rs)
	if len(page) != 1 || page[0].ID() != "c" {
		t.Fatalf("Page = %v; want [Observation/c]", page)
	}
	set := fhir.SearchSet(q, "https://n/fhir", len(rs), page)
	var b struct {
		Type  string
		Total int
		Link  []struct{ Relation, URL string }
		Entry []struct {
			FullURL  string
			Resource struct{ ID string }
			Search   struct{ Mode string }
		}
	}
	if err := json.Unmarshal(set.Canonical(), &b); err != nil {
		t.Fatal(err)
	}
	if b.Type != "searchset" || b.Total != 3 || len(b.Entry) != 1 || b.Entry[0].FullURL != "https://n/fhir/Observation/c" ||
		b.Entry[0].Resource.ID != "c" || b.Entry[0].Search.Mode != "match" || len(b.Link) != 4 {
		t.Errorf("SearchSet = %s", set.Canonical())
	}
	if err := testValidator(t).Validate(set); err != nil {
		t.Errorf("Validate(SearchSet) = %v", err)
	}
}

// TestSearchSynthea runs searches on the resources of a real Synthea
// patient, after Resolve, and checks each count against an oracle computed
// from the JSON with encoding/json and time.Parse.
func TestSearchSynthea(t *testing.T) {
	raw := readShared(t, "synthea/smart-on-fhir-generated-sample-data/Beatris_Towne_8d4096f9-1206-48e1-8774-727524174fc9.json")
	b, err := fhir.ParseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := fhir.Resolve(b, idGen("s"), newMemStore())
	if err != nil {
		t.Fatal(err)
	}
	var all []*fhir.Resource
	patient := ""
	for _, op := range plan.Ops {
		all = append(all, op.Resource)
		if op.Type == "Patient" {
			patient = op.ID
		}
	}

	type doc = map[string]any
	decode := func(r *fhir.Resource) doc {
		var d doc
		if err := json.Unmarshal(r.Canonical(), &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	codings := func(v any) [][2]string {
		var out [][2]string
		cc, _ := v.(doc)
		list, _ := cc["coding"].([]any)
		for _, c := range list {
			c := c.(doc)
			s, _ := c["system"].(string)
			out = append(out, [2]string{s, c["code"].(string)})
		}
		return out
	}
	hasCoding := func(v any, system, code string) bool {
		for _, c := range codings(v) {
			if c[1] == code && (system == "" || c[0] == system) {
				return true
			}
		}
		return false
	}
	effective := func(d doc) time.Time {
		s, _ := d["effectiveDateTime"].(string)
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatalf("effectiveDateTime: %v", err)
		}
		return tm
	}
	inCategory := func(d doc, code string) bool {
		cats, _ := d["category"].([]any)
		return slices.ContainsFunc(cats, func(c any) bool { return hasCoding(c, "", code) })
	}
	year := func(y int) time.Time { return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC) }

	p := "patient=" + patient
	tests := []struct {
		typ, raw string
		oracle   func(d doc) bool
	}{
		{"Observation", p + "&code=http://loinc.org|8302-2", func(d doc) bool { return hasCoding(d["code"], "http://loinc.org", "8302-2") }},
		{"Observation", "subject=Patient/" + patient + "&code=29463-7,8302-2", func(d doc) bool {
			return hasCoding(d["code"], "", "29463-7") || hasCoding(d["code"], "", "8302-2")
		}},
		{"Observation", p + "&category=vital-signs", func(d doc) bool { return inCategory(d, "vital-signs") }},
		{"Observation", p + "&category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory", func(d doc) bool { return inCategory(d, "laboratory") }},
		{"Observation", p + "&status=final", func(d doc) bool { return d["status"] == "final" }},
		{"Observation", p + "&status:not=final", func(d doc) bool { return d["status"] != "final" }},
		{"Observation", p + "&date=ge2015-01-01&date=lt2017-01-01", func(d doc) bool {
			e := effective(d)
			return !e.Before(year(2015)) && e.Before(year(2017))
		}},
		{"Observation", p + "&date=2016", func(d doc) bool { e := effective(d); return !e.Before(year(2016)) && e.Before(year(2017)) }},
		{"Observation", p + "&date=gt2016-03", func(d doc) bool { return !effective(d).Before(time.Date(2016, 4, 1, 0, 0, 0, 0, time.UTC)) }},
		{"Observation", p + "&date=eb2013-06", func(d doc) bool { return effective(d).Before(time.Date(2013, 6, 1, 0, 0, 0, 0, time.UTC)) }},
		{"Observation", p + "&date=sa2017&code=8302-2", func(d doc) bool {
			return !effective(d).Before(year(2018)) && hasCoding(d["code"], "", "8302-2")
		}},
		{"Observation", "patient=someone-else", func(d doc) bool { return false }},
		{"Encounter", p + "&date=ge2018", func(d doc) bool {
			end, _ := time.Parse(time.RFC3339, d["period"].(doc)["end"].(string))
			return !end.Before(year(2018))
		}},
		{"Condition", p, func(d doc) bool { return true }},
		{"Patient", "_id=" + patient, func(d doc) bool { return true }},
		{"Claim", p + "&status=active", func(d doc) bool { return d["status"] == "active" }},
	}
	for _, tt := range tests {
		q := mustQuery(t, tt.typ, tt.raw)
		if got := q.Patient(); strings.Contains(tt.raw, patient) && got != patient {
			t.Errorf("ParseQuery(%s, %s).Patient() = %q; want %q", tt.typ, tt.raw, got, patient)
		}
		got, want := 0, 0
		for _, r := range all {
			if q.Match(r) {
				got++
			}
			if r.Type() == tt.typ && tt.oracle(decode(r)) {
				want++
			}
		}
		if got != want {
			t.Errorf("%s?%s matches %d; the oracle says %d", tt.typ, tt.raw, got, want)
		}
		if want == 0 && !strings.Contains(tt.raw, "someone-else") && !strings.Contains(tt.raw, ":not") {
			t.Errorf("%s?%s: the oracle matches nothing; pick a query that tests something", tt.typ, tt.raw)
		}
	}
}
