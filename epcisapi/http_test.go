package epcisapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/epcisapi"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
)

// single starts one node of a manufacturer ("local", pharma) beside a
// regulator and a rival manufacturer without nodes, and returns it with
// its admin's token.
func single(t testing.TB) (*nodetest.Node, string) {
	t.Helper()
	n := nodetest.Start(t, node.InitOptions{
		Org:    node.Org{ID: "local", Name: "Acme Pharma", Type: identity.Pharma},
		Others: []node.Org{{ID: "fda", Name: "Regulator", Type: identity.Regulator}, {ID: "rival", Name: "Rival", Type: identity.Pharma}},
	})
	return n, n.Token(t, n.Admin)
}

// badCheckDigit returns sgtin's Digital Link with a wrong check digit.
func badCheckDigit(t *testing.T, sgtin string) string {
	g := gtinOf(t, sgtin)
	return "https://id.gs1.org/01/" + g[:13] + string(rune('0'+(g[13]-'0'+1)%10)) + "/21/1"
}

func problemType(t *testing.T, body []byte) string {
	t.Helper()
	var p struct{ Type string }
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("not a problem: %s", body)
	}
	return p.Type
}

// TestCaptureRefusals checks the answers to what capture refuses at once,
// and discovery with OPTIONS.
func TestCaptureRefusals(t *testing.T) {
	n, tok := single(t)
	rival, err := node.KeysDir(n.Home).Load("rival-admin", nil)
	if err != nil {
		t.Fatal(err)
	}
	one := commission("2025-01-01T08:00:00Z", "L1", "urn:epc:id:sgtin:0614141.107346.1")
	var big []string // 200 events of 12 EPCs: more than a 64 KiB transaction
	for i := range 200 {
		var epcs []string
		for k := range 12 {
			epcs = append(epcs, fmt.Sprintf("urn:epc:id:sgtin:0614141.107346.%d", i*100+k))
		}
		big = append(big, observe("2025-01-01T08:00:00Z", "inspecting", epcs...))
	}
	var over []string
	for range 251 {
		over = append(over, one)
	}
	tests := []struct {
		name, token, path, ctype, body string
		status                         int
		problem                        string
	}{
		{"no token", "", "/epcis/capture", "application/json", doc(one), 401, "epcisException:SecurityException"},
		{"another organization's member", n.Token(t, rival), "/epcis/capture", "application/json", doc(one), 403, "epcisException:SecurityException"},
		{"unsupported media type", tok, "/epcis/capture", "text/plain", doc(one), 415, "epcisException:ValidationException"},
		{"not JSON", tok, "/epcis/capture", "application/json", `{"type":"EPCISDocument",`, 400, "epcisException:ValidationException"},
		{"not XML", tok, "/epcis/capture", "application/xml", `<epcis:EPCISDocument`, 400, "epcisException:ValidationException"},
		{"bad check digit", tok, "/epcis/capture", "application/json", doc(commission("2025-01-01T08:00:00Z", "L1", badCheckDigit(t, pack1))), 422, "epcisException:ValidationException"},
		{"event in the future", tok, "/epcis/capture", "application/json", doc(commission("2999-01-01T08:00:00Z", "L1", "urn:epc:id:sgtin:0614141.107346.1")), 422, "epcisException:ValidationException"},
		{"over the event limit", tok, "/epcis/capture", "application/json", doc(over...), 413, "epcisException:CaptureLimitExceededException"},
		{"over one transaction", tok, "/epcis/capture", "application/json", doc(big...), 413, "epcisException:CaptureLimitExceededException"},
		{"a document at /epcis/events", tok, "/epcis/events", "application/json", doc(one, one), 422, "epcisException:ValidationException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := do(t, n, tc.token, "POST", tc.path, tc.ctype, tc.body)
			if status != tc.status || problemType(t, body) != tc.problem {
				t.Fatalf("POST %s = %d %s; want %d %s", tc.path, status, body, tc.status, tc.problem)
			}
			if h.Get("GS1-EPCIS-Version") == "" || h.Get("GS1-EPCIS-Capture-Limit") == "" {
				t.Errorf("headers %v lack GS1-EPCIS-Version or GS1-EPCIS-Capture-Limit", h)
			}
		})
	}

	for _, path := range []string{"/epcis/capture", "/epcis/events"} {
		status, h, _ := do(t, n, "", "OPTIONS", path, "", "")
		if status != http.StatusNoContent || !strings.Contains(h.Get("Allow"), "POST") || h.Get("GS1-EPCIS-Version") != "2.0.0" ||
			h.Get("GS1-CBV-Version") != "2.0.0" || h.Get("GS1-EPCIS-Capture-Limit") != "250" || h.Get("GS1-EPCIS-Capture-File-Size-Limit") == "" {
			t.Errorf("OPTIONS %s = %d %v", path, status, h)
		}
	}
}

// TestQuery captures events and reads them back: one event at
// /epcis/events, by hash ID and by the client's eventID, by query with
// paging, and after a restart, from a store that holds no plaintext.
func TestQuery(t *testing.T) {
	n, tok := single(t)
	send(t, n, n.Admin, supply.RegisterProduct{Owner: "local", GTIN: gtinOf(t, pack1)})
	var epcs []string
	for i := range 5 {
		epcs = append(epcs, fmt.Sprintf("urn:epc:id:sgtin:0614141.107346.%d", 500+i))
	}
	captureOK(t, n, tok, doc(commission("2025-01-01T08:00:00Z", "LOT-Q", epcs...)))
	var events []string
	for i, e := range epcs {
		events = append(events, observe(fmt.Sprintf("2025-01-02T08:00:0%dZ", i), "inspecting", e))
	}
	captureOK(t, n, tok, doc(events...))
	withID := `{"@context":["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],"type":"ObjectEvent",` +
		`"eventID":"urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8","eventTime":"2025-01-03T08:00:00Z","eventTimeZoneOffset":"+00:00",` +
		`"epcList":["` + epcs[0] + `"],"action":"OBSERVE","bizStep":"storing","readPoint":{"id":"urn:epc:id:sgln:0614141.00009.0"}}`
	status, h, body := do(t, n, tok, "POST", "/epcis/events", "application/ld+json", withID)
	if status != http.StatusAccepted {
		t.Fatalf("POST /epcis/events = %d %s", status, body)
	}
	if j := waitJob(t, n, tok, h.Get("Location")); !j.Success {
		t.Fatalf("capturing one event: %+v", j.Errors)
	}

	t.Run("by id", func(t *testing.T) {
		status, _, body := do(t, n, tok, "GET", "/epcis/events/"+url.PathEscape("urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8"), "", "")
		var ev map[string]any
		json.Unmarshal(body, &ev)
		if status != 200 || ev["bizStep"] != "storing" {
			t.Fatalf("GET by the client's eventID = %d %s", status, body)
		}
		all := queryEvents(t, n, tok, "EQ_readPoint="+url.QueryEscape("urn:epc:id:sgln:0614141.00009.0"))
		if len(all) != 1 {
			t.Errorf("EQ_readPoint gave %d events; want 1", len(all))
		}
		status, _, body = do(t, n, tok, "GET", "/epcis/events/"+url.PathEscape("ni:///sha-256;"+strings.Repeat("ab", 32)+"?ver=CBV2.0"), "", "")
		if status != 404 || problemType(t, body) != "epcisException:NoSuchResourceException" {
			t.Errorf("GET an unknown hash = %d %s; want 404", status, body)
		}
	})

	t.Run("error declaration", func(t *testing.T) {
		// The same event declared erroneous is recorded, not a duplicate.
		declared := strings.Replace(withID, `"eventID":"urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8",`,
			`"eventID":"urn:uuid:7ba7b810-9dad-11d1-80b4-00c04fd430c8","errorDeclaration":{"declarationTime":"2025-01-04T08:00:00Z","reason":"incorrect_data"},`, 1)
		status, h, body := do(t, n, tok, "POST", "/epcis/events", "application/ld+json", declared)
		if status != http.StatusAccepted {
			t.Fatalf("POST the declaration = %d %s", status, body)
		}
		if j := waitJob(t, n, tok, h.Get("Location")); !j.Success {
			t.Fatalf("capturing the error declaration: %+v", j.Errors)
		}
		if got := queryEvents(t, n, tok, "EQ_bizStep=storing"); len(got) != 2 || got[1]["errorDeclaration"] == nil {
			t.Errorf("storing events after the declaration: %v; want the event and its declaration", got)
		}
		// The event itself again is a duplicate.
		status, h, _ = do(t, n, tok, "POST", "/epcis/events", "application/ld+json", withID)
		if j := waitJob(t, n, tok, h.Get("Location")); status != 202 || j.Success || j.Errors[0].Status != http.StatusConflict {
			t.Errorf("capturing the event again: %+v; want a 409", j)
		}
	})

	t.Run("paging", func(t *testing.T) {
		path := "/epcis/events?EQ_bizStep=inspecting&perPage=2"
		var seen []string
		for page := 0; path != ""; page++ {
			status, h, body := do(t, n, tok, "GET", path, "", "")
			if status != 200 || page > 3 {
				t.Fatalf("GET %s = %d %s", path, status, body)
			}
			var d struct {
				EPCISBody struct {
					QueryResults struct {
						ResultsBody struct{ EventList []struct{ EventTime string } }
					}
				}
			}
			json.Unmarshal(body, &d)
			for _, e := range d.EPCISBody.QueryResults.ResultsBody.EventList {
				seen = append(seen, e.EventTime)
			}
			path = ""
			if link := h.Get("Link"); link != "" {
				path = strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
			}
		}
		if len(seen) != 5 || seen[0] != "2025-01-02T08:00:00Z" || seen[4] != "2025-01-02T08:00:04Z" {
			t.Errorf("pages of 2 gave %v; want the 5 inspections in order", seen)
		}
		// Sent without an eventID, an event is known by its hash ID.
		first := queryEvents(t, n, tok, "EQ_bizStep=inspecting&perPage=1")[0]
		id, _ := first["eventID"].(string)
		status, _, body := do(t, n, tok, "GET", "/epcis/events/"+url.PathEscape(id), "", "")
		if !strings.HasPrefix(id, "ni:///sha-256;") || status != 200 || !bytes.Contains(body, []byte(id)) {
			t.Errorf("an event sent without eventID: eventID %q, GET by it = %d %s", id, status, body)
		}
		if got := queryEvents(t, n, tok, "GE_eventTime=2025-01-02T08:00:03Z&LT_eventTime=2025-01-03T00:00:00Z"); len(got) != 2 {
			t.Errorf("the time window gave %d events; want 2", len(got))
		}
		if got := queryEvents(t, n, tok, "MATCH_epc="+url.QueryEscape("https://id.gs1.org/01/"+gtinOf(t, pack1)+"/21/502")); len(got) != 2 {
			t.Errorf("MATCH_epc by Digital Link gave %d events; want the 2 of that pack", len(got))
		}
		if got := queryEvents(t, n, tok, "eventType=AggregationEvent|TransformationEvent"); len(got) != 0 {
			t.Errorf("eventType gave %d events; want none", len(got))
		}
		if status, _, _ := do(t, n, tok, "GET", "/epcis/events?EQ_color=red", "", ""); status < 400 || status >= 500 {
			t.Errorf("an unknown query parameter = %d; want a 4xx", status)
		}
	})

	t.Run("access", func(t *testing.T) {
		regulator, err := node.KeysDir(n.Home).Load("fda-admin", nil)
		if err != nil {
			t.Fatal(err)
		}
		rival, _ := node.KeysDir(n.Home).Load("rival-admin", nil)
		if got := queryEvents(t, n, n.Token(t, regulator), "EQ_bizStep=storing"); len(got) != 2 || got[0]["readPoint"] == nil {
			t.Errorf("the regulator's answer %v; want the body", got)
		}
		if got := queryEvents(t, n, n.Token(t, rival), "EQ_bizStep=storing"); len(got) != 2 || got[0]["readPoint"] != nil || got[0]["careledger:bodyWithheld"] != "true" {
			t.Errorf("a rival's answer %v; want the summary only", got)
		}
	})

	t.Run("restart", func(t *testing.T) {
		n.Stop(t)
		var plain []string
		files := 0
		filepath.WalkDir(filepath.Join(n.Home, "data", "epcis"), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				files++
				if b, _ := os.ReadFile(p); bytes.Contains(b, []byte("0614141.107346")) || bytes.Contains(b, []byte("LOT-Q")) {
					plain = append(plain, p)
				}
			}
			return nil
		})
		if files == 0 || len(plain) > 0 {
			t.Errorf("the store's %d files; plaintext of events in %v", files, plain)
		}
		n2 := nodetest.Open(t, n.Home)
		if got := queryEvents(t, n2, n2.Token(t, n2.Admin), "EQ_ILMD_cbvmda:lotNumber=LOT-Q"); len(got) != 1 {
			t.Errorf("after a restart the lot's commissioning: %d events; want 1", len(got))
		}
	})
}

// TestGroupCommit captures documents at once, one of which breaks a rule
// (commissioning a product not registered): the node may send them in one
// transaction, but each document is recorded or refused on its own.
func TestGroupCommit(t *testing.T) {
	n, tok := single(t)
	send(t, n, n.Admin, supply.RegisterProduct{Owner: "local", GTIN: gtinOf(t, pack1)})
	const docs = 12
	jobs := make(chan epcisapi.Job, docs)
	for i := range docs {
		d := doc(commission("2025-01-01T08:00:00Z", "G1", fmt.Sprintf("urn:epc:id:sgtin:0614141.107346.%d", 900+i)))
		if i == docs/2 {
			d = doc(commission("2025-01-01T08:00:00Z", "G1", "urn:epc:id:sgtin:0614141.107399.1"))
		}
		go func() { jobs <- capture(t, n, tok, "application/ld+json", d) }()
	}
	ok, refused := 0, 0
	for range docs {
		j := <-jobs
		switch {
		case j.Success:
			ok++
		case len(j.Errors) == 1 && j.Errors[0].Status >= 400 && j.Errors[0].Status < 500:
			refused++
		default:
			t.Errorf("job %+v", j)
		}
	}
	if ok != docs-1 || refused != 1 {
		t.Errorf("%d captured and %d refused; want %d and 1", ok, refused, docs-1)
	}
	if got := queryEvents(t, n, tok, "EQ_bizStep=commissioning&perPage=100"); len(got) != docs-1 {
		t.Errorf("%d commissionings held; want %d", len(got), docs-1)
	}
}
