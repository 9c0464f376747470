package fhirapi_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
)

const (
	sponsor = "sponsor"
	payer   = "payer"
)

// exportStory is a hospital's node holding three patients' records, a
// research sponsor's researcher and a payer's claims agent.
type exportStory struct {
	*story
	researcher, agent ed25519.PrivKey
	patients          []ed25519.PrivKey // their FHIR ids are p0, p1, p2
}

func newExportStory(t *testing.T) *exportStory {
	n := nodetest.Start(t, node.InitOptions{
		ChainID: "careledger-export",
		Org:     node.Org{ID: hospitalA, Name: "Hospital A", Type: identity.Provider},
		Others: []node.Org{
			{ID: sponsor, Name: "Sponsor", Type: identity.Research},
			{ID: payer, Name: "Payer", Type: identity.Payer},
		},
		Config: node.Config{FHIRSchema: schemaPath(t)},
	})
	s := &exportStory{story: &story{t: t, n: n, c: n.Client, tokens: map[string]string{}}, researcher: ed25519.GenPrivKey(), agent: ed25519.GenPrivKey()}
	member := func(org string, key ed25519.PrivKey, role identity.Role) {
		admin, err := keys.Dir(filepath.Join(n.Home, "keys")).Load(org+"-admin", nil)
		if err != nil {
			t.Fatal(err)
		}
		s.send(admin, contract.Encode(identity.RegisterMember{Org: org, PubKey: key.PubKey().Bytes(), Roles: []identity.Role{role}}))
	}
	member(sponsor, s.researcher, identity.Researcher)
	member(payer, s.agent, identity.ClaimsAgent)
	for i := range 3 {
		p := ed25519.GenPrivKey()
		s.patients = append(s.patients, p)
		s.send(p, contract.Encode(identity.RegisterPatient{}))
		id := "p" + string(rune('0'+i))
		s.put("Patient/"+id, obj("resourceType", "Patient", "id", id,
			"identifier", []any{obj("system", "urn:careledger:patient", "value", addr(p).String())}))
		s.put("Observation/"+id+"-glucose", observation(id+"-glucose", id, "2339-0"))
		s.put("Observation/"+id+"-hba1c", observation(id+"-hba1c", id, "4548-4"))
		s.put("Condition/"+id+"-dm", obj("resourceType", "Condition", "id", id+"-dm", "subject", obj("reference", "Patient/"+id),
			"code", obj("coding", []any{obj("system", "http://snomed.info/sct", "code", "44054006")})))
	}
	s.put("Organization/lab", obj("resourceType", "Organization", "id", "lab", "name", "Lab"))
	s.enrollAll()
	return s
}

// enrollAll enrolls the three patients in the sponsor's trial (the
// hospital's admins its ethics board): a research read is decided on a
// patient's grant only for a participant (consent.ResearchPurposes).
func (s *exportStory) enrollAll() {
	const trial = "NCT00000099"
	s.send(s.researcher, contract.Encode(trials.Register{Trial: trial, Sponsor: sponsor, Board: hospitalA,
		Study: sha256.Sum256([]byte("study")), Protocol: sha256.Sum256([]byte("protocol")), SAP: sha256.Sum256([]byte("sap")),
		Primary: []string{"hba1c-26w"}}))
	s.send(s.n.Admin, contract.Encode(trials.Approve{Trial: trial, Version: 1}))
	for _, p := range s.patients {
		s.send(p, contract.Encode(trials.Consent{Trial: trial, Version: 1}))
		s.send(s.researcher, contract.Encode(trials.Enroll{Trial: trial, Participant: addr(p)}))
	}
}

func observation(id, patient, loinc string) map[string]any {
	return obj("resourceType", "Observation", "id", id, "status", "final", "subject", obj("reference", "Patient/"+patient),
		"code", obj("coding", []any{obj("system", "http://loinc.org", "code", loinc)}))
}

// put stores a resource as the hospital's admin.
func (s *exportStory) put(path string, res map[string]any) {
	s.t.Helper()
	status, body := s.fhir(s.n.Admin, "PUT", path, res)
	s.expect("PUT "+path, status, http.StatusCreated, body)
}

// grant has patient i grant grantee's organization purpose on types.
func (s *exportStory) grant(i int, org, purpose string, types ...string) {
	p := s.patients[i]
	s.send(p, contract.Encode(consent.Grant{
		Patient: addr(p), Grantee: consent.Grantee{Org: org}, Scope: consent.Scope{Types: types}, Purposes: []string{purpose},
	}))
}

// exportManifest is the completed status's body.
type exportManifest struct {
	TransactionTime     string
	Request             string
	RequiresAccessToken bool
	Output, Error       []struct {
		Type, URL string
		Count     int
	}
	Extension map[string]struct {
		Patients, PatientsLeftOut, PatientsPartial, Accesses, Transactions int
	}
}

func (m exportManifest) counts() (patients, leftOut, partial, accesses, txs int) {
	c := m.Extension["urn:careledger:export:consent"]
	return c.Patients, c.PatientsLeftOut, c.PatientsPartial, c.Accesses, c.Transactions
}

// kickoff starts an export as who for purpose and returns its status URL.
func (s *exportStory) kickoff(who ed25519.PrivKey, purpose, path string) string {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.n.URL+"/fhir/"+path, nil)
	req.Header.Set("Prefer", "respond-async")
	req.Header.Set("Accept", "application/fhir+json")
	req.Header.Set("X-Purpose-Of-Use", purpose)
	res, body := s.doFull(req, who)
	if res.StatusCode != http.StatusAccepted || res.Header.Get("Content-Location") == "" {
		s.t.Fatalf("kick-off %s: %d %s; want 202 with Content-Location", path, res.StatusCode, body)
	}
	return res.Header.Get("Content-Location")
}

// doFull sends req with who's token and returns the response and body.
func (s *exportStory) doFull(req *http.Request, who ed25519.PrivKey) (*http.Response, []byte) {
	s.t.Helper()
	req.Header.Set("Authorization", "Bearer "+s.token(who))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	return res, b.Bytes()
}

func (s *exportStory) get(who ed25519.PrivKey, url string) (*http.Response, []byte) {
	s.t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	return s.doFull(req, who)
}

// wait polls the status URL until the export is done, requiring 202 with
// X-Progress meanwhile, and returns the manifest.
func (s *exportStory) wait(who ed25519.PrivKey, status string) exportManifest {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, body := s.get(who, status)
		switch {
		case res.StatusCode == http.StatusOK:
			var m exportManifest
			if err := json.Unmarshal(body, &m); err != nil || !m.RequiresAccessToken || m.TransactionTime == "" || !strings.Contains(m.Request, "$export") {
				s.t.Fatalf("manifest %s (%v); want transactionTime, request and requiresAccessToken", body, err)
			}
			return m
		case res.StatusCode != http.StatusAccepted || res.Header.Get("X-Progress") == "":
			s.t.Fatalf("status: %d %s; want 202 with X-Progress, then 200", res.StatusCode, body)
		case time.Now().After(deadline):
			s.t.Fatal("export not done within 60s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// files downloads every output file of m as who and returns the ids of
// the resources of each type, checking each line and count.
func (s *exportStory) files(who ed25519.PrivKey, m exportManifest) map[string][]string {
	s.t.Helper()
	got := map[string][]string{}
	for _, f := range m.Output {
		res, body := s.get(who, f.URL)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/fhir+ndjson" {
			s.t.Fatalf("GET %s: %d %s %.200s; want 200 ndjson", f.URL, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		sc := bufio.NewScanner(bytes.NewReader(body))
		for sc.Scan() {
			var r struct{ ResourceType, ID string }
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.ResourceType != f.Type {
				s.t.Fatalf("%s line %q (%v); want a %s", f.URL, sc.Text(), err, f.Type)
			}
			got[f.Type] = append(got[f.Type], r.ID)
		}
		slices.Sort(got[f.Type]) // files come in pseudonym order
		if len(got[f.Type]) != f.Count {
			s.t.Errorf("%s has %d lines; the manifest counts %d", f.URL, len(got[f.Type]), f.Count)
		}
	}
	return got
}

// errorText returns the diagnostics of the error file of m.
func (s *exportStory) errorText(who ed25519.PrivKey, m exportManifest) string {
	s.t.Helper()
	var text []string
	for _, f := range m.Error {
		res, body := s.get(who, f.URL)
		if res.StatusCode != http.StatusOK || f.Type != "OperationOutcome" {
			s.t.Fatalf("error file %s: %d %s", f.URL, res.StatusCode, body)
		}
		text = append(text, string(body))
	}
	return strings.Join(text, "")
}

// TestExportResearch: a research export at the system level releases only
// the patients whose consent permits HRESCH, patient by patient, counts
// the one left out and the one released in part without naming them, puts
// every decision on the chain in one transaction, and serves its files to
// the researcher alone, until they are deleted.
func TestExportResearch(t *testing.T) {
	s := newExportStory(t)
	s.grant(0, sponsor, "HRESCH", "*")
	s.grant(1, sponsor, "HRESCH", "Patient", "Observation") // not the Condition
	status := s.kickoff(s.researcher, "HRESCH", "$export?_type=Patient,Observation,Condition,Organization")
	m := s.wait(s.researcher, status)
	got := s.files(s.researcher, m)
	want := map[string][]string{
		"Patient":      {"p0", "p1"},
		"Observation":  {"p0-glucose", "p0-hba1c", "p1-glucose", "p1-hba1c"},
		"Condition":    {"p0-dm"},
		"Organization": {"lab"}, // directory data: no decision
	}
	for typ, ids := range want {
		if !slices.Equal(got[typ], ids) {
			t.Errorf("%s exported: %v; want %v", typ, got[typ], ids)
		}
	}
	if patients, leftOut, partial, accesses, txs := m.counts(); patients != 3 || leftOut != 1 || partial != 1 || accesses != 3 || txs != 1 {
		t.Errorf("counts: %d patients, %d left out, %d in part, %d accesses in %d txs; want 3, 1, 1, 3 in 1",
			patients, leftOut, partial, accesses, txs)
	}
	if e := s.errorText(s.researcher, m); !strings.Contains(e, "1 patients left out: consent does not permit this purpose") ||
		!strings.Contains(e, "1 patients in part") || strings.Contains(e, "p2") || strings.Contains(e, addr(s.patients[2]).String()) {
		t.Errorf("error file %s; want the counts and no patient named", e)
	}

	// Each patient's decision is a receipt on their own account.
	for i, want := range []string{"permit", "partial", "deny"} {
		var outcomes []string
		for _, e := range s.accessEventsOf(s.patients[i]) {
			if e["patient"] == addr(s.patients[i]).String() && e["requester"] == addr(s.researcher).String() &&
				e["purpose"] == "HRESCH" && e["custodian"] == hospitalA {
				outcomes = append(outcomes, e["outcome"])
			}
		}
		if !slices.Equal(outcomes, []string{want}) {
			t.Errorf("patient %d's receipts for the researcher: %v; want [%s]", i, outcomes, want)
		}
	}

	// Another account sees neither the status nor the files.
	dr := s.physician()
	if res, body := s.get(dr, status); res.StatusCode != http.StatusNotFound {
		t.Errorf("status as another account: %d %s; want 404", res.StatusCode, body)
	}
	if res, body := s.get(dr, m.Output[0].URL); res.StatusCode != http.StatusNotFound || bytes.Contains(body, []byte("p0")) {
		t.Errorf("file as another account: %d %.200s; want 404", res.StatusCode, body)
	}

	// DELETE ends the export: its status and files are gone.
	req, _ := http.NewRequest("DELETE", status, nil)
	if res, body := s.doFull(req, s.researcher); res.StatusCode != http.StatusAccepted {
		t.Fatalf("DELETE status: %d %s; want 202", res.StatusCode, body)
	}
	if res, _ := s.get(s.researcher, status); res.StatusCode != http.StatusNotFound {
		t.Errorf("status after DELETE: %d; want 404", res.StatusCode)
	}
	if res, _ := s.get(s.researcher, m.Output[0].URL); res.StatusCode != http.StatusNotFound {
		t.Errorf("file after DELETE: %d; want 404", res.StatusCode)
	}
}

// TestExportLevels covers the Patient and Group levels, _typeFilter,
// _since, and a requester whom no patient granted anything.
func TestExportLevels(t *testing.T) {
	s := newExportStory(t)
	for i := range 3 {
		s.grant(i, sponsor, "HRESCH", "*")
	}
	s.put("Group/cohort", obj("resourceType", "Group", "id", "cohort", "type", "person", "actual", true, "member", []any{
		obj("entity", obj("reference", "Patient/p0")), obj("entity", obj("reference", "Patient/p2")),
		obj("entity", obj("reference", "Patient/p1"), "inactive", true),
	}))

	for _, tc := range []struct {
		name, path string
		want       map[string][]string
	}{
		{"patient level: no directory data", "Patient/$export?_type=Patient,Organization", nil},
		{"patient level", "Patient/$export?_type=Patient", map[string][]string{"Patient": {"p0", "p1", "p2"}}},
		{"group", "Group/cohort/$export?_type=Condition", map[string][]string{"Condition": {"p0-dm", "p2-dm"}}},
		{"type filter", "Patient/$export?_type=Observation&_typeFilter=Observation%3Fcode%3Dhttp%3A%2F%2Floinc.org%7C4548-4",
			map[string][]string{"Observation": {"p0-hba1c", "p1-hba1c", "p2-hba1c"}}},
		{"since in the future", "$export?_since=2999-01-01T00:00:00Z", map[string][]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == nil {
				req, _ := http.NewRequest("GET", s.n.URL+"/fhir/"+tc.path, nil)
				req.Header.Set("Prefer", "respond-async")
				if res, body := s.doFull(req, s.researcher); res.StatusCode != http.StatusBadRequest {
					t.Errorf("%s: %d %s; want 400", tc.path, res.StatusCode, body)
				}
				return
			}
			m := s.wait(s.researcher, s.kickoff(s.researcher, "HRESCH", tc.path))
			got := s.files(s.researcher, m)
			if len(got) != len(tc.want) {
				t.Errorf("exported %v; want %v", got, tc.want)
			}
			for typ, ids := range tc.want {
				if !slices.Equal(got[typ], ids) {
					t.Errorf("%s exported: %v; want %v", typ, got[typ], ids)
				}
			}
		})
	}

	// The payer's agent has no grant: every patient is decided and left
	// out, and nothing is released.
	m := s.wait(s.agent, s.kickoff(s.agent, "HPAYMT", "Patient/$export"))
	if len(m.Output) != 0 {
		t.Errorf("export without grants: output %+v; want none", m.Output)
	}
	if patients, leftOut, _, _, _ := m.counts(); patients != 3 || leftOut != 3 {
		t.Errorf("export without grants: %d patients, %d left out; want 3 and 3", patients, leftOut)
	}

	// Past 64 patients (the accesses one transaction holds), a second
	// transaction: every patient decided once, and released.
	// (Two Bundles: one of more than 64 patients is refused, its anchors
	// being one transaction.)
	for b := range 2 {
		var entries []map[string]any
		for i := range 35 {
			entries = append(entries, putEntry(obj("resourceType", "Patient", "id", fmt.Sprintf("bulk-%d-%d", b, i))))
		}
		status, body := s.fhir(s.n.Admin, "POST", "", txBundle(entries...))
		s.expect("35 Patients", status, http.StatusOK, body)
	}
	m = s.wait(s.physician(), s.kickoff(s.physician(), "TREAT", "Patient/$export?_type=Patient"))
	got := s.files(s.physician(), m)
	if patients, leftOut, _, accesses, txs := m.counts(); len(got["Patient"]) != 73 || patients != 73 || leftOut != 0 || accesses != 73 || txs != 2 {
		t.Errorf("73 patients: %d exported; counts %d patients, %d left out, %d accesses in %d txs; want 73, 73, 0, 73 in 2",
			len(got["Patient"]), patients, leftOut, accesses, txs)
	}
}

// TestExportKickoffErrors: a kick-off the server cannot run is a 4xx
// OperationOutcome, and starts nothing.
func TestExportKickoffErrors(t *testing.T) {
	s := newExportStory(t)
	for _, tc := range []struct {
		name, method, path string
		prefer, purpose    string
		body               string
		who                ed25519.PrivKey
		want               int
	}{
		{"no Prefer", "GET", "$export", "", "HRESCH", "", s.researcher, 400},
		{"unknown type", "GET", "$export?_type=Nonsense", "respond-async", "HRESCH", "", s.researcher, 400},
		{"bad since", "GET", "$export?_since=yesterday", "respond-async", "HRESCH", "", s.researcher, 400},
		{"format", "GET", "$export?_outputFormat=text/csv", "respond-async", "HRESCH", "", s.researcher, 400},
		{"unsupported parameter", "GET", "$export?_elements=id", "respond-async", "HRESCH", "", s.researcher, 400},
		{"filter on another type", "GET", "$export?_type=Patient&_typeFilter=Observation%3Fcode%3Dx", "respond-async", "HRESCH", "", s.researcher, 400},
		{"filter parameter", "GET", "$export?_typeFilter=Observation%3Fnope%3Dx", "respond-async", "HRESCH", "", s.researcher, 400},
		{"unknown purpose", "GET", "$export", "respond-async", "GOSSIP", "", s.researcher, 400},
		{"patient", "GET", "Patient/$export", "respond-async", "PATRQT", "", s.patients[0], 403},
		{"unknown group", "GET", "Group/nope/$export", "respond-async", "HRESCH", "", s.researcher, 404},
		{"POST not Parameters", "POST", "$export", "respond-async", "HRESCH", `{"resourceType":"Patient"}`, s.researcher, 400},
		{"POST bad type", "POST", "$export", "respond-async", "HRESCH",
			`{"resourceType":"Parameters","parameter":[{"name":"_type","valueString":"Nonsense"}]}`, s.researcher, 400},
		{"unknown status", "GET", "$export-poll/0123", "", "", "", s.researcher, 404},
		{"unknown file", "GET", "$export-file/0123-Patient.ndjson", "", "", "", s.researcher, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, s.n.URL+"/fhir/"+tc.path, strings.NewReader(tc.body))
			if tc.prefer != "" {
				req.Header.Set("Prefer", tc.prefer)
			}
			if tc.purpose != "" {
				req.Header.Set("X-Purpose-Of-Use", tc.purpose)
			}
			res, body := s.doFull(req, tc.who)
			if res.StatusCode != tc.want || !bytes.Contains(body, []byte("OperationOutcome")) || res.Header.Get("Content-Location") != "" {
				t.Errorf("%s %s: %d %s; want %d with an OperationOutcome", tc.method, tc.path, res.StatusCode, body, tc.want)
			}
		})
	}
	// A POST kick-off with Parameters runs like a GET.
	req, _ := http.NewRequest("POST", s.n.URL+"/fhir/Patient/$export", strings.NewReader(
		`{"resourceType":"Parameters","parameter":[{"name":"_type","valueString":"Patient"},{"name":"_outputFormat","valueString":"application/fhir+ndjson"}]}`))
	req.Header.Set("Prefer", "respond-async")
	req.Header.Set("X-Purpose-Of-Use", "TREAT")
	res, body := s.doFull(req, s.physician())
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("POST kick-off: %d %s; want 202", res.StatusCode, body)
	}
	m := s.wait(s.physician(), res.Header.Get("Content-Location"))
	if got := s.files(s.physician(), m); !slices.Equal(got["Patient"], []string{"p0", "p1", "p2"}) || len(got) != 1 {
		t.Errorf("POST export by the hospital's physician for TREAT: %v; want the three Patients", got)
	}
}
