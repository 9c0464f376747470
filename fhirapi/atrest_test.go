package fhirapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/rewards"
	"github.com/careledger/careledger/contract/schedule"
	"github.com/careledger/careledger/custodian"
	"github.com/careledger/careledger/keys"
)

// minCodeLength is the shortest clinical code the scan looks for: shorter
// ones (CVX vaccine codes of two or three digits, say) occur in any
// decimal number a node stores, a height or an amount, and would say
// nothing.
const minCodeLength = 6

// clinicalSystems are the code systems whose codes the scan looks for:
// what a record says of a patient's health, not the FHIR and HL7 codes of
// its structure (a claim's care team role "primary", say).
var clinicalSystems = []string{"http://loinc.org", "http://snomed.info/sct", "http://www.nlm.nih.gov/research/umls/rxnorm",
	"http://hl7.org/fhir/sid/cvx", "http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cm", "http://www.ama-assn.org/go/cpt"}

// phi is what the scan looks for: what identifies the Synthea patients
// (names, birth dates, identifiers such as a social security or medical
// record number, telecom, address) and the clinical codes of their
// records.
type phi struct {
	names, codes []string
}

func (p *phi) add(list *[]string, v string) {
	if !slices.Contains(*list, v) {
		*list = append(*list, v)
	}
}

// collect adds the names of the bundle's Patients and every code of a
// coding in its clinical resources (not the directory's: hospitals and
// practitioners are no patient's data).
func (p *phi) collect(bundle map[string]any) {
	for _, e := range bundle["entry"].([]any) {
		res := e.(map[string]any)["resource"].(map[string]any)
		typ := res["resourceType"].(string)
		if isDirectory(typ) {
			continue
		}
		if typ == "Patient" {
			p.collectPatient(res)
		}
		p.walkCodes(res)
	}
}

func (p *phi) collectPatient(res map[string]any) {
	for _, n := range res["name"].([]any) {
		name := n.(map[string]any)
		for _, g := range name["given"].([]any) {
			p.add(&p.names, g.(string))
		}
		p.add(&p.names, name["family"].(string))
	}
	p.add(&p.names, res["birthDate"].(string))
	for _, list := range []string{"identifier", "telecom"} {
		for _, v := range asList(res[list]) {
			if v.(map[string]any)["system"] == custodian.PatientSystem {
				continue // the pseudonym, which the chain holds
			}
			if value, _ := v.(map[string]any)["value"].(string); len(value) >= minCodeLength {
				p.add(&p.names, value)
			}
		}
	}
	for _, a := range asList(res["address"]) {
		a := a.(map[string]any)
		for _, line := range asList(a["line"]) {
			p.add(&p.names, line.(string))
		}
		for _, k := range []string{"city", "postalCode"} {
			if v, _ := a[k].(string); v != "" {
				p.add(&p.names, v)
			}
		}
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func (p *phi) walkCodes(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if k == "coding" {
				for _, c := range child.([]any) {
					coding := c.(map[string]any)
					code, _ := coding["code"].(string)
					system, _ := coding["system"].(string)
					if slices.Contains(clinicalSystems, system) && len(code) >= minCodeLength {
						p.add(&p.codes, code)
					}
				}
			}
			p.walkCodes(child)
		}
	case []any:
		for _, child := range v {
			p.walkCodes(child)
		}
	}
}

// importLinked imports a Synthea transaction Bundle at hospital A with its
// Patient linked to the account of k, and returns the Patient's id.
func (s *story) importLinked(raw []byte, k ed25519.PrivKey) (map[string]any, string) {
	s.t.Helper()
	var bundle map[string]any
	if err := json.Unmarshal(raw, &bundle); err != nil {
		s.t.Fatal(err)
	}
	patientAt := -1
	for i, e := range bundle["entry"].([]any) {
		res := e.(map[string]any)["resource"].(map[string]any)
		if res["resourceType"] == "Patient" {
			ids, _ := res["identifier"].([]any)
			res["identifier"] = append(ids, obj("system", custodian.PatientSystem, "value", addr(k).String()))
			patientAt = i
		}
	}
	b, _ := json.Marshal(bundle)
	status, body := s.post(s.n.Admin, b)
	s.expect("import a Synthea bundle", status, http.StatusOK, body)
	var res bundleJSON
	if err := json.Unmarshal(body, &res); err != nil || patientAt < 0 || patientAt >= len(res.Entry) {
		s.t.Fatalf("import: %v, Patient entry %d of %d", err, patientAt, len(res.Entry))
	}
	return bundle, strings.Split(res.Entry[patientAt].Response.Location, "/")[1]
}

// TestNoHealthDataAtRest runs a real node through a story with Synthea
// patients (their records imported, a grant and a grantee's reads, a
// monitoring device's readings, an appointment booked through FHIR and
// attended, a reward attested and redeemed), stops it, and scans every
// byte of its home (the block store, CometBFT's state and WAL, the app's
// state, index and audit log, the vault, the configuration and keys), the
// raw files and, since LevelDB compresses its tables, every key and value
// of each LevelDB, for the patients' names and the clinical codes of
// their records and readings. The chain holds pseudonyms, commitments and
// coarse categories; the vault holds only ciphertext and blind indexes.
func TestNoHealthDataAtRest(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a node through a story and scans its home")
	}
	var files []string
	for _, m := range syntheaManifest(t) {
		if strings.Contains(m.File, "smart-on-fhir") && m.Entries <= 70 {
			files = append(files, m.File)
		}
	}
	if len(files) < 2 {
		t.Fatalf("want two small Synthea bundles, found %v", files)
	}
	s := newStory(t)
	second := ed25519.GenPrivKey()
	s.send(second, contract.Encode(identity.RegisterPatient{}))
	var look phi
	pids := map[string]string{}
	for i, k := range []ed25519.PrivKey{s.patient, second} {
		raw, err := os.ReadFile(filepath.Join(syntheaDir, strings.TrimPrefix(files[i], "synthea/")))
		if err != nil {
			t.Fatal(err)
		}
		bundle, pid := s.importLinked(raw, k)
		look.collect(bundle)
		pids[string(k)] = pid
	}
	pid := pids[string(s.patient)]
	t.Logf("scanning for %d names, dates, identifiers and addresses and %d codes", len(look.names), len(look.codes))

	// Consent and the grantee's reads, each receipted on the chain.
	s.send(s.patient, contract.Encode(consent.Grant{Patient: addr(s.patient), Grantee: consent.Grantee{Org: hospitalB, Role: identity.Physician},
		Scope: consent.Scope{Types: []string{"Observation", "Condition", "Patient"}}, Purposes: []string{"TREAT"}}))
	for _, path := range []string{"Observation?patient=" + pid, "Condition?patient=" + pid, "Patient/" + pid} {
		status, body := s.fhir(s.drB, "GET", path, nil)
		s.expect("the grantee reads "+path, status, http.StatusOK, body)
	}

	// A monitoring device's readings.
	meter := ed25519.GenPrivKey()
	const heartRate = "8867-4"
	look.add(&look.codes, heartRate)
	s.setDevice(s.patient, meter, hospitalA, heartRate)
	status, body := s.fhir(meter, "POST", "", readingsBundle("batch", reading(pid, heartRate, 71), reading(pid, heartRate, 74)))
	s.expect("the device writes readings", status, http.StatusOK, body)

	// An appointment booked through FHIR, attended and rewarded; the
	// reward redeemed to the payer.
	payerAdmin, err := keys.Dir(filepath.Join(s.n.Home, "keys")).Load(storyPayer+"-admin", nil)
	if err != nil {
		t.Fatal(err)
	}
	s.send(payerAdmin, contract.Encode(claims.Deposit{Payer: storyPayer, Amount: 10_000}),
		contract.Encode(rewards.Create{Sponsor: storyPayer, Program: "checkups", Funding: 5_000, PatientCap: 1_000, End: time.Now().Add(time.Hour).Unix(),
			Rules: []rewards.Rule{{Event: "attended", Amount: 500, Attesters: []string{"provider"}}}, RedeemTo: []string{storyPayer}}))
	start := time.Now().Add(4 * time.Second).Unix()
	ref := schedule.SlotRef{Provider: hospitalA, Schedule: "gp", Start: start}
	s.send(s.n.Admin, contract.Encode(schedule.Publish{Provider: hospitalA, Schedule: "gp", Category: "primary-care"}),
		contract.Encode(schedule.OpenSlots{Provider: hospitalA, Schedule: "gp", Slots: []schedule.SlotSpec{{Start: start, Minutes: 20}}}))
	slot := fmt.Sprintf("Slot/%s.gp.%d", hospitalA, start)
	status, body = s.fhir(s.patient, "POST", "Appointment", s.signedBooking(s.patient, s.patient, ref, "booked", slot))
	s.expect("book through FHIR", status, http.StatusCreated, body)
	time.Sleep(time.Until(time.Unix(start+1, 0)))
	s.send(s.drA, contract.Encode(schedule.Mark{SlotRef: ref, Outcome: schedule.Attended}),
		contract.Encode(rewards.Attest{Program: "checkups", Patient: addr(s.patient), Event: "attended", Ref: [32]byte{1}}))
	s.send(s.patient, contract.Encode(rewards.Redeem{Program: "checkups", Patient: addr(s.patient), To: storyPayer, Amount: 500}))

	home := s.n.Home
	s.n.Stop(t)
	// What the chain does hold, the scan finds: the coarse category.
	if hits := scanEveryByte(t, home, []string{"primary-care"}); !slices.ContainsFunc(hits, func(h string) bool { return strings.Contains(h, "state.db value") }) {
		t.Fatalf("the scan finds the schedule's category only in %v; want it in the app's state too", hits)
	}
	for _, hit := range scanEveryByte(t, home, append(look.names, look.codes...)) {
		t.Errorf("found %s", hit)
	}
}

// scanEveryByte returns where each needle occurs in the files under home, and
// in the keys and values of each LevelDB there.
func scanEveryByte(t *testing.T, home string, needles []string) []string {
	t.Helper()
	var hits []string
	scan := func(where string, b []byte) {
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				hits = append(hits, fmt.Sprintf("%q in %s", n, where))
			}
		}
	}
	files, dbs := 0, 0
	err := filepath.WalkDir(home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(home, path)
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		scan(rel, b)
		if d.Name() != "CURRENT" {
			return nil
		}
		dbs++
		return scanLevelDB(filepath.Dir(path), func(k, v []byte) {
			dir, _ := filepath.Rel(home, filepath.Dir(path))
			scan(dir+" key "+fmt.Sprintf("%.40q", k), k)
			scan(dir+" value of "+fmt.Sprintf("%.40q", k), v)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 10 || dbs < 5 {
		t.Fatalf("scanned %d files and %d LevelDBs; want the whole home", files, dbs)
	}
	t.Logf("scanned %d files and %d LevelDBs", files, dbs)
	return hits
}

func scanLevelDB(dir string, fn func(k, v []byte)) error {
	db, err := leveldb.OpenFile(dir, &opt.Options{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer db.Close()
	it := db.NewIterator(nil, nil)
	defer it.Release()
	for it.Next() {
		fn(it.Key(), it.Value())
	}
	return it.Error()
}
