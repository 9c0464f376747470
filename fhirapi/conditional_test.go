package fhirapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"
)

// concurrently sends n copies of one FHIR request as who at once and
// returns each answer's status and body.
func (s *story) concurrently(n int, who ed25519.PrivKey, method, path string, body any, headers ...string) ([]int, [][]byte) {
	s.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		s.t.Fatal(err)
	}
	token := s.token(who)
	statuses, bodies := make([]int, n), make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(method, s.n.URL+"/fhir/"+path, bytes.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/fhir+json")
			for j := 0; j+1 < len(headers); j += 2 {
				req.Header.Set(headers[j], headers[j+1])
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				bodies[i] = []byte(err.Error())
				return
			}
			defer res.Body.Close()
			statuses[i] = res.StatusCode
			bodies[i], _ = io.ReadAll(res.Body)
		}()
	}
	wg.Wait()
	return statuses, bodies
}

// idOf returns the id of a resource in a JSON body.
func idOf(body []byte) string {
	var r struct{ ID string }
	json.Unmarshal(body, &r)
	return r.ID
}

// searchTotal returns the total of a search as who.
func (s *story) searchTotal(who ed25519.PrivKey, query string) int {
	s.t.Helper()
	status, body := s.fhir(who, "GET", query, nil)
	s.expect("search "+query, status, http.StatusOK, body)
	var b struct{ Total int }
	json.Unmarshal(body, &b)
	return b.Total
}

// wantOutcome fails unless the answer has the status and its
// OperationOutcome's first issue the code.
func wantOutcome(t *testing.T, what string, status int, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	codes := outcomeCodes(body)
	if status != wantStatus || len(codes) == 0 || codes[0] != wantCode {
		t.Errorf("%s = %d %v (%.300s); want %d with issue %s", what, status, codes, body, wantStatus, wantCode)
	}
}

func labObs(id, patient, lab string, value float64) map[string]any {
	o := obj("resourceType", "Observation", "status", "final", "code", obj("text", "glucose"),
		"identifier", []any{obj("system", "urn:lab", "value", lab)},
		"subject", obj("reference", "Patient/"+patient), "valueQuantity", obj("value", value, "unit", "mmol/L"))
	if id != "" {
		o["id"] = id
	}
	return o
}

// TestConditionalCreate sends an interface engine's retried conditional
// creates to a real node: identical ones racing store one resource (one
// 201, the others 200 with it), a later one answers 200, several matches
// 412, and a search of the patient compartment without a patient 400.
func TestConditionalCreate(t *testing.T) {
	s := newStory(t)
	status, body := s.fhir(s.drA, "PUT", "Patient/p1", obj("resourceType", "Patient", "id", "p1"))
	s.expect("create Patient", status, http.StatusCreated, body)

	cond := "patient=p1&identifier=urn:lab|42"
	statuses, bodies := s.concurrently(4, s.drA, "POST", "Observation", labObs("", "p1", "42", 5.1), "If-None-Exist", cond)
	created, ids := 0, map[string]bool{}
	for i, st := range statuses {
		switch st {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Fatalf("conditional create %d: %d %.300s; want 201 or 200", i, st, bodies[i])
		}
		ids[idOf(bodies[i])] = true
	}
	if created != 1 || len(ids) != 1 {
		t.Errorf("4 racing conditional creates: %d created, ids %v; want 1 created and one id", created, ids)
	}
	if n := s.searchTotal(s.drA, "Observation?"+cond); n != 1 {
		t.Errorf("after racing conditional creates, %d observations match; want 1", n)
	}
	status, body = s.fhir(s.drA, "POST", "Observation", labObs("", "p1", "42", 9.9), "If-None-Exist", "Observation?"+cond)
	s.expect("retried conditional create", status, http.StatusOK, body)
	if id := idOf(body); !ids[id] || !strings.Contains(string(body), `"value":5.1`) {
		t.Errorf("retried conditional create answered %.300s; want the stored resource", body)
	}

	// Directory data: no patient to name.
	org := obj("resourceType", "Organization", "name", "Lab", "identifier", []any{obj("system", "urn:npi", "value", "7")})
	status, body = s.fhir(s.drA, "POST", "Organization", org, "If-None-Exist", "identifier=urn:npi|7")
	s.expect("conditional create of an Organization", status, http.StatusCreated, body)
	status, body = s.fhir(s.drA, "POST", "Organization", org, "If-None-Exist", "identifier=urn:npi|7")
	s.expect("repeated conditional create of an Organization", status, http.StatusOK, body)
	status, body = s.fhir(s.drA, "POST", "Organization", org) // a plain create: a duplicate
	s.expect("plain create", status, http.StatusCreated, body)
	status, body = s.fhir(s.drA, "POST", "Organization", org, "If-None-Exist", "identifier=urn:npi|7")
	wantOutcome(t, "conditional create with two matches", status, body, http.StatusPreconditionFailed, "multiple-matches")

	status, body = s.fhir(s.drA, "POST", "Observation", labObs("", "p1", "43", 1), "If-None-Exist", "identifier=urn:lab|43")
	wantOutcome(t, "conditional create of an Observation naming no patient", status, body, http.StatusBadRequest, "not-supported")
	status, body = s.fhir(s.drA, "POST", "Observation", labObs("", "p1", "43", 1), "If-None-Exist", "_count=1")
	wantOutcome(t, "conditional create without search parameters", status, body, http.StatusBadRequest, "invalid")
	status, body = s.fhir(s.drA, "POST", "Observation", labObs("", "p1", "43", 1), "If-None-Exist", "patient=p1&nosuch=1")
	wantOutcome(t, "conditional create with an unknown parameter", status, body, http.StatusBadRequest, "not-supported")
	status, body = s.fhir(s.drB, "POST", "Observation", labObs("", "p1", "43", 1), "If-None-Exist", cond)
	wantOutcome(t, "conditional create by another hospital's physician", status, body, http.StatusForbidden, "forbidden")
}

// TestIfMatch requires versioned writes: a stale or unknown version answers
// 412 on PUT, PATCH and DELETE, and of two writers racing from the same
// version exactly one succeeds and the other gets 412, not a lost update.
func TestIfMatch(t *testing.T) {
	s := newStory(t)
	status, body := s.fhir(s.drA, "PUT", "Patient/p1", obj("resourceType", "Patient", "id", "p1"))
	s.expect("create Patient", status, http.StatusCreated, body)
	status, body = s.fhir(s.drA, "PUT", "Observation/o1", labObs("o1", "p1", "1", 5.1))
	s.expect("create", status, http.StatusCreated, body)

	status, body = s.fhir(s.drA, "PUT", "Observation/o1", labObs("o1", "p1", "1", 6), "If-Match", `W/"99"`)
	wantOutcome(t, `PUT with If-Match W/"99" on version 1`, status, body, http.StatusPreconditionFailed, "conflict")
	status, body = s.fhir(s.drA, "PUT", "Observation/o1", labObs("o1", "p1", "1", 6), "If-Match", `W/"1"`)
	s.expect(`PUT with If-Match W/"1"`, status, http.StatusOK, body)
	status, body = s.fhir(s.drA, "PUT", "Observation/o1", labObs("o1", "p1", "1", 7), "If-Match", `W/"1"`)
	wantOutcome(t, "PUT with the stale version", status, body, http.StatusPreconditionFailed, "conflict")
	status, body = s.fhir(s.drA, "PUT", "Observation/o1", labObs("o1", "p1", "1", 7), "If-Match", "2")
	wantOutcome(t, "PUT with an If-Match that is no ETag", status, body, http.StatusBadRequest, "invalid")
	status, body = s.fhir(s.drA, "PUT", "Observation/o-new", labObs("o-new", "p1", "1", 7), "If-Match", `W/"1"`)
	wantOutcome(t, "PUT with If-Match of a resource that does not exist", status, body, http.StatusPreconditionFailed, "conflict")

	statuses, bodies := s.concurrently(2, s.drA, "PUT", "Observation/o1", labObs("o1", "p1", "1", 8), "If-Match", `W/"2"`)
	slices.Sort(statuses)
	if !slices.Equal(statuses, []int{http.StatusOK, http.StatusPreconditionFailed}) {
		t.Errorf("two PUTs racing from version 2: %v (%.200s | %.200s); want one 200 and one 412", statuses, bodies[0], bodies[1])
	}
	status, body = s.fhir(s.drA, "GET", "Observation/o1", nil)
	if s.expect("read", status, http.StatusOK, body); !strings.Contains(string(body), `"versionId":"3"`) {
		t.Errorf("after the race: %.300s; want version 3", body)
	}

	status, body = s.fhir(s.drA, "DELETE", "Observation/o1", nil, "If-Match", `W/"2"`)
	wantOutcome(t, "DELETE with a stale version", status, body, http.StatusPreconditionFailed, "conflict")
	status, body = s.fhir(s.drA, "DELETE", "Observation/o1", nil, "If-Match", `W/"3"`)
	s.expect("DELETE with the current version", status, http.StatusNoContent, body)
}

// TestConditionalUpdateAndDelete updates and deletes by search on a real
// node: a conditional update creates, then updates the one match; a
// conditional delete removes the one match, answers 204 when nothing
// matches and 412 when several do.
func TestConditionalUpdateAndDelete(t *testing.T) {
	s := newStory(t)
	status, body := s.fhir(s.drA, "PUT", "Patient/p1", obj("resourceType", "Patient", "id", "p1"))
	s.expect("create Patient", status, http.StatusCreated, body)

	where := "Observation?patient=p1&identifier=urn:lab|7"
	status, body = s.fhir(s.drA, "PUT", where, labObs("", "p1", "7", 5.1))
	s.expect("conditional update, no match", status, http.StatusCreated, body)
	id := idOf(body)
	status, body = s.fhir(s.drA, "PUT", where, labObs("", "p1", "7", 6.2))
	s.expect("conditional update, one match", status, http.StatusOK, body)
	if idOf(body) != id || !strings.Contains(string(body), `"versionId":"2"`) {
		t.Errorf("conditional update answered %.300s; want %s version 2", body, id)
	}
	status, body = s.fhir(s.drA, "PUT", where, labObs("", "p1", "7", 6.3), "If-Match", `W/"1"`)
	wantOutcome(t, "conditional update with a stale If-Match", status, body, http.StatusPreconditionFailed, "conflict")
	status, body = s.fhir(s.drA, "PUT", where, labObs("other", "p1", "7", 6.2))
	wantOutcome(t, "conditional update whose id differs from the match", status, body, http.StatusBadRequest, "invalid")
	status, body = s.fhir(s.drA, "PUT", "Observation?identifier=urn:lab|7", labObs("", "p1", "7", 6.2))
	wantOutcome(t, "conditional update naming no patient", status, body, http.StatusBadRequest, "not-supported")

	status, body = s.fhir(s.drA, "PUT", "Observation/second", labObs("second", "p1", "8", 1))
	s.expect("second observation", status, http.StatusCreated, body)
	status, body = s.fhir(s.drA, "PUT", "Observation?patient=p1", labObs("", "p1", "7", 1))
	wantOutcome(t, "conditional update with two matches", status, body, http.StatusPreconditionFailed, "multiple-matches")
	status, body = s.fhir(s.drA, "DELETE", "Observation?patient=p1", nil)
	wantOutcome(t, "conditional delete with two matches", status, body, http.StatusPreconditionFailed, "multiple-matches")
	status, body = s.fhir(s.drA, "DELETE", "Observation", nil)
	wantOutcome(t, "conditional delete without search parameters", status, body, http.StatusBadRequest, "invalid")

	status, body = s.fhir(s.drA, "DELETE", where, nil)
	s.expect("conditional delete, one match", status, http.StatusNoContent, body)
	status, body = s.fhir(s.drA, "GET", "Observation/"+id, nil)
	s.expect("read after conditional delete", status, http.StatusGone, body)
	status, body = s.fhir(s.drA, "GET", "Observation/second", nil)
	s.expect("the other observation", status, http.StatusOK, body)
	status, body = s.fhir(s.drA, "DELETE", where, nil)
	s.expect("conditional delete, no match", status, http.StatusNoContent, body)
}

// TestPatch patches a record with a JSON Patch on a real node: the result
// is the next version; a stale If-Match, a failed test, a change of id and
// a patch of another format are refused, and only who may read the record
// may patch it.
func TestPatch(t *testing.T) {
	s := newStory(t)
	status, body := s.fhir(s.drA, "PUT", "Patient/p1", obj("resourceType", "Patient", "id", "p1"))
	s.expect("create Patient", status, http.StatusCreated, body)
	status, body = s.fhir(s.drA, "PUT", "Observation/o1", labObs("o1", "p1", "1", 5.1))
	s.expect("create", status, http.StatusCreated, body)
	jp := "application/json-patch+json"
	patch := func(p string, headers ...string) (int, []byte) {
		return s.fhir(s.drA, "PATCH", "Observation/o1", []byte(p), append([]string{"Content-Type", jp}, headers...)...)
	}

	status, body = patch(`[{"op":"test","path":"/status","value":"final"},{"op":"replace","path":"/status","value":"amended"},{"op":"add","path":"/note","value":[{"text":"recalibrated"}]}]`, "If-Match", `W/"1"`)
	s.expect("PATCH", status, http.StatusOK, body)
	status, body = s.fhir(s.drA, "GET", "Observation/o1", nil)
	s.expect("read", status, http.StatusOK, body)
	for _, want := range []string{`"status":"amended"`, `"recalibrated"`, `"value":5.1`, `"versionId":"2"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("after PATCH: %.400s; want %s", body, want)
		}
	}

	status, body = patch(`[{"op":"replace","path":"/status","value":"final"}]`, "If-Match", `W/"1"`)
	wantOutcome(t, "PATCH with a stale If-Match", status, body, http.StatusPreconditionFailed, "conflict")
	status, body = patch(`[{"op":"test","path":"/status","value":"final"}]`)
	wantOutcome(t, "PATCH whose test fails", status, body, http.StatusUnprocessableEntity, "processing")
	status, body = patch(`[{"op":"replace","path":"/id","value":"o2"}]`)
	wantOutcome(t, "PATCH of the id", status, body, http.StatusUnprocessableEntity, "processing")
	status, body = patch(`{"op":"remove"}`)
	wantOutcome(t, "PATCH that is no JSON Patch", status, body, http.StatusBadRequest, "structure")
	status, body = s.fhir(s.drA, "PATCH", "Observation/o1", obj("resourceType", "Parameters"))
	wantOutcome(t, "FHIRPath Patch", status, body, http.StatusUnsupportedMediaType, "not-supported")
	status, body = s.fhir(s.drA, "PATCH", "Observation/nosuch", []byte(`[]`), "Content-Type", jp)
	wantOutcome(t, "PATCH of an unknown record", status, body, http.StatusNotFound, "not-found")
	status, body = s.fhir(s.drB, "PATCH", "Observation/o1", []byte(`[{"op":"test","path":"/status","value":"amended"}]`), "Content-Type", jp)
	wantOutcome(t, "PATCH by another hospital's physician", status, body, http.StatusForbidden, "forbidden")
	if n := s.searchTotal(s.drA, "Observation?patient=p1&status=amended"); n != 1 {
		t.Errorf("after refused patches, %d amended observations; want 1", n)
	}
}

// TestOperationsByPost invokes each operation by POST with a Parameters
// body and requires the answer of the same operation by GET.
func TestOperationsByPost(t *testing.T) {
	s := newStory(t)
	pa := addr(s.patient)
	status, body := s.fhir(s.drA, "PUT", "Patient/p1", obj("resourceType", "Patient", "id", "p1",
		"identifier", []any{obj("system", "urn:careledger:patient", "value", pa.String())}))
	s.expect("create Patient", status, http.StatusCreated, body)
	status, body = s.fhir(s.drA, "PUT", "Observation/o1", labObs("o1", "p1", "1", 5.1))
	s.expect("create", status, http.StatusCreated, body)

	ids := func(what string, status int, body []byte) []string {
		t.Helper()
		s.expect(what, status, http.StatusOK, body)
		var b bundleJSON
		json.Unmarshal(body, &b)
		var out []string
		for _, e := range b.Entry {
			out = append(out, e.Resource["resourceType"].(string)+"/"+e.Resource["id"].(string))
		}
		slices.Sort(out)
		return out
	}
	want := []string{"Observation/o1", "Patient/p1"}
	status, body = s.fhir(s.drA, "GET", "Patient/p1/$everything", nil)
	if got := ids("GET $everything", status, body); !slices.Equal(got, want) {
		t.Errorf("GET Patient/p1/$everything = %v; want %v", got, want)
	}
	status, body = s.fhir(s.drA, "POST", "Patient/p1/$everything", obj("resourceType", "Parameters", "parameter", []any{obj("name", "_count", "valueInteger", 10)}))
	if got := ids("POST $everything", status, body); !slices.Equal(got, want) {
		t.Errorf("POST Patient/p1/$everything = %v; want %v", got, want)
	}
	status, body = s.fhir(s.drA, "POST", "Patient/p1/$everything", nil)
	if got := ids("POST $everything without a body", status, body); !slices.Equal(got, want) {
		t.Errorf("POST Patient/p1/$everything without a body = %v; want %v", got, want)
	}
	byIdentifier := obj("resourceType", "Parameters", "parameter", []any{
		obj("name", "identifier", "valueIdentifier", obj("system", "urn:careledger:patient", "value", pa.String())),
	})
	status, body = s.fhir(s.drA, "POST", "Patient/$everything", byIdentifier)
	if got := ids("POST Patient/$everything", status, body); !slices.Equal(got, want) {
		t.Errorf("POST Patient/$everything by identifier = %v; want %v", got, want)
	}

	status, get := s.fhir(s.drA, "GET", "Observation/o1/_history/1/$anchor", nil)
	s.expect("GET $anchor", status, http.StatusOK, get)
	status, post := s.fhir(s.drA, "POST", "Observation/o1/_history/1/$anchor", obj("resourceType", "Parameters"))
	s.expect("POST $anchor", status, http.StatusOK, post)
	if !bytes.Equal(get, post) {
		t.Errorf("POST $anchor = %.300s; want what GET answers, %.300s", post, get)
	}

	for _, tc := range []struct {
		name, path string
		body       []byte
		status     int
		code       string
	}{
		{"not JSON", "Patient/p1/$everything", []byte(`{"resourceType":`), http.StatusBadRequest, "structure"},
		{"not Parameters", "Patient/p1/$everything", []byte(`{"resourceType":"Patient"}`), http.StatusBadRequest, "structure"},
		{"resource parameter", "Patient/$everything", []byte(`{"resourceType":"Parameters","parameter":[{"name":"identifier","resource":{"resourceType":"Patient"}}]}`), http.StatusBadRequest, "not-supported"},
		{"bad $anchor body", "Observation/o1/_history/1/$anchor", []byte(`[]`), http.StatusBadRequest, "structure"},
	} {
		status, body := s.fhir(s.drA, "POST", tc.path, tc.body)
		wantOutcome(t, "POST "+tc.path+" with a body "+tc.name, status, body, tc.status, tc.code)
	}

	// The CapabilityStatement declares what these tests use.
	status, body = s.fhir(s.drA, "GET", "metadata", nil)
	s.expect("metadata", status, http.StatusOK, body)
	var cs struct {
		Rest []struct {
			Resource []struct {
				Type                                 string
				Interaction                          []struct{ Code string }
				ConditionalCreate, ConditionalUpdate bool
				ConditionalDelete                    string
				Operation                            []struct{ Name string }
			}
		}
	}
	json.Unmarshal(body, &cs)
	for _, r := range cs.Rest[0].Resource {
		if r.Type != "Patient" {
			continue
		}
		patch := slices.ContainsFunc(r.Interaction, func(i struct{ Code string }) bool { return i.Code == "patch" })
		var ops []string
		for _, o := range r.Operation {
			ops = append(ops, o.Name)
		}
		if !patch || !r.ConditionalCreate || !r.ConditionalUpdate || r.ConditionalDelete != "single" || !slices.Contains(ops, "anchor") || !slices.Contains(ops, "everything") {
			t.Errorf("CapabilityStatement for Patient: %+v; want patch, conditional create, update and delete single, $anchor and $everything", r)
		}
		return
	}
	t.Error("the CapabilityStatement has no Patient")
}

// TestBundleConditions sends transactions whose entries carry
// request.ifNoneExist and request.ifMatch: racing identical conditional
// creates store one resource, and a stale ifMatch fails the transaction
// with 412, storing nothing.
func TestBundleConditions(t *testing.T) {
	s := newStory(t)
	org := obj("resourceType", "Organization", "name", "Lab", "identifier", []any{obj("system", "urn:npi", "value", "9")})
	create := txBundle(obj("fullUrl", "urn:uuid:lab", "resource", org,
		"request", obj("method", "POST", "url", "Organization", "ifNoneExist", "identifier=urn:npi|9")))
	statuses, bodies := s.concurrently(3, s.drA, "POST", "", create)
	for i, st := range statuses {
		s.expect("conditional create in a transaction", st, http.StatusOK, bodies[i])
	}
	if n := s.searchTotal(s.drA, "Organization?identifier=urn:npi|9"); n != 1 {
		t.Errorf("3 racing transactions with ifNoneExist stored %d organizations; want 1", n)
	}

	status, body := s.fhir(s.drA, "PUT", "Organization/o1", obj("resourceType", "Organization", "id", "o1", "name", "A"))
	s.expect("create", status, http.StatusCreated, body)
	update := func(ifMatch string) map[string]any {
		return txBundle(obj("resource", obj("resourceType", "Organization", "id", "o1", "name", "B"),
			"request", obj("method", "PUT", "url", "Organization/o1", "ifMatch", ifMatch)))
	}
	status, body = s.fhir(s.drA, "POST", "", update(`W/"2"`))
	wantOutcome(t, "transaction with a stale ifMatch", status, body, http.StatusPreconditionFailed, "conflict")
	status, body = s.fhir(s.drA, "POST", "", update(`W/"1"`))
	s.expect("transaction with the current ifMatch", status, http.StatusOK, body)
	status, body = s.fhir(s.drA, "GET", "Organization/o1", nil)
	if s.expect("read", status, http.StatusOK, body); !strings.Contains(string(body), `"versionId":"2"`) {
		t.Errorf("after the transactions: %.300s; want version 2", body)
	}
}

// TestConditionalPatientByIdentifier sends an interface engine's
// conditional creates of a Patient by MRN to a real node: the search goes
// through the blind index, identical creates racing store one Patient, a
// conditional update by MRN updates it, and a writer who may not read the
// match is refused rather than given a duplicate.
func TestConditionalPatientByIdentifier(t *testing.T) {
	s := newStory(t)
	patient := func(given string) map[string]any {
		return obj("resourceType", "Patient", "name", name("Okonkwo", given),
			"identifier", []any{obj("system", "urn:mrn", "value", "MRN-5150")})
	}
	const cond = "identifier=urn:mrn|MRN-5150"
	statuses, bodies := s.concurrently(3, s.drA, "POST", "Patient", patient("Ada"), "If-None-Exist", cond)
	created, ids := 0, map[string]bool{}
	for i, st := range statuses {
		switch st {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Fatalf("conditional create %d: %d %.300s; want 201 or 200", i, st, bodies[i])
		}
		ids[idOf(bodies[i])] = true
	}
	if created != 1 || len(ids) != 1 {
		t.Errorf("3 racing conditional creates by MRN: %d created, ids %v; want 1 created and one id", created, ids)
	}
	status, body := s.fhir(s.drA, "POST", "Patient", patient("Ada"), "If-None-Exist", "Patient?"+cond)
	s.expect("repeated conditional create by MRN", status, http.StatusOK, body)
	if !ids[idOf(body)] {
		t.Errorf("repeated conditional create answered %.300s; want the stored Patient", body)
	}
	if n := s.searchTotal(s.drA, "Patient?"+cond); n != 1 {
		t.Errorf("after the conditional creates, %d patients have the MRN; want 1", n)
	}

	status, body = s.fhir(s.drA, "PUT", "Patient?"+cond, patient("Adaeze"))
	s.expect("conditional update by MRN", status, http.StatusOK, body)
	if !ids[idOf(body)] || !strings.Contains(string(body), `"versionId":"2"`) || !strings.Contains(string(body), "Adaeze") {
		t.Errorf("conditional update by MRN answered %.300s; want the stored Patient, version 2", body)
	}

	// Hospital A's admin writes records but does not read them (the
	// default policy): the match is refused, not duplicated.
	status, body = s.fhir(s.n.Admin, "POST", "Patient", patient("Ada"), "If-None-Exist", cond)
	wantOutcome(t, "conditional create by MRN by a writer who may not read the match", status, body, http.StatusForbidden, "forbidden")
	if n := s.searchTotal(s.drA, "Patient?"+cond); n != 1 {
		t.Errorf("after the refused create, %d patients have the MRN; want 1", n)
	}
	status, body = s.fhir(s.drA, "POST", "Patient", patient("Ada"), "If-None-Exist", "gender=female")
	wantOutcome(t, "conditional create of a Patient by a parameter the blind index lacks", status, body, http.StatusBadRequest, "not-supported")
}
