package fhir

import (
	"errors"
	"fmt"

	jsonpatch "github.com/evanphx/json-patch/v5"
)

// PatchContentType is the media type of a JSON Patch document (RFC 6902),
// the one patch format the server applies.
const PatchContentType = "application/json-patch+json"

// patchOps are RFC 6902's operations, each with the members it requires
// besides op and path.
var patchOps = map[string]string{
	"add": "value", "replace": "value", "test": "value",
	"remove": "", "move": "from", "copy": "from",
}

// Patch applies a JSON Patch document (RFC 6902) to r and returns the
// patched resource, parsed under l; r is left as it was. A patch document
// that is not well formed is an error of kind ErrInvalid. A patch that does
// not apply to r (a path that does not exist, a test that fails), whose
// result does not parse as a resource, or that changes the resource's type
// or id, is an error of kind ErrUnprocessable. No error repeats the
// patch's or the resource's content.
func (l Limits) Patch(r *Resource, patch []byte) (*Resource, error) {
	l = l.EnsureDefaults()
	if len(patch) > l.MaxResourceBytes {
		return nil, errorAt(ErrTooLarge, "", "", "patch of %d bytes exceeds the limit of %d", len(patch), l.MaxResourceBytes)
	}
	if err := checkPatch(patch, l.MaxDepth); err != nil {
		return nil, err
	}
	p, err := jsonpatch.DecodePatch(patch)
	if err != nil {
		return nil, errorAt(ErrInvalid, "structure", "", "the body is not a JSON Patch document")
	}
	opts := jsonpatch.NewApplyOptions()
	opts.SupportNegativeIndices = false // not in RFC 6902
	opts.AccumulatedCopySizeLimit = int64(l.MaxResourceBytes)
	b, err := p.ApplyWithOptions(r.Canonical(), opts)
	if err != nil {
		// The library's message may quote values: it stays out of the answer.
		return nil, errorAt(ErrUnprocessable, "processing", "", "the patch does not apply to the current version (a path that does not exist, or a test that fails)")
	}
	out, err := l.Parse(b)
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			return nil, &Error{Kind: ErrUnprocessable, Issues: append([]Issue{{Code: "processing", Diagnostics: "the patched resource is not a valid resource"}}, fe.Issues...)}
		}
		return nil, err
	}
	if out.Type() != r.Type() || out.ID() != r.ID() {
		return nil, errorAt(ErrUnprocessable, "processing", "", "a patch may not change the resource's type or id")
	}
	return out, nil
}

// checkPatch checks that b is a JSON array of RFC 6902 operations, each
// with a known op, a string path and the members its op requires, so that
// a malformed document is the client's 400, not a patch that fails.
func checkPatch(b []byte, maxDepth int) error {
	bad := func(i int, format string, args ...any) error {
		return errorAt(ErrInvalid, "structure", "", "patch operation %d: %s", i, fmt.Sprintf(format, args...))
	}
	v, err := decodeJSON(b, maxDepth)
	if err != nil {
		return errorAt(ErrInvalid, "structure", "", "the body is not JSON")
	}
	ops, ok := v.([]any)
	if !ok {
		return errorAt(ErrInvalid, "structure", "", "a JSON Patch document is an array of operations")
	}
	for i, o := range ops {
		m, ok := o.(map[string]any)
		if !ok {
			return bad(i, "not an object")
		}
		name, _ := m["op"].(string)
		need, known := patchOps[name]
		if !known {
			return bad(i, "op must be add, remove, replace, move, copy or test")
		}
		for _, member := range []string{"path", need} {
			if member == "" {
				continue
			}
			val, present := m[member]
			if !present {
				return bad(i, "%s requires %s", name, member)
			}
			if s, isString := val.(string); member != "value" && (!isString || !validPointer(s)) {
				return bad(i, "%s must be a JSON Pointer (RFC 6901)", member)
			}
		}
	}
	return nil
}

// validPointer reports whether s is a JSON Pointer: empty, or "/"-led
// tokens in which '~' is only ever followed by 0 or 1.
func validPointer(s string) bool {
	if s != "" && s[0] != '/' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '~' && (i+1 == len(s) || s[i+1] != '0' && s[i+1] != '1') {
			return false
		}
	}
	return true
}
