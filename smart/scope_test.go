package smart_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/careledger/careledger/smart"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want "" with an error expected unless in is ""
	}{
		{"", ""},
		{"patient/Observation.rs", "patient/Observation.rs"},
		{"user/*.cruds system/*.rs", "user/*.cruds system/*.rs"},
		{"patient/Condition.c patient/Condition.d", "patient/Condition.c patient/Condition.d"},
		{"patient/Observation.read", "patient/Observation.rs"},
		{"user/*.write", "user/*.cud"},
		{"user/Patient.*", "user/Patient.cruds"},
		{"patient/Observation.rs patient/Observation.rs", "patient/Observation.rs"},
	} {
		ss, err := smart.Parse(tc.in)
		if err != nil || ss.String() != tc.want {
			t.Errorf("Parse(%q) = %q, %v; want %q", tc.in, ss, err, tc.want)
		}
	}
	for _, bad := range []string{
		" ", "patient/Observation.rs ", "patient/Observation.rs  user/*.r", "openid", "launch/patient", "fhirUser",
		"patient/Observation", "patient/Observation.", "patient/Observation.sr", "patient/Observation.rr",
		"patient/Observation.x", "patient/observation.rs", "patient/Foo.rs", "admin/*.rs", "patient/*.rs?category=x",
		"Patient/*.rs", "patient/.rs", "/Observation.rs", "patient/*.READ", strings.Repeat("user/*.r ", 40),
	} {
		if ss, err := smart.Parse(bad); !errors.Is(err, smart.ErrScope) {
			t.Errorf("Parse(%q) = %q, %v; want an invalid scope error", bad, ss, err)
		}
	}
}

func TestCover(t *testing.T) {
	must := func(s string) smart.Scopes {
		ss, err := smart.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return ss
	}
	for _, tc := range []struct {
		scopes string
		p      smart.Perms
		typ    string
		want   smart.Coverage
	}{
		{"", smart.All, "Observation", smart.Full}, // not limited
		{"patient/Observation.rs", smart.Read, "Observation", smart.Compartment},
		{"patient/Observation.rs", smart.Search, "Observation", smart.Compartment},
		{"patient/Observation.rs", smart.Read, "Condition", smart.None},
		{"patient/Observation.rs", smart.Create, "Observation", smart.None},
		{"patient/Observation.rs", smart.Read | smart.Search, "*", smart.None},
		{"user/*.cruds", smart.Delete, "Condition", smart.Full},
		{"user/*.cruds", smart.Read | smart.Search, "*", smart.Full},
		{"system/Observation.r", smart.Read, "Observation", smart.Full},
		{"patient/*.rs user/Observation.r", smart.Read, "Observation", smart.Full},
		{"patient/*.rs user/Observation.r", smart.Read | smart.Search, "Observation", smart.Compartment},
		{"patient/Observation.r user/Observation.s", smart.Read | smart.Search, "Observation", smart.Compartment},
		{"user/Observation.r user/Observation.s", smart.Read | smart.Search, "Observation", smart.Full},
	} {
		if got := must(tc.scopes).Cover(tc.p, tc.typ); got != tc.want {
			t.Errorf("Parse(%q).Cover(%s, %s) = %d; want %d", tc.scopes, tc.p, tc.typ, got, tc.want)
		}
	}
}

// FuzzParse checks that whatever Parse accepts is bounded and reads back
// the same from its canonical form.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "patient/Observation.rs", "user/*.cruds system/*.rs", "patient/*.read", "user/Patient.*",
		"openid fhirUser", "patient/Observation.rs?x=1", "patient/Observation.sr", "user/*.write user/*.write"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ss, err := smart.Parse(s)
		if err != nil {
			if !errors.Is(err, smart.ErrScope) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrScope", s, err)
			}
			return
		}
		if len(ss) > smart.MaxScopes {
			t.Fatalf("Parse(%q) = %d scopes; want at most %d", s, len(ss), smart.MaxScopes)
		}
		again, err := smart.Parse(ss.String())
		if err != nil || again.String() != ss.String() {
			t.Fatalf("Parse(%q).String() = %q reparses as %q, %v", s, ss, again, err)
		}
		for _, sc := range ss {
			if sc.Perms == 0 || sc.Perms&^smart.All != 0 || sc.Level < smart.Patient || sc.Level > smart.System {
				t.Fatalf("Parse(%q) gave scope %+v", s, sc)
			}
		}
	})
}
