package fhirapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// outcomeCodes returns the issue codes of an OperationOutcome body, or nil
// when body is not one.
func outcomeCodes(body []byte) []string {
	var oo struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Code        string `json:"code"`
			Diagnostics string `json:"diagnostics"`
		} `json:"issue"`
	}
	if json.Unmarshal(body, &oo) != nil || oo.ResourceType != "OperationOutcome" {
		return nil
	}
	codes := make([]string, len(oo.Issue))
	for i, is := range oo.Issue {
		codes[i] = is.Code
	}
	return codes
}

// TestBadRoutes sends the request shapes of issue 14 that once answered 500
// (ids that are not FHIR ids, type-level _history, unknown operations) to a
// real node and requires a 4xx OperationOutcome with the issue code of the
// table: 400 invalid for an invalid id, 404 not-found for an interaction or
// operation that is not served. A rejected id is never echoed back.
func TestBadRoutes(t *testing.T) {
	s := newStory(t)
	long := strings.Repeat("a", 65)
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "Patient/..%2F..%2Fetc", http.StatusBadRequest, "invalid"},
		{"GET", "Patient/a%2Fb", http.StatusBadRequest, "invalid"},
		{"GET", "Patient/%2e%2e%2Fsecret", http.StatusBadRequest, "invalid"},
		{"GET", "Patient/a%5Cb", http.StatusBadRequest, "invalid"},
		{"GET", "Patient/a%00b", http.StatusBadRequest, "invalid"},
		{"GET", "Patient/a_b", http.StatusBadRequest, "invalid"},
		{"GET", "Patient/a%20b", http.StatusBadRequest, "invalid"},
		{"GET", "Patient/" + long, http.StatusBadRequest, "invalid"},
		{"GET", "Patient/" + long[:64], http.StatusNotFound, "not-found"}, // valid, not known
		{"GET", "Patient/%2e%2e", http.StatusNotFound, "not-found"},       // ".." is a valid FHIR id
		{"PUT", "Patient/a_b", http.StatusBadRequest, "invalid"},
		{"DELETE", "Patient/a%5Cb", http.StatusBadRequest, "invalid"},
		{"GET", "Patient/a%00b/_history", http.StatusBadRequest, "invalid"},
		{"GET", "Patient/" + long + "/_history/1", http.StatusBadRequest, "invalid"},
		{"GET", "Patient/a_b/_history/1/$anchor", http.StatusBadRequest, "invalid"},
		{"GET", "Patient/a_b/$everything", http.StatusBadRequest, "invalid"},
		{"GET", "Consent/a_b", http.StatusBadRequest, "invalid"},
		{"GET", "Patient/p1/_history/99999999999", http.StatusNotFound, "not-found"},
		{"GET", "Patient/p1/_history/99999999999/$anchor", http.StatusNotFound, "not-found"},
		{"GET", "Patient/p1/_history/-1", http.StatusNotFound, "not-found"},
		{"GET", "Observation/_history", http.StatusNotFound, "not-found"},
		{"GET", "_history", http.StatusNotFound, "not-found"},
		{"GET", "Observation/$lastn", http.StatusNotFound, "not-found"},
		{"GET", "Observation/$lastn?patient=p1", http.StatusNotFound, "not-found"},
		{"GET", "Patient/p1/$nosuch", http.StatusNotFound, "not-found"},
		{"POST", "Observation/$validate", http.StatusNotFound, "not-found"},
		{"PATCH", "Patient/p1", http.StatusUnsupportedMediaType, "not-supported"}, // only JSON Patch
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			status, body := s.fhir(s.drA, tc.method, tc.path, nil)
			codes := outcomeCodes(body)
			if status != tc.status || len(codes) == 0 || codes[0] != tc.code {
				t.Errorf("%s %s = %d %v (%.300s); want %d with issue %s", tc.method, tc.path, status, codes, body, tc.status, tc.code)
			}
			if status == http.StatusBadRequest && (strings.Contains(string(body), "a_b") || strings.Contains(string(body), long)) {
				t.Errorf("%s %s: the answer echoes the rejected id: %.300s", tc.method, tc.path, body)
			}
		})
	}
}

// methodToken is what an HTTP server accepts as a method before any handler
// sees the request.
var methodToken = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// FuzzRoute sends arbitrary method, path, query and body combinations under
// /fhir/, with any X-Purpose-Of-Use, through a real node's HTTP handler, as
// a physician or with no token, and fails on a panic, on a 5xx, or on an error answer that is not
// an OperationOutcome. Requests a server would refuse before its handler
// (a method that is not a token, a target that does not parse, a control
// character in a header) are skipped.
// The seeds are issue 14's shapes and a few good requests, each answered
// without waiting for a block except the one create.
func FuzzRoute(f *testing.F) {
	long := strings.Repeat("a", 65)
	batch := []byte(`{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Patient/a_b"}},{"request":{"method":"GET","url":"Observation/_history"}}]}`)
	for _, seed := range []struct {
		method, path, query string
		body                []byte
		anonymous           bool
		purpose             string
	}{
		{"GET", "Patient/..%2F..%2Fetc", "", nil, false, ""},
		{"GET", "Patient/%2e%2e", "", nil, false, ""},
		{"GET", "Patient/%2e%2e%2Fsecret", "", nil, false, ""},
		{"GET", "Patient/a%5Cb", "", nil, false, ""},
		{"GET", "Patient/a%00b", "", nil, false, ""},
		{"GET", "Patient/a_b", "", nil, false, ""},
		{"GET", "Patient/" + long, "", nil, false, ""},
		{"GET", "Patient/" + long + "/_history/1/$anchor", "", nil, false, ""},
		{"GET", "Patient/p1/_history/99999999999", "", nil, false, ""},
		{"GET", "Observation/_history", "", nil, false, ""},
		{"GET", "Observation/$lastn", "patient=p1&max=3", nil, false, ""},
		{"GET", "Patient/a%00b/$everything", "", nil, false, ""},
		{"GET", "Patient/$everything", "identifier=x%00", nil, false, ""},
		{"GET", "Consent/grant-99999999999999999999", "", nil, false, ""},
		{"DELETE", "Patient/" + long, "", nil, false, ""},
		{"PUT", "Patient/a_b", "", []byte(`{"resourceType":"Patient","id":"a_b"}`), false, ""},
		{"PATCH", "Patient/p1", "", []byte(`[]`), false, ""},
		{"GET", "Observation", "patient=p1&_count=-1&_sort=%00", nil, false, ""},
		{"POST", "Observation/_search", "patient=" + long, nil, false, ""},
		{"GET", "AuditEvent", "_count=x", nil, false, ""},
		{"GET", "metadata", "", nil, true, ""},
		{"GET", "Patient/p1", "", nil, true, ""},
		{"GET", "Patient/p1/_history", "", nil, false, "NOSUCH"},
		{"GET", "Patient/p1/$everything", "", nil, false, "ETREAT"},
		{"POST", "", "", batch, false, ""},
		{"POST", "Patient", "", []byte(`{"resourceType":"Patient"}`), false, ""},
		{"POST", "Patient/p1/$everything", "", []byte(`{"resourceType":"Parameters","parameter":[{"name":"x","part":[]}]}`), false, ""},
		{"POST", "Patient/$everything", "", []byte(`{"resourceType":"Parameters","parameter":[{"name":"identifier","valueIdentifier":{"system":"urn:careledger:patient","value":"zz"}}]}`), false, ""},
		{"PUT", "Observation", "identifier=a|b", []byte(`{"resourceType":"Observation"}`), false, ""},
		{"DELETE", "Organization", "_count=1", nil, false, ""},
	} {
		f.Add(seed.method, seed.path, seed.query, seed.body, seed.anonymous, seed.purpose)
	}
	s := newStory(f)
	token := s.token(s.drA)
	h := s.n.Handler()
	f.Fuzz(func(t *testing.T, method, path, query string, body []byte, anonymous bool, purpose string) {
		if !methodToken.MatchString(method) {
			t.Skip("not a method")
		}
		target := "/fhir/" + path
		if query != "" {
			target += "?" + query
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			t.Skip("not a request target")
		}
		req := httptest.NewRequest("GET", "/", bytes.NewReader(body))
		req.Method, req.URL, req.RequestURI = method, u, target
		req.Header.Set("Content-Type", "application/fhir+json")
		if strings.ContainsFunc(purpose, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			t.Skip("not a header value")
		}
		if purpose != "" {
			req.Header.Set("X-Purpose-Of-Use", purpose)
			req.Header.Set("X-Break-Glass", "true")
			req.Header.Set("X-Break-Glass-Reason", "unconscious")
		}
		if !anonymous {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 || rec.Code >= 400 && outcomeCodes(rec.Body.Bytes()) == nil {
			t.Fatalf("%s %q (body %.100q) = %d %.300s; want below 500, an OperationOutcome when 4xx", method, target, body, rec.Code, rec.Body.Bytes())
		}
	})
}
