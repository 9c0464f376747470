package fhirapi

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestScopeNeeds checks that every authenticated route of the package's
// route tables (a composite literal starting with "METHOD /fhir...") has
// its line in needs, so that a token limited by scopes is not refused a
// route merely because it was added without one, and that each line of
// needs is a pattern New registers.
func TestScopeNeeds(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var parsed []*ast.File
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, f)
	}
	route := regexp.MustCompile(`^(GET|POST|PUT|PATCH|DELETE) /fhir`)
	found := 0
	inspect := func(n ast.Node) bool {
		lit, ok := n.(*ast.CompositeLit)
		if !ok || len(lit.Elts) == 0 {
			return true
		}
		first, ok := lit.Elts[0].(*ast.BasicLit)
		if !ok || first.Kind != token.STRING {
			return true
		}
		pattern, _ := strconv.Unquote(first.Value)
		if !route.MatchString(pattern) {
			return true
		}
		found++
		if _, ok := needs[pattern]; !ok {
			t.Errorf("route %s has no line in needs: scoped tokens are refused it", pattern)
		}
		return true
	}
	for _, f := range parsed {
		ast.Inspect(f, inspect)
	}
	if found < len(needs) {
		t.Errorf("found %d routes in the source; needs has %d lines", found, len(needs))
	}

	s := New(Options{})
	for pattern := range needs {
		method, path, _ := strings.Cut(pattern, " ")
		url := regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(strings.TrimSuffix(path, "{$}"), "x")
		if _, got := s.mux.Handler(httptest.NewRequest(method, url, nil)); got != pattern {
			t.Errorf("needs lists %s, but %s %s is served by %q", pattern, method, url, got)
		}
	}
}
