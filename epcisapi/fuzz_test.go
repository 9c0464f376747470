package epcisapi

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/epcis"
	"github.com/careledger/careledger/tx"
)

// FuzzChainEPC: any string converts to a valid chain EPC or to nothing,
// and a converted EPC's Digital Link converts back to it.
func FuzzChainEPC(f *testing.F) {
	for _, s := range []string{
		"urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sscc:0614141.1234567890",
		"https://id.gs1.org/01/09506000134352/21/ABC%2F1", "https://example.com/00/106141412345678908",
		"urn:epc:id:sgtin:.1.", "https://x/01/1/21/", "urn:epc:id:sgln:0614141.00001.0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, ok := chainEPC(s)
		if !ok {
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("chainEPC(%q) = %q, which does not validate: %v", s, e, err)
		}
		gtin, serial, isItem := e.Item()
		link := "https://id.gs1.org" + string(e)
		if isItem {
			link = "https://id.gs1.org/01/" + gtin + "/21/" + url.PathEscape(serial)
		}
		if back, ok := chainEPC(link); !ok || back != e {
			t.Fatalf("chainEPC(%q) = %q; its Digital Link %q gives %q, %v", s, e, link, back, ok)
		}
	})
}

// FuzzQuery: any query string is a filter or a rejection, never a panic
// or another error.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{
		"MATCH_epc=urn:epc:id:sgtin:0614141.107346.2017&perPage=10",
		"EQ_bizStep=shipping|receiving&GE_eventTime=2024-01-01T00:00:00Z",
		"EQ_ILMD_cbvmda:lotNumber=L1&nextPageToken=bzEw", "perPage=0", "nextPageToken=%%", "EQ_x=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := url.ParseQuery(s)
		if err != nil {
			return
		}
		flt, err := parseFilter(q)
		if err != nil {
			var rej *tx.Rejection
			if !errors.As(err, &rej) {
				t.Fatalf("parseFilter(%q) = %v; want a rejection", s, err)
			}
			return
		}
		if flt.perPage < 1 || flt.perPage > maxPerPage || flt.offset < 0 {
			t.Fatalf("parseFilter(%q) = perPage %d, offset %d", s, flt.perPage, flt.offset)
		}
		flt.matches(&entry{EPCs: []string{"urn:epc:id:sgtin:0614141.107346.2017"}})
	})
}

// FuzzCapture: whatever document parses, its events' bodies are JSON (a
// JSON document's read back to the same hashes) and they convert to chain
// events or are refused with a rejection naming the event.
func FuzzCapture(f *testing.F) {
	// Small seeds: the fuzzer mutates them fast (the shared documents are
	// walked whole by TestSharedDocuments and TestBodyKeepsHash).
	f.Add([]byte(`<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1" schemaVersion="1.2" creationDate="2020-01-01T00:00:00Z"><EPCISBody><EventList><ObjectEvent><eventTime>2020-01-01T00:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset><epcList><epc>urn:epc:id:sgtin:0614141.107346.1</epc></epcList><action>ADD</action><bizStep>urn:epcglobal:cbv:bizstep:commissioning</bizStep><extension><ilmd><cbvmda:lotNumber xmlns:cbvmda="urn:epcglobal:cbv:mda">L1</cbvmda:lotNumber></ilmd></extension></ObjectEvent></EventList></EPCISBody></epcis:EPCISDocument>`), true)
	f.Add([]byte(`{"@context":["https://ref.gs1.org/standards/epcis/epcis-context.jsonld",{"ex":"https://ex.com/"}],"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2020-01-01T00:00:00Z","epcisBody":{"eventList":[{"@context":{"ey":"https://ey.com/"},"type":"AggregationEvent","eventTime":"2020-01-01T00:00:00Z","eventTimeZoneOffset":"+00:00","parentID":"urn:epc:id:sscc:0614141.1234567890","childEPCs":["urn:epc:id:sgtin:0614141.107346.1"],"action":"ADD","ex:a":"1","ey:b":{"ey:c":"2"},"sensorElementList":[{"sensorReport":[{"type":"Temperature","value":12.3456,"uom":"CEL"}]}],"sourceList":[{"type":"owning_party","source":"urn:epc:id:pgln:0614141.00000"}]}]}}`), false)
	f.Add([]byte(`{"type":"ObjectEvent","eventTime":"2020-01-01T00:00:00Z","eventTimeZoneOffset":"+00:00","epcList":["urn:epc:id:sgtin:0614141.107346.1"],"action":"ADD","@context":"https://ref.gs1.org/standards/epcis/epcis-context.jsonld"}`), false)
	parties := Parties{"urn:epc:id:pgln:0614141.00000": "org0"}
	f.Fuzz(func(t *testing.T, raw []byte, isXML bool) {
		var doc *epcis.Document
		var err error
		if isXML {
			doc, err = epcis.Limits{MaxEvents: 50}.ParseXML(raw)
		} else {
			doc, err = epcis.Limits{MaxEvents: 50}.ParseJSON(raw)
		}
		if err != nil {
			return
		}
		bs, err := bodies(doc, raw, isXML)
		if err != nil {
			t.Fatalf("bodies: %v", err)
		}
		for i, e := range doc.Events {
			if !json.Valid(bs[i]) {
				t.Fatalf("event %d: body is not JSON: %s", i, bs[i])
			}
			if !isXML {
				for _, b := range [][]byte{bs[i], withEventID(bs[i], e.HashID())} {
					back, err := epcis.ParseJSON(b)
					if err != nil || back.Events[0].HashID() != e.HashID() {
						t.Fatalf("event %d: the body %s reads back as %v", i, b, err)
					}
				}
			}
			c, err := convert(i, e, resolver{config: parties})
			if err != nil {
				var rej *tx.Rejection
				if !errors.As(err, &rej) || !strings.HasPrefix(rej.Msg, "event ") {
					t.Fatalf("convert = %v; want a rejection naming the event", err)
				}
				return
			}
			if c.chain.Hash == [32]byte{} {
				t.Fatalf("event %d converted without its hash", i)
			}
		}
	})
}

// FuzzNegotiate: any Accept header picks JSON-LD or XML, or is refused as
// not acceptable; one that allows anything, or JSON, is never refused.
func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"", "*/*", "application/xml", "application/ld+json;q=0.5, application/xml;q=0.9",
		"text/html", "application/json;q=0", "text/xml;q=abc", "application/*;q=0.1, text/plain"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		got, err := negotiate(accept)
		var na *notAcceptable
		switch {
		case err != nil && !errors.As(err, &na):
			t.Fatalf("negotiate(%q): %v; want notAcceptable", accept, err)
		case err == nil && got != jsonLD && got != xmlDoc:
			t.Fatalf("negotiate(%q) = %v", accept, got)
		}
		if _, err := negotiate(accept + ", */*"); err != nil && !strings.Contains(accept, ";") {
			t.Fatalf("negotiate(%q, */*) refused: %v", accept, err)
		}
	})
}

// TestNegotiate: the format each Accept header gets.
func TestNegotiate(t *testing.T) {
	for _, c := range []struct {
		accept string
		want   format
		ok     bool
	}{
		{"", jsonLD, true},
		{"*/*", jsonLD, true},
		{"application/xml", xmlDoc, true},
		{"text/xml", xmlDoc, true},
		{"application/json", jsonLD, true},
		{"application/ld+json;q=0.5, application/xml;q=0.9", xmlDoc, true},
		{"application/xml, application/ld+json", xmlDoc, true},
		{"text/html, application/xml;q=0.1", xmlDoc, true},
		{"text/html", 0, false},
		{"application/xml;q=0", 0, false},
	} {
		got, err := negotiate(c.accept)
		if (err == nil) != c.ok || c.ok && got != c.want {
			t.Errorf("negotiate(%q) = %v, %v; want %v (acceptable %v)", c.accept, got, err, c.want, c.ok)
		}
	}
}

// FuzzGLNOf: any string gives a valid GLN or nothing, and the forms of one
// party (PGLN URN, SGLN URN of any extension, Digital Link) give the same.
func FuzzGLNOf(f *testing.F) {
	for _, s := range []string{
		"urn:epc:id:pgln:0614141.00000", "urn:epc:id:sgln:0614141.00000.0", "urn:epc:id:sgln:0614141.00000.dock7",
		"https://id.gs1.org/417/0614141000005", "https://example.com/414/0614141000005/254/7",
		"urn:epc:id:pgln:0614141.0000", "https://id.gs1.org/417/0614141000006", "urn:epc:id:sgtin:0614141.107346.1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		gln, ok := glnOf(id)
		if ok && (len(gln) != 13 || supply.ValidateGLN(gln) != nil) {
			t.Fatalf("glnOf(%q) = %q; not a valid GLN", id, gln)
		}
	})
}

func TestGLNOf(t *testing.T) {
	for _, c := range []struct {
		id, want string
	}{
		{"urn:epc:id:pgln:0614141.00000", "0614141000005"},
		{"urn:epc:id:sgln:0614141.00000.0", "0614141000005"},
		{"urn:epc:id:sgln:0614141.00000.dock7", "0614141000005"},
		{"https://id.gs1.org/417/0614141000005", "0614141000005"},
		{"https://example.com/414/0614141000005/254/7", "0614141000005"},
		{"urn:epc:id:pgln:0614141.0000", ""},         // 11 digits
		{"https://id.gs1.org/417/0614141000006", ""}, // check digit
		{"urn:epc:id:sgtin:0614141.107346.1", ""},
	} {
		got, ok := glnOf(c.id)
		if !ok {
			got = ""
		}
		if got != c.want {
			t.Errorf("glnOf(%q) = %q; want %q", c.id, got, c.want)
		}
	}
}
