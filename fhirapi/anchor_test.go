package fhirapi_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/careledger/careledger/contract/records"
	"github.com/careledger/careledger/custodian"
	"github.com/careledger/careledger/vault"
)

// TestAnchorProof reads a record version and its $anchor, and checks, as an
// auditor would with nothing but the chain, that the content is what was
// anchored: salt and content give the commitment, the leaf is in the root,
// and the root is on the chain as hospital A's anchor for the patient.
func TestAnchorProof(t *testing.T) {
	s := newStory(t)
	pa := addr(s.patient)
	status, body := s.fhir(s.drA, "PUT", "Patient/p1", obj("resourceType", "Patient", "id", "p1",
		"identifier", []any{obj("system", "urn:careledger:patient", "value", pa.String())}))
	s.expect("create Patient", status, http.StatusCreated, body)
	tx := txBundle()
	var entries []any
	for _, id := range []string{"a", "b", "c"} {
		entries = append(entries, putEntry(obj("resourceType", "Observation", "id", id, "status", "final",
			"code", obj("text", "glucose "+id), "subject", obj("reference", "Patient/p1"))))
	}
	tx["entry"] = entries
	status, body = s.fhir(s.drA, "POST", "", tx)
	s.expect("transaction of three", status, http.StatusOK, body)

	status, content := s.fhir(s.drA, "GET", "Observation/b/_history/1", nil)
	s.expect("vread", status, http.StatusOK, content)
	status, body = s.fhir(s.drA, "GET", "Observation/b/_history/1/$anchor", nil)
	s.expect("$anchor", status, http.StatusOK, body)
	var params struct {
		Parameter []struct {
			Name              string
			ValueString       string
			ValueInteger      uint64
			ValueBase64Binary string
			ValueID           string `json:"valueId"`
		}
	}
	json.Unmarshal(body, &params)
	var root [32]byte
	var salt [32]byte
	var index, count uint64
	var path [][]byte
	var ref string
	for _, p := range params.Parameter {
		switch p.Name {
		case "root":
			b, _ := hex.DecodeString(p.ValueString)
			copy(root[:], b)
		case "index":
			index = p.ValueInteger
		case "count":
			count = p.ValueInteger
		case "salt":
			b, _ := base64.StdEncoding.DecodeString(p.ValueBase64Binary)
			copy(salt[:], b)
		case "ref":
			ref = p.ValueID
		case "proof":
			b, _ := hex.DecodeString(p.ValueString)
			path = append(path, b)
		}
	}
	if count != 3 {
		t.Fatalf("$anchor count %d; want the 3 observations anchored together", count)
	}
	// The leaf names the record by its ref, which the content carries too.
	var meta struct {
		Meta struct {
			Tag []struct{ System, Code string }
		}
	}
	json.Unmarshal(content, &meta)
	if len(meta.Meta.Tag) != 1 || meta.Meta.Tag[0].System != custodian.RecordTagSystem || meta.Meta.Tag[0].Code != ref || len(ref) != 64 {
		t.Fatalf("content's tags %+v; want one of %s with the $anchor's ref %q", meta.Meta.Tag, custodian.RecordTagSystem, ref)
	}
	leaf := records.Leaf{Type: "Observation", ID: ref, Version: 1, Commitment: vault.Commitment(salt, content)}
	if err := records.VerifyInclusion(leaf, index, count, path, root); err != nil {
		t.Fatalf("the read content is not the anchored leaf: %v", err)
	}
	a, err := s.c.Anchor(context.Background(), s.token(s.patient), root)
	if err != nil || a.Custodian != hospitalA || a.Patient != pa || a.Count != 3 {
		t.Fatalf("anchor on the chain = %+v, %v; want hospital A's, for the patient, of 3", a, err)
	}
	// Altered content does not verify.
	altered := append([]byte{}, content...)
	altered[len(altered)-2] ^= 1
	bad := records.Leaf{Type: "Observation", ID: ref, Version: 1, Commitment: vault.Commitment(salt, altered)}
	if records.VerifyInclusion(bad, index, count, path, root) == nil {
		t.Error("altered content verifies against the anchor")
	}
	// Whoever may not read the record gets no proof either.
	if status, body := s.fhir(s.drB, "GET", "Observation/b/_history/1/$anchor", nil); status != http.StatusForbidden {
		t.Errorf("$anchor for hospital B: %d %.200s; want 403", status, body)
	}
}
