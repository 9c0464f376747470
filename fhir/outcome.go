package fhir

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// The kinds of failure. Every error about a client's content (parsing,
// validation, search, Bundle resolution) wraps exactly one of them: test
// with errors.Is. kinds maps each to its HTTP status and to the
// OperationOutcome issue type used when an issue names none. Errors of the
// caller's own Resolver or id function, and of a bad schema, are returned as
// they are and map to 500. ErrForbidden, ErrNotFound, ErrGone, ErrConflict,
// ErrPreconditionFailed and ErrUnprocessable are for the server's own
// errors, so that one table serves the whole API.
var (
	ErrInvalid            = errors.New("invalid content")                         // 400 invalid
	ErrUnsupported        = errors.New("not supported")                           // 400 not-supported
	ErrUnknownType        = errors.New("unknown resource type")                   // 404 not-supported
	ErrUnresolved         = errors.New("unresolved reference")                    // 400 not-found
	ErrForbidden          = errors.New("forbidden")                               // 403 forbidden
	ErrNotFound           = errors.New("not found")                               // 404 not-found
	ErrGone               = errors.New("deleted")                                 // 410 deleted
	ErrConflict           = errors.New("conflict")                                // 409 conflict
	ErrPreconditionFailed = errors.New("precondition failed")                     // 412 conflict
	ErrMultipleMatches    = errors.New("more than one resource matches")          // 412 multiple-matches
	ErrTooLarge           = errors.New("content too large")                       // 413 too-costly
	ErrMediaType          = errors.New("unsupported media type")                  // 415 not-supported
	ErrUnprocessable      = errors.New("content violates a server business rule") // 422 business-rule
)

// kinds is the one table from error kind to HTTP status and issue type.
var kinds = []struct {
	kind   error
	status int
	code   string // http://hl7.org/fhir/issue-type
}{
	{ErrInvalid, http.StatusBadRequest, "invalid"},
	{ErrUnsupported, http.StatusBadRequest, "not-supported"},
	{ErrUnknownType, http.StatusNotFound, "not-supported"},
	{ErrUnresolved, http.StatusBadRequest, "not-found"},
	{ErrForbidden, http.StatusForbidden, "forbidden"},
	{ErrNotFound, http.StatusNotFound, "not-found"},
	{ErrGone, http.StatusGone, "deleted"},
	{ErrConflict, http.StatusConflict, "conflict"},
	{ErrPreconditionFailed, http.StatusPreconditionFailed, "conflict"},
	{ErrMultipleMatches, http.StatusPreconditionFailed, "multiple-matches"},
	{ErrTooLarge, http.StatusRequestEntityTooLarge, "too-costly"},
	{ErrMediaType, http.StatusUnsupportedMediaType, "not-supported"},
	{ErrUnprocessable, http.StatusUnprocessableEntity, "business-rule"},
}

// CodedError is an error that carries its own HTTP status and issue type
// instead of one of the kinds above, from a table outside this package: a
// CareLedger transaction rejection (*tx.Rejection), which its code's entry
// in package tx's table reports. StatusOf, IssuesOf and Outcome report it
// so, in a Bundle's entries as in an answer.
type CodedError interface {
	error
	HTTPStatus() int
	FHIRIssueType() string // an http://hl7.org/fhir/issue-type code
}

// codedOf returns the CodedError err is or wraps.
func codedOf(err error) (CodedError, bool) {
	var ce CodedError
	return ce, errors.As(err, &ce)
}

// Issue is one entry of an OperationOutcome. Diagnostics names the rule that
// failed and Expression the element (a FHIRPath such as
// "Observation.code.coding[0].system"); neither carries the content of the
// element, which may be health data.
type Issue struct {
	Severity    string   // fatal, error, warning or information; "" means error
	Code        string   // an http://hl7.org/fhir/issue-type code; "" means the error kind's
	Diagnostics string   // what rule failed, without the value
	Expression  []string // where; FHIRPath expressions
}

// Error is a failure with the issues that explain it. Kind is one of the Err
// sentinels and decides the HTTP status.
type Error struct {
	Kind   error
	Issues []Issue
}

// NewError returns an Error of the given kind.
func NewError(kind error, issues ...Issue) *Error {
	return &Error{Kind: kind, Issues: issues}
}

// errorAt returns an Error with one issue at expr.
func errorAt(kind error, code, expr, format string, args ...any) *Error {
	is := Issue{Code: code, Diagnostics: fmt.Sprintf(format, args...)}
	if expr != "" {
		is.Expression = []string{expr}
	}
	return &Error{Kind: kind, Issues: []Issue{is}}
}

// Error returns the kind and the first issue; no content is included.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.Error())
	if len(e.Issues) > 0 {
		is := e.Issues[0]
		b.WriteString(": ")
		if len(is.Expression) > 0 {
			b.WriteString(is.Expression[0])
			b.WriteString(": ")
		}
		b.WriteString(is.Diagnostics)
		if n := len(e.Issues) - 1; n > 0 {
			fmt.Fprintf(&b, " (and %d more issue", n)
			if n > 1 {
				b.WriteByte('s')
			}
			b.WriteByte(')')
		}
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Kind }

// Status returns the HTTP status of the error's kind.
func (e *Error) Status() int { return StatusOf(e) }

// StatusOf returns the HTTP status for err: the status of the kind it wraps,
// or a CodedError's own, or 500 for an error of no known kind.
func StatusOf(err error) int {
	if err == nil {
		return http.StatusOK
	}
	if k, ok := kindOf(err); ok {
		return kinds[k].status
	}
	if ce, ok := codedOf(err); ok {
		return ce.HTTPStatus()
	}
	return http.StatusInternalServerError
}

// kindOf returns the index in kinds of the kind err wraps.
func kindOf(err error) (int, bool) {
	var e *Error
	if errors.As(err, &e) {
		for i, k := range kinds {
			if k.kind == e.Kind {
				return i, true
			}
		}
	}
	for i, k := range kinds {
		if errors.Is(err, k.kind) {
			return i, true
		}
	}
	return 0, false
}

// IssuesOf returns the issues that explain err, filling in severity and code.
// An *Error gives its own issues; an error wrapping a kind, or a
// CodedError, gives one issue whose diagnostics is err's text (which, by
// this project's rule, holds no health data); any other error gives one
// "exception" issue that says nothing of err, since its text was not
// written for clients.
func IssuesOf(err error) []Issue {
	k, known := kindOf(err)
	if !known {
		if ce, ok := codedOf(err); ok {
			return []Issue{{Severity: "error", Code: ce.FHIRIssueType(), Diagnostics: err.Error()}}
		}
		return []Issue{{Severity: "error", Code: "exception", Diagnostics: "internal error"}}
	}
	var issues []Issue
	var e *Error
	if errors.As(err, &e) && len(e.Issues) > 0 {
		issues = append(issues, e.Issues...)
	} else {
		issues = []Issue{{Diagnostics: err.Error()}}
	}
	for i := range issues {
		if issues[i].Severity == "" {
			issues[i].Severity = "error"
		}
		if issues[i].Code == "" {
			issues[i].Code = kinds[k].code
		}
	}
	return issues
}

// Outcome returns the HTTP status and the OperationOutcome resource that
// report err to a client.
func Outcome(err error) (status int, body []byte) {
	return StatusOf(err), OperationOutcome(IssuesOf(err)...)
}

// OperationOutcome returns the canonical JSON of an OperationOutcome holding
// the issues. With no issues it holds one "informational" issue, since the
// resource requires at least one.
func OperationOutcome(issues ...Issue) []byte {
	return appendCanonical(nil, outcomeTree(issues))
}

func outcomeTree(issues []Issue) map[string]any {
	if len(issues) == 0 {
		issues = []Issue{{Severity: "information", Code: "informational"}}
	}
	list := make([]any, len(issues))
	for i, is := range issues {
		m := map[string]any{"severity": defaultString(is.Severity, "error"), "code": defaultString(is.Code, "processing")}
		if is.Diagnostics != "" {
			m["diagnostics"] = is.Diagnostics
		}
		if len(is.Expression) > 0 {
			ex := make([]any, len(is.Expression))
			for j, x := range is.Expression {
				ex[j] = x
			}
			m["expression"] = ex
		}
		list[i] = m
	}
	return map[string]any{"resourceType": "OperationOutcome", "issue": list}
}

func defaultString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
