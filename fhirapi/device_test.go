package fhirapi_test

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/custodian"
	"github.com/careledger/careledger/fhirapi"
)

// reading is an Observation of LOINC code about the Patient pid.
func reading(pid, code string, value float64) map[string]any {
	return obj("resourceType", "Observation", "status", "final",
		"code", obj("coding", []any{obj("system", custodian.LOINCSystem, "code", code)}),
		"subject", obj("reference", "Patient/"+pid), "effectiveDateTime", "2026-12-01T08:00:00Z",
		"valueQuantity", obj("value", value))
}

func readingsBundle(typ string, rs ...map[string]any) map[string]any {
	entries := make([]any, len(rs))
	for i, r := range rs {
		entries[i] = obj("resource", r, "request", obj("method", "POST", "url", "Observation"))
	}
	return obj("resourceType", "Bundle", "type", typ, "entry", entries)
}

// patientRecord files a Patient at hospital A linked to the account of k.
func (s *story) patientRecord(k ed25519.PrivKey) string {
	return s.create(obj("resourceType", "Patient", "identifier", []any{obj("system", custodian.PatientSystem, "value", addr(k).String())}))
}

// TestDeviceReadings: through a real node, a patient authorizes a device,
// which writes readings of its codes about them (one by one and in a
// Bundle) that the patient and a grantee read; every other request the
// device makes is refused with an OperationOutcome, and after its
// revocation so are its writes.
func TestDeviceReadings(t *testing.T) {
	s := newStory(t)
	pa := addr(s.patient)
	pid := s.patientRecord(s.patient)
	other := ed25519.GenPrivKey()
	s.send(other, contract.Encode(identity.RegisterPatient{}))
	otherID := s.patientRecord(other)

	meter := ed25519.GenPrivKey()
	s.setDevice(s.patient, meter, hospitalA, "8867-4", "2339-0")
	status, body := s.fhir(meter, "POST", "Observation", reading(pid, "8867-4", 72))
	s.expect("the device writes a reading", status, http.StatusCreated, body)
	var created struct{ ID string }
	json.Unmarshal(body, &created)

	status, body = s.fhir(s.patient, "GET", "Observation/"+created.ID, nil)
	s.expect("the patient reads the device's reading", status, http.StatusOK, body)
	s.send(s.patient, contract.Encode(consent.Grant{Patient: pa, Grantee: consent.Grantee{Org: hospitalB},
		Scope: consent.Scope{Types: []string{"Observation"}}, Purposes: []string{"TREAT"}}))
	status, body = s.fhir(s.drB, "GET", "Observation/"+created.ID, nil)
	s.expect("a grantee reads the device's reading", status, http.StatusOK, body)

	status, body = s.fhir(meter, "POST", "", readingsBundle("batch", reading(pid, "2339-0", 5.4), reading(pid, "8867-4", 70), reading(pid, "8867-4", 75)))
	s.expect("the device writes a Bundle of readings", status, http.StatusOK, body)
	if n := strings.Count(string(body), `"status":"201 Created"`); n != 3 {
		t.Errorf("Bundle of 3 readings: %d created; want 3: %.400s", n, body)
	}

	status, body = s.fhir(meter, "POST", "", obj("resourceType", "Bundle", "type", "batch"))
	s.expect("the device sends an empty Bundle", status, http.StatusOK, body)

	elsewhere := ed25519.GenPrivKey()
	s.setDevice(s.patient, elsewhere, hospitalB, "8867-4")
	otherSalt := []string{fhirapi.DeviceSaltHeader, strings.Repeat("ab", identity.DeviceSaltSize)}
	for _, tc := range []struct {
		name         string
		who          ed25519.PrivKey
		method, path string
		body         any
		headers      []string
	}{
		{"another salt", meter, "POST", "Observation", reading(pid, "8867-4", 72), otherSalt},
		{"a code not allowed", meter, "POST", "Observation", reading(pid, "29463-7", 80), nil},
		{"another patient", meter, "POST", "Observation", reading(otherID, "8867-4", 72), nil},
		{"a patient not held here", meter, "POST", "Observation", reading("no-such-patient", "8867-4", 72), nil},
		{"another custodian's device", elsewhere, "POST", "Observation", reading(pid, "8867-4", 72), nil},
		{"a Bundle with one reading not allowed", meter, "POST", "", readingsBundle("transaction", reading(pid, "8867-4", 72), reading(pid, "29463-7", 80)), nil},
		{"another type", meter, "POST", "Condition", obj("resourceType", "Condition", "subject", obj("reference", "Patient/"+pid)), nil},
		{"a read of its own reading", meter, "GET", "Observation/" + created.ID, nil, nil},
		{"a search", meter, "GET", "Observation?patient=" + pid, nil, nil},
		{"an update", meter, "PUT", "Observation/" + created.ID, reading(pid, "8867-4", 10), nil},
		{"a delete", meter, "DELETE", "Observation/" + created.ID, nil, nil},
		{"$everything", meter, "GET", "Patient/" + pid + "/$everything", nil, nil},
		{"a consent", meter, "POST", "Consent", obj("resourceType", "Consent"), nil},
	} {
		status, body := s.fhir(tc.who, tc.method, tc.path, tc.body, tc.headers...)
		if status != http.StatusForbidden || !strings.Contains(string(body), `"resourceType":"OperationOutcome"`) {
			t.Errorf("%s: %d %.300s; want 403 with an OperationOutcome", tc.name, status, body)
		}
	}

	// A token its scopes limit to reads writes nothing; one that covers
	// creation writes as the device may.
	readOnly, _ := s.scopedToken(meter, "user/Observation.rs")
	if status, body := s.fhirAs(readOnly, "POST", "/fhir/Observation", reading(pid, "8867-4", 72)); status != http.StatusForbidden {
		t.Errorf("a device's read-only token creates: %d %.300s; want 403", status, body)
	}
	writer, _ := s.scopedToken(meter, "user/Observation.c")
	salt := []string{fhirapi.DeviceSaltHeader, hex.EncodeToString(s.salts[string(meter)])}
	if status, body := s.fhirAs(writer, "POST", "/fhir/Observation", reading(pid, "8867-4", 72)); status != http.StatusBadRequest {
		t.Errorf("a device's write without its salt: %d %.300s; want 400", status, body)
	}
	if status, body := s.fhirAs(writer, "POST", "/fhir/Observation", reading(pid, "8867-4", 72), salt...); status != http.StatusCreated {
		t.Errorf("a device's token scoped to create: %d %.300s; want 201", status, body)
	}

	// Its token opens none of the JSON API.
	req, _ := http.NewRequest("GET", s.n.URL+"/v1/accounts/"+pa.String(), nil)
	req.Header.Set("Authorization", "Bearer "+s.token(meter))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("the device's token at /v1: %v %v; want 403", resp.Status, err)
	}

	if got := s.searchTotal(s.drA, "Observation?patient="+pid); got != 5 {
		t.Errorf("%d readings stored; want the 5 allowed, none of a refused Bundle", got)
	}

	// Revoked, the same token writes nothing more.
	s.send(s.patient, contract.Encode(identity.SetDevice{Patient: pa, PubKey: meter.PubKey().Bytes(), Remove: true}))
	status, body = s.fhir(meter, "POST", "Observation", reading(pid, "8867-4", 72))
	if status != http.StatusForbidden || !strings.Contains(string(body), "OperationOutcome") {
		t.Errorf("a revoked device writes: %d %.300s; want 403", status, body)
	}
}
