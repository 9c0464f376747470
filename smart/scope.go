// Package smart holds the SMART App Launch v2 scopes a CareLedger bearer
// token may be limited to: parsing the scope string of a token request,
// the canonical form a token carries, and whether a token's scopes cover
// an interaction with a resource type. It is pure functions; it imports
// only fhir, to know the R4 resource types.
package smart

import (
	"errors"
	"fmt"
	"strings"

	"github.com/careledger/careledger/fhir"
)

// Level is a scope's context: whose records it concerns.
type Level uint8

// The levels of SMART v2 scopes.
const (
	// Patient: the records of the patients the token's holder acts for
	// (the holder, if a patient, and those who named the holder delegate).
	Patient Level = iota + 1
	// User: whatever the holder may see, as the consent contract decides.
	User
	// System: as User, for the service and member accounts of
	// organizations; a patient may not hold it.
	System
)

var levelNames = [...]string{Patient: "patient", User: "user", System: "system"}

func (l Level) String() string { return levelNames[l] }

// Perms is a set of SMART v2 permissions.
type Perms uint8

// The permissions, in the order SMART v2 writes them ("cruds").
const (
	Create Perms = 1 << iota
	Read
	Update
	Delete
	Search
	// All is "cruds".
	All = Create | Read | Update | Delete | Search
)

const permLetters = "cruds"

// String returns p as SMART v2 writes it, such as "rs".
func (p Perms) String() string {
	var b strings.Builder
	for i := range len(permLetters) {
		if p&(1<<i) != 0 {
			b.WriteByte(permLetters[i])
		}
	}
	return b.String()
}

// Scope is one SMART v2 resource scope, such as patient/Observation.rs.
type Scope struct {
	Level Level
	Type  string // a FHIR R4 resource type, or "*" for every type
	Perms Perms
}

// String returns s in canonical SMART v2 form.
func (s Scope) String() string { return s.Level.String() + "/" + s.Type + "." + s.Perms.String() }

// Scopes are the scopes a token is limited to. Nil means not limited: a
// token requested without scopes may do whatever its account may.
type Scopes []Scope

// Bounds on a scope string, which a token carries.
const (
	MaxScopes = 32
	MaxLen    = 2048
)

// ErrScope is the error Parse wraps: the scope string is not one this
// server grants.
var ErrScope = errors.New("invalid scope")

func scopeError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrScope, fmt.Sprintf(format, args...))
}

// Parse parses a space-separated list of SMART v2 resource scopes, as
// RFC 6749 writes a scope parameter (one space between scopes). It accepts
// the SMART v1 permissions "read" (as "rs"), "write" (as "cud") and "*" (as
// "cruds"); it refuses anything else: other scopes (openid, launch, ...),
// scope query parameters, unknown resource types, and permissions out of
// order or repeated. An exact repeat of a scope is dropped. "" is nil: no
// limit.
func Parse(s string) (Scopes, error) {
	if s == "" {
		return nil, nil
	}
	if len(s) > MaxLen {
		return nil, scopeError("a scope string is at most %d bytes", MaxLen)
	}
	parts := strings.Split(s, " ")
	if len(parts) > MaxScopes {
		return nil, scopeError("at most %d scopes", MaxScopes)
	}
	var out Scopes
	seen := map[Scope]bool{}
	for _, p := range parts {
		sc, err := parseOne(p)
		if err != nil {
			return nil, err
		}
		if !seen[sc] {
			seen[sc] = true
			out = append(out, sc)
		}
	}
	if len(out.String()) > MaxLen { // v1 aliases lengthen: "*" is "cruds"
		return nil, scopeError("a scope string is at most %d bytes", MaxLen)
	}
	return out, nil
}

func parseOne(s string) (Scope, error) {
	if s == "" {
		return Scope{}, scopeError("scopes are separated by single spaces")
	}
	q := fmt.Sprintf("%.64q", s) // bounded: the string is the client's
	if strings.Contains(s, "?") {
		return Scope{}, scopeError("scope %s: query parameters in scopes are not supported", q)
	}
	level, rest, ok := strings.Cut(s, "/")
	var sc Scope
	for l, name := range levelNames {
		if name != "" && name == level {
			sc.Level = Level(l)
		}
	}
	if !ok || sc.Level == 0 {
		return Scope{}, scopeError("scope %s: only resource scopes (patient/, user/ or system/) are granted", q)
	}
	typ, perms, ok := strings.Cut(rest, ".")
	if !ok {
		return Scope{}, scopeError("scope %s: a resource scope is CONTEXT/TYPE.PERMISSIONS", q)
	}
	if typ != "*" && !fhir.IsResourceType(typ) {
		return Scope{}, scopeError("scope %s: not an R4 resource type or *", q)
	}
	sc.Type = typ
	p, err := parsePerms(perms)
	if err != nil {
		return Scope{}, scopeError("scope %s: %v", q, err)
	}
	sc.Perms = p
	return sc, nil
}

// parsePerms parses SMART v2 permissions ("cruds" or a part of it, in that
// order) or a v1 alias.
func parsePerms(s string) (Perms, error) {
	switch s {
	case "read":
		return Read | Search, nil
	case "write":
		return Create | Update | Delete, nil
	case "*":
		return All, nil
	}
	var p Perms
	next := 0 // permLetters before next are used or skipped
	for i := range len(s) {
		j := strings.IndexByte(permLetters[next:], s[i])
		if j < 0 {
			return 0, errors.New(`permissions are letters of "cruds", in that order, each once (or v1's read, write, *)`)
		}
		next += j + 1
		p |= 1 << (next - 1)
	}
	if p == 0 {
		return 0, errors.New("no permissions")
	}
	return p, nil
}

// String returns ss as a scope string in canonical form; "" for nil.
func (ss Scopes) String() string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.String()
	}
	return strings.Join(parts, " ")
}

// Has reports whether any of ss is at level l.
func (ss Scopes) Has(l Level) bool {
	for _, s := range ss {
		if s.Level == l {
			return true
		}
	}
	return false
}

// Coverage is how a token's scopes cover an interaction.
type Coverage uint8

// The coverages, from none to full.
const (
	// None: no scope covers it; the request is refused.
	None Coverage = iota
	// Compartment: only patient/ scopes cover it, so it is allowed on the
	// records of the patients the token's holder acts for, and on records
	// about no patient.
	Compartment
	// Full: a user/ or system/ scope covers it (or the token is not
	// limited); the consent contract alone decides.
	Full
)

// Cover returns how ss cover the permissions p on records of type typ
// ("*" asks for every type, which only a scope of type "*" covers). Each
// permission of p is covered by some scope, and the result is the least of
// their coverages.
func (ss Scopes) Cover(p Perms, typ string) Coverage {
	if ss == nil {
		return Full
	}
	least := Full
	for bit := Perms(1); bit <= All; bit <<= 1 {
		if p&bit == 0 {
			continue
		}
		best := None
		for _, s := range ss {
			if s.Perms&bit != 0 && (s.Type == "*" || s.Type == typ) {
				best = max(best, s.coverage())
			}
		}
		least = min(least, best)
	}
	return least
}

func (s Scope) coverage() Coverage {
	if s.Level == Patient {
		return Compartment
	}
	return Full
}
