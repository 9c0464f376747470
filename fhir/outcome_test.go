package fhir_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/tx"
)

func TestOutcomeKinds(t *testing.T) {
	tests := []struct {
		kind   error
		status int
		code   string
	}{
		{fhir.ErrInvalid, 400, "invalid"},
		{fhir.ErrUnsupported, 400, "not-supported"},
		{fhir.ErrUnknownType, 404, "not-supported"},
		{fhir.ErrUnresolved, 400, "not-found"},
		{fhir.ErrForbidden, 403, "forbidden"},
		{fhir.ErrNotFound, 404, "not-found"},
		{fhir.ErrGone, 410, "deleted"},
		{fhir.ErrConflict, 409, "conflict"},
		{fhir.ErrPreconditionFailed, 412, "conflict"},
		{fhir.ErrMultipleMatches, 412, "multiple-matches"},
		{fhir.ErrTooLarge, 413, "too-costly"},
		{fhir.ErrMediaType, 415, "not-supported"},
		{fhir.ErrUnprocessable, 422, "business-rule"},
	}
	for _, tt := range tests {
		// A sentinel wrapped by the caller's own error.
		err := fmt.Errorf("read Patient/p1: %w", tt.kind)
		status, body := fhir.Outcome(err)
		want := `{"issue":[{"code":"` + tt.code + `","diagnostics":"read Patient/p1: ` + tt.kind.Error() + `","severity":"error"}],"resourceType":"OperationOutcome"}`
		if status != tt.status || string(body) != want {
			t.Errorf("Outcome(%v) = %d, %s; want %d, %s", err, status, body, tt.status, want)
		}
		// An *Error of that kind.
		fe := fhir.NewError(tt.kind, fhir.Issue{Diagnostics: "d", Expression: []string{"Patient.x"}})
		if got := fhir.StatusOf(fmt.Errorf("wrapped: %w", fe)); got != tt.status || !errors.Is(fe, tt.kind) || fe.Status() != tt.status {
			t.Errorf("StatusOf(NewError(%v)) = %d; want %d", tt.kind, got, tt.status)
		}
	}
	if fhir.StatusOf(nil) != 200 {
		t.Errorf("StatusOf(nil) = %d; want 200", fhir.StatusOf(nil))
	}
	// An error of no kind says nothing of itself to the client.
	status, body := fhir.Outcome(errors.New("disk full at /var/lib/x"))
	if want := `{"issue":[{"code":"exception","diagnostics":"internal error","severity":"error"}],"resourceType":"OperationOutcome"}`; status != 500 || string(body) != want {
		t.Errorf("Outcome(internal) = %d, %s; want 500, %s", status, body, want)
	}
}

// TestOutcomeCoded checks that a transaction rejection, which fhir knows
// only as a CodedError, is reported with its code's status and issue type
// from tx's table, alone, wrapped, and in a batch's entry.
func TestOutcomeCoded(t *testing.T) {
	var _ fhir.CodedError = (*tx.Rejection)(nil)
	for _, tt := range []struct {
		err    error
		status int
		want   string
	}{
		{tx.Rejectf(tx.CodeBusy, "mempool is full"), 503,
			`{"issue":[{"code":"throttled","diagnostics":"busy: mempool is full","severity":"error"}],"resourceType":"OperationOutcome"}`},
		{fmt.Errorf("access: %w", tx.Rejectf(tx.CodeInvalid, "unknown purpose of use")), 422,
			`{"issue":[{"code":"invalid","diagnostics":"access: invalid: unknown purpose of use","severity":"error"}],"resourceType":"OperationOutcome"}`},
		{tx.Rejectf(tx.CodeSuspended, "requester is suspended"), 403,
			`{"issue":[{"code":"forbidden","diagnostics":"suspended: requester is suspended","severity":"error"}],"resourceType":"OperationOutcome"}`},
	} {
		if status, body := fhir.Outcome(tt.err); status != tt.status || string(body) != tt.want {
			t.Errorf("Outcome(%v) = %d, %s; want %d, %s", tt.err, status, body, tt.status, tt.want)
		}
	}
	resp := fhir.ResponseBundle("batch", []fhir.Result{{Err: tx.Rejectf(tx.CodeBusy, "mempool is full")}})
	if got := string(resp.Canonical()); !strings.Contains(got, `"status":"503 Service Unavailable"`) || !strings.Contains(got, `"code":"throttled"`) {
		t.Errorf("ResponseBundle(busy entry) = %s; want the entry 503 with issue throttled", got)
	}
}

func TestOperationOutcome(t *testing.T) {
	got := string(fhir.OperationOutcome(
		fhir.Issue{Severity: "warning", Code: "value", Diagnostics: "a", Expression: []string{"Patient.a", "Patient.b"}},
		fhir.Issue{Diagnostics: "b"},
	))
	want := `{"issue":[{"code":"value","diagnostics":"a","expression":["Patient.a","Patient.b"],"severity":"warning"},{"code":"processing","diagnostics":"b","severity":"error"}],"resourceType":"OperationOutcome"}`
	if got != want {
		t.Errorf("OperationOutcome = %s; want %s", got, want)
	}
	if got, want := string(fhir.OperationOutcome()), `{"issue":[{"code":"informational","severity":"information"}],"resourceType":"OperationOutcome"}`; got != want {
		t.Errorf("OperationOutcome() = %s; want %s", got, want)
	}
	r, err := fhir.Parse(fhir.OperationOutcome(fhir.Issue{Code: "invalid", Diagnostics: "x", Expression: []string{"Patient.id"}}))
	if err != nil {
		t.Fatal(err)
	}
	if err := testValidator(t).Validate(r); err != nil {
		t.Errorf("Validate(OperationOutcome) = %v", err)
	}
	e := fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: "one", Expression: []string{"A.b"}}, fhir.Issue{Diagnostics: "two"}, fhir.Issue{Diagnostics: "three"})
	if got, want := e.Error(), "invalid content: A.b: one (and 2 more issues)"; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
}

func TestPatientOfAndCategories(t *testing.T) {
	tests := []struct {
		resource   string
		patient    string // "" for none
		compart    bool
		categories []string
	}{
		{`{"resourceType":"Patient","id":"p1"}`, "p1", true, nil},
		{`{"resourceType":"Observation","subject":{"reference":"Patient/p1"},"status":"final","code":{},
			"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"},{"code":"lab"}]},{"text":"no coding"}]}`,
			"p1", true, []string{"http://terminology.hl7.org/CodeSystem/observation-category|laboratory", "lab", "laboratory"}},
		{`{"resourceType":"Observation","subject":{"reference":"Group/g1"},"status":"final","code":{}}`, "", true, nil},
		{`{"resourceType":"Observation","subject":{"reference":"urn:uuid:x"},"status":"final","code":{}}`, "", true, nil},
		{`{"resourceType":"Immunization","patient":{"reference":"https://other.example/fhir/Patient/p2/_history/3"}}`, "p2", true, nil},
		{`{"resourceType":"Coverage","beneficiary":{"reference":"Patient/p3"}}`, "p3", true, nil},
		{`{"resourceType":"Provenance","target":[{"reference":"Encounter/e"},{"reference":"Patient/p4"}]}`, "p4", true, nil},
		{`{"resourceType":"Provenance","target":[{"reference":"Patient/p4"},{"reference":"Patient/p5"}]}`, "", true, nil}, // two patients
		{`{"resourceType":"AllergyIntolerance","patient":{"reference":"Patient/p1"},"category":["food","medication","food"]}`, "p1", true, []string{"food", "medication"}},
		{`{"resourceType":"Organization","id":"o"}`, "", false, nil},
		{`{"resourceType":"Practitioner","id":"pr"}`, "", false, nil},
		{`{"resourceType":"Location","id":"l"}`, "", false, nil},
		{`{"resourceType":"Medication","id":"m"}`, "", false, nil},
	}
	for _, tt := range tests {
		r := mustParse(t, tt.resource)
		id, ok := fhir.PatientOf(r)
		if id != tt.patient || ok != (tt.patient != "") {
			t.Errorf("PatientOf(%s) = %q, %v; want %q", tt.resource, id, ok, tt.patient)
		}
		if got := fhir.InPatientCompartment(r.Type()); got != tt.compart {
			t.Errorf("InPatientCompartment(%s) = %v; want %v", r.Type(), got, tt.compart)
		}
		if got := fhir.Categories(r); !slices.Equal(got, tt.categories) {
			t.Errorf("Categories(%s) = %q; want %q", tt.resource, got, tt.categories)
		}
	}
	if got := fhir.Patients(mustParse(t, `{"resourceType":"Provenance","target":[{"reference":"Patient/p5"},{"reference":"Patient/p4"},{"reference":"Patient/p5"}]}`)); !slices.Equal(got, []string{"p4", "p5"}) {
		t.Errorf("Patients(two patients) = %q; want [p4 p5]", got)
	}
}

func TestSearchTypes(t *testing.T) {
	types := fhir.SearchTypes()
	for _, typ := range []string{"Patient", "Observation", "Claim", "ExplanationOfBenefit", "Provenance", "Organization", "Location"} {
		if !slices.Contains(types, typ) {
			t.Errorf("SearchTypes() lacks %s", typ)
		}
	}
	if !slices.IsSorted(types) || slices.Contains(types, "Resource") {
		t.Errorf("SearchTypes() = %v; want sorted resource types", types)
	}
}
