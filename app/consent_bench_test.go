package app_test

import (
	"slices"
	"testing"
	"time"

	"github.com/careledger/careledger/apptest"
	"github.com/careledger/careledger/contract"

	"github.com/careledger/careledger/contract/condition"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
)

// BenchmarkDecide measures one access decision in process, as FinalizeBlock
// makes it, against committed state: "policy" is permitted by the default
// policy, the baseline, and "grants" scans a patient's 16 grants in force
// (conditions included) to permit by the last one. Each reports its p99.
//
//	go test ./app -run '^$' -bench Decide
func BenchmarkDecide(b *testing.B) {
	c := newCareChain(b)
	for i := range 16 {
		g := consent.Grant{
			Patient: apptest.Addr(c.patient), Grantee: consent.Grantee{Org: apptest.OrgC}, Scope: consent.Scope{Types: []string{"Condition"}},
			Purposes: []string{"TREAT"}, Condition: `now.getHours() >= 0`,
		}
		if i == 15 {
			g.Grantee, g.Scope.Types = consent.Grantee{Org: apptest.OrgB, Role: identity.Physician}, []string{"Observation"}
		}
		c.send(b, c.patient, contract.Encode(g))
	}
	d := consent.Decider{Engine: condition.NewEngine(64)}
	view := c.app.State()
	now := time.Now()
	for _, tc := range []struct {
		name      string
		requester identity.Account
	}{
		{"policy", *loadAccount(b, c.app, apptest.Addr(c.drA))},
		{"grants", *loadAccount(b, c.app, apptest.Addr(c.drB))},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req := consent.Requester{Account: &tc.requester, OrgType: identity.Provider}
			m := consent.Access{Requester: tc.requester.Address, Patient: apptest.Addr(c.patient), Purpose: "TREAT", Items: []consent.Item{lab}}
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				ds, err := d.Decide(view, apptest.OrgA, req, m, now)
				lat = append(lat, time.Since(start))
				if err != nil || !ds[0].Permit {
					b.Fatalf("Decide = %+v, %v; want a permit", ds, err)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}
