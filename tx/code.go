package tx

import (
	"errors"
	"fmt"
)

// Code is a stable result code. Codes are append-only: a code, once
// released, keeps its number and meaning forever.
type Code uint32

// The result codes. Append new codes at the end; never renumber.
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

var codeNames = [...]string{
	CodeOK:                "ok",
	CodeMalformed:         "malformed",
	CodeOversized:         "oversized",
	CodeWrongChain:        "wrong_chain",
	CodeBadSignature:      "bad_signature",
	CodeSequenceReplayed:  "sequence_replayed",
	CodeSequenceSkipped:   "sequence_skipped",
	CodeUnknownMessage:    "unknown_message",
	CodeUnknownSigner:     "unknown_signer",
	CodeUnauthorized:      "unauthorized",
	CodeWrongOrganization: "wrong_organization",
	CodeInvalid:           "invalid",
	CodeNotFound:          "not_found",
	CodeAlreadyExists:     "already_exists",
	CodeSuspended:         "suspended",
	CodeKeyInUse:          "key_in_use",
	CodeBusy:              "busy",
	CodeUnauthenticated:   "unauthenticated",
}

// Codes returns every defined code in order, for documentation and metrics.
func Codes() []Code {
	cs := make([]Code, len(codeNames))
	for i := range codeNames {
		cs[i] = Code(i)
	}
	return cs
}

// String returns the code's stable name, such as "bad_signature".
func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code_%d", uint32(c))
}

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
