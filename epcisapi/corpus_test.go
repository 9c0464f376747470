package epcisapi_test

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/epcis"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
)

const sharedData = "../../shared/data"

// The DSCSA scenario's owning parties are SGLNs: the manufacturer's, which
// it claims on the chain, and the buying wholesaler's, which only the
// nodes' configuration names (the fallback for an unclaimed GLN).
var dscsaParties = map[string]string{
	"urn:epc:id:sgln:039999.999999.0": "org1",
}

// TestSharedDocuments walks the GS1 US DSCSA direct-purchase scenario
// (EPCIS 1.2 XML) through capture at the manufacturer's node and receipt
// at the wholesaler's, then posts every shared EPCIS document to the
// manufacturer's node: openepcis' invalid documents are refused at once
// with a problem naming the event and field; every other is accepted as a
// capture job, which the supply contract's rules then apply or refuse
// whole (their products and parties are not registered here) with a 4xx
// problem, never a fault.
func TestSharedDocuments(t *testing.T) {
	nodes := nodetest.TestnetOf(t, []identity.OrgType{identity.Pharma, identity.Provider}, node.Config{EPCISParties: dscsaParties})
	maker, wholesaler := nodes[0], nodes[1]
	makerTok := maker.Token(t, maker.Admin)
	send(t, maker, maker.Admin, supply.ClaimParties{Org: "org0", GLNs: []string{"0030001111115"}}) // urn:epc:id:sgln:030001.111111.0

	t.Run("dscsa", func(t *testing.T) {
		send(t, maker, maker.Admin,
			supply.RegisterProduct{Owner: "org0", GTIN: gtinOf(t, "urn:epc:id:sgtin:030001.0012345.11"), NDC: "30001-123-45"},
			supply.RegisterProduct{Owner: "org0", GTIN: gtinOf(t, "urn:epc:id:sgtin:030001.1012345.110")})
		xml, err := os.ReadFile(filepath.Join(sharedData, "dscsa/gs1us-pharma-example-via-openepcis/GS1_US_Pharma_Example_2_2_1_1.xml"))
		if err != nil {
			t.Fatal(err)
		}
		if j := capture(t, maker, makerTok, "application/xml", string(xml)); !j.Success || j.Events != 8 {
			t.Fatalf("capturing the DSCSA scenario: %+v", j)
		}
		const pallet, pack = "urn:epc:id:sscc:030001.41234567890", "urn:epc:id:sgtin:030001.0012345.15"
		if it, st := itemOf(t, maker, pack); st != supply.InTransit || it.Destination != "org1" || it.Lot != "A123" {
			t.Errorf("a pack of the shipped pallet is %s to %q, lot %q; want in_transit to org1, lot A123", st, it.Destination, it.Lot)
		}
		tok := wholesaler.Token(t, wholesaler.Admin)
		captureOK(t, wholesaler, tok, doc(move("2023-04-02T08:00:00Z", "receiving", "in_progress",
			"urn:epc:id:sgln:030001.111111.0", "urn:epc:id:sgln:039999.999999.0", pallet)))
		if it, st := itemOf(t, wholesaler, pack); st != supply.Received || it.Holder != "org1" {
			t.Errorf("after receipt the pack is %s at %q; want received at org1", st, it.Holder)
		}
		// The wholesaler, the shipment's destination, reads the
		// manufacturer's XML-captured shipment in JSON-LD at its node.
		evs := queryEvents(t, maker, maker.Token(t, wholesaler.Admin), "EQ_bizStep=shipping&MATCH_epc="+pallet)
		if len(evs) != 1 || evs[0]["destinationList"] == nil || evs[0]["careledger:bodyWithheld"] != nil {
			t.Errorf("the wholesaler reading the shipment at the manufacturer's node: %v", evs)
		}
	})

	t.Run("corpus", func(t *testing.T) {
		var accepted, applied, refused, invalid int
		for _, path := range corpusFiles(t, "epcis/openepcis-test-resources", "epcis/epcis2.js/test") {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			ctype := "application/ld+json"
			if strings.HasSuffix(path, ".xml") {
				ctype = "application/xml"
			}
			rel := strings.TrimPrefix(path, sharedData+"/epcis/")
			status, h, body := do(t, maker, makerTok, "POST", "/epcis/capture", ctype, string(b))
			if strings.Contains(path, "/Invalid/") {
				invalid++
				var p struct{ Type, Detail string }
				json.Unmarshal(body, &p)
				if status < 400 || status >= 500 || p.Type != "epcisException:ValidationException" || !strings.Contains(p.Detail, ":") {
					t.Errorf("%s: %d %s; want a 4xx ValidationException naming the field", rel, status, body)
				}
				continue
			}
			if status == http.StatusRequestEntityTooLarge && h.Get("GS1-EPCIS-Capture-Limit") != "" {
				refused++ // too many events for one transaction, said so
				continue
			}
			if status != http.StatusAccepted {
				t.Errorf("%s: %d %s; want 202", rel, status, body)
				continue
			}
			accepted++
			j := waitJob(t, maker, makerTok, h.Get("Location"))
			if j.Success {
				applied++
				continue
			}
			for _, e := range j.Errors {
				if e.Status < 400 || e.Status >= 500 || !strings.HasPrefix(e.Type, "epcisException:") {
					t.Errorf("%s: job error %+v; want a 4xx EPCIS problem", rel, e)
				}
			}
		}
		t.Logf("%d invalid documents refused; %d accepted (%d applied, the rest refused by the contract's rules); %d over the capture limit", invalid, accepted, applied, refused)
		if invalid < 15 || accepted < 60 {
			t.Errorf("walked %d invalid and %d accepted documents; want at least 15 and 60", invalid, accepted)
		}
		checkXMLAnswers(t, maker, makerTok, maker.Token(t, wholesaler.Admin))
	})
}

// checkXMLAnswers asks n for every event it holds in JSON-LD and in XML:
// the XML answer is an EPCIS 2.0 query document that epcis.ParseXML reads
// into the same events, in order, with the hashes of the JSON answer's
// (the chain's hash IDs), but for the events whose JSON CURIEs the
// reference hashes unexpanded; one event reads as XML too; and an Accept
// header naming nothing served is refused with 406. A member of another
// organization, whom the events do not name, finds them all after the
// EventList, withheld.
func checkXMLAnswers(t *testing.T, n *nodetest.Node, token, other string) {
	t.Helper()
	as := token
	get := func(path, accept string) (int, []byte) {
		req, _ := http.NewRequest("GET", n.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+as)
		req.Header.Set("Accept", accept)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode == http.StatusOK && strings.Contains(accept, "xml") && !strings.HasPrefix(res.Header.Get("Content-Type"), "application/xml") {
			t.Errorf("GET %s with Accept %s answers %s", path, accept, res.Header.Get("Content-Type"))
		}
		return res.StatusCode, b
	}
	// The JSON answer's events as written (their keys' order is part of
	// what a JSON event hashes).
	status, body := get("/epcis/events?perPage=1000", "application/ld+json")
	var answer struct {
		EPCISBody struct {
			QueryResults struct {
				ResultsBody struct{ EventList []json.RawMessage } `json:"resultsBody"`
			} `json:"queryResults"`
		} `json:"epcisBody"`
	}
	if err := json.Unmarshal(body, &answer); status != http.StatusOK || err != nil {
		t.Fatalf("GET /epcis/events = %d, %v", status, err)
	}
	events := answer.EPCISBody.QueryResults.ResultsBody.EventList
	status, body = get("/epcis/events?perPage=1000", "application/xml")
	if status != http.StatusOK {
		t.Fatalf("GET /epcis/events as XML = %d %s", status, body)
	}
	doc, err := epcis.ParseXML(body)
	if err != nil || doc.Type != "EPCISQueryDocument" || len(doc.Events) != len(events) || len(events) < 20 {
		t.Fatalf("the XML answer: %v, a %s of %d events; want a query document of the JSON answer's %d (at least 20)", err, doc.Type, len(doc.Events), len(events))
	}
	same, curies := 0, 0
	for i, ev := range events {
		j, err := epcis.ParseJSON(ev)
		if err != nil {
			t.Fatalf("event %d of the JSON answer: %v", i, err)
		}
		want, got := j.Events[0], doc.Events[i]
		switch {
		case want.HasJSONCURIEs():
			curies++
		case got.HashID() != want.HashID() || got.EventID != want.EventID:
			t.Errorf("event %d in XML: %s (eventID %s); want %s (eventID %s)", i, got.HashID(), got.EventID, want.HashID(), want.EventID)
		default:
			same++
		}
	}
	t.Logf("%d events in XML with the hashes of their JSON; %d with JSON CURIEs the reference hashes otherwise", same, curies)

	id := doc.Events[0].EventID
	status, body = get("/epcis/events/"+url.PathEscape(id), "application/xml")
	if one, err := epcis.ParseXML(body); status != http.StatusOK || err != nil || len(one.Events) != 1 || one.Events[0].EventID != id {
		t.Errorf("GET /epcis/events/{id} as XML = %d, %v: %s", status, err, body)
	}
	for _, accept := range []string{"text/html", "application/xml;q=0, application/json;q=0", "text/csv"} {
		if status, body := get("/epcis/events", accept); status != http.StatusNotAcceptable {
			t.Errorf("GET /epcis/events with Accept %q = %d %s; want 406", accept, status, body)
		}
	}
	for _, accept := range []string{"*/*", "application/json", "text/html, application/ld+json;q=0.5"} {
		if status, body := get("/epcis/events?perPage=1", accept); status != http.StatusOK || !strings.HasPrefix(string(body), "{") {
			t.Errorf("GET /epcis/events with Accept %q = %d %.80s; want JSON-LD", accept, status, body)
		}
	}

	as = other
	shown := queryEvents(t, n, other, "perPage=1000&EQ_bizStep=shipping")
	status, body = get("/epcis/events?perPage=1000&EQ_bizStep=shipping", "application/xml")
	seen, err := epcis.ParseXML(body)
	withheld := strings.Count(string(body), `reason="withheld"`)
	if status != http.StatusOK || err != nil || withheld == 0 || len(seen.Events)+withheld != len(shown) ||
		!strings.Contains(string(body), `<withheldEventList xmlns="https://careledger.org/epcis/">`) {
		t.Errorf("the XML answer to another organization: %d, %v, %d events and %d withheld of %d: %s; want the withheld after the EventList", status, err, len(seen.Events), withheld, len(shown), body)
	}
	// Each event JSON-LD withholds is withheld in XML with the same
	// summary: its hash ID, type, step and capturer.
	for _, ev := range shown {
		if ev["careledger:bodyWithheld"] == nil {
			continue
		}
		want := fmt.Sprintf(`type="%s" eventID="%s"`, ev["type"], xmlEscape(fmt.Sprint(ev["eventID"])))
		if !strings.Contains(string(body), want) || !strings.Contains(string(body), fmt.Sprintf(`capturedBy="%s"`, ev["careledger:capturedBy"])) {
			t.Errorf("the XML answer lacks the withheld event %s as JSON-LD shows it (%v)", want, ev)
		}
	}
}

func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// corpusFiles lists the shared EPCIS documents under dirs, without query
// definitions (Queries/), which are not documents.
func corpusFiles(t *testing.T, dirs ...string) []string {
	t.Helper()
	var out []string
	for _, dir := range dirs {
		err := filepath.WalkDir(filepath.Join(sharedData, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			ext := filepath.Ext(p)
			if !d.IsDir() && (ext == ".json" || ext == ".jsonld" || ext == ".xml") && !strings.Contains(p, "/Queries/") {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}
