package fhir

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// FuzzParse checks resource decoding: Parse never panics, refuses with an
// *Error of a known kind, agrees with encoding/json on what it accepts, and
// its canonical form is a fixed point:
// Canonical(Parse(Canonical(x))) == Canonical(x), with the same content.
// Seeds: testdata/fuzz/FuzzParse (small HL7 and Synthea resources).
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Patient","id":"p1","meta":{"versionId":"2","lastUpdated":"2020-01-01T00:00:00.5Z"}}`))
	f.Add([]byte(`{"resourceType":"Basic","a":[1.50,-0,1e+05,"\ud83d\ude00\u0001"],"a":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAgainstStd(t, data)
		r, err := Parse(data)
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) || len(fe.Issues) == 0 {
				t.Fatalf("Parse(%q) = %v (%T); want an *Error with issues", data, err, err)
			}
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Parse(%q) = %v; want kind invalid, unsupported or too large", data, err)
			}
			return
		}
		c := r.Canonical()
		r2, err := Parse(c)
		if err != nil {
			t.Fatalf("Parse(Canonical(Parse(%q))) = %v", data, err)
		}
		if c2 := r2.Canonical(); !bytes.Equal(c, c2) {
			t.Fatalf("Canonical is not a fixed point for %q:\n%s\n%s", data, c, c2)
		}
		if r2.Type() != r.Type() || r2.ID() != r.ID() || r2.Meta() != r.Meta() {
			t.Fatalf("Parse(Canonical) = %s %+v; want %s %+v", r2, r2.Meta(), r, r.Meta())
		}
		orig, _ := stdDecode(data)
		back, _ := stdDecode(c)
		if !reflect.DeepEqual(orig, back) {
			t.Fatalf("Canonical(Parse(%q)) = %s changes the content", data, c)
		}
	})
}

// fuzzStore answers lookups from a hash of the query: none, one or two
// matches, so that every branch of resolution is reached.
type fuzzStore struct{}

func (fuzzStore) Lookup(typ string, q url.Values) ([]string, error) {
	h := fnv.New32a()
	h.Write([]byte(typ + "?" + q.Encode()))
	switch h.Sum32() % 3 {
	case 0:
		return nil, nil
	case 1:
		return []string{"stored-1"}, nil
	default:
		return []string{"stored-1", "stored-2"}, nil
	}
}

// FuzzBundleResolve checks Bundle parsing and reference resolution: they
// never panic; a failure has a known kind and, for a transaction, leaves the
// resources untouched; a success leaves no urn:uuid, urn:oid or conditional
// reference in any planned resource, and every planned id is valid.
// Seeds: testdata/fuzz/FuzzBundleResolve (excerpts of Synthea and HL7
// bundles).
func FuzzBundleResolve(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:a","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},{"fullUrl":"urn:uuid:b","resource":{"resourceType":"Observation","subject":{"reference":"urn:uuid:a"},"performer":[{"reference":"Practitioner?identifier=x|1"}]},"request":{"method":"POST","url":"Observation"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBundle(data)
		if err != nil {
			if _, known := kindOf(err); !known {
				t.Fatalf("ParseBundle = %v; want an error of a known kind", err)
			}
			return
		}
		before := make([][]byte, len(b.Entries))
		for i, e := range b.Entries {
			if e.Resource != nil {
				before[i] = e.Resource.Canonical()
			}
		}
		n := 0
		newID := func(string) string { n++; return fmt.Sprintf("new-%d", n) }
		plan, err := Resolve(b, newID, fuzzStore{})
		if err != nil {
			if _, known := kindOf(err); !known {
				t.Fatalf("Resolve = %v; want an error of a known kind", err)
			}
			if b.Type != "transaction" {
				t.Fatalf("Resolve(batch) = %v; want per-entry errors", err)
			}
			for i, e := range b.Entries {
				if e.Resource != nil && !bytes.Equal(e.Resource.Canonical(), before[i]) {
					t.Fatalf("a failed transaction changed entry %d", i)
				}
			}
			return
		}
		if len(plan.Ops) != len(b.Entries) {
			t.Fatalf("%d ops for %d entries", len(plan.Ops), len(b.Entries))
		}
		for i, op := range plan.Ops {
			if op.Err != nil {
				if b.Type == "transaction" {
					t.Fatalf("op %d of a transaction has an error: %v", i, op.Err)
				}
				if _, known := kindOf(op.Err); !known {
					t.Fatalf("op %d: %v; want an error of a known kind", i, op.Err)
				}
				continue
			}
			if op.ID != "" && !ValidID(op.ID) || (op.Action == ActionCreate || op.Action == ActionUpdate) && (op.Resource == nil || op.Resource.ID() != op.ID) {
				t.Fatalf("op %d = %v %s/%s with resource %v", i, op.Action, op.Type, op.ID, op.Resource)
			}
			if op.Resource == nil {
				continue
			}
			eachReference(op.Resource.tree, func(s string) {
				typ, _, conditional := strings.Cut(s, "?")
				if strings.HasPrefix(s, "urn:uuid:") || strings.HasPrefix(s, "urn:oid:") || conditional && IsResourceType(typ) {
					t.Fatalf("op %d: reference left unresolved", i)
				}
			})
		}
	})
}

// eachReference calls fn with every Reference.reference string in a tree.
func eachReference(v any, fn func(string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			if s, ok := c.(string); ok && k == "reference" {
				fn(s)
				continue
			}
			eachReference(c, fn)
		}
	case []any:
		for _, c := range v {
			eachReference(c, fn)
		}
	}
}

// idPattern is the FHIR R4 id type's regex, the naive reference for ValidID.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9\-\.]{1,64}$`)

// FuzzValidID checks ValidID against the specification's regex, and that
// CheckID agrees with it and answers every invalid id with the same text,
// which so repeats none.
func FuzzValidID(f *testing.F) {
	for _, s := range []string{"p1", "..", "../../etc", "a\\b", "a\x00b", "a_b", "_history", "$lastn",
		strings.Repeat("a", 64), strings.Repeat("a", 65), "", "é", "a\nb", "A-Z.09"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := idPattern.MatchString(s)
		if got := ValidID(s); got != want {
			t.Fatalf("ValidID(%q) = %v; want %v", s, got, want)
		}
		err := CheckID(s)
		if (err == nil) != want {
			t.Fatalf("CheckID(%q) = %v; want valid %v", s, err, want)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalid) || StatusOf(err) != 400 {
				t.Fatalf("CheckID(%q) = %v (status %d); want ErrInvalid, 400", s, err, StatusOf(err))
			}
			if err.Error() != CheckID("!").Error() {
				t.Fatalf("CheckID(%q) = %v; want the one text of every invalid id, which repeats none", s, err)
			}
		}
	})
}
