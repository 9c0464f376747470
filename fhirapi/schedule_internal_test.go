package fhirapi

import (
	"strings"
	"testing"
	"time"

	"github.com/careledger/careledger/contract/schedule"
	"github.com/careledger/careledger/fhir"
)

// FuzzDateCondition: any value of a date search parameter either parses
// into a condition or is refused as invalid input, never a panic.
func FuzzDateCondition(f *testing.F) {
	for _, v := range []string{"2026", "ge2026-12", "lt2026-12-03", "gt2026-12-03T10:00:00Z", "eq2026-12-03T10:00:00.5+01:00", "ap2026", "xx2020", "", "ge"} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		c, err := dateCondition(v)
		if err != nil {
			if _, ok := err.(*fhir.Error); !ok {
				t.Fatalf("dateCondition(%q) = %v; want a *fhir.Error", v, err)
			}
			return
		}
		c(time.Unix(0, 0))
	})
}

// FuzzSlotIDs: the id of any slot of a schedule the contract accepts is a
// FHIR id (at most 64 characters) that names that slot again.
func FuzzSlotIDs(f *testing.F) {
	f.Add("hospital-a", "gp", int64(1_772_438_400))
	f.Add(strings.Repeat("a", 64), strings.Repeat("x.", 32), int64(1<<63-1))
	f.Fuzz(func(t *testing.T, provider, id string, start int64) {
		if schedule.ValidSchedule(provider, id) != nil || start <= 0 {
			return
		}
		ref := schedule.SlotRef{Provider: provider, Schedule: id, Start: start}
		sid := slotID(ref)
		if !fhir.ValidID(sid) {
			t.Fatalf("slotID(%+v) = %q; want a FHIR id", ref, sid)
		}
		k := scheduleKey(provider, id)
		if p, s, ok := strings.Cut(k, "."); ok && (p != provider || s != id) {
			t.Fatalf("scheduleKey(%q, %q) = %q; does not name them", provider, id, k)
		}
		if !strings.HasPrefix(sid, k+".") || !hashedKey.MatchString(k) && !strings.Contains(k, ".") {
			t.Fatalf("slotID(%+v) = %q; want the key %q and the start", ref, sid, k)
		}
	})
}
