package fhirapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/records"
)

// mrn is a FHIR id that a client chose and that HIPAA counts as an
// identifier: a medical record number.
const mrn = "MRN-00424242"

// TestIDsStayAtTheCustodian imports a patient whose FHIR id is a medical
// record number, with observations whose ids contain it; grants, reads,
// searches, denies and erases; stops the node; and then finds the id in no
// file under the node's home (blocks, state, CometBFT's WAL and state
// store, index, audit log, vault, proofs), in any of the encodings a file
// might hold it in. The records are still readable by that id while the
// node runs.
func TestIDsStayAtTheCustodian(t *testing.T) {
	s := newStory(t)
	pa := addr(s.patient)
	patient := obj("resourceType", "Patient", "id", mrn, "gender", "unknown",
		"identifier", []any{obj("system", "urn:careledger:patient", "value", pa.String())})
	entries := []map[string]any{putEntry(patient)}
	for _, code := range []string{"glucose", "hba1c", "pulse"} {
		entries = append(entries, putEntry(obj("resourceType", "Observation", "id", mrn+"-"+code, "status", "final",
			"code", obj("text", code), "subject", obj("reference", "Patient/"+mrn))))
	}
	status, body := s.fhir(s.drA, "POST", "", txBundle(entries...))
	s.expect("import", status, http.StatusOK, body)

	glucose := "Observation/" + mrn + "-glucose"
	status, body = s.fhir(s.drA, "GET", glucose, nil)
	s.expect("read by FHIR id", status, http.StatusOK, body)
	glucoseRef := "Observation/" + recordRef(t, body)
	for _, path := range []string{"Patient/" + mrn, glucose + "/_history", glucose + "/_history/1/$anchor", "Patient/" + mrn + "/$everything"} {
		status, body = s.fhir(s.drA, "GET", path, nil)
		s.expect("GET "+path, status, http.StatusOK, body)
	}
	status, body = s.fhir(s.patient, "GET", "AuditEvent?patient="+mrn, nil)
	s.expect("the patient's AuditEvents", status, http.StatusOK, body)
	if !bytes.Contains(body, []byte(`"reference":"`+glucose+`"`)) {
		t.Errorf("the patient's AuditEvents do not name %s: %.500s", glucose, body)
	}

	// Hospital B is denied, then granted the glucose result alone, by its
	// ref: its search finds that one record.
	status, body = s.fhir(s.drB, "GET", glucose, nil)
	s.expect("hospital B without a grant", status, http.StatusForbidden, body)
	s.send(s.patient, contract.Encode(consent.Grant{Patient: pa, Grantee: consent.Grantee{Org: hospitalB},
		Scope: consent.Scope{Types: []string{"Observation"}, Records: []string{glucoseRef}}, Purposes: []string{"TREAT"}}))
	status, body = s.fhir(s.drB, "GET", "Observation?patient="+mrn, nil)
	s.expect("hospital B's search under a grant of one record", status, http.StatusOK, body)
	var found struct {
		Entry []struct{ Resource struct{ ID string } }
	}
	json.Unmarshal(body, &found)
	if len(found.Entry) != 1 || "Observation/"+found.Entry[0].Resource.ID != glucose {
		t.Errorf("hospital B's search found %s; want %s alone", body, glucose)
	}

	// The patient erases the glucose result by its ref.
	s.send(s.patient, contract.Encode(records.Erase{Custodian: hospitalA, Patient: pa, Record: glucoseRef}))
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, body = s.fhir(s.drA, "GET", glucose, nil)
		if status == http.StatusGone || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.expect("read after erasure", status, http.StatusGone, body)
	status, body = s.fhir(s.drA, "GET", "Observation/"+mrn+"-pulse", nil)
	s.expect("read of a record not erased", status, http.StatusOK, body)

	s.n.Stop(t)
	scanned := 0
	err := filepath.WalkDir(s.n.Home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.Contains(strings.ToLower(path), strings.ToLower(mrn)) {
			t.Errorf("a file is named after the id: %s", path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		scanned++
		for _, form := range encodings(mrn) {
			if bytes.Contains(b, form) {
				rel, _ := filepath.Rel(s.n.Home, path)
				t.Errorf("%s holds the id (as %q)", rel, form)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned < 10 {
		t.Fatalf("scanned %d files under the home; want the node's stores", scanned)
	}
}

// encodings returns the forms in which a file might hold id: as it is, in
// lowercase, in hex, and in base64 (standard and URL alphabets) at each of
// the three alignments it could have in a longer encoded value.
func encodings(id string) [][]byte {
	forms := [][]byte{[]byte(id), []byte(strings.ToLower(id)), []byte(hex.EncodeToString([]byte(id)))}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for k := 0; k < 3; k++ {
			s := enc.EncodeToString(append(make([]byte, k), id...))
			from, to := 0, 4*((k+len(id))/3) // the groups made of id's bytes alone
			if k > 0 {
				from = 4
			}
			forms = append(forms, []byte(s[from:to]))
		}
	}
	return forms
}

// TestEncodingsFindTheID checks the scan's forms against values that embed
// the id after 0 to 2 other bytes, in both base64 alphabets.
func TestEncodingsFindTheID(t *testing.T) {
	forms := encodings(mrn)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for k := 0; k < 3; k++ {
			v := []byte(enc.EncodeToString([]byte(strings.Repeat("?", k) + `{"id":"` + mrn + `"}`)))
			if !slices.ContainsFunc(forms, func(f []byte) bool { return bytes.Contains(v, f) }) {
				t.Errorf("no form of %s found in %s", mrn, v)
			}
		}
	}
}
