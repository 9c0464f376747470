package epcis

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sharedEPCIS = "../../shared/data/epcis"

// corpusFiles lists the JSON and XML documents under dir.
func corpusFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := filepath.Ext(p); !d.IsDir() && (ext == ".json" || ext == ".jsonld" || ext == ".xml") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func parsePath(path string) (*Document, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(path, ".xml") {
		return ParseXML(b)
	}
	return ParseJSON(b)
}

// invalidField is the field each deliberately invalid document is refused
// for (the first of its errors).
var invalidField = map[string]string{
	"Combination_of_events_with_missing_mandatory_fields.json":   "action",
	"Combination_of_multiple_invalid_fields.json":                "bizStep",
	"Combination_of_non_standard_bizStep_and_disposition.json":   "bizStep",
	"EPCISDocument_without_context.json":                         "@context",
	"ObjectEvent_with_ilmd_field_without_namespace.json":         "ilmd.materialType",
	"ObjectEvent_with_invalid_action.json":                       "action",
	"ObjectEvent_with_invalid_certificationInfo.json":            "certificationInfo",
	"ObjectEvent_with_invalid_eventTime_format.json":             "eventTime",
	"ObjectEvent_with_non_standard_bizStep.json":                 "bizStep",
	"ObjectEvent_with_non_standard_bizStep_in_second_event.json": "bizStep",
	"ObjectEvent_with_non_standard_disposition.json":             "disposition",
	"ObjectEvent_with_quantity_as_text.json":                     "quantityList[0].quantity",
	"ObjectEvent_with_unknown_field_in_quantityList.json":        "quantityList[0].weight",
	"ObjectEvent_without_action_and_eventTime.json":              "eventTime",
	"ObjectEvent_without_identifier_list.json":                   "epcList",
	"QueryDocument_with_invalid_action.json":                     "action",
	"QueryDocument_with_invalid_eventType.json":                  "type",
}

// TestSharedCorpus parses every document of openepcis-test-resources and
// epcis2.js's test data: those under an Invalid folder must be refused with
// a typed error, every other must parse with at least one event. Query
// definitions (Queries/) are not EPCIS documents and are skipped.
func TestSharedCorpus(t *testing.T) {
	var files []string
	files = append(files, corpusFiles(t, filepath.Join(sharedEPCIS, "openepcis-test-resources"))...)
	files = append(files, corpusFiles(t, filepath.Join(sharedEPCIS, "epcis2.js", "test"))...)
	valid, invalid := 0, 0
	for _, path := range files {
		if strings.Contains(path, "/Queries/") {
			continue
		}
		rel := strings.TrimPrefix(path, sharedEPCIS+"/")
		wantInvalid := strings.Contains(path, "/Invalid/")
		t.Run(rel, func(t *testing.T) {
			doc, err := parsePath(path)
			if wantInvalid {
				invalid++
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("parse = %v; want an *Error", err)
				}
				if want, ok := invalidField[filepath.Base(path)]; !ok || e.Field != want {
					t.Errorf("parse = %v; want an error about %q", err, want)
				}
				return
			}
			valid++
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if len(doc.Events) == 0 {
				t.Fatal("no events")
			}
		})
	}
	if valid < 60 || invalid < 15 {
		t.Errorf("walked %d valid and %d invalid documents; want at least 60 and 15", valid, invalid)
	}
}

// TestDSCSAScenario parses the GS1 US direct-purchase scenario (EPCIS 1.2
// XML): commissioning with lot and expiry, packing, shipping, and the
// header's product master data.
func TestDSCSAScenario(t *testing.T) {
	doc := parseFile(t, "../../shared/data/dscsa/gs1us-pharma-example-via-openepcis/GS1_US_Pharma_Example_2_2_1_1.xml")
	if doc.SchemaVersion != "1.2" || len(doc.Events) != 8 || len(doc.MasterData) == 0 {
		t.Fatalf("schemaVersion %q, %d events, %d vocabularies; want 1.2, 8, some", doc.SchemaVersion, len(doc.Events), len(doc.MasterData))
	}
	first := doc.Events[0]
	if first.BizStep != bizStepVocab.web+"commissioning" || first.ILMD.Lot() != "A123" || first.ILMD.ItemExpirationDate() != "2025-03-27" {
		t.Errorf("first event: bizStep %q lot %q expiry %q", first.BizStep, first.ILMD.Lot(), first.ILMD.ItemExpirationDate())
	}
	if doc.Events[2].Type != AggregationEvent || len(doc.Events[2].ChildEPCs) != 4 || doc.Events[2].ParentID == "" {
		t.Errorf("third event: %s with %d children, parent %q; want an aggregation of 4", doc.Events[2].Type, len(doc.Events[2].ChildEPCs), doc.Events[2].ParentID)
	}
	last := doc.Events[7]
	if last.BizStep != bizStepVocab.web+"shipping" || len(last.SourceList) == 0 || len(last.DestinationList) == 0 {
		t.Errorf("last event: bizStep %q, %d sources, %d destinations", last.BizStep, len(last.SourceList), len(last.DestinationList))
	}
	seen := map[string]bool{}
	for i, e := range doc.Events {
		h := e.HashID()
		if seen[h] {
			t.Errorf("event %d repeats hash %s", i, h)
		}
		seen[h] = true
	}
}
