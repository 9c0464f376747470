package fhirapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/custodian"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
)

const syntheaDir = "../../shared/data/synthea"

// manifestEntry is one bundle of synthea/MANIFEST.json.
type manifestEntry struct {
	File           string         `json:"file"`
	BundleType     string         `json:"bundle_type"`
	Entries        int            `json:"entries"`
	ResourceCounts map[string]int `json:"resource_counts"`
}

// syntheaManifest returns the bundles in import order: the batch bundles
// (hospitals, practitioners) that the fhir-data-pipes patients' conditional
// references need, those patients, then the others. (The others create
// their own Organizations, some with the same identifiers, so that a
// conditional reference to one after them would match several.)
func syntheaManifest(t testing.TB) []manifestEntry {
	b, err := os.ReadFile(filepath.Join(syntheaDir, "MANIFEST.json"))
	if err != nil {
		t.Skipf("no Synthea test data (%v); CI has ../shared/data", err)
	}
	var m []manifestEntry
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	rank := func(e manifestEntry) int {
		switch {
		case e.BundleType == "batch":
			return 0
		case strings.Contains(e.File, "fhir-data-pipes"):
			return 1
		}
		return 2
	}
	sort.SliceStable(m, func(i, j int) bool { return rank(m[i]) < rank(m[j]) })
	return m
}

// bundleJSON is a request or response Bundle as plain JSON.
type bundleJSON struct {
	Entry []struct {
		FullURL  string         `json:"fullUrl"`
		Resource map[string]any `json:"resource"`
		Response struct {
			Status   string `json:"status"`
			Location string `json:"location"`
		} `json:"response"`
	} `json:"entry"`
}

// TestSyntheaImport imports every Synthea bundle through the FHIR API of a
// real node, requires the stored resources to match MANIFEST.json's counts,
// and reads each patient's records back: every resource comes back with the
// content it was sent with, its references resolved to stored resources.
func TestSyntheaImport(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 19,000 resources")
	}
	manifest := syntheaManifest(t)
	n := nodetest.Start(t, node.InitOptions{
		Org:    node.Org{ID: "synthea-general", Name: "Synthea General", Type: identity.Provider},
		Config: node.Config{FHIRSchema: schemaPath(t)},
	})
	s := &story{t: t, n: n, c: n.Client, tokens: map[string]string{}}
	stored := map[string]bool{} // Type/id of every stored resource
	for _, m := range manifest {
		raw, err := os.ReadFile(filepath.Join(syntheaDir, strings.TrimPrefix(m.File, "synthea/")))
		if err != nil {
			t.Fatal(err)
		}
		status, body := s.post(n.Admin, raw)
		if status != http.StatusOK {
			t.Fatalf("%s: status %d: %.500s", m.File, status, body)
		}
		var req, res bundleJSON
		json.Unmarshal(raw, &req)
		if err := json.Unmarshal(body, &res); err != nil || len(res.Entry) != m.Entries {
			t.Fatalf("%s: response has %d entries (%v); want %d", m.File, len(res.Entry), err, m.Entries)
		}
		counts := map[string]int{}
		ids := map[string]string{} // fullUrl → Type/id
		for i, e := range res.Entry {
			if !strings.HasPrefix(e.Response.Status, "201") {
				t.Fatalf("%s entry %d: status %q; want 201", m.File, i, e.Response.Status)
			}
			ref := strings.Join(strings.Split(e.Response.Location, "/")[:2], "/")
			counts[strings.Split(ref, "/")[0]]++
			ids[req.Entry[i].FullURL] = ref
			stored[ref] = true
		}
		if !reflect.DeepEqual(counts, m.ResourceCounts) {
			t.Errorf("%s: stored %v; want %v", m.File, counts, m.ResourceCounts)
		}
		if m.BundleType == "transaction" {
			s.checkReadBack(m.File, req, ids, stored)
		}
		s.checkDirectory(m.File, req, ids, stored)
	}
}

// post sends a Bundle to the FHIR base.
func (s *story) post(who ed25519.PrivKey, raw []byte) (int, []byte) {
	s.t.Helper()
	req, err := http.NewRequest("POST", s.n.URL+"/fhir", bytes.NewReader(raw))
	if err != nil {
		s.t.Fatal(err)
	}
	return s.do(req, who)
}

// checkReadBack reads the patient's records as the custodian's admin (the
// default policy does not cover admins, so the patient's own token, were
// it linked, or a physician would be needed) and compares each resource
// with what was sent, but for the server's id and meta and the references,
// which must name stored resources.
func (s *story) checkReadBack(file string, req bundleJSON, ids map[string]string, stored map[string]bool) {
	t := s.t.(*testing.T)
	t.Helper()
	dr := s.physician()
	var patient string
	for _, e := range req.Entry {
		if e.Resource["resourceType"] == "Patient" {
			patient = strings.TrimPrefix(ids[e.FullURL], "Patient/")
		}
	}
	got := map[string]map[string]any{}
	types := map[string]bool{}
	for _, e := range req.Entry {
		types[e.Resource["resourceType"].(string)] = true
	}
	for typ := range types {
		path := typ + "?_count=1000&"
		switch typ {
		case "Patient":
			path += "_id=" + patient
		case "Organization", "Practitioner", "Location", "PractitionerRole", "Medication":
			continue // directory data, read back below
		default:
			path += "patient=" + patient
		}
		status, body := s.fhir(dr, "GET", path, nil)
		if status != http.StatusOK {
			t.Fatalf("%s: search %s: status %d: %.300s", file, path, status, body)
		}
		var bundle bundleJSON
		json.Unmarshal(body, &bundle)
		for _, e := range bundle.Entry {
			got[e.Resource["resourceType"].(string)+"/"+e.Resource["id"].(string)] = e.Resource
		}
	}
	for _, e := range req.Entry {
		ref := ids[e.FullURL]
		if isDirectory(strings.Split(ref, "/")[0]) {
			continue
		}
		back, ok := got[ref]
		if !ok {
			t.Errorf("%s: %s was not found by its patient's search", file, ref)
			continue
		}
		checkRefs(t, file, ref, back, stored)
		if want, have := strip(e.Resource), strip(back); !reflect.DeepEqual(want, have) {
			t.Errorf("%s: %s read back differs from what was sent", file, ref)
		}
	}
}

// isDirectory reports whether typ is directory data, which is read without
// a consent decision.
func isDirectory(typ string) bool {
	switch typ {
	case "Organization", "Practitioner", "Location", "PractitionerRole", "Medication":
		return true
	}
	return false
}

// checkDirectory reads back the bundle's directory resources (hospitals,
// practitioners), in parallel, and compares them with what was sent.
func (s *story) checkDirectory(file string, req bundleJSON, ids map[string]string, stored map[string]bool) {
	t := s.t.(*testing.T)
	sent := map[string]map[string]any{}
	var paths []string
	for _, e := range req.Entry {
		if ref := ids[e.FullURL]; isDirectory(strings.Split(ref, "/")[0]) {
			sent[ref] = e.Resource
			paths = append(paths, ref)
		}
	}
	s.readAll(s.physician(), paths, func(ref string, status int, _ []byte, back map[string]any) {
		if status != http.StatusOK {
			t.Errorf("%s: GET %s: %d", file, ref, status)
			return
		}
		checkRefs(t, file, ref, back, stored)
		if !reflect.DeepEqual(strip(sent[ref]), strip(back)) {
			t.Errorf("%s: %s read back differs from what was sent", file, ref)
		}
	})
}

// physician returns a physician of the node's organization, registered once.
func (s *story) physician() ed25519.PrivKey {
	if s.drA == nil {
		s.drA = ed25519.GenPrivKey()
		acct, err := s.c.KeyAccount(context.Background(), s.token(s.n.Admin), s.n.Admin.PubKey().Bytes())
		if err != nil {
			s.t.Fatal(err)
		}
		s.send(s.n.Admin, contract.Encode(identity.RegisterMember{Org: acct.Org, PubKey: s.drA.PubKey().Bytes(), Roles: []identity.Role{identity.Physician}}))
	}
	return s.drA
}

// strip removes what the server sets or rewrites: id, meta's version and
// time, and every reference.
// stripRecordTag returns tags without the server's tag of the record's ref,
// or nil if none is left.
func stripRecordTag(tags []any) any {
	var out []any
	for _, t := range tags {
		if t.(map[string]any)["system"] != custodian.RecordTagSystem {
			out = append(out, t)
		}
	}
	if out == nil {
		return nil
	}
	return out
}

func strip(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			if k == "reference" || k == "id" {
				continue
			}
			if k == "meta" {
				m := map[string]any{}
				for mk, mv := range x.(map[string]any) {
					if mk == "tag" {
						mv = stripRecordTag(mv.([]any))
					}
					if mk != "versionId" && mk != "lastUpdated" && mv != nil {
						m[mk] = mv
					}
				}
				if len(m) > 0 {
					out[k] = m
				}
				continue
			}
			out[k] = strip(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = strip(x)
		}
		return out
	}
	return v
}

// checkRefs requires every reference of a stored resource to name a stored
// resource, or a contained one ("#...").
func checkRefs(t *testing.T, file, ref string, v any, stored map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "reference" {
				if !strings.HasPrefix(s, "#") && !stored[s] {
					t.Errorf("%s: %s refers to %q, which is not stored", file, ref, s)
				}
				continue
			}
			checkRefs(t, file, ref, x, stored)
		}
	case []any:
		for _, x := range v {
			checkRefs(t, file, ref, x, stored)
		}
	}
}
