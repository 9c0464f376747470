package tx_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strings"
	"testing"

	"github.com/careledger/careledger/tx"
)

// fhirIssueTypes is the value set http://hl7.org/fhir/issue-type of FHIR R4
// (4.0.1), as the R4 JSON schema lists it for OperationOutcome.issue.code.
var fhirIssueTypes = []string{
	"invalid", "structure", "required", "value", "invariant",
	"security", "login", "unknown", "expired", "forbidden", "suppressed",
	"processing", "not-supported", "duplicate", "multiple-matches", "not-found", "deleted", "too-long",
	"code-invalid", "extension", "too-costly", "business-rule", "conflict",
	"transient", "lock-error", "no-store", "exception", "timeout", "incomplete", "throttled",
	"informational",
}

// epcisProblemTypes are the problem types of the GS1 EPCIS 2.0 REST
// binding's OpenAPI document (github.com/gs1/EPCIS, REST Bindings/openapi.yaml).
var epcisProblemTypes = []string{
	"epcisException:CaptureLimitExceededException",
	"epcisException:ImplementationException",
	"epcisException:NoSuchNameException",
	"epcisException:NoSuchResourceException",
	"epcisException:NotAcceptableException",
	"epcisException:QueryParameterException",
	"epcisException:QueryTooComplexException",
	"epcisException:QueryTooLargeException",
	"epcisException:QueryValidationException",
	"epcisException:ResourceAlreadyExistsException",
	"epcisException:SecurityException",
	"epcisException:SubscriptionControlsException",
	"epcisException:URITooLongException",
	"epcisException:UnsupportedMediaTypeException",
	"epcisException:ValidationException",
}

// declaredCodes returns the names of the Code constants code.go declares,
// so that a code added without its entry in the table is found even though
// Codes() (which the table gives) would not list it.
func declaredCodes(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "code.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			if id, ok := v.Type.(*ast.Ident); !ok || id.Name != "Code" {
				continue
			}
			for _, n := range v.Names {
				names = append(names, n.Name)
			}
		}
	}
	if len(names) == 0 {
		t.Fatal("code.go declares no Code constants; has the parse gone wrong?")
	}
	return names
}

// TestCodeReportsComplete checks that every code constant has a complete
// entry in the table: a name, an HTTP status, an R4 issue type and an
// EPCIS 2.0 problem type.
func TestCodeReportsComplete(t *testing.T) {
	names := declaredCodes(t)
	codes := tx.Codes()
	if len(codes) != len(names) {
		t.Errorf("len(Codes()) = %d; want %d, one for each Code constant in code.go (%v)", len(codes), len(names), names)
	}
	for _, c := range codes {
		t.Run(c.String(), func(t *testing.T) {
			if s := c.HTTPStatus(); s < 200 || s > 599 || s == 500 {
				t.Errorf("Code(%d).HTTPStatus() = %d; want a status of its own (500 is for unknown codes)", uint32(c), s)
			}
			if typ := c.FHIRIssueType(); !slices.Contains(fhirIssueTypes, typ) {
				t.Errorf("Code(%d).FHIRIssueType() = %q; want an R4 issue type", uint32(c), typ)
			}
			typ := c.EPCISProblemType()
			if c == tx.CodeOK {
				if typ != "" {
					t.Errorf("CodeOK.EPCISProblemType() = %q; want \"\" (success is not a problem)", typ)
				}
			} else if !slices.Contains(epcisProblemTypes, typ) {
				t.Errorf("Code(%d).EPCISProblemType() = %q; want a problem type of the EPCIS 2.0 REST binding", uint32(c), typ)
			}
			if r := c.RetryAfter(); r < 0 || (r > 0) != (c.HTTPStatus() == 503) {
				t.Errorf("Code(%d).RetryAfter() = %d; want a positive number of seconds with 503 (only)", uint32(c), r)
			}
		})
	}
}

// TestCodeReports pins how each code is reported: clients act on the
// status, issue type and problem type, so a change here is a change of
// every API.
func TestCodeReports(t *testing.T) {
	want := []struct {
		code   tx.Code
		status int
		fhir   string
		epcis  string
	}{
		{tx.CodeOK, 200, "informational", ""},
		{tx.CodeMalformed, 400, "structure", "ValidationException"},
		{tx.CodeOversized, 413, "too-long", "CaptureLimitExceededException"},
		{tx.CodeWrongChain, 400, "invalid", "ValidationException"},
		{tx.CodeBadSignature, 401, "security", "SecurityException"},
		{tx.CodeSequenceReplayed, 409, "duplicate", "ResourceAlreadyExistsException"},
		{tx.CodeSequenceSkipped, 409, "conflict", "ValidationException"},
		{tx.CodeUnknownMessage, 400, "not-supported", "ValidationException"},
		{tx.CodeUnknownSigner, 401, "unknown", "SecurityException"},
		{tx.CodeUnauthorized, 403, "forbidden", "SecurityException"},
		{tx.CodeWrongOrganization, 403, "forbidden", "SecurityException"},
		{tx.CodeInvalid, 422, "invalid", "ValidationException"},
		{tx.CodeNotFound, 404, "not-found", "NoSuchResourceException"},
		{tx.CodeAlreadyExists, 409, "duplicate", "ResourceAlreadyExistsException"},
		{tx.CodeSuspended, 403, "forbidden", "SecurityException"},
		{tx.CodeKeyInUse, 409, "duplicate", "ResourceAlreadyExistsException"},
		{tx.CodeBusy, 503, "throttled", "ImplementationException"},
		{tx.CodeUnauthenticated, 401, "login", "SecurityException"},
	}
	if len(want) != len(tx.Codes()) {
		t.Errorf("TestCodeReports pins %d codes; Codes() has %d (pin the new ones)", len(want), len(tx.Codes()))
	}
	for _, w := range want {
		epcis := ""
		if w.epcis != "" {
			epcis = "epcisException:" + w.epcis
		}
		if got := w.code.HTTPStatus(); got != w.status {
			t.Errorf("%s.HTTPStatus() = %d; want %d", w.code, got, w.status)
		}
		if got := w.code.FHIRIssueType(); got != w.fhir {
			t.Errorf("%s.FHIRIssueType() = %q; want %q", w.code, got, w.fhir)
		}
		if got := w.code.EPCISProblemType(); got != epcis {
			t.Errorf("%s.EPCISProblemType() = %q; want %q", w.code, got, epcis)
		}
	}
	if got := tx.CodeBusy.RetryAfter(); got != 1 {
		t.Errorf("CodeBusy.RetryAfter() = %d; want 1", got)
	}

	// A code this build does not know (a newer node's) is an internal
	// error to every API.
	unknown := tx.Code(len(tx.Codes()))
	if s, f, e, r := unknown.HTTPStatus(), unknown.FHIRIssueType(), unknown.EPCISProblemType(), unknown.RetryAfter(); s != 500 || f != "exception" || !strings.HasSuffix(e, ":ImplementationException") || r != 0 {
		t.Errorf("%s reports %d %q %q %d; want 500 \"exception\" ImplementationException 0", unknown, s, f, e, r)
	}

	// A rejection reports its code's status and issue type.
	rej := tx.Rejectf(tx.CodeBusy, "mempool is full")
	if rej.HTTPStatus() != 503 || rej.FHIRIssueType() != "throttled" {
		t.Errorf("Rejection(busy) reports %d %q; want 503 \"throttled\"", rej.HTTPStatus(), rej.FHIRIssueType())
	}
}
