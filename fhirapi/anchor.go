package fhirapi

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/careledger/careledger/contract/identity"
)

// anchor serves {type}/{id}/_history/{vid}/$anchor (no parameters) to whoever may
// read that version: a Parameters resource with what proves it was anchored
// on the chain unchanged: the salt of its commitment, the record's ref (the
// name its leaf and the chain give it: custodian.Ref), and the leaf's RFC
// 6962 inclusion proof in the anchor's root, which GET /v1/anchors/{root}
// finds on the chain.
func (s *Server) anchor(w http.ResponseWriter, r *http.Request, who *identity.Account, _ url.Values) error {
	typ, req, err := s.readTarget(r, who, "")
	if err != nil {
		return err
	}
	vid, err := versionOf(r)
	if err != nil {
		return err
	}
	rec, p, err := s.c.AnchorProof(r.Context(), req, typ, r.PathValue("id"), vid)
	if err != nil {
		return err
	}
	param := func(name, kind string, v any) map[string]any { return map[string]any{"name": name, kind: v} }
	ps := []any{
		param("root", "valueString", hex.EncodeToString(p.Root[:])),
		param("index", "valueInteger", p.Index),
		param("count", "valueInteger", p.Count),
		param("salt", "valueBase64Binary", base64.StdEncoding.EncodeToString(rec.Salt[:])),
		param("ref", "valueId", rec.ID),
	}
	for _, h := range p.Path {
		ps = append(ps, param("proof", "valueString", hex.EncodeToString(h)))
	}
	b, err := json.Marshal(map[string]any{"resourceType": "Parameters", "parameter": ps})
	if err != nil {
		return err
	}
	write(w, http.StatusOK, b)
	return nil
}
