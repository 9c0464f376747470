package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/demo"
	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
)

// TestScheduleAndProgramLists reads, on a demo node, what a clinician's
// and a patient's pages list: each provider's schedules with their
// policies (none for a payer), and every reward program with its ID.
func TestScheduleAndProgramLists(t *testing.T) {
	n := nodetest.Start(t, demo.InitOptions(node.Config{}))
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if _, err := demo.Seed(ctx, n.Client, keys.Dir(filepath.Join(n.Home, "keys"))); err != nil {
		t.Fatalf("seed the demo: %v", err)
	}
	token := n.Token(t, n.Admin)
	get := func(path string, v any) int {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", n.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode == http.StatusOK {
			if err := json.NewDecoder(res.Body).Decode(v); err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
		}
		return res.StatusCode
	}
	for _, p := range demo.Schedules {
		var list v1.ScheduleList
		if status := get("/v1/orgs/"+p.Provider+"/schedules", &list); status != http.StatusOK || len(list.Schedules) != 1 ||
			list.Schedules[0].ID != p.Schedule || list.Schedules[0].Category != p.Category || list.Schedules[0].Policy.Deposit != p.Deposit {
			t.Errorf("GET /v1/orgs/%s/schedules = %d %+v; want %s (%s, deposit %d)", p.Provider, status, list, p.Schedule, p.Category, p.Deposit)
		}
	}
	var none v1.ScheduleList
	if status := get("/v1/orgs/"+demo.Payer+"/schedules", &none); status != http.StatusOK || none.Schedules == nil || len(none.Schedules) != 0 {
		t.Errorf("GET /v1/orgs/%s/schedules = %d %+v; want an empty list", demo.Payer, status, none)
	}
	if status := get("/v1/orgs/No_Such/schedules", &none); status != http.StatusUnprocessableEntity {
		t.Errorf("GET /v1/orgs/No_Such/schedules = %d; want 422 (not an organization ID)", status)
	}
	var programs v1.ProgramList
	if status := get("/v1/programs", &programs); status != http.StatusOK || len(programs.Programs) != 1 ||
		programs.Programs[0].ID != demo.RewardProgram || programs.Programs[0].Sponsor != demo.Payer || programs.Programs[0].Funding != demo.RewardFunding {
		t.Errorf("GET /v1/programs = %d %+v; want the demo's %s of %s", status, programs, demo.RewardProgram, demo.Payer)
	}
}
