package wire_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/careledger/careledger/wire"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// wantMalformed fails t unless err wraps ErrMalformed.
func wantMalformed(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, wire.ErrMalformed) {
		t.Errorf("%s = %v; want an error wrapping %v", what, err, wire.ErrMalformed)
	}
}

func TestUintEncoding(t *testing.T) {
	for _, tc := range []struct {
		v    uint64
		want string
	}{
		{0, "00"},
		{1, "01"},
		{127, "7f"},
		{128, "8001"},
		{300, "ac02"},
		{16383, "ff7f"},
		{16384, "808001"},
		{math.MaxUint32, "ffffffff0f"},
		{1 << 63, "80808080808080808001"},
		{math.MaxUint64, "ffffffffffffffffff01"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			w := wire.NewWriter(0)
			w.Uint(tc.v)
			if got := hex.EncodeToString(w.Bytes()); got != tc.want {
				t.Errorf("Uint(%d) = %s; want %s", tc.v, got, tc.want)
			}
			r := wire.NewReader(unhex(t, tc.want))
			if got, err := r.Uint(), r.Done(); got != tc.v || err != nil {
				t.Errorf("Reader(%s).Uint() = %d, %v; want %d, nil", tc.want, got, err, tc.v)
			}
		})
	}
}

func TestUintRejected(t *testing.T) {
	for _, tc := range []struct {
		name, in string
	}{
		{"empty", ""},
		{"truncated one byte", "80"},
		{"truncated two bytes", "ff80"},
		{"non-minimal zero", "8000"},
		{"non-minimal one", "8100"},
		{"non-minimal 127", "ff00"},
		{"non-minimal 128", "808000"},
		{"non-minimal ten bytes", "80808080808080808000"},
		{"overflow tenth byte", "ffffffffffffffffff02"},
		{"overflow eleven bytes", "ffffffffffffffffffff01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := wire.NewReader(unhex(t, tc.in))
			if got := r.Uint(); got != 0 {
				t.Errorf("Reader(%s).Uint() = %d; want 0", tc.in, got)
			}
			wantMalformed(t, "Reader("+tc.in+").Uint() error", r.Err())
		})
	}
}

// value is one item written and read back in TestRoundTrip.
type value struct {
	kind string // "uint", "bool", "blob", "string", "strings", "raw"
	u    uint64
	b    bool
	blob []byte
	s    string
	ss   []string
}

func (v value) write(w *wire.Writer) {
	switch v.kind {
	case "uint":
		w.Uint(v.u)
	case "bool":
		w.Bool(v.b)
	case "blob":
		w.Blob(v.blob)
	case "string":
		w.String(v.s)
	case "strings":
		w.Strings(v.ss)
	case "raw":
		w.Raw(v.blob)
	}
}

// read reads a value of v's kind and reports whether it equals v.
func (v value) read(r *wire.Reader) (any, bool) {
	switch v.kind {
	case "uint":
		got := r.Uint()
		return got, got == v.u
	case "bool":
		got := r.Bool()
		return got, got == v.b
	case "blob":
		got := r.Blob(math.MaxInt)
		return got, bytes.Equal(got, v.blob)
	case "string":
		got := r.String(math.MaxInt)
		return got, got == v.s
	case "strings":
		got := r.Strings(1000, math.MaxInt)
		return got, slices.Equal(got, v.ss)
	case "raw":
		got := r.Raw(len(v.blob))
		return got, bytes.Equal(got, v.blob)
	}
	return nil, false
}

func TestRoundTrip(t *testing.T) {
	long := bytes.Repeat([]byte{0xab}, 300)
	for _, tc := range []struct {
		name string
		vals []value
		want string // expected encoding in hex, if given
	}{
		{"uints", []value{{kind: "uint", u: 0}, {kind: "uint", u: 128}, {kind: "uint", u: math.MaxUint64}}, "00 8001 ffffffffffffffffff01"},
		{"bools", []value{{kind: "bool", b: false}, {kind: "bool", b: true}}, "00 01"},
		{"empty blob", []value{{kind: "blob", blob: []byte{}}}, "00"},
		{"blob", []value{{kind: "blob", blob: []byte{0, 1, 2}}}, "03 000102"},
		{"long blob", []value{{kind: "blob", blob: long}}, "ac02" + strings.Repeat("ab", 300)},
		{"empty string", []value{{kind: "string", s: ""}}, "00"},
		{"ascii string", []value{{kind: "string", s: "nurse"}}, "05 6e75727365"},
		{"utf-8 string", []value{{kind: "string", s: "né 🩺"}}, "08 6ec3a920f09fa9ba"},
		{"empty list", []value{{kind: "strings", ss: nil}}, "00"},
		{"list", []value{{kind: "strings", ss: []string{"admin", "nurse"}}}, "02 05 61646d696e 05 6e75727365"},
		{"raw", []value{{kind: "raw", blob: []byte{9, 8, 7}}}, "090807"},
		{"mixed", []value{
			{kind: "uint", u: 1},
			{kind: "string", s: "careledger-1"},
			{kind: "raw", blob: bytes.Repeat([]byte{7}, 32)},
			{kind: "bool", b: true},
			{kind: "strings", ss: []string{"", "x"}},
			{kind: "blob", blob: nil},
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := wire.NewWriter(0)
			for _, v := range tc.vals {
				v.write(w)
			}
			enc := w.Bytes()
			if tc.want != "" {
				if want := unhex(t, tc.want); !bytes.Equal(enc, want) {
					t.Errorf("encoding of %v = %x; want %x", tc.vals, enc, want)
				}
			}
			r := wire.NewReader(enc)
			for i, v := range tc.vals {
				if got, ok := v.read(r); !ok {
					t.Errorf("reading item %d of %x = %v (err %v); want %v", i, enc, got, r.Err(), v)
				}
			}
			if err := r.Done(); err != nil {
				t.Errorf("Done() after reading %x = %v; want nil", enc, err)
			}
			if r.Len() != 0 {
				t.Errorf("Len() after reading %x = %d; want 0", enc, r.Len())
			}
		})
	}
}

// TestTruncated checks that every proper prefix of a valid encoding fails,
// either while reading or in Done.
func TestTruncated(t *testing.T) {
	w := wire.NewWriter(0)
	w.Uint(300)
	w.String("physician")
	w.Bool(true)
	w.Raw([]byte{1, 2, 3, 4})
	w.Strings([]string{"a", "bc"})
	w.Blob([]byte("body"))
	full := w.Bytes()
	for n := 0; n < len(full); n++ {
		r := wire.NewReader(full[:n])
		r.Uint()
		r.String(100)
		r.Bool()
		r.Raw(4)
		r.Strings(10, 10)
		r.Blob(100)
		wantMalformed(t, "Done() of "+hex.EncodeToString(full[:n]), r.Done())
	}
}

func TestDoneRejectsTrailingBytes(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		read func(*wire.Reader)
	}{
		{"nothing read", "00", func(*wire.Reader) {}},
		{"after uint", "0100", func(r *wire.Reader) { r.Uint() }},
		{"after bool", "0101", func(r *wire.Reader) { r.Bool() }},
		{"after blob", "0161ff", func(r *wire.Reader) { r.Blob(10) }},
		{"after string", "0161 00", func(r *wire.Reader) { r.String(10) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := wire.NewReader(unhex(t, tc.in))
			tc.read(r)
			if err := r.Err(); err != nil {
				t.Fatalf("reading %s: Err() = %v; want nil", tc.in, err)
			}
			if r.Len() != 1 {
				t.Errorf("Reader(%s).Len() = %d; want 1", tc.in, r.Len())
			}
			wantMalformed(t, "Done() of "+tc.in, r.Done())
			if err := r.Err(); err == nil {
				t.Errorf("Err() after Done() of %s = nil; want the trailing bytes error", tc.in)
			}
		})
	}
	var r wire.Reader // the zero Reader reads an empty input
	if err := r.Done(); err != nil {
		t.Errorf("zero Reader Done() = %v; want nil", err)
	}
}

func TestStringRejectsInvalidUTF8(t *testing.T) {
	for _, tc := range []struct {
		name, in string
	}{
		{"lone continuation byte", "01 80"},
		{"invalid byte", "01 ff"},
		{"truncated sequence", "02 c3"},
		{"bad continuation", "02 c328"},
		{"overlong encoding", "02 c080"},
		{"surrogate half", "03 eda080"},
		{"past U+10FFFF", "04 f4908080"},
		{"valid then invalid", "07 7365637265748f"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := unhex(t, tc.in)
			r := wire.NewReader(in)
			if got := r.String(100); got != "" {
				t.Errorf("Reader(%s).String() = %q; want \"\"", tc.in, got)
			}
			wantMalformed(t, "Reader("+tc.in+").String() error", r.Err())
			// Bytes of the input (possibly health data) stay out of errors.
			if err := r.Err(); err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("Reader(%s).String() error %q contains the input", tc.in, err)
			}
		})
	}
}

func TestBool(t *testing.T) {
	for _, tc := range []struct {
		in   byte
		want bool
		ok   bool
	}{
		{0, false, true},
		{1, true, true},
		{2, false, false},
		{0x80, false, false},
		{0xff, false, false},
	} {
		r := wire.NewReader([]byte{tc.in})
		got := r.Bool()
		err := r.Done()
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("Reader(%02x).Bool() = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if !tc.ok {
			wantMalformed(t, "Bool error", err)
		}
	}
	r := wire.NewReader(nil)
	if got := r.Bool(); got {
		t.Errorf("Reader(empty).Bool() = true; want false")
	}
	wantMalformed(t, "Reader(empty).Bool() error", r.Err())
}

func TestLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		read func(*wire.Reader)
		ok   bool
	}{
		{"blob at limit", "03 616263", func(r *wire.Reader) { r.Blob(3) }, true},
		{"blob over limit", "03 616263", func(r *wire.Reader) { r.Blob(2) }, false},
		{"blob zero limit", "00", func(r *wire.Reader) { r.Blob(0) }, true},
		{"blob past end", "04 616263", func(r *wire.Reader) { r.Blob(10) }, false},
		{"string at limit", "03 616263", func(r *wire.Reader) { r.String(3) }, true},
		{"string over limit", "03 616263", func(r *wire.Reader) { r.String(2) }, false},
		{"count at limit", "02", func(r *wire.Reader) { r.Count(2) }, true},
		{"count over limit", "03", func(r *wire.Reader) { r.Count(2) }, false},
		{"strings at limits", "02 0161 0162", func(r *wire.Reader) { r.Strings(2, 1) }, true},
		{"strings too many", "02 0161 0162", func(r *wire.Reader) { r.Strings(1, 1) }, false},
		{"strings item too long", "02 0161 026263", func(r *wire.Reader) { r.Strings(2, 1) }, false},
		{"strings past end", "03 0161 0162", func(r *wire.Reader) { r.Strings(5, 1) }, false},
		{"raw exact", "0102", func(r *wire.Reader) { r.Raw(2) }, true},
		{"raw past end", "0102", func(r *wire.Reader) { r.Raw(3) }, false},
		{"raw negative", "0102", func(r *wire.Reader) { r.Raw(-1); r.Raw(2) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := wire.NewReader(unhex(t, tc.in))
			tc.read(r)
			err := r.Done()
			if (err == nil) != tc.ok {
				t.Errorf("%s on %s: Done() = %v; want ok %v", tc.name, tc.in, err, tc.ok)
			}
			if !tc.ok {
				wantMalformed(t, tc.name+" error", err)
			}
		})
	}
}

// TestOversizedLengthNoAllocation checks that a length or count that claims
// far more than the input holds is rejected before anything of that size is
// allocated, even under a generous limit.
func TestOversizedLengthNoAllocation(t *testing.T) {
	huge := func(n uint64) []byte {
		w := wire.NewWriter(0)
		w.Uint(n)
		w.Raw([]byte("abc"))
		return w.Bytes()
	}
	for _, tc := range []struct {
		name string
		in   []byte
		read func(*wire.Reader)
	}{
		{"blob", huge(1 << 62), func(r *wire.Reader) { r.Blob(math.MaxInt) }},
		{"blob max uint64", huge(math.MaxUint64), func(r *wire.Reader) { r.Blob(math.MaxInt) }},
		{"string", huge(1 << 40), func(r *wire.Reader) { r.String(math.MaxInt) }},
		{"strings count", huge(1 << 40), func(r *wire.Reader) { r.Strings(math.MaxInt, 16) }},
		{"strings count max int", huge(math.MaxInt), func(r *wire.Reader) { r.Strings(math.MaxInt, 16) }},
		{"count", huge(math.MaxUint64), func(r *wire.Reader) { r.Count(math.MaxInt) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r := wire.NewReader(tc.in)
			tc.read(r)
			err := r.Done()
			runtime.ReadMemStats(&after)
			wantMalformed(t, tc.name+" of "+hex.EncodeToString(tc.in), err)
			if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
				t.Errorf("reading %s of %x allocated %d bytes; want under 1 MiB", tc.name, tc.in, n)
			}
		})
	}
}

func TestStickyError(t *testing.T) {
	// A bad boolean, then data that would read fine on its own.
	r := wire.NewReader(unhex(t, "01 07 0161 05"))
	if got := r.Uint(); got != 1 {
		t.Fatalf("Uint() = %d; want 1", got)
	}
	r.Bool()
	first := r.Err()
	wantMalformed(t, "Bool() of 07", first)
	if !strings.Contains(first.Error(), "at byte 1") {
		t.Errorf("Bool() error = %q; want it to name byte 1", first)
	}
	if got := r.String(10); got != "" {
		t.Errorf("String() after an error = %q; want \"\"", got)
	}
	if got := r.Uint(); got != 0 {
		t.Errorf("Uint() after an error = %d; want 0", got)
	}
	if got := r.Blob(10); got != nil {
		t.Errorf("Blob() after an error = %x; want nil", got)
	}
	if got := r.Raw(1); got != nil {
		t.Errorf("Raw() after an error = %x; want nil", got)
	}
	if got := r.Strings(1, 1); got != nil {
		t.Errorf("Strings() after an error = %q; want nil", got)
	}
	if got := r.Count(10); got != 0 {
		t.Errorf("Count() after an error = %d; want 0", got)
	}
	if err := r.Done(); err != first {
		t.Errorf("Done() = %v; want the first error %v", err, first)
	}
}

// TestBlobAliasesWithoutOverrun checks that a returned blob cannot be
// appended to over the bytes that follow it in the input.
func TestBlobAliasesWithoutOverrun(t *testing.T) {
	in := unhex(t, "02 6162 63")
	r := wire.NewReader(in)
	b := r.Blob(10)
	_ = append(b, 'X')
	if got := r.Raw(1); !bytes.Equal(got, []byte("c")) {
		t.Errorf("Raw(1) after appending to the blob = %q; want \"c\"", got)
	}
}

func TestWriterNilEncodesEmpty(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(*wire.Writer)
	}{
		{"nil blob", func(w *wire.Writer) { w.Blob(nil) }},
		{"nil strings", func(w *wire.Writer) { w.Strings(nil) }},
		{"empty string", func(w *wire.Writer) { w.String("") }},
		{"false", func(w *wire.Writer) { w.Bool(false) }},
		{"zero", func(w *wire.Writer) { w.Uint(0) }},
	} {
		w := wire.NewWriter(0)
		tc.write(w)
		if got := w.Bytes(); !bytes.Equal(got, []byte{0}) {
			t.Errorf("%s = %x; want 00", tc.name, got)
		}
	}
}

// fuzzLimit is the limit a FuzzReader op passes: its parameter op/7 (0..36),
// with 35 and up meaning no limit.
func fuzzLimit(param int) int {
	if param >= 35 {
		return math.MaxInt
	}
	return param
}

// FuzzReader reads data with the sequence of reads that ops describes (op%7
// picks Uint, Bool, Blob, String, Count, Strings or Raw). Every
// input either fails with ErrMalformed or reads completely, in which case
// writing the values read gives back data exactly: the encoding is canonical.
func FuzzReader(f *testing.F) {
	w := wire.NewWriter(0)
	w.Uint(300)
	w.Bool(true)
	w.Blob([]byte("abc"))
	w.String("né")
	w.Strings([]string{"admin", "nurse"})
	w.Raw([]byte{1, 2, 3})
	// Uint, Bool, Blob(no limit), String(no limit), Strings(no limit), Raw(3).
	f.Add([]byte{0, 1, 2 + 7*35, 3 + 7*35, 5 + 7*35, 6 + 7*3}, w.Bytes())
	f.Add([]byte{0}, []byte{0x80, 0x00})
	f.Add([]byte{1}, []byte{2})
	f.Add([]byte{3 + 7*35}, []byte{1, 0xff})
	f.Add([]byte{2 + 7*35}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Add([]byte{5 + 7*35}, []byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{}, []byte{0})

	f.Fuzz(func(t *testing.T, ops, data []byte) {
		r := wire.NewReader(data)
		out := wire.NewWriter(len(data))
		for _, op := range ops {
			kind, param := op%7, int(op/7)
			switch kind {
			case 0:
				out.Uint(r.Uint())
			case 1:
				out.Bool(r.Bool())
			case 2:
				out.Blob(r.Blob(fuzzLimit(param)))
			case 3:
				s := r.String(fuzzLimit(param))
				if !utf8.ValidString(s) {
					t.Fatalf("String(%d) of %x = %q; want valid UTF-8", fuzzLimit(param), data, s)
				}
				out.String(s)
			case 4:
				out.Uint(uint64(r.Count(fuzzLimit(param))))
			case 5:
				ss := r.Strings(fuzzLimit(param), fuzzLimit(param))
				if len(ss) > fuzzLimit(param) {
					t.Fatalf("Strings(%d, ...) of %x returned %d items", fuzzLimit(param), data, len(ss))
				}
				out.Strings(ss)
			case 6:
				out.Raw(r.Raw(param))
			}
			if r.Len() < 0 || r.Len() > len(data) {
				t.Fatalf("Len() = %d for %d bytes of input", r.Len(), len(data))
			}
		}
		err := r.Done()
		if err != nil {
			if !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("Done() of ops %x on %x = %v; want an error wrapping ErrMalformed", ops, data, err)
			}
			return
		}
		if got := out.Bytes(); !bytes.Equal(got, data) {
			t.Fatalf("ops %x read %x, which re-encodes as %x; want the input (non-canonical form accepted)", ops, data, got)
		}
	})
}
