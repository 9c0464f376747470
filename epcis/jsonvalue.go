package epcis

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// jv is a JSON value that keeps its object keys in document order (the
// hash's pairs depend on it, and errors are clearer in reading order) and
// its numbers as their literal text.
type jv struct {
	kind byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null
	str  string
	keys []string
	vals []*jv
}

// get returns the value of key in an object, or nil.
func (v *jv) get(key string) *jv {
	if v == nil || v.kind != 'o' {
		return nil
	}
	for i, k := range v.keys {
		if k == key {
			return v.vals[i]
		}
	}
	return nil
}

// decodeJSON decodes one JSON value, refusing nesting deeper than maxDepth,
// duplicate keys and trailing data.
func decodeJSON(b []byte, maxDepth int) (*jv, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	v, err := readValue(d, 0, maxDepth)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, docErr(ErrMalformed, "", "data after the JSON value")
	}
	return v, nil
}

var errDepth = errors.New("too deep")

func readValue(d *json.Decoder, depth, maxDepth int) (*jv, error) {
	t, err := d.Token()
	if err != nil {
		return nil, jsonSyntax(err)
	}
	return valueFrom(d, t, depth, maxDepth)
}

func valueFrom(d *json.Decoder, t json.Token, depth, maxDepth int) (*jv, error) {
	switch t := t.(type) {
	case json.Delim:
		if depth >= maxDepth {
			return nil, docErr(ErrTooLarge, "", "nesting deeper than %d", maxDepth)
		}
		if t == '{' {
			return readObject(d, depth+1, maxDepth)
		}
		return readArray(d, depth+1, maxDepth)
	case string:
		return &jv{kind: 's', str: t}, nil
	case json.Number:
		return &jv{kind: 'n', str: string(t)}, nil
	case bool:
		if t {
			return &jv{kind: 'b', str: "true"}, nil
		}
		return &jv{kind: 'b', str: "false"}, nil
	case nil:
		return &jv{kind: 'z'}, nil
	}
	return nil, docErr(ErrMalformed, "", "unexpected JSON token")
}

func readObject(d *json.Decoder, depth, maxDepth int) (*jv, error) {
	v := &jv{kind: 'o'}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return nil, jsonSyntax(err)
		}
		key, _ := t.(string)
		if v.get(key) != nil {
			return nil, docErr(ErrMalformed, key, "duplicate JSON key")
		}
		val, err := readValue(d, depth, maxDepth)
		if err != nil {
			return nil, err
		}
		v.keys = append(v.keys, key)
		v.vals = append(v.vals, val)
	}
	if _, err := d.Token(); err != nil { // '}'
		return nil, jsonSyntax(err)
	}
	return v, nil
}

func readArray(d *json.Decoder, depth, maxDepth int) (*jv, error) {
	v := &jv{kind: 'a'}
	for d.More() {
		val, err := readValue(d, depth, maxDepth)
		if err != nil {
			return nil, err
		}
		v.vals = append(v.vals, val)
	}
	if _, err := d.Token(); err != nil { // ']'
		return nil, jsonSyntax(err)
	}
	return v, nil
}

// jsonSyntax reports a decoder error without quoting the input.
func jsonSyntax(err error) *Error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return docErr(ErrMalformed, "", "invalid JSON at byte %d", se.Offset)
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return docErr(ErrMalformed, "", "unexpected end of JSON")
	}
	return docErr(ErrMalformed, "", "invalid JSON")
}
