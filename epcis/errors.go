package epcis

import (
	"errors"
	"fmt"
	"strings"

	"github.com/careledger/careledger/tx"
)

// Sentinels for errors.Is; every error the decoders return is an *Error
// that matches exactly one of them.
var (
	// ErrMalformed: the bytes are not JSON or XML, or not an EPCIS document.
	ErrMalformed = errors.New("malformed EPCIS document")
	// ErrTooLarge: the document exceeds a Limits bound.
	ErrTooLarge = errors.New("EPCIS document exceeds a capture limit")
	// ErrInvalid: the document decodes but an event breaks a rule of EPCIS
	// or CBV (a required field, an EPC's syntax, a check digit, a vocabulary).
	ErrInvalid = errors.New("invalid EPCIS event")
)

// Error is a decoding or validation failure. It names the event (its index
// in the document and its eventID when short) and the field, never the
// field's value: values can be large, and extensions can hold anything.
type Error struct {
	Kind    error  // ErrMalformed, ErrTooLarge or ErrInvalid
	Event   int    // index of the event in the document; -1 for the document itself
	EventID string // the event's eventID, when it has one of at most maxQuotedID bytes
	Field   string // the field's path, such as "epcList[2]"; "" when none
	Reason  string // what is wrong, without the value
}

// maxQuotedID bounds the eventID an error repeats.
const maxQuotedID = 128

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("epcis: ")
	if e.Event >= 0 {
		fmt.Fprintf(&b, "event %d", e.Event)
		if e.EventID != "" {
			fmt.Fprintf(&b, " (eventID %q)", e.EventID)
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Is matches the error's kind sentinel.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Unwrap returns the kind sentinel.
func (e *Error) Unwrap() error { return e.Kind }

// Code returns the stable result code that reports the error: malformed,
// oversized or invalid; tx's table maps it to HTTP and to the EPCIS
// problem type (ValidationException or CaptureLimitExceededException).
func (e *Error) Code() tx.Code {
	switch e.Kind {
	case ErrTooLarge:
		return tx.CodeOversized
	case ErrInvalid:
		return tx.CodeInvalid
	}
	return tx.CodeMalformed
}

// docErr returns a document-level error.
func docErr(kind error, field, format string, args ...any) *Error {
	return &Error{Kind: kind, Event: -1, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// eventErr returns an error about event i, naming its eventID when short.
func eventErr(kind error, i int, eventID, field, format string, args ...any) *Error {
	if len(eventID) > maxQuotedID {
		eventID = ""
	}
	return &Error{Kind: kind, Event: i, EventID: eventID, Field: field, Reason: fmt.Sprintf(format, args...)}
}
