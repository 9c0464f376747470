package fhirapi_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
)

// TestHL7ExamplesRoundTrip stores every official HL7 FHIR R4 example
// resource through PUT on a real node (Patients first) and reads each back:
// what is stored comes back with the same content, but for the meta the
// server maintains. A resource in the patient compartment that names no
// single patient held here is refused, and so is one of a type R4 says is
// about a patient that this server does not file under one (AuditEvent,
// RiskAssessment, ...); only such resources are.
func TestHL7ExamplesRoundTrip(t *testing.T) {
	dir := "../../shared/data/fhir-examples/resources"
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Skipf("no HL7 examples in %s; CI has ../shared/data", dir)
	}
	sort.SliceStable(files, func(i, j int) bool {
		return strings.HasPrefix(filepath.Base(files[i]), "Patient-") && !strings.HasPrefix(filepath.Base(files[j]), "Patient-")
	})
	n := nodetest.Start(t, node.InitOptions{
		Org:    node.Org{ID: "hl7-examples", Name: "HL7 Examples", Type: identity.Provider},
		Config: node.Config{FHIRSchema: schemaPath(t)},
	})
	s := &story{t: t, n: n, c: n.Client, tokens: map[string]string{}}
	dr := s.physician()

	type stored struct {
		path string
		sent map[string]any
	}
	var ok []stored
	refused := map[string]int{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var res map[string]any
		if err := json.Unmarshal(raw, &res); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		path := res["resourceType"].(string) + "/" + res["id"].(string)
		status, body := s.fhir(dr, "PUT", path, raw)
		switch {
		case status == http.StatusCreated || status == http.StatusOK:
			ok = append(ok, stored{path, res})
		case status == http.StatusBadRequest && strings.Contains(string(body), "is not held here"),
			status == http.StatusUnprocessableEntity && strings.Contains(string(body), "must name exactly one patient"),
			status == http.StatusUnprocessableEntity && strings.Contains(string(body), "is about a patient and is not stored here"):
			refused[res["resourceType"].(string)]++
		default:
			t.Errorf("PUT %s (%s): %d %.300s", path, filepath.Base(f), status, body)
		}
	}
	t.Logf("%d of %d examples stored; refused for naming no single patient held here or being about a patient but not filed here: %v", len(ok), len(files), refused)
	if len(ok) < len(files)/2 {
		t.Errorf("only %d of %d examples stored", len(ok), len(files))
	}

	sent := map[string]map[string]any{}
	var paths []string
	for _, st := range ok {
		sent[st.path] = st.sent
		paths = append(paths, st.path)
	}
	s.readAll(dr, paths, func(path string, status int, body []byte, got map[string]any) {
		if status != http.StatusOK {
			t.Errorf("GET %s: %d %.200s", path, status, body)
		} else if !reflect.DeepEqual(withoutServerMeta(got), withoutServerMeta(sent[path])) {
			t.Errorf("GET %s: content differs from what was stored", path)
		}
	})
}

// withoutServerMeta drops meta.versionId, meta.lastUpdated and the tag of
// the record's ref, which the server sets, and meta if nothing else is left
// in it.
func withoutServerMeta(r map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range r {
		out[k] = v
	}
	if m, ok := r["meta"].(map[string]any); ok {
		mm := map[string]any{}
		for k, v := range m {
			if tags, ok := v.([]any); ok && k == "tag" {
				v = stripRecordTag(tags)
			}
			if k != "versionId" && k != "lastUpdated" && v != nil {
				mm[k] = v
			}
		}
		delete(out, "meta")
		if len(mm) > 0 {
			out["meta"] = mm
		}
	}
	return out
}
