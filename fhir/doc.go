// Package fhir is the FHIR R4 logic of a CareLedger node's /fhir API, free
// of I/O so that the HTTP layer, the importer and the tests share it:
//
//   - Parse decodes a resource (exact numbers, no duplicate keys, size and
//     depth limits) and Resource.Canonical gives its canonical bytes, the
//     same for the same content, for hashing.
//   - Validator checks resources against the R4 JSON schema, one compiled
//     type at a time.
//   - ParseQuery and Query.Match run searches on the parameters CareLedger
//     supports (_id, _lastUpdated, patient, subject, code, date, category,
//     identifier, status), from a table generated from the R4
//     SearchParameter definitions; Query.Patient names the patient a search
//     is confined to.
//   - ParseBundle and Resolve plan a transaction or batch: ids for created
//     resources, conditional creates, updates and deletes, and references
//     rewritten from urn:uuid fullUrls and conditional references
//     ("Organization?identifier=...") to Type/id. ResponseBundle reports the
//     outcome.
//   - PatientOf and Categories give what access control needs: whose data a
//     resource is, and its categories for consent scopes.
//   - Error, Issue and Outcome map every failure to an HTTP status and an
//     OperationOutcome; a CodedError (a transaction rejection) brings its
//     own, from package tx's table. Errors name the element and the rule, never the
//     element's content, which may be health data.
//
// The caller supplies what needs the outside world: the schema's bytes (to
// NewValidator), new ids (to Resolve), and a Resolver that searches its
// store. Nothing here reads files, the clock or the network.
//
// fhir imports only the standard library and
// github.com/santhosh-tekuri/jsonschema/v6 (for the schema); no CareLedger
// package.
package fhir
