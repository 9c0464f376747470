package tx

import (
	"errors"
	"fmt"
)

// Code is a stable result code. Codes are append-only: a code, once
// released, keeps its number and meaning forever.
type Code uint32

// The result codes. Append new codes at the end, each with its entry in
// reports below; never renumber.
const (
	CodeOK                Code = 0  // the transaction was applied
	CodeMalformed         Code = 1  // the bytes do not decode as a transaction or message
	CodeOversized         Code = 2  // the transaction or one of its fields exceeds a size limit
	CodeWrongChain        Code = 3  // the chain ID is not this network's
	CodeBadSignature      Code = 4  // the signature does not verify under the signer's key
	CodeSequenceReplayed  Code = 5  // the sequence number was already used
	CodeSequenceSkipped   Code = 6  // the sequence number is ahead of the next expected one
	CodeUnknownMessage    Code = 7  // no contract handles the message type
	CodeUnknownSigner     Code = 8  // the signer's key is not registered
	CodeUnauthorized      Code = 9  // the signer lacks the role the message needs
	CodeWrongOrganization Code = 10 // the signer acts for an organization it does not belong to
	CodeInvalid           Code = 11 // a message field is invalid
	CodeNotFound          Code = 12 // the message refers to something that does not exist
	CodeAlreadyExists     Code = 13 // the message creates something that already exists
	CodeSuspended         Code = 14 // the signer's account or organization is suspended
	CodeKeyInUse          Code = 15 // the public key is already registered to an account
	CodeBusy              Code = 16 // the node's mempool is full; submit again later
	CodeUnauthenticated   Code = 17 // an API call lacks a valid, unexpired bearer token
)

// report is how a code is named and reported: the one table from result
// codes to the answers of every API, so that the JSON, FHIR and EPCIS APIs
// cannot disagree. HTTP statuses are plain numbers (net/http's names in the
// comments) so that tx, which the state machine imports, needs no net/http.
type report struct {
	name string // the stable name, such as "bad_signature"
	http int    // the HTTP status of an answer with this code
	// fhir is the OperationOutcome issue type (http://hl7.org/fhir/issue-type).
	fhir string
	// epcis is the problem type of the GS1 EPCIS 2.0 REST binding, as the
	// binding's OpenAPI writes it (a CURIE of its epcisException prefix).
	// EPCIS has no type for success, nor for a server that sheds load:
	// busy is reported as its server-side ImplementationException.
	epcis string
	// retryAfter is the Retry-After, in seconds, of an answer with this
	// code; 0 for none.
	retryAfter int
}

// busyRetryAfter is the Retry-After of a busy answer. One second is the
// least the header can say (it counts whole seconds), and it spans several
// blocks at the default block interval (timeout_commit 100 ms), each of
// which takes committed transactions out of the full mempool; a longer wait
// would leave the room they make unused.
const busyRetryAfter = 1

// The EPCIS 2.0 REST binding's problem types that codes map to.
const (
	epcisValidation     = "epcisException:ValidationException"
	epcisSecurity       = "epcisException:SecurityException"
	epcisNoSuchResource = "epcisException:NoSuchResourceException"
	epcisAlreadyExists  = "epcisException:ResourceAlreadyExistsException"
	epcisCaptureLimit   = "epcisException:CaptureLimitExceededException"
	epcisImplementation = "epcisException:ImplementationException"
)

// reports lists every code, in order. Append a code here when adding its
// constant; TestCodeReportsComplete fails for a constant without a complete
// entry.
var reports = [...]report{
	CodeOK:                {"ok", 200 /* StatusOK */, "informational", "", 0},
	CodeMalformed:         {"malformed", 400 /* StatusBadRequest */, "structure", epcisValidation, 0},
	CodeOversized:         {"oversized", 413 /* StatusRequestEntityTooLarge */, "too-long", epcisCaptureLimit, 0},
	CodeWrongChain:        {"wrong_chain", 400 /* StatusBadRequest */, "invalid", epcisValidation, 0},
	CodeBadSignature:      {"bad_signature", 401 /* StatusUnauthorized */, "security", epcisSecurity, 0},
	CodeSequenceReplayed:  {"sequence_replayed", 409 /* StatusConflict */, "duplicate", epcisAlreadyExists, 0},
	CodeSequenceSkipped:   {"sequence_skipped", 409 /* StatusConflict */, "conflict", epcisValidation, 0},
	CodeUnknownMessage:    {"unknown_message", 400 /* StatusBadRequest */, "not-supported", epcisValidation, 0},
	CodeUnknownSigner:     {"unknown_signer", 401 /* StatusUnauthorized */, "unknown", epcisSecurity, 0},
	CodeUnauthorized:      {"unauthorized", 403 /* StatusForbidden */, "forbidden", epcisSecurity, 0},
	CodeWrongOrganization: {"wrong_organization", 403 /* StatusForbidden */, "forbidden", epcisSecurity, 0},
	CodeInvalid:           {"invalid", 422 /* StatusUnprocessableEntity */, "invalid", epcisValidation, 0},
	CodeNotFound:          {"not_found", 404 /* StatusNotFound */, "not-found", epcisNoSuchResource, 0},
	CodeAlreadyExists:     {"already_exists", 409 /* StatusConflict */, "duplicate", epcisAlreadyExists, 0},
	CodeSuspended:         {"suspended", 403 /* StatusForbidden */, "forbidden", epcisSecurity, 0},
	CodeKeyInUse:          {"key_in_use", 409 /* StatusConflict */, "duplicate", epcisAlreadyExists, 0},
	CodeBusy:              {"busy", 503 /* StatusServiceUnavailable */, "throttled", epcisImplementation, busyRetryAfter},
	CodeUnauthenticated:   {"unauthenticated", 401 /* StatusUnauthorized */, "login", epcisSecurity, 0},
}

// unknownReport reports a code this build does not know (a newer node's):
// as an internal error.
var unknownReport = report{http: 500 /* StatusInternalServerError */, fhir: "exception", epcis: epcisImplementation}

func (c Code) report() report {
	if int64(c) < int64(len(reports)) {
		return reports[c]
	}
	return unknownReport
}

// Codes returns every defined code in order, for documentation and metrics.
func Codes() []Code {
	cs := make([]Code, len(reports))
	for i := range reports {
		cs[i] = Code(i)
	}
	return cs
}

// String returns the code's stable name, such as "bad_signature".
func (c Code) String() string {
	if r := c.report(); r.name != "" {
		return r.name
	}
	return fmt.Sprintf("code_%d", uint32(c))
}

// HTTPStatus returns the HTTP status of an API answer with code c, such as
// 409 for sequence_replayed; 500 for a code this build does not know.
func (c Code) HTTPStatus() int { return c.report().http }

// FHIRIssueType returns the OperationOutcome issue type
// (http://hl7.org/fhir/issue-type) that reports c, such as "forbidden".
func (c Code) FHIRIssueType() string { return c.report().fhir }

// EPCISProblemType returns the problem type of the GS1 EPCIS 2.0 REST
// binding that reports c, such as "epcisException:SecurityException"; ""
// for CodeOK.
func (c Code) EPCISProblemType() string { return c.report().epcis }

// RetryAfter returns the seconds an answer with code c asks the client to
// wait before trying again (its Retry-After header); 0 when it asks none.
func (c Code) RetryAfter() int { return c.report().retryAfter }

// Rejection is a transaction's failure: a stable code and a message. The
// message names fields and identifiers but never carries health data.
type Rejection struct {
	Code Code
	Msg  string
}

// Rejectf returns a Rejection with a formatted message.
func Rejectf(code Code, format string, args ...any) *Rejection {
	return &Rejection{Code: code, Msg: fmt.Sprintf(format, args...)}
}

func (r *Rejection) Error() string { return r.Code.String() + ": " + r.Msg }

// HTTPStatus returns the HTTP status of the rejection's code. With
// FHIRIssueType it lets packages that do not import tx (package fhir)
// report a rejection by this package's table.
func (r *Rejection) HTTPStatus() int { return r.Code.HTTPStatus() }

// FHIRIssueType returns the OperationOutcome issue type of the rejection's
// code.
func (r *Rejection) FHIRIssueType() string { return r.Code.FHIRIssueType() }

// CodeOf returns the code of err: CodeOK for nil, the Rejection's code when
// err wraps one, and ok=false for any other error, which in the state machine
// means a fault that must stop the node.
func CodeOf(err error) (code Code, ok bool) {
	if err == nil {
		return CodeOK, true
	}
	var r *Rejection
	if errors.As(err, &r) {
		return r.Code, true
	}
	return 0, false
}
