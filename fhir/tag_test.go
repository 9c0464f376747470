package fhir_test

import "testing"

// TestSetTag checks that SetTag replaces a client's tag of the system,
// keeps the others, and that Tag reads it back after a round trip.
func TestSetTag(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"resourceType":"Patient"}`,
			`{"meta":{"tag":[{"code":"abc","system":"urn:s"}]},"resourceType":"Patient"}`},
		{`{"resourceType":"Patient","meta":{"tag":[{"system":"urn:s","code":"forged"},{"system":"urn:other","code":"x"}]}}`,
			`{"meta":{"tag":[{"code":"x","system":"urn:other"},{"code":"abc","system":"urn:s"}]},"resourceType":"Patient"}`},
		{`{"resourceType":"Patient","meta":{"tag":"not an array"}}`,
			`{"meta":{"tag":[{"code":"abc","system":"urn:s"}]},"resourceType":"Patient"}`},
	} {
		r := mustParse(t, tc.in)
		r.SetTag("urn:s", "abc")
		if got := string(r.Canonical()); got != tc.want {
			t.Errorf("SetTag on %s = %s; want %s", tc.in, got, tc.want)
		}
		if got := mustParse(t, string(r.Canonical())).Tag("urn:s"); got != "abc" {
			t.Errorf("Tag after a round trip of %s = %q; want abc", tc.in, got)
		}
	}
	if got := mustParse(t, `{"resourceType":"Patient","meta":{"tag":[{"system":"urn:other","code":"x"}]}}`).Tag("urn:s"); got != "" {
		t.Errorf("Tag of an absent system = %q; want empty", got)
	}
}
