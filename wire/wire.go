// Package wire is CareLedger's canonical binary encoding: the bytes that are
// signed, hashed and stored. Every value has exactly one encoding, so two
// implementations (Go here, JavaScript in a browser) that follow
// docs/TRANSACTIONS.md produce the same bytes.
//
// The rules are few: unsigned integers are uvarints (LEB128, minimal length),
// byte strings and text are a uvarint length followed by the bytes, text is
// valid UTF-8, booleans are one byte 0 or 1, lists are a uvarint count
// followed by the items. A Reader rejects every other form (non-minimal
// varints, bad booleans, invalid UTF-8, lengths past the end, trailing bytes).
//
// wire imports only the standard library.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("malformed encoding")

// Writer appends canonical encodings to a byte slice.
type Writer struct {
	buf []byte
}

// NewWriter returns a Writer whose buffer starts with capacity n.
func NewWriter(n int) *Writer { return &Writer{buf: make([]byte, 0, n)} }

// Bytes returns the encoding written so far.
func (w *Writer) Bytes() []byte { return w.buf }

// Uint writes v as a uvarint.
func (w *Writer) Uint(v uint64) { w.buf = binary.AppendUvarint(w.buf, v) }

// Bool writes b as one byte.
func (w *Writer) Bool(b bool) {
	if b {
		w.buf = append(w.buf, 1)
	} else {
		w.buf = append(w.buf, 0)
	}
}

// Blob writes b with its length.
func (w *Writer) Blob(b []byte) {
	w.Uint(uint64(len(b)))
	w.buf = append(w.buf, b...)
}

// String writes s with its length. The caller ensures s is valid UTF-8
// (messages validate their fields before they are encoded).
func (w *Writer) String(s string) {
	w.Uint(uint64(len(s)))
	w.buf = append(w.buf, s...)
}

// Raw appends b as it is, with no length: for fixed-size fields.
func (w *Writer) Raw(b []byte) { w.buf = append(w.buf, b...) }

// Strings writes a list of strings.
func (w *Writer) Strings(ss []string) {
	w.Uint(uint64(len(ss)))
	for _, s := range ss {
		w.String(s)
	}
}

// Reader decodes canonical encodings. The first error sticks: later reads
// return zero values and Err reports it, so decoders read every field and
// check once.
type Reader struct {
	buf []byte
	off int
	err error
}

// NewReader returns a Reader over b.
func NewReader(b []byte) *Reader { return &Reader{buf: b} }

// Err returns the first decoding error.
func (r *Reader) Err() error { return r.err }

// Done reports the first error, or an error if bytes remain unread.
func (r *Reader) Done() error {
	if r.err == nil && r.off != len(r.buf) {
		r.fail("%d trailing bytes", len(r.buf)-r.off)
	}
	return r.err
}

// Len returns the number of unread bytes.
func (r *Reader) Len() int { return len(r.buf) - r.off }

func (r *Reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w at byte %d: %s", ErrMalformed, r.off, fmt.Sprintf(format, args...))
	}
}

// Uint reads a minimal uvarint.
func (r *Reader) Uint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.buf[r.off:])
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	// Minimal: the last byte of a multi-byte varint is never zero.
	if n > 1 && r.buf[r.off+n-1] == 0 {
		r.fail("non-minimal varint")
		return 0
	}
	r.off += n
	return v
}

// Bool reads one byte that must be 0 or 1.
func (r *Reader) Bool() bool {
	b := r.Raw(1)
	if b == nil {
		return false
	}
	if b[0] > 1 {
		r.off--
		r.fail("bad boolean %d", b[0])
		return false
	}
	return b[0] == 1
}

// Raw reads exactly n bytes. The result aliases the input.
func (r *Reader) Raw(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > r.Len() {
		r.fail("need %d bytes, have %d", n, r.Len())
		return nil
	}
	b := r.buf[r.off : r.off+n : r.off+n]
	r.off += n
	return b
}

// Blob reads a length-prefixed byte string of at most max bytes. The result
// aliases the input.
func (r *Reader) Blob(max int) []byte {
	n := r.Uint()
	if r.err != nil {
		return nil
	}
	if n > uint64(max) {
		r.fail("length %d over limit %d", n, max)
		return nil
	}
	return r.Raw(int(n))
}

// String reads length-prefixed UTF-8 text of at most max bytes.
func (r *Reader) String(max int) string {
	b := r.Blob(max)
	if r.err != nil {
		return ""
	}
	if !utf8.Valid(b) {
		r.fail("invalid UTF-8")
		return ""
	}
	return string(b)
}

// Count reads a list length of at most max items.
func (r *Reader) Count(max int) int {
	n := r.Uint()
	if r.err != nil {
		return 0
	}
	if n > uint64(max) {
		r.fail("count %d over limit %d", n, max)
		return 0
	}
	return int(n)
}

// Strings reads a list of at most maxItems strings of at most maxLen bytes.
func (r *Reader) Strings(maxItems, maxLen int) []string {
	n := r.Count(maxItems)
	if n == 0 {
		return nil
	}
	// Every item takes at least one byte, so a count past the unread bytes
	// fails below; it must not size the allocation first.
	ss := make([]string, 0, min(n, r.Len()))
	for i := 0; i < n && r.err == nil; i++ {
		ss = append(ss, r.String(maxLen))
	}
	return ss
}
