package fhirapi_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/records"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/vault"
)

// searchSet is the part of a searchset Bundle the tests read.
type searchSet struct {
	Total *int
	Entry []struct {
		Resource map[string]any
		Search   struct{ Mode string }
	}
}

// search runs a search as who and returns the Bundle, failing on any
// status but 200.
func (s *story) search(who []byte, path string, headers ...string) searchSet {
	s.t.Helper()
	status, body := s.fhir(who, "GET", path, nil, headers...)
	s.expect("GET "+path, status, http.StatusOK, body)
	var b searchSet
	if err := json.Unmarshal(body, &b); err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	return b
}

// ids returns the ids of the entries of mode ("match" or "include"), in order.
func (b searchSet) ids(mode string) []string {
	var out []string
	for _, e := range b.Entry {
		if e.Search.Mode == mode {
			out = append(out, e.Resource["resourceType"].(string)+"/"+e.Resource["id"].(string))
		}
	}
	return out
}

func (s *story) create(body map[string]any) string {
	s.t.Helper()
	status, b := s.fhir(s.drA, "POST", body["resourceType"].(string), body)
	s.expect("create", status, http.StatusCreated, b)
	var r struct{ ID string }
	json.Unmarshal(b, &r)
	return r.ID
}

func name(family string, given ...string) []any {
	return []any{obj("family", family, "given", given)}
}

// TestPatientSearchBlindIndex finds patients by name, birth date and
// identifier through a real node, checks that every search is decided and
// receipted per patient, that the node's files hold none of the names or
// identifiers, and that erasing a patient leaves no token of theirs.
func TestPatientSearchBlindIndex(t *testing.T) {
	s := newStory(t)
	pa := addr(s.patient)
	zoe := obj("resourceType", "Patient", "name", name("Quibbleworth", "Zoë"), "birthDate", "1980-04-02", "gender", "female",
		"identifier", []any{obj("system", "urn:mrn", "value", "MRN-QX-7781"), obj("system", "urn:careledger:patient", "value", pa.String())})
	p1 := "Patient/" + s.create(zoe)
	p2 := "Patient/" + s.create(obj("resourceType", "Patient", "name", name("Quibbles", "Zoe"), "birthDate", "1975-01-09",
		"identifier", []any{obj("system", "urn:mrn", "value", "MRN-2")}))
	p3 := "Patient/" + s.create(obj("resourceType", "Patient", "name", name("Schmidt", "Anna"), "birthDate", "1990",
		"identifier", []any{obj("system", "urn:mrn", "value", "MRN-3")}))
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }

	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"name=zoe&_sort=-birthdate", []string{p1, p2}},
		{"name=ZOË&_sort=birthdate", []string{p2, p1}},
		{"family=quibb&_sort=family", []string{p2, p1}},
		{"family=quibbleworthy", nil},
		{"family:exact=Quibbleworth", []string{p1}},
		{"family:exact=quibbleworth", nil},
		{"given=an", []string{p3}},
		{"birthdate=1980-04-02", []string{p1}},
		{"birthdate=1980-04", []string{p1}},
		{"birthdate=ge1976&_sort=birthdate", []string{p1, p3}},
		{"birthdate=lt1976", []string{p2}},
		{"identifier=MRN-QX-7781", []string{p1}},
		{"identifier=urn:mrn|MRN-2", []string{p2}},
		{"identifier=urn:other|MRN-2", nil},
		{"name=zoe&birthdate=1975", []string{p2}},
		{"name=zoe,anna&_sort=_id", sorted(p1, p2, p3)},
	} {
		if got := s.search(s.drA, "Patient?"+tt.query).ids("match"); !slices.Equal(got, tt.want) {
			t.Errorf("Patient?%s = %v; want %v", tt.query, got, tt.want)
		}
	}

	// Every search by name is decided for each matching patient and
	// receipted on their account before the answer.
	before := len(s.accessEvents())
	s.search(s.drA, "Patient?family=quibbleworth", "X-Purpose-Of-Use", "TREAT")
	receipts := s.accessEvents()
	if len(receipts) != before+1 || receipts[len(receipts)-1]["requester"] != addr(s.drA).String() || receipts[len(receipts)-1]["outcome"] != "permit" {
		t.Errorf("after a search by name the patient's receipts are %v; want one more, A's permit", receipts[before:])
	}
	// Hospital B's physician has no grant: the search is decided, denied,
	// receipted, and finds nothing.
	if b := s.search(s.drB, "Patient?name=zoe&_revinclude=Observation:subject"); len(b.Entry) != 0 || *b.Total != 0 {
		t.Errorf("B's search found %v; want nothing", b.ids("match"))
	}
	if last := s.accessEvents(); last[len(last)-1]["requester"] != addr(s.drB).String() || last[len(last)-1]["outcome"] != "deny" {
		t.Errorf("B's search left receipt %v; want B's denial", last[len(last)-1])
	}

	for _, q := range []string{"name:contains=oe", "gender=female", "birthdate=ne1980", "_sort=name&_count=1"} {
		status, body := s.fhir(s.drA, "GET", "Patient?"+q, nil)
		if status != http.StatusBadRequest || !strings.Contains(string(body), "OperationOutcome") {
			t.Errorf("Patient?%s: %d %s; want 400 with an OperationOutcome", q, status, body)
		}
	}

	// No name or identifier is on disk in the clear, anywhere in the home.
	plain := [][]byte{[]byte("Quibbleworth"), []byte("quibbleworth"), []byte("MRN-QX-7781"), []byte("Schmidt")}
	if found := scanHome(t, s.n.Home, plain); len(found) > 0 {
		t.Errorf("in the clear on disk: %v", found)
	}

	// The patient erases their records: the search no longer finds them,
	// and the vault keeps no token of them.
	s.send(s.patient, contract.Encode(records.Erase{Custodian: hospitalA, Patient: pa}))
	deadline := time.Now().Add(30 * time.Second)
	for len(s.search(s.drA, "Patient?identifier=MRN-QX-7781").Entry) > 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if got := s.search(s.drA, "Patient?name=zoe").ids("match"); !slices.Equal(got, []string{p2}) {
		t.Errorf("after erasure Patient?name=zoe = %v; want [%s]", got, p2)
	}
	s.n.Stop(t)
	kw, err := vault.LoadMasterKey(filepath.Join(s.n.Home, "config", "vault_master.key"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(filepath.Join(s.n.Home, "data", "vault"), kw)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	zb, _ := json.Marshal(zoe)
	zr, err := fhir.Parse(zb)
	if err != nil {
		t.Fatal(err)
	}
	var tokens [][]byte
	for _, term := range fhir.IndexTerms(zr) {
		tok := v.KeyedHash(term.Domain, []byte(term.Value))
		ids, err := v.Lookup("Patient", tok)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(ids, refIn(v, p1)) {
			t.Errorf("after erasure the token of %s %q still finds the patient", term.Domain, term.Value)
		}
		if term.Domain == "search/Patient.family" || term.Domain == "search/Patient.identifier" {
			tokens = append(tokens, tok[:])
		}
	}
	if found := scanHome(t, filepath.Join(s.n.Home, "data", "vault"), tokens); len(found) > 0 {
		t.Errorf("after erasure the erased patient's tokens are on disk: %v", found)
	}
	if ids, _ := v.Lookup("Patient", v.KeyedHash("search/Patient.family", []byte("quibbles"))); !slices.Equal(ids, []string{refIn(v, p2)}) {
		t.Errorf("after erasure the other patient's token finds %v; want [%s]", ids, p2)
	}
}

// refIn returns the name by which v holds the record ref ("Type/id"), as
// custodian.Ref gives it.
func refIn(v *vault.Vault, ref string) string {
	h := v.KeyedHash("record", []byte(ref))
	return hex.EncodeToString(h[:])
}

// scanHome returns which of needles some file under dir holds.
func scanHome(t *testing.T, dir string, needles [][]byte) []string {
	t.Helper()
	var found []string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		for _, n := range needles {
			if bytes.Contains(b, n) {
				found = append(found, string(n)+" in "+path)
			}
		}
		return nil
	})
	return found
}

// TestSearchResultParams checks _include, _revinclude, _sort, _elements,
// _summary and _total through a real node, and that an included resource
// is released only as consent permits.
func TestSearchResultParams(t *testing.T) {
	s := newStory(t)
	pid := s.create(obj("resourceType", "Patient", "name", name("Ng", "Ann"), "birthDate", "1960"))
	var obs []string
	for _, d := range []string{"2020-01-01", "2022-01-01", "2021-01-01"} {
		obs = append(obs, "Observation/"+s.create(obj("resourceType", "Observation", "status", "final",
			"code", obj("text", "glucose"), "subject", obj("reference", "Patient/"+pid), "effectiveDateTime", d,
			"valueQuantity", obj("value", 6.3))))
	}
	p := "Patient/" + pid

	b := s.search(s.drA, "Observation?patient="+pid+"&_sort=-date&_include=Observation:patient&_elements=status&_total=none")
	if got, want := b.ids("match"), []string{obs[1], obs[2], obs[0]}; !slices.Equal(got, want) {
		t.Errorf("_sort=-date: %v; want %v", got, want)
	}
	if got := b.ids("include"); !slices.Equal(got, []string{p}) {
		t.Errorf("_include=Observation:patient: %v; want [%s]", got, p)
	}
	if b.Total != nil {
		t.Errorf("_total=none: total %d; want none", *b.Total)
	}
	for _, e := range b.Entry {
		meta, _ := json.Marshal(e.Resource["meta"])
		_, hasValue := e.Resource["valueQuantity"]
		if e.Search.Mode == "match" && (hasValue || !strings.Contains(string(meta), "SUBSETTED") || e.Resource["status"] != "final") {
			t.Errorf("_elements=status entry %v; want status and code only, tagged SUBSETTED", e.Resource)
		}
		if e.Search.Mode == "include" && e.Resource["name"] == nil {
			t.Errorf("included Patient %v; want it whole", e.Resource)
		}
	}

	b = s.search(s.drA, "Patient?_id="+pid+"&_revinclude=Observation:subject&_summary=true")
	if got := b.ids("include"); len(got) != 3 {
		t.Errorf("_revinclude=Observation:subject: %v; want the 3 Observations", got)
	}
	if m := b.Entry[0].Resource; m["birthDate"] != "1960" || m["text"] != nil {
		t.Errorf("_summary=true Patient %v", m)
	}

	b = s.search(s.drA, "Observation?patient="+pid+"&_summary=count")
	if len(b.Entry) != 0 || b.Total == nil || *b.Total != 3 {
		t.Errorf("_summary=count: %d entries, total %v; want none and 3", len(b.Entry), b.Total)
	}

	// Paging keeps the order and the result parameters.
	b = s.search(s.drA, "Observation?patient="+pid+"&_sort=date&_count=1&_offset=1")
	if got := b.ids("match"); !slices.Equal(got, []string{obs[2]}) {
		t.Errorf("second page of _sort=date: %v; want [%s]", got, obs[2])
	}

	// Hospital B's physician may not read the patient: an include of the
	// patient is left out (the search itself is denied too).
	status, body := s.fhir(s.drB, "GET", "Observation?patient="+pid+"&_include=Observation:patient", nil)
	s.expect("B's search", status, http.StatusOK, body)
	if bytes.Contains(body, []byte(`"Ng"`)) {
		t.Errorf("B's search released the patient: %s", body)
	}

	status, body = s.fhir(s.drA, "GET", "Observation?patient="+pid+"&_include="+url.QueryEscape("Observation:nope"), nil)
	if status != http.StatusBadRequest {
		t.Errorf("_include of an unknown parameter: %d %s; want 400", status, body)
	}
	status, body = s.fhir(s.drA, "GET", "metadata", nil)
	s.expect("metadata", status, http.StatusOK, body)
	for _, want := range []string{`"name":"family"`, `"name":"birthdate"`, `"name":"_sort"`, `"searchRevInclude":[`, `"Observation:subject"`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("CapabilityStatement lacks %s", want)
		}
	}
}
