package fhir

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// The decoded tree of a JSON document holds only these Go types:
// map[string]any, []any, string, json.Number, bool and nil. Numbers keep the
// exact text they were written with, so 1.50 stays 1.50 (FHIR decimals carry
// their precision) and no float rounding can change the canonical bytes.

// decodeJSON decodes one JSON value that fills b (surrounding whitespace
// allowed). Unlike encoding/json it rejects duplicate object keys, invalid
// UTF-8, escaped lone surrogates and nesting deeper than maxDepth, because each
// would make two readers of the same bytes see different content. Errors give
// a byte offset, never the content.
func decodeJSON(b []byte, maxDepth int) (any, error) {
	d := jsonDecoder{data: b, maxDepth: maxDepth}
	d.skipSpace()
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return nil, d.errorf("data after the top-level value")
	}
	return v, nil
}

// jsonSyntaxError is a decoding failure at a byte offset.
type jsonSyntaxError struct {
	Offset int
	Msg    string
}

func (e *jsonSyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

type jsonDecoder struct {
	data     []byte
	pos      int
	depth    int
	maxDepth int
	buf      []byte // scratch for strings with escapes
}

func (d *jsonDecoder) errorf(format string, args ...any) error {
	return &jsonSyntaxError{Offset: d.pos, Msg: fmt.Sprintf(format, args...)}
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value() (any, error) {
	if d.pos >= len(d.data) {
		return nil, d.errorf("unexpected end of input")
	}
	switch c := d.data[d.pos]; c {
	case '{':
		return d.object()
	case '[':
		return d.array()
	case '"':
		return d.string()
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return nil, d.literal("null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return d.number()
		}
		return nil, d.errorf("unexpected character")
	}
}

func (d *jsonDecoder) literal(lit string) error {
	if len(d.data)-d.pos < len(lit) || string(d.data[d.pos:d.pos+len(lit)]) != lit {
		return d.errorf("invalid literal")
	}
	d.pos += len(lit)
	return nil
}

func (d *jsonDecoder) enter() error {
	d.depth++
	if d.depth > d.maxDepth {
		return d.errorf("nesting deeper than %d", d.maxDepth)
	}
	return nil
}

func (d *jsonDecoder) object() (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	d.pos++ // '{'
	m := make(map[string]any)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return m, nil
	}
	for {
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, d.errorf("expected an object key")
		}
		keyAt := d.pos
		k, err := d.string()
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			return nil, &jsonSyntaxError{Offset: keyAt, Msg: "duplicate object key"}
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.errorf("expected ':' after an object key")
		}
		d.pos++
		d.skipSpace()
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		m[k] = v
		if done, err := d.next('}', "an object"); done || err != nil {
			return m, err
		}
	}
}

func (d *jsonDecoder) array() (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	d.pos++ // '['
	a := []any{}
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		return a, nil
	}
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		if done, err := d.next(']', "an array"); done || err != nil {
			return a, err
		}
	}
}

// next reads what follows a member of an object or array: a ',' before the
// next member, or the closing byte, which ends it (done).
func (d *jsonDecoder) next(closing byte, what string) (done bool, err error) {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return false, d.errorf("unexpected end of input in %s", what)
	}
	switch d.data[d.pos] {
	case ',':
		d.pos++
		d.skipSpace()
		return false, nil
	case closing:
		d.pos++
		d.depth--
		return true, nil
	}
	return false, d.errorf("expected ',' or '%c' in %s", closing, what)
}

func (d *jsonDecoder) number() (any, error) {
	start := d.pos
	p := d.pos
	data := d.data
	if p < len(data) && data[p] == '-' {
		p++
	}
	switch {
	case p < len(data) && data[p] == '0':
		p++
	case p < len(data) && data[p] >= '1' && data[p] <= '9':
		for p < len(data) && data[p] >= '0' && data[p] <= '9' {
			p++
		}
	default:
		d.pos = p
		return nil, d.errorf("invalid number")
	}
	if p < len(data) && data[p] == '.' {
		p++
		if p >= len(data) || data[p] < '0' || data[p] > '9' {
			d.pos = p
			return nil, d.errorf("invalid number")
		}
		for p < len(data) && data[p] >= '0' && data[p] <= '9' {
			p++
		}
	}
	if p < len(data) && (data[p] == 'e' || data[p] == 'E') {
		p++
		if p < len(data) && (data[p] == '+' || data[p] == '-') {
			p++
		}
		if p >= len(data) || data[p] < '0' || data[p] > '9' {
			d.pos = p
			return nil, d.errorf("invalid number")
		}
		for p < len(data) && data[p] >= '0' && data[p] <= '9' {
			p++
		}
	}
	d.pos = p
	return json.Number(data[start:p]), nil
}

// string decodes a string starting at the opening quote.
func (d *jsonDecoder) string() (string, error) {
	d.pos++ // '"'
	start := d.pos
	data := d.data
	ascii := true
	// Fast path: no escapes.
	p := start
	for p < len(data) {
		c := data[p]
		if c == '"' {
			s := data[start:p]
			if !ascii && !utf8.Valid(s) {
				d.pos = start
				return "", d.errorf("invalid UTF-8 in a string")
			}
			d.pos = p + 1
			return string(s), nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			d.pos = p
			return "", d.errorf("control character in a string")
		}
		if c >= 0x80 {
			ascii = false
		}
		p++
	}
	if p >= len(data) {
		d.pos = p
		return "", d.errorf("unterminated string")
	}
	// Slow path: copy what was scanned, then decode escapes.
	buf := append(d.buf[:0], data[start:p]...)
	for p < len(data) {
		c := data[p]
		switch {
		case c == '"':
			if !ascii && !utf8.Valid(buf) {
				d.pos = start
				return "", d.errorf("invalid UTF-8 in a string")
			}
			d.pos = p + 1
			d.buf = buf
			return string(buf), nil
		case c < 0x20:
			d.pos = p
			return "", d.errorf("control character in a string")
		case c != '\\':
			if c >= 0x80 {
				ascii = false
			}
			buf = append(buf, c)
			p++
			continue
		}
		// An escape.
		if p+1 >= len(data) {
			d.pos = p
			return "", d.errorf("unterminated string")
		}
		e := data[p+1]
		p += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(data, p)
			if !ok {
				d.pos = p
				return "", d.errorf("invalid \\u escape")
			}
			p += 4
			if utf16.IsSurrogate(r) {
				if r >= 0xDC00 || p+6 > len(data) || data[p] != '\\' || data[p+1] != 'u' {
					d.pos = p
					return "", d.errorf("unpaired surrogate in a \\u escape")
				}
				r2, ok := hex4(data, p+2)
				if !ok || r2 < 0xDC00 || r2 > 0xDFFF {
					d.pos = p
					return "", d.errorf("unpaired surrogate in a \\u escape")
				}
				p += 6
				r = utf16.DecodeRune(r, r2)
			}
			buf = utf8.AppendRune(buf, r)
		default:
			d.pos = p - 1
			return "", d.errorf("invalid escape")
		}
	}
	d.pos = p
	return "", d.errorf("unterminated string")
}

func hex4(b []byte, p int) (rune, bool) {
	if p+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[p : p+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// appendCanonical appends the canonical encoding of a decoded tree: no
// insignificant whitespace, object keys sorted by their UTF-8 bytes, numbers
// exactly as written, strings escaped minimally (only '"', '\\' and control
// characters, the latter as \b \f \n \r \t or \u00XX). Every tree has one
// encoding, and decoding the encoding gives back an equal tree.
func appendCanonical(buf []byte, v any) []byte {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 {
			return append(buf, '{', '}')
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		buf = append(buf, '{')
		for i, k := range keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendString(buf, k)
			buf = append(buf, ':')
			buf = appendCanonical(buf, v[k])
		}
		return append(buf, '}')
	case []any:
		buf = append(buf, '[')
		for i, e := range v {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendCanonical(buf, e)
		}
		return append(buf, ']')
	case string:
		return appendString(buf, v)
	case json.Number:
		return append(buf, v...)
	case bool:
		if v {
			return append(buf, "true"...)
		}
		return append(buf, "false"...)
	case nil:
		return append(buf, "null"...)
	default:
		// Trees come from decodeJSON or from this package's own setters,
		// which hold only the types above.
		panic(fmt.Sprintf("fhir: unexpected %T in a decoded tree", v))
	}
}

const hexDigits = "0123456789abcdef"

func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		buf = append(buf, s[start:i]...)
		switch c {
		case '"', '\\':
			buf = append(buf, '\\', c)
		case '\b':
			buf = append(buf, '\\', 'b')
		case '\f':
			buf = append(buf, '\\', 'f')
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		default:
			buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// canonicalSize estimates the canonical length of a tree, to size buffers.
func canonicalSize(v any) int {
	switch v := v.(type) {
	case map[string]any:
		n := 2
		for k, e := range v {
			n += len(k) + 4 + canonicalSize(e)
		}
		return n
	case []any:
		n := 2
		for _, e := range v {
			n += 1 + canonicalSize(e)
		}
		return n
	case string:
		return len(v) + 2
	case json.Number:
		return len(v)
	default:
		return 5
	}
}

// cloneTree returns a deep copy of a decoded tree.
func cloneTree(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = cloneTree(e)
		}
		return m
	case []any:
		a := make([]any, len(v))
		for i, e := range v {
			a[i] = cloneTree(e)
		}
		return a
	default:
		return v
	}
}

// pathSegment returns an element name fit for an error path: FHIR element
// names are short identifiers, and anything else a client sent as a key is
// replaced, so that an error path never echoes arbitrary content.
func pathSegment(k string) string {
	if len(k) == 0 || len(k) > 64 {
		return "?"
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			return "?"
		}
	}
	return k
}

// joinKey appends an element name to a FHIRPath-like expression such as
// "Observation.code.coding[0]".
func joinKey(base, key string) string {
	if base == "" {
		return pathSegment(key)
	}
	return base + "." + pathSegment(key)
}

// joinIndex appends an array index to an expression.
func joinIndex(base string, i int) string {
	return base + "[" + strconv.Itoa(i) + "]"
}
