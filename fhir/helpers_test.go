package fhir_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/careledger/careledger/fhir"
)

// sharedDir is the shared test data, beside the repository checkout.
const sharedDir = "../../shared/data"

// readShared returns a file of the shared test data, skipping the test when
// the folder is absent (CI has it).
func readShared(tb testing.TB, rel string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(sharedDir, rel))
	if os.IsNotExist(err) {
		tb.Skipf("shared test data absent (%s); CI runs this test", filepath.Join(sharedDir, rel))
	}
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// globShared lists files of the shared test data, skipping when absent.
func globShared(tb testing.TB, pattern string) []string {
	tb.Helper()
	if _, err := os.Stat(sharedDir); os.IsNotExist(err) {
		tb.Skipf("shared test data absent (%s); CI runs this test", sharedDir)
	}
	files, err := filepath.Glob(filepath.Join(sharedDir, pattern))
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatalf("no files match %s in %s", pattern, sharedDir)
	}
	return files
}

var (
	validatorOnce sync.Once
	validatorVal  *fhir.Validator
	validatorErr  error
)

// testValidator returns one Validator for all tests, over the shared schema.
func testValidator(tb testing.TB) *fhir.Validator {
	tb.Helper()
	schema := readShared(tb, "fhir-schema/fhir.schema.json")
	validatorOnce.Do(func() { validatorVal, validatorErr = fhir.NewValidator(schema) })
	if validatorErr != nil {
		tb.Fatal(validatorErr)
	}
	return validatorVal
}

// memStore is an in-memory store whose Lookup runs queries with this
// package's own search.
type memStore struct {
	byType  map[string][]*fhir.Resource
	lookups int
	err     error // returned by every Lookup when set
}

var _ fhir.Resolver = (*memStore)(nil)

func newMemStore() *memStore { return &memStore{byType: map[string][]*fhir.Resource{}} }

func (s *memStore) put(r *fhir.Resource) {
	list := s.byType[r.Type()]
	for i, old := range list {
		if old.ID() == r.ID() {
			list[i] = r
			return
		}
	}
	s.byType[r.Type()] = append(list, r)
}

func (s *memStore) Lookup(typ string, q url.Values) ([]string, error) {
	s.lookups++
	if s.err != nil {
		return nil, s.err
	}
	query, err := fhir.ParseQuery(typ, q)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, r := range s.byType[typ] {
		if query.Match(r) {
			ids = append(ids, r.ID())
		}
	}
	return ids, nil
}

// apply stores the creates and updates of a plan.
func (s *memStore) apply(p *fhir.Plan) {
	for _, op := range p.Ops {
		if op.Err == nil && op.Resource != nil {
			s.put(op.Resource)
		}
	}
}

// idGen returns a newID function giving "<prefix>-1", "<prefix>-2", ...
func idGen(prefix string) func(string) string {
	n := 0
	return func(string) string {
		n++
		return fmt.Sprintf("%s-%d", prefix, n)
	}
}

// references returns every Reference.reference string in a resource.
func references(t testing.TB, r *fhir.Resource) []string {
	t.Helper()
	var tree any
	if err := json.Unmarshal(r.Canonical(), &tree); err != nil {
		t.Fatal(err)
	}
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				if s, ok := c.(string); ok && k == "reference" {
					refs = append(refs, s)
					continue
				}
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(tree)
	return refs
}

// mustParse parses a resource or fails the test.
func mustParse(tb testing.TB, s string) *fhir.Resource {
	tb.Helper()
	r, err := fhir.Parse([]byte(s))
	if err != nil {
		tb.Fatalf("Parse(%s) = %v", s, err)
	}
	return r
}
