package fhirapi

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/fhir"
)

// The conditional and versioned writes of FHIR R4 (http.html): If-None-Exist
// on create, If-Match on update, delete and patch, update and delete by
// search, and PATCH with a JSON Patch. package custodian keeps them atomic.

// conditionQuery parses the search of a conditional interaction (what of
// it is shown as write, such as "update"). A search without a filtering
// parameter would match every resource of the type: it is refused.
func conditionQuery(typ string, v url.Values, write string) (*fhir.Query, error) {
	filters := false
	for name := range v {
		switch name {
		case "_count", "_offset", "_format", "_pretty":
		default:
			filters = true
		}
	}
	if !filters {
		return nil, fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: "a conditional " + write + " needs search parameters"})
	}
	return fhir.ParseQuery(typ, v)
}

// ifNoneExist returns the query of a create's If-None-Exist header ("search
// parameters", or "Type?search parameters"), or nil without one.
func ifNoneExist(r *http.Request, typ string) (*fhir.Query, error) {
	h := r.Header.Get("If-None-Exist")
	if h == "" {
		return nil, nil
	}
	v, err := url.ParseQuery(strings.TrimPrefix(h, typ+"?"))
	if err != nil {
		return nil, fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: "If-None-Exist must be search parameters"})
	}
	return conditionQuery(typ, v, "create")
}

// createIfNoneExist serves POST /fhir/{type} with If-None-Exist: 201 when
// it created, 200 with the one resource that matches (nothing stored).
func (s *Server) createIfNoneExist(w http.ResponseWriter, r *http.Request, who *identity.Account, res *fhir.Resource, q *fhir.Query) error {
	req, err := s.requesterOf(r, who)
	if err != nil {
		return err
	}
	res, created, err := s.c.CreateIfNoneExist(r.Context(), req, res, q)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	w.Header().Set("Location", fhirBase(r)+"/"+res.Type()+"/"+res.ID()+"/_history/"+res.Meta().VersionID)
	writeResource(w, status, res)
	return nil
}

// updateWhere serves the conditional update, PUT /fhir/{type}?search.
func (s *Server) updateWhere(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	typ, err := resourceType(r)
	if err != nil {
		return err
	}
	q, err := conditionQuery(typ, r.URL.Query(), "update")
	if err != nil {
		return err
	}
	res, err := s.body(r, typ)
	if err != nil {
		return err
	}
	req, err := s.requesterOf(r, who)
	if err != nil {
		return err
	}
	res, created, err := s.c.UpdateWhere(r.Context(), req, res, q, r.Header.Get("If-Match"))
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", fhirBase(r)+"/"+typ+"/"+res.ID()+"/_history/"+res.Meta().VersionID)
	}
	writeResource(w, status, res)
	return nil
}

// deleteWhere serves the conditional delete, DELETE /fhir/{type}?search,
// of a single resource: 204 when it deleted the one match and when nothing
// matched (as a delete of a deleted resource answers, so that a retry
// answers as the first try did), 412 when several match.
func (s *Server) deleteWhere(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	typ, err := resourceType(r)
	if err != nil {
		return err
	}
	q, err := conditionQuery(typ, r.URL.Query(), "delete")
	if err != nil {
		return err
	}
	req, err := s.requesterOf(r, who)
	if err != nil {
		return err
	}
	if _, err := s.c.DeleteWhere(r.Context(), req, q); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// patch serves PATCH /fhir/{type}/{id} with a JSON Patch (RFC 6902), the
// one patch format served: others answer 415.
func (s *Server) patch(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	typ, err := resourceType(r)
	if err != nil {
		return err
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != fhir.PatchContentType {
		return fhir.NewError(fhir.ErrMediaType, fhir.Issue{Diagnostics: "PATCH takes a JSON Patch, Content-Type " + fhir.PatchContentType})
	}
	patch, err := io.ReadAll(io.LimitReader(r.Body, int64(s.limits.MaxResourceBytes)+1))
	if err != nil {
		return err
	}
	req, err := s.requesterOf(r, who)
	if err != nil {
		return err
	}
	res, err := s.c.Patch(r.Context(), req, typ, r.PathValue("id"), r.Header.Get("If-Match"), func(cur *fhir.Resource) (*fhir.Resource, error) {
		return s.limits.Patch(cur, patch)
	})
	if err != nil {
		return err
	}
	writeResource(w, http.StatusOK, res)
	return nil
}

// operation serves an operation both ways FHIR R4 invokes one: by GET with
// its parameters in the query, and by POST with them in a Parameters body
// (an empty body is no parameters), the query's added. h gets them as one
// query either way.
func (s *Server) operation(h func(http.ResponseWriter, *http.Request, *identity.Account, url.Values) error) func(http.ResponseWriter, *http.Request, *identity.Account) error {
	return func(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
		params := r.URL.Query()
		if r.Method == http.MethodPost {
			b, err := io.ReadAll(io.LimitReader(r.Body, int64(s.limits.MaxResourceBytes)+1))
			if err != nil {
				return err
			}
			if len(strings.TrimSpace(string(b))) > 0 {
				body, err := s.limits.ParseParameters(b)
				if err != nil {
					return err
				}
				for name, vs := range body {
					params[name] = append(params[name], vs...)
				}
			}
		}
		return h(w, r, who, params)
	}
}
