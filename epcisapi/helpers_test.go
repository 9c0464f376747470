package epcisapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/epcisapi"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/tx"
)

// The trading partners of the tests: each organization runs its own node
// (org0 a manufacturer of type pharma, org1 a wholesaler, org2 a
// pharmacy), and documents name them by these PGLNs.
const (
	makerGLN      = "urn:epc:id:pgln:0614141.00000"
	wholesalerGLN = "urn:epc:id:pgln:0614142.00000"
	pharmacyGLN   = "urn:epc:id:pgln:0614143.00000"
)

// network starts the three partners' nodes, with no party configuration:
// each organization claims its GLN in the chain's party directory.
func network(t *testing.T) []*nodetest.Node {
	t.Helper()
	nodes := nodetest.TestnetOf(t, []identity.OrgType{identity.Pharma, identity.Provider, identity.Provider}, node.Config{})
	for i, gln := range []string{"0614141000005", "0614142000004", "0614143000003"} { // makerGLN, wholesalerGLN, pharmacyGLN
		send(t, nodes[i], nodes[i].Admin, supply.ClaimParties{Org: fmt.Sprintf("org%d", i), GLNs: []string{gln}})
	}
	return nodes
}

// send signs msgs with key at n and fails the test unless they apply.
func send(t testing.TB, n *nodetest.Node, key ed25519.PrivKey, msgs ...contract.Msg) []contract.Event {
	t.Helper()
	var raw []tx.Msg
	for _, m := range msgs {
		raw = append(raw, contract.Encode(m))
	}
	ans, err := n.Client.Send(context.Background(), key, raw...)
	if err != nil || ans.Code != tx.CodeOK {
		t.Fatalf("send %T: %v, code %v %s", msgs[0], err, ans.Code, ans.Log)
	}
	if ans.Detail == nil {
		t.Fatalf("send %T: no result", msgs[0])
	}
	return ans.Detail.Events
}

// do sends an HTTP request to n and returns the status, headers and body.
func do(t *testing.T, n *nodetest.Node, token, method, path, ctype, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, n.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b
}

// capture posts a document and waits for its job to finish.
func capture(t *testing.T, n *nodetest.Node, token, ctype, doc string) epcisapi.Job {
	t.Helper()
	status, h, body := do(t, n, token, "POST", "/epcis/capture", ctype, doc)
	if status != http.StatusAccepted {
		t.Fatalf("POST /epcis/capture = %d %s; want 202", status, body)
	}
	return waitJob(t, n, token, h.Get("Location"))
}

// captureOK captures a document and fails the test unless it succeeds.
func captureOK(t *testing.T, n *nodetest.Node, token, doc string) {
	t.Helper()
	if j := capture(t, n, token, "application/ld+json", doc); !j.Success {
		t.Fatalf("capture failed: %+v", j.Errors)
	}
}

func waitJob(t *testing.T, n *nodetest.Node, token, location string) epcisapi.Job {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, _, body := do(t, n, token, "GET", location, "", "")
		if status != http.StatusOK {
			t.Fatalf("GET %s = %d %s", location, status, body)
		}
		var j epcisapi.Job
		if err := json.Unmarshal(body, &j); err != nil {
			t.Fatal(err)
		}
		if !j.Running {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("capture job %s still running", location)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// queryEvents runs GET /epcis/events?query and returns its events.
func queryEvents(t *testing.T, n *nodetest.Node, token, query string) []map[string]any {
	t.Helper()
	status, _, body := do(t, n, token, "GET", "/epcis/events?"+query, "", "")
	if status != http.StatusOK {
		t.Fatalf("GET /epcis/events?%s = %d %s", query, status, body)
	}
	var doc struct {
		Type      string `json:"type"`
		EPCISBody struct {
			QueryResults struct {
				ResultsBody struct {
					EventList []map[string]any `json:"eventList"`
				} `json:"resultsBody"`
			} `json:"queryResults"`
		} `json:"epcisBody"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Type != "EPCISQueryDocument" {
		t.Fatalf("GET /epcis/events?%s: not a query document (%v): %s", query, err, body)
	}
	return doc.EPCISBody.QueryResults.ResultsBody.EventList
}

// itemOf reads an item's reported status from n's committed state.
func itemOf(t *testing.T, n *nodetest.Node, epc string) (*supply.Item, supply.Status) {
	t.Helper()
	e, ok := epcisapi.ChainEPC(epc)
	if !ok {
		t.Fatalf("epcisapi.ChainEPC(%q) failed", epc)
	}
	it, st, err := supply.ItemStatus(n.App().State(), e)
	if err != nil || it == nil {
		t.Fatalf("ItemStatus(%s) = %v, %v", e, it, err)
	}
	return it, st
}

func gtinOf(t testing.TB, sgtin string) string {
	t.Helper()
	e, _ := epcisapi.ChainEPC(sgtin)
	gtin, _, ok := e.Item()
	if !ok {
		t.Fatalf("%s is not an SGTIN", sgtin)
	}
	return gtin
}

// doc wraps events (JSON objects) in an EPCIS 2.0 JSON-LD document.
func doc(events ...string) string {
	return `{"@context":["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],"type":"EPCISDocument",` +
		`"schemaVersion":"2.0","creationDate":"2025-01-01T00:00:00Z","epcisBody":{"eventList":[` + strings.Join(events, ",") + `]}}`
}

func quoted(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = `"` + s + `"`
	}
	return strings.Join(q, ",")
}

// commission is an ObjectEvent commissioning epcs with a lot and expiry.
func commission(when string, lot string, epcs ...string) string {
	return `{"type":"ObjectEvent","eventTime":"` + when + `","eventTimeZoneOffset":"+00:00","epcList":[` + quoted(epcs) +
		`],"action":"ADD","bizStep":"commissioning","disposition":"active","readPoint":{"id":"urn:epc:id:sgln:0614141.00001.0"},` +
		`"ilmd":{"cbvmda:lotNumber":"` + lot + `","cbvmda:itemExpirationDate":"2030-01-31"}}`
}

func pack(when, parent string, children ...string) string {
	return `{"type":"AggregationEvent","eventTime":"` + when + `","eventTimeZoneOffset":"+00:00","parentID":"` + parent +
		`","childEPCs":[` + quoted(children) + `],"action":"ADD","bizStep":"packing","disposition":"in_progress"}`
}

// move is a shipping or receiving ObjectEvent from one party to another.
func move(when, step, disposition, from, to string, epcs ...string) string {
	return `{"type":"ObjectEvent","eventTime":"` + when + `","eventTimeZoneOffset":"+00:00","epcList":[` + quoted(epcs) +
		`],"action":"OBSERVE","bizStep":"` + step + `","disposition":"` + disposition + `",` +
		`"sourceList":[{"type":"owning_party","source":"` + from + `"}],` +
		`"destinationList":[{"type":"owning_party","destination":"` + to + `"}]}`
}

func observe(when, step string, epcs ...string) string {
	return `{"type":"ObjectEvent","eventTime":"` + when + `","eventTimeZoneOffset":"+00:00","epcList":[` + quoted(epcs) +
		`],"action":"OBSERVE","bizStep":"` + step + `"}`
}

// reading is a sensor report on epcs: a temperature in °C.
func reading(when, celsius string, epcs ...string) string {
	return `{"type":"ObjectEvent","eventTime":"` + when + `","eventTimeZoneOffset":"+00:00","epcList":[` + quoted(epcs) +
		`],"action":"OBSERVE","bizStep":"sensor_reporting","sensorElementList":[{"sensorReport":[` +
		`{"type":"Temperature","value":` + celsius + `,"uom":"CEL"}]}]}`
}

// addressOf is the address of n's first admin, the brand owner's contact.
func addressOf(n *nodetest.Node) tx.Address {
	return tx.AddressOf(tx.PubKey(n.Admin.PubKey().Bytes()))
}
