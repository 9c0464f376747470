package fhir

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Limits bound what Parse and ParseBundle accept. A zero field takes its
// default.
type Limits struct {
	// MaxResourceBytes bounds the JSON of one resource. Default 2 MiB.
	MaxResourceBytes int
	// MaxBundleBytes bounds the JSON of a Bundle. Default 16 MiB (Synthea
	// patient bundles reach 4 MB).
	MaxBundleBytes int
	// MaxBundleEntries bounds the entries of a Bundle. Default 10,000
	// (Synthea's hospital and practitioner bundles have 2,382).
	MaxBundleEntries int
	// MaxDepth bounds the nesting of JSON objects and arrays. Default 100.
	MaxDepth int
}

// DefaultLimits are the limits Parse and ParseBundle apply.
var DefaultLimits = Limits{
	MaxResourceBytes: 2 << 20,
	MaxBundleBytes:   16 << 20,
	MaxBundleEntries: 10_000,
	MaxDepth:         100,
}

// EnsureDefaults returns l with every zero field set to its default.
func (l Limits) EnsureDefaults() Limits {
	if l.MaxResourceBytes == 0 {
		l.MaxResourceBytes = DefaultLimits.MaxResourceBytes
	}
	if l.MaxBundleBytes == 0 {
		l.MaxBundleBytes = DefaultLimits.MaxBundleBytes
	}
	if l.MaxBundleEntries == 0 {
		l.MaxBundleEntries = DefaultLimits.MaxBundleEntries
	}
	if l.MaxDepth == 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	return l
}

// Validate reports a negative limit.
func (l Limits) Validate() error {
	if l.MaxResourceBytes < 0 || l.MaxBundleBytes < 0 || l.MaxBundleEntries < 0 || l.MaxDepth < 0 {
		return errors.New("fhir limits must not be negative")
	}
	return nil
}

// Resource is one parsed FHIR resource: its type, id and meta, and the decoded
// JSON tree. The content stays unexported; callers get it back as canonical
// JSON.
type Resource struct {
	typ    string
	id     string
	tree   map[string]any
	srcLen int // length of the parsed JSON, to size buffers
}

// Meta is the part of Resource.meta that the server maintains.
type Meta struct {
	VersionID   string    // "" when absent
	LastUpdated time.Time // zero when absent
}

// Parse parses one resource with DefaultLimits.
func Parse(b []byte) (*Resource, error) { return DefaultLimits.Parse(b) }

// Parse parses one resource: a JSON object whose resourceType is an R4
// resource type, whose id (if any) is a valid FHIR id and whose
// meta.versionId and meta.lastUpdated (if any) are well formed. It does not
// check the rest against the schema; see Validator.
func (l Limits) Parse(b []byte) (*Resource, error) {
	l = l.EnsureDefaults()
	if len(b) > l.MaxResourceBytes {
		return nil, errorAt(ErrTooLarge, "", "", "resource of %d bytes exceeds the limit of %d", len(b), l.MaxResourceBytes)
	}
	v, err := decodeJSON(b, l.MaxDepth)
	if err != nil {
		return nil, errorAt(ErrInvalid, "structure", "", "%v", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errorAt(ErrInvalid, "structure", "", "a resource must be a JSON object")
	}
	r, err := newResource(m, "")
	if err != nil {
		return nil, err
	}
	r.srcLen = len(b)
	return r, nil
}

// newResource checks the fields Resource exposes. at is the expression of
// the resource within its container ("" at top level), for error paths.
func newResource(m map[string]any, at string) (*Resource, error) {
	rt, present := m["resourceType"]
	if !present {
		return nil, errorAt(ErrInvalid, "required", joinKey(at, "resourceType"), "resourceType is required")
	}
	typ, ok := rt.(string)
	if !ok {
		return nil, errorAt(ErrInvalid, "structure", joinKey(at, "resourceType"), "resourceType must be a string")
	}
	if !IsResourceType(typ) {
		return nil, errorAt(ErrUnsupported, "not-supported", joinKey(at, "resourceType"), "resourceType is not an R4 resource type")
	}
	if at == "" {
		at = typ
	}
	r := &Resource{typ: typ, tree: m}
	if v, present := m["id"]; present {
		id, ok := v.(string)
		if !ok || !ValidID(id) {
			return nil, errorAt(ErrInvalid, "value", joinKey(at, "id"), "id must be 1 to 64 letters, digits, '-' or '.'")
		}
		r.id = id
	}
	if v, present := m["meta"]; present {
		meta, ok := v.(map[string]any)
		if !ok {
			return nil, errorAt(ErrInvalid, "structure", joinKey(at, "meta"), "meta must be an object")
		}
		if v, present := meta["versionId"]; present {
			if s, ok := v.(string); !ok || !ValidID(s) {
				return nil, errorAt(ErrInvalid, "value", joinKey(joinKey(at, "meta"), "versionId"), "versionId must be a valid id")
			}
		}
		if v, present := meta["lastUpdated"]; present {
			if s, ok := v.(string); !ok || !validInstant(s) {
				return nil, errorAt(ErrInvalid, "value", joinKey(joinKey(at, "meta"), "lastUpdated"), "lastUpdated must be an instant")
			}
		}
	}
	return r, nil
}

// CheckID returns nil if s is a FHIR id (see ValidID), or else an
// ErrInvalid Error that does not repeat s: an id may be health data.
func CheckID(s string) error {
	if !ValidID(s) {
		return NewError(ErrInvalid, Issue{Diagnostics: "an id must be 1 to 64 letters, digits, '-' or '.'"})
	}
	return nil
}

// ValidID reports whether s is a FHIR id: 1 to 64 ASCII letters, digits,
// '-' and '.'.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// validInstant reports whether s is a FHIR instant: a date-time with seconds
// and a time zone.
func validInstant(s string) bool {
	if len(s) < len("2006-01-02T15:04:05Z") {
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

// IsResourceType reports whether typ is an R4 resource type.
func IsResourceType(typ string) bool { return resourceTypes[typ] }

// Type returns the resourceType.
func (r *Resource) Type() string { return r.typ }

// ID returns the logical id, or "" if the resource has none.
func (r *Resource) ID() string { return r.id }

// Meta returns the versionId and lastUpdated of the resource's meta.
func (r *Resource) Meta() Meta {
	var meta Meta
	m, _ := r.tree["meta"].(map[string]any)
	meta.VersionID, _ = m["versionId"].(string)
	if s, ok := m["lastUpdated"].(string); ok {
		meta.LastUpdated, _ = time.Parse(time.RFC3339Nano, s)
	}
	return meta
}

// SetID sets the logical id, as the server does on create.
func (r *Resource) SetID(id string) error {
	if !ValidID(id) {
		return errorAt(ErrInvalid, "value", r.typ+".id", "id must be 1 to 64 letters, digits, '-' or '.'")
	}
	r.id = id
	r.tree["id"] = id
	return nil
}

// SetMeta sets meta.versionId and meta.lastUpdated (in UTC, with as many
// fractional digits as updated needs), keeping the rest of meta (profiles,
// tags, security labels).
func (r *Resource) SetMeta(version int, updated time.Time) {
	m, ok := r.tree["meta"].(map[string]any)
	if !ok {
		m = make(map[string]any, 2)
		r.tree["meta"] = m
	}
	m["versionId"] = strconv.Itoa(version)
	m["lastUpdated"] = updated.UTC().Format(time.RFC3339Nano)
}

// Canonical returns the resource's canonical JSON: no insignificant
// whitespace, object keys sorted bytewise, numbers exactly as they were
// written and strings escaped minimally. Resources with the same content
// have the same canonical bytes, whatever formatting they arrived in, and
// Parse(r.Canonical()) has the same canonical bytes again.
func (r *Resource) Canonical() []byte {
	n := r.srcLen
	if n == 0 {
		n = 1024
	}
	return appendCanonical(make([]byte, 0, n), r.tree)
}

// MarshalJSON returns the canonical JSON, so a Resource can be embedded in
// values given to encoding/json.
func (r *Resource) MarshalJSON() ([]byte, error) { return r.Canonical(), nil }

// Clone returns a deep copy that shares nothing with r.
func (r *Resource) Clone() *Resource {
	c := *r
	c.tree = cloneTree(r.tree).(map[string]any)
	return &c
}

// String names the resource without its content, for logs.
func (r *Resource) String() string {
	if r.id == "" {
		return r.typ
	}
	return fmt.Sprintf("%s/%s", r.typ, r.id)
}
