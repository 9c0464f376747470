package epcisapi_test

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/epcisapi"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/vault"
)

// TestJobsSurviveRestart: a finished capture job is still answered after
// the node restarts, and a job the node accepted (202) but had not sent
// when it stopped is taken up again at start: its document is recorded
// once, whether or not it was already on the chain.
func TestJobsSurviveRestart(t *testing.T) {
	n, tok := single(t)
	const a1, b1 = "urn:epc:id:sgtin:0614141.107346.7001", "urn:epc:id:sgtin:0614141.107346.7002"
	send(t, n, n.Admin, supply.RegisterProduct{Owner: "local", GTIN: gtinOf(t, a1)})
	docA := doc(commission("2025-01-01T08:00:00Z", "L1", a1))
	status, h, body := do(t, n, tok, "POST", "/epcis/capture", "application/ld+json", docA)
	if status != http.StatusAccepted {
		t.Fatalf("capture = %d %s", status, body)
	}
	jobA := h.Get("Location")
	if j := waitJob(t, n, tok, jobA); !j.Success {
		t.Fatalf("capture failed: %+v", j.Errors)
	}

	n.Stop(t)
	keys, err := vault.LoadMasterKey(filepath.Join(n.Home, "config", "vault_master.key"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(n.Home, "data", "epcis")
	unsent, err := epcisapi.PlantJob(dir, keys, "local", nil, doc(commission("2025-01-02T08:00:00Z", "L1", b1)))
	if err != nil {
		t.Fatal(err)
	}
	sentBefore, err := epcisapi.PlantJob(dir, keys, "local", nil, docA)
	if err != nil {
		t.Fatal(err)
	}
	n = nodetest.Open(t, n.Home)
	tok = n.Token(t, n.Admin)

	if j := waitJob(t, n, tok, jobA); !j.Success || j.Events != 1 || j.FinishedAt == nil {
		t.Errorf("after restart, the finished job is %+v; want success with 1 event", j)
	}
	if j := waitJob(t, n, tok, "/epcis/capture/"+unsent); !j.Success {
		t.Errorf("the job not sent before the stop = %+v; want success after restart", j)
	}
	if j := waitJob(t, n, tok, "/epcis/capture/"+sentBefore); !j.Success {
		t.Errorf("the job whose document the chain already held = %+v; want success, not a duplicate", j)
	}
	if _, st := itemOf(t, n, b1); st != supply.Active {
		t.Errorf("the resumed document's item is %s; want active", st)
	}
	if evs := queryEvents(t, n, tok, "MATCH_epc="+b1); len(evs) != 1 {
		t.Errorf("query of the resumed document's EPC: %d events; want 1", len(evs))
	}
	if status, _, _ := do(t, n, tok, "GET", "/epcis/capture/0123", "", ""); status != http.StatusNotFound {
		t.Errorf("an unknown job = %d; want 404", status)
	}
}
