package fhir

import "slices"

//go:generate go test -run=TestTables -update

// tables_gen.go holds two tables generated from the R4 definitions in
// ../../shared/data (the JSON schema and Bundle-searchParams.json) by
// TestTables in tables_test.go: run `go generate ./fhir`, or
// `go test ./fhir -run TestTables -update`, and review the diff. Without
// -update, TestTables checks that the checked-in tables still match the
// definitions.
//
//   - resourceTypes: every R4 resource type.
//   - searchParams: for the resource types CareLedger serves, the search
//     parameters it supports, each with the elements it reads.
//   - patientTypes: every R4 type with a patient search parameter, served
//     or not.

// paramType is a search parameter's type. Only the types of the supported
// parameters are listed.
type paramType uint8

const (
	paramToken paramType = iota + 1
	paramDate
	paramReference
	paramString
)

func (t paramType) String() string {
	switch t {
	case paramToken:
		return "token"
	case paramDate:
		return "date"
	case paramReference:
		return "reference"
	case paramString:
		return "string"
	}
	return "unknown"
}

// searchParam is one search parameter of one resource type.
type searchParam struct {
	typ     paramType
	paths   []elementPath
	targets []string // for references: the types the parameter may point to
}

// elementPath is one element a parameter reads: the JSON property names
// from the resource root (a choice element such as Observation.effective[x]
// is listed once per concrete name), the element's FHIR type, and for
// references, the only target type the expression accepts (from
// "where(resolve() is Patient)").
type elementPath struct {
	keys    []string
	typ     string
	refType string
}

// paramFor returns the parameter code of resource type typ, or nil.
func paramFor(typ, code string) *searchParam {
	if p := searchParams[typ][code]; p != nil {
		return p
	}
	return searchParams["Resource"][code]
}

// ResourceTypes returns every R4 resource type, sorted.
func ResourceTypes() []string {
	ts := make([]string, 0, len(resourceTypes))
	for t := range resourceTypes {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	return ts
}

// SearchTypes returns the resource types with search parameters, sorted.
func SearchTypes() []string {
	var ts []string
	for t := range searchParams {
		if t != "Resource" {
			ts = append(ts, t)
		}
	}
	slices.Sort(ts)
	return ts
}
