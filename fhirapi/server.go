// Package fhirapi serves FHIR R4 at /fhir: the REST interactions on the
// records a custodian holds (create, read, vread, update, patch, delete,
// history, search, with their conditional and versioned forms), transaction
// and batch Bundles, operations (by GET and by POST), and the
// CapabilityStatement.
//
// Every request carries the bearer token of the JSON API's challenge
// authentication; a token limited by SMART scopes is refused what they do
// not cover before anything is decided (smart.go). The purpose of a read is the X-Purpose-Of-Use header (an
// HL7 PurposeOfUse code; TREAT for members and PATRQT for patients when
// absent), and a physician breaks the glass with X-Break-Glass: true and the
// purpose ETREAT. Errors are OperationOutcome resources; a rejected
// transaction (the node's own, or one relayed) answers with the HTTP status
// and issue type of its code in tx's table, as the JSON API does.
//
// fhirapi imports custodian, fhir, smart and identity; the node mounts it.
package fhirapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/careledger/careledger/audit/auditdb"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/custodian"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/smart"
	"github.com/careledger/careledger/tx"
)

// Authenticator names the account a request's bearer token belongs to and
// the SMART scopes the token is limited to (nil: none); the JSON API's
// api.Auth satisfies it.
type Authenticator interface {
	AuthenticateScopes(r *http.Request) (*identity.Account, smart.Scopes, error)
}

// Options configure a Server.
type Options struct {
	Custodian *custodian.Custodian
	Auth      Authenticator
	// State returns the last committed state, where accounts are read.
	State func() identity.Iterator
	// Validates tells whether resources are checked against the schema,
	// which the CapabilityStatement reports.
	Validates bool
	// Peers reaches the other custodians for Patient/$everything; nil
	// serves only the records held here.
	Peers *Peers
	// Audit is the node's audit log, served as AuditEvent resources.
	Audit *auditdb.Store
	// Events describes the contracts' event types, whose actions the
	// AuditEvent resources give. Required with Audit.
	Events *contract.Router
	// ChainID is the network's, which delegations name.
	ChainID string
	// Log receives internal errors. Default slog.Default().
	Log *slog.Logger
	// ExportDir holds bulk export files until they expire, each sealed
	// under a key kept only in memory; what it holds when the server
	// starts is removed. Default: a new directory in the system's
	// temporary directory.
	ExportDir string
	// ExportTTL is how long a finished bulk export's files are kept.
	// Default 1 hour.
	ExportTTL time.Duration
}

// Server is the FHIR API of one custodian.
type Server struct {
	c         *custodian.Custodian
	chainID   string
	auth      Authenticator
	state     func() identity.Iterator
	peers     *Peers
	audit     *auditdb.Store
	events    *contract.Router
	limits    fhir.Limits
	log       *slog.Logger
	validates bool
	mux       *http.ServeMux
	exports   *exports
}

// New returns the FHIR API of o.Custodian.
func New(o Options) *Server {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	s := &Server{
		c: o.Custodian, chainID: o.ChainID, auth: o.Auth, state: o.State, peers: o.Peers, audit: o.Audit, events: o.Events, limits: fhir.DefaultLimits,
		log: o.Log, validates: o.Validates, mux: http.NewServeMux(), exports: newExports(o.ExportDir, o.ExportTTL),
	}
	for _, rt := range s.routes() {
		s.mux.Handle(rt.pattern, s.authenticated(rt))
	}
	s.mux.HandleFunc("GET /fhir/metadata", s.metadata)
	s.mux.HandleFunc("GET /fhir/.well-known/smart-configuration", s.smartConfiguration)
	s.mux.HandleFunc("/fhir/", func(w http.ResponseWriter, r *http.Request) { s.fail(w, notServed()) })
	return s
}

// handler serves a route to the account the request's bearer token names.
type handler func(w http.ResponseWriter, r *http.Request, who *identity.Account) error

// route is one FHIR interaction the server serves: its pattern, its
// handler, what a token's SMART scopes must cover (smart.go), and what the
// CapabilityStatement declares of it (metadata.go), so that the statement
// cannot claim what no route serves nor leave out what one does.
type route struct {
	pattern string
	h       handler
	need    need
	// declares names the interaction in the CapabilityStatement: a
	// restful interaction code ("read", "search-type", "transaction"), a
	// conditional form ("conditional-update"), or an operation
	// ("$everything"); several are separated by spaces. "" declares
	// nothing: the route is another form of a declared one (an operation
	// by POST, search by POST) or a part of one (a bulk export's status).
	declares string
}

// routes returns the FHIR API's routes. A pattern with {type} serves every
// R4 type; a pattern naming a type serves that type, before the generic
// one: AuditEvent, Consent, CareTeam, Schedule and Slot add views of the
// audit log (AuditEvent/log-N, the trail's search), of the chain's grants
// (Consent/grant-N, their search), care teams (CareTeam/team-N) and
// providers' schedules, slots and bookings as Appointments (schedule.go,
// searched on the chain alone) to the resources of those types stored
// here.
func (s *Server) routes() []route {
	read, search := need{smart.Read, ""}, need{smart.Search, ""}
	everything := need{smart.Read | smart.Search, "*"} // it returns every type it finds
	return []route{
		{"POST /fhir", s.bundle, need{}, "transaction batch"}, // each entry's scopes are checked
		{"POST /fhir/{$}", s.bundle, need{}, ""},
		{"POST /fhir/{type}", s.create, need{smart.Create, ""}, "create conditional-create"},
		{"GET /fhir/{type}", s.search, search, "search-type"},
		{"POST /fhir/{type}/_search", s.search, search, ""},
		{"GET /fhir/{type}/{id}", s.read, read, "read"},
		{"PUT /fhir/{type}/{id}", s.update, need{smart.Update, ""}, "update"}, // creating too, as FHIR's update does
		{"DELETE /fhir/{type}/{id}", s.delete, need{smart.Delete, ""}, "delete"},
		{"PUT /fhir/{type}", s.updateWhere, need{smart.Update, ""}, "conditional-update"},
		{"DELETE /fhir/{type}", s.deleteWhere, need{smart.Delete, ""}, "conditional-delete"},
		{"PATCH /fhir/{type}/{id}", s.patch, need{smart.Update, ""}, "patch"},
		{"GET /fhir/{type}/{id}/_history", s.history, read, "history-instance"},
		{"GET /fhir/{type}/{id}/_history/{vid}", s.vread, read, "vread"},
		{"GET /fhir/{type}/{id}/_history/{vid}/$anchor", s.operation(s.anchor), read, "$anchor"},
		{"POST /fhir/{type}/{id}/_history/{vid}/$anchor", s.operation(s.anchor), read, ""},
		{"GET /fhir/AuditEvent", s.searchAuditEvent, need{smart.Search, "AuditEvent"}, "search-type"},
		{"GET /fhir/AuditEvent/{id}", s.readAuditEvent, need{smart.Read, "AuditEvent"}, "read"},
		{"GET /fhir/Consent/{id}", s.readConsent, need{smart.Read, "Consent"}, "read"},
		{"GET /fhir/Consent", s.searchConsent, need{smart.Search, "Consent"}, "search-type"},
		{"POST /fhir/Consent", s.createConsent, need{smart.Create, "Consent"}, "create"},
		{"GET /fhir/CareTeam/{id}", s.readCareTeam, need{smart.Read, "CareTeam"}, "read"},
		{"GET /fhir/Schedule/{id}", s.readSchedule, need{smart.Read, "Schedule"}, "read"},
		{"GET /fhir/Slot/{id}", s.readSlot, need{smart.Read, "Slot"}, "read"},
		{"GET /fhir/Schedule", s.searchSchedule, need{smart.Search, "Schedule"}, "search-type"},
		{"GET /fhir/Slot", s.searchSlot, need{smart.Search, "Slot"}, "search-type"},
		{"GET /fhir/Appointment/{id}", s.readAppointment, need{smart.Read, "Appointment"}, "read"},
		{"GET /fhir/Appointment", s.searchAppointment, need{smart.Search, "Appointment"}, "search-type"},
		{"POST /fhir/Appointment", s.createAppointment, need{smart.Create, "Appointment"}, "create"},
		// Claims (claims.go): a Claim's create is its submission.
		{"POST /fhir/Claim", s.submitClaim, need{smart.Create, "Claim"}, "create"},
		{"POST /fhir/Claim/$submit", s.submitClaim, need{smart.Create, "Claim"}, "$submit"},
		{"GET /fhir/ClaimResponse/{id}", s.readClaimResponse, need{smart.Read, "ClaimResponse"}, "read"},
		{"GET /fhir/ClaimResponse", s.searchClaimResponse, need{smart.Search, "ClaimResponse"}, "search-type"},
		{"GET /fhir/ExplanationOfBenefit/{id}", s.readExplanationOfBenefit, need{smart.Read, "ExplanationOfBenefit"}, "read"},
		{"GET /fhir/ExplanationOfBenefit", s.searchExplanationOfBenefit, need{smart.Search, "ExplanationOfBenefit"}, "search-type"},
		{"POST /fhir/CoverageEligibilityRequest/$submit", s.eligibility, need{smart.Read, "CoverageEligibilityResponse"}, "$submit"},
		// Trials (research.go): registration and enrollment carry signed messages.
		{"GET /fhir/ResearchStudy/{id}", s.readResearchStudy, need{smart.Read, "ResearchStudy"}, "read"},
		{"GET /fhir/ResearchStudy", s.searchResearchStudy, need{smart.Search, "ResearchStudy"}, "search-type"},
		{"POST /fhir/ResearchStudy/_search", s.searchResearchStudy, need{smart.Search, "ResearchStudy"}, ""},
		{"POST /fhir/ResearchStudy", s.registerStudy, need{smart.Create, "ResearchStudy"}, "create"},
		{"GET /fhir/ResearchSubject/{id}", s.readResearchSubject, need{smart.Read, "ResearchSubject"}, "read"},
		{"GET /fhir/ResearchSubject", s.searchResearchSubject, need{smart.Search, "ResearchSubject"}, "search-type"},
		{"POST /fhir/ResearchSubject/_search", s.searchResearchSubject, need{smart.Search, "ResearchSubject"}, ""},
		{"POST /fhir/ResearchSubject", s.enrollSubject, need{smart.Create, "ResearchSubject"}, "create"},
		{"GET /fhir/Patient/{id}/$everything", s.operation(s.everything), everything, "$everything"},
		{"POST /fhir/Patient/{id}/$everything", s.operation(s.everything), everything, ""},
		{"GET /fhir/Patient/$everything", s.operation(s.everythingByIdentifier), everything, ""},
		{"POST /fhir/Patient/$everything", s.operation(s.everythingByIdentifier), everything, ""},
		{"GET /fhir/$export", s.exportSystem, everything, "$export"},
		{"POST /fhir/$export", s.exportSystem, everything, ""},
		{"GET /fhir/Patient/$export", s.exportPatients, everything, "$export"},
		{"POST /fhir/Patient/$export", s.exportPatients, everything, ""},
		{"GET /fhir/Group/{id}/$export", s.exportGroup, everything, "$export"},
		{"POST /fhir/Group/{id}/$export", s.exportGroup, everything, ""},
		// A bulk export's status and files are its requester's alone,
		// whose scopes its kick-off checked.
		{"GET /fhir/$export-poll/{job}", s.exportStatus, need{}, ""},
		{"DELETE /fhir/$export-poll/{job}", s.exportDelete, need{}, ""},
		{"GET /fhir/$export-file/{file}", s.exportFile, need{}, ""},
	}
}

// notServed is the one answer to a request for an interaction or operation
// that no route serves: 404 not-found, whatever the path's shape (an
// unknown method, $operation or _interaction, at any level). The path is
// not repeated: it may hold an id.
func notServed() error {
	return fhir.NewError(fhir.ErrNotFound, fhir.Issue{Diagnostics: "this server has no such FHIR interaction or operation"})
}

// checkPath refuses a path whose {type} or {id} is not one before a
// handler sees it. FHIR types and ids never start with '_' or '$', which
// name interactions and operations: such a segment where a route expects a
// type or an id (Observation/_history, Observation/$lastn) asks for one
// that no route serves. Any other {id} must be a FHIR id, so that
// handlers may take r.PathValue("id") as valid.
func checkPath(r *http.Request) error {
	for _, name := range []string{"type", "id"} {
		if v := r.PathValue(name); v != "" && (v[0] == '_' || v[0] == '$') {
			return notServed()
		}
	}
	if strings.Contains(r.Pattern, "{id}") {
		return fhir.CheckID(r.PathValue("id"))
	}
	return nil
}

// Handler returns the HTTP handler of /fhir and everything under it.
func (s *Server) Handler() http.Handler { return s.mux }

// Close cancels the bulk exports, waits for those running and deletes
// their files.
func (s *Server) Close() { s.exports.close() }

const contentType = "application/fhir+json; charset=utf-8"

func (s *Server) authenticated(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, scopes, err := s.auth.AuthenticateScopes(r)
		if err == nil {
			err = checkPath(r)
		}
		switch {
		case err != nil:
		case who.Kind == identity.Device: // a device's token serves its readings alone
			if r, err = scoped(r, who, scopes, rt.need); err == nil {
				err = s.serveDevice(w, r, who, rt)
			}
		default:
			if r, err = scoped(r, who, scopes, rt.need); err == nil { // before any consent decision
				err = rt.h(w, r, who)
			}
		}
		if err != nil {
			s.fail(w, err)
		}
	})
}

// A rejected transaction reports itself to package fhir by tx's table.
var _ fhir.CodedError = (*tx.Rejection)(nil)

// fail writes err as an OperationOutcome. A transaction rejection answers
// with its code's HTTP status and issue type from tx's table, with
// WWW-Authenticate when that is 401 and Retry-After when the table gives
// one (a full mempool). Errors that are not the client's are 500 and
// logged, and their text stays out of the answer.
func (s *Server) fail(w http.ResponseWriter, err error) {
	if code, ok := tx.CodeOf(err); ok {
		if code.HTTPStatus() == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="careledger"`)
		}
		if n := code.RetryAfter(); n > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(n))
		}
	} else if fe := (*fhir.Error)(nil); !errors.As(err, &fe) && !errors.Is(err, context.DeadlineExceeded) {
		s.log.Error("fhir", "err", err)
		write(w, http.StatusInternalServerError, fhir.OperationOutcome(fhir.Issue{Code: "exception", Diagnostics: "internal error"}))
		return
	}
	status, body := fhir.Outcome(err)
	write(w, status, body)
}

func write(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(body)
}

func writeResource(w http.ResponseWriter, status int, r *fhir.Resource) {
	m := r.Meta()
	if m.VersionID != "" {
		w.Header().Set("ETag", `W/"`+m.VersionID+`"`)
	}
	if !m.LastUpdated.IsZero() {
		w.Header().Set("Last-Modified", m.LastUpdated.UTC().Format(http.TimeFormat))
	}
	write(w, status, r.Canonical())
}

// GlassReasonHeader carries a break-the-glass read's reason, one of
// consent.GlassReasons, required with X-Break-Glass: true.
const GlassReasonHeader = "X-Break-Glass-Reason"

// requester returns who reads and why, from the token and the headers.
func requester(r *http.Request, who *identity.Account) (custodian.Requester, error) {
	purpose := r.Header.Get("X-Purpose-Of-Use")
	if purpose == "" {
		purpose = "TREAT"
		if who.Kind == identity.Patient {
			purpose = "PATRQT"
		}
	}
	glass, _ := strconv.ParseBool(r.Header.Get("X-Break-Glass"))
	if !glass {
		return custodian.Requester{Account: who, Purpose: purpose}, nil
	}
	reason := r.Header.Get(GlassReasonHeader)
	if !slices.Contains(consent.GlassReasons, reason) {
		return custodian.Requester{}, fhir.NewError(fhir.ErrInvalid, fhir.Issue{
			Diagnostics: fmt.Sprintf("X-Break-Glass needs %s, one of %v", GlassReasonHeader, consent.GlassReasons)})
	}
	return custodian.Requester{Account: who, Purpose: purpose, BreakGlass: true, GlassReason: reason}, nil
}

// resourceType returns the path's type, which must be a known R4 type.
func resourceType(r *http.Request) (string, error) {
	typ := r.PathValue("type")
	if !fhir.IsResourceType(typ) {
		return "", fhir.NewError(fhir.ErrUnknownType, fhir.Issue{Diagnostics: "unknown resource type " + strconv.Quote(typ)})
	}
	return typ, nil
}

// body reads and parses the request's resource, which must be of typ.
func (s *Server) body(r *http.Request, typ string) (*fhir.Resource, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, int64(s.limits.MaxResourceBytes)+1))
	if err != nil {
		return nil, err
	}
	res, err := s.limits.Parse(b)
	if err != nil {
		return nil, err
	}
	if res.Type() != typ {
		return nil, fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: fmt.Sprintf("resource is a %s, the URL names %s", res.Type(), typ)})
	}
	return res, nil
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	typ, err := resourceType(r)
	if err != nil {
		return err
	}
	res, err := s.body(r, typ)
	if err != nil {
		return err
	}
	if q, err := ifNoneExist(r, typ); q != nil || err != nil {
		if err != nil {
			return err
		}
		return s.createIfNoneExist(w, r, who, res, q)
	}
	if res, err = s.c.Create(r.Context(), who, res); err != nil {
		return err
	}
	w.Header().Set("Location", fhirBase(r)+"/"+typ+"/"+res.ID()+"/_history/"+res.Meta().VersionID)
	writeResource(w, http.StatusCreated, res)
	return nil
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	typ, err := resourceType(r)
	if err != nil {
		return err
	}
	res, err := s.body(r, typ)
	if err != nil {
		return err
	}
	if res.ID() != r.PathValue("id") {
		return fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: "the resource's id must equal the URL's"})
	}
	res, created, err := s.c.UpdateIf(r.Context(), who, res, r.Header.Get("If-Match"))
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeResource(w, status, res)
	return nil
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	typ, err := resourceType(r)
	if err != nil {
		return err
	}
	if err := s.c.DeleteIf(r.Context(), who, typ, r.PathValue("id"), r.Header.Get("If-Match")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// readTarget returns what a read names (its type, from the path, or typ
// when the route fixes it) and who reads.
func (s *Server) readTarget(r *http.Request, who *identity.Account, typ string) (string, custodian.Requester, error) {
	if typ == "" {
		var err error
		if typ, err = resourceType(r); err != nil {
			return "", custodian.Requester{}, err
		}
	}
	req, err := s.requesterOf(r, who)
	return typ, req, err
}

// versionOf returns the path's version id. The vault numbers versions
// below 2^31 and refuses a larger number as a malformed argument, so a
// larger one is a version that does not exist.
func versionOf(r *http.Request) (int, error) {
	vid, err := strconv.ParseInt(r.PathValue("vid"), 10, 32)
	if err != nil || vid < 1 {
		return 0, fhir.NewError(fhir.ErrNotFound, fhir.Issue{Diagnostics: "version ids are positive integers below 2^31"})
	}
	return int(vid), nil
}

func (s *Server) read(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	return s.readAs(w, r, who, "")
}

// readAs reads typ/{id}; typ "" takes the type from the path.
func (s *Server) readAs(w http.ResponseWriter, r *http.Request, who *identity.Account, typ string) error {
	typ, req, err := s.readTarget(r, who, typ)
	if err != nil {
		return err
	}
	res, err := s.c.Read(r.Context(), req, typ, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeResource(w, http.StatusOK, res)
	return nil
}

func (s *Server) vread(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	typ, req, err := s.readTarget(r, who, "")
	if err != nil {
		return err
	}
	vid, err := versionOf(r)
	if err != nil {
		return err
	}
	res, err := s.c.VRead(r.Context(), req, typ, r.PathValue("id"), vid)
	if err != nil {
		return err
	}
	writeResource(w, http.StatusOK, res)
	return nil
}

func (s *Server) history(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	typ, req, err := s.readTarget(r, who, "")
	if err != nil {
		return err
	}
	hist, err := s.c.History(r.Context(), req, typ, r.PathValue("id"))
	if err != nil {
		return err
	}
	base := fhirBase(r)
	entries := make([]map[string]any, len(hist))
	for i, h := range hist {
		url := typ + "/" + h.ID + "/_history/" + strconv.Itoa(h.Version)
		e := map[string]any{
			"fullUrl":  base + "/" + typ + "/" + h.ID,
			"request":  map[string]any{"method": "PUT", "url": typ + "/" + h.ID},
			"response": map[string]any{"status": "200 OK", "etag": `W/"` + strconv.Itoa(h.Version) + `"`, "lastModified": h.Updated},
		}
		if h.Deleted {
			e["request"] = map[string]any{"method": "DELETE", "url": url}
			e["response"] = map[string]any{"status": "204 No Content", "lastModified": h.Updated}
		} else {
			e["resource"] = json.RawMessage(h.Content)
		}
		if h.Version == 1 && !h.Deleted {
			e["request"] = map[string]any{"method": "POST", "url": typ}
			e["response"].(map[string]any)["status"] = "201 Created"
		}
		entries[i] = e
	}
	b, err := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "history", "total": len(hist), "entry": entries})
	if err != nil {
		return err
	}
	write(w, http.StatusOK, b)
	return nil
}

func (s *Server) search(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	typ, err := resourceType(r)
	if err != nil {
		return err
	}
	return s.searchWith(w, r, who, typ, nil)
}

// views returns resources that match a search besides the records held
// here (claims.go's views of the chain's decisions), and whether records
// are searched too. It may remove from form the parameters only it
// understands.
type views func(form url.Values) (matches []*fhir.Resource, records bool, err error)

// searchWith is search of typ, with the matches of views (nil: none)
// first.
func (s *Server) searchWith(w http.ResponseWriter, r *http.Request, who *identity.Account, typ string, views views) error {
	if err := r.ParseForm(); err != nil {
		return fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: "search parameters do not parse"})
	}
	var matches []*fhir.Resource
	records, err := true, error(nil)
	if views != nil {
		if matches, records, err = views(r.Form); err != nil {
			return err
		}
		if !records {
			return writeSearchSet(w, r, typ, matches)
		}
	}
	q, err := fhir.ParseQuery(typ, r.Form)
	if err != nil {
		return err
	}
	req, err := s.requesterOf(r, who)
	if err != nil {
		return err
	}
	if records {
		held, err := s.c.Search(r.Context(), req, q)
		if err != nil {
			return err
		}
		matches = append(matches, held...)
	}
	q.Sort(matches)
	page := q.Page(matches)
	included, err := s.c.Include(r.Context(), req, q, page)
	if err != nil {
		return err
	}
	write(w, http.StatusOK, fhir.SearchSet(q, fhirBase(r), len(matches), page, included...).Canonical())
	return nil
}

// writeSearchSet answers a search with matches, all in one page: a type
// whose records are not searched here has only views to show.
func writeSearchSet(w http.ResponseWriter, r *http.Request, typ string, matches []*fhir.Resource) error {
	entries := make([]any, len(matches))
	for i, res := range matches {
		entries[i] = map[string]any{"fullUrl": fhirBase(r) + "/" + typ + "/" + res.ID(), "resource": res, "search": map[string]any{"mode": "match"}}
	}
	b, err := parseMap(map[string]any{"resourceType": "Bundle", "type": "searchset", "total": len(matches), "entry": entries})
	if err != nil {
		return err
	}
	write(w, http.StatusOK, b.Canonical())
	return nil
}

// fhirBase returns the FHIR base URL the client used.
func fhirBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/fhir"
}

func (s *Server) bundle(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, int64(s.limits.MaxBundleBytes)+1))
	if err != nil {
		return err
	}
	bundle, err := s.limits.ParseBundle(b)
	if err != nil {
		return err
	}
	if err := scopeEntries(r, bundle); err != nil {
		return err
	}
	req, err := s.requesterOf(r, who)
	if err != nil {
		return err
	}
	res, err := s.c.Bundle(r.Context(), req, bundle)
	if err != nil {
		return err
	}
	write(w, http.StatusOK, res.Canonical())
	return nil
}
