package fhirapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/custodian"
	"github.com/careledger/careledger/fhir"
)

// FHIR Bulk Data Access (v2): the asynchronous $export at system, Patient
// and Group level. The kick-off answers 202 with the status URL in
// Content-Location; the job decides each patient's release with the
// consent contract (custodian.Export) and writes one ndjson file per type,
// sealed at rest (exportfile.go); the status answers 202 with X-Progress
// while it runs and 200 with the manifest when it is done; DELETE cancels
// it or deletes its files. Only the account that kicked a job off sees its
// status and files.

// exportLevel is where $export was asked.
type exportLevel int

const (
	systemLevel  exportLevel = iota // /fhir/$export: every patient and the directory
	patientLevel                    // /fhir/Patient/$export: every patient
	groupLevel                      // /fhir/Group/{id}/$export: the group's patients
)

const (
	ndjsonType         = "application/fhir+ndjson"
	maxKickoffBody     = 64 << 10
	leftOutExtension   = "urn:careledger:export:consent"
	exportRetrySeconds = "2"
)

// outputFormats are the _outputFormat values the IG names for ndjson.
var outputFormats = []string{ndjsonType, "application/ndjson", "ndjson"}

// exportParams are the kick-off parameters this server supports.
var exportParams = []string{"_outputFormat", "_since", "_type", "_typeFilter"}

func (s *Server) exportSystem(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	return s.kickoff(w, r, who, systemLevel)
}

func (s *Server) exportPatients(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	return s.kickoff(w, r, who, patientLevel)
}

func (s *Server) exportGroup(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	return s.kickoff(w, r, who, groupLevel)
}

// kickoff starts an export job and answers 202 with its status URL.
func (s *Server) kickoff(w http.ResponseWriter, r *http.Request, who *identity.Account, level exportLevel) error {
	if !respondAsync(r.Header) {
		return fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: "$export is asynchronous: send the header Prefer: respond-async"})
	}
	values, err := kickoffValues(r)
	if err != nil {
		return err
	}
	scope, err := parseExport(values, level)
	if err != nil {
		return err
	}
	req, err := s.requesterOf(r, who)
	if err != nil {
		return err
	}
	if req.Account.Kind != identity.Member {
		return fhir.NewError(fhir.ErrForbidden, fhir.Issue{Diagnostics: "bulk export is for members of an organization; a patient reads their records with Patient/$everything"})
	}
	if !slices.Contains(consent.Purposes, req.Purpose) {
		return fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: "X-Purpose-Of-Use is not an HL7 PurposeOfUse code this network knows"})
	}
	if level == groupLevel {
		if scope.Patients, err = s.groupPatients(r.Context(), req, r.PathValue("id")); err != nil {
			return err
		}
	}
	job, ctx, err := s.exports.start(who.Address, fhirBase(r)+strings.TrimPrefix(r.URL.RequestURI(), "/fhir"))
	if errors.Is(err, errTooManyExports) {
		w.Header().Set("Retry-After", "30")
		write(w, http.StatusTooManyRequests, fhir.OperationOutcome(fhir.Issue{Code: "throttled", Diagnostics: "too many bulk exports on this node; try again later"}))
		return nil
	}
	if err != nil {
		return err
	}
	go s.runExport(ctx, job, req, scope)
	w.Header().Set("Content-Location", fhirBase(r)+"/$export-poll/"+job.id)
	write(w, http.StatusAccepted, fhir.OperationOutcome(fhir.Issue{Severity: "information", Code: "informational", Diagnostics: "export started"}))
	return nil
}

// respondAsync reports whether the Prefer header asks for respond-async.
func respondAsync(h http.Header) bool {
	for _, v := range h.Values("Prefer") {
		for p := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "respond-async") {
				return true
			}
		}
	}
	return false
}

// kickoffValues returns the kick-off's parameters: the query's, and for a
// POST those of its Parameters body.
func kickoffValues(r *http.Request) (url.Values, error) {
	v := r.URL.Query()
	if r.Method != http.MethodPost {
		return v, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxKickoffBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxKickoffBody {
		return nil, fhir.NewError(fhir.ErrTooLarge, fhir.Issue{Diagnostics: fmt.Sprintf("a kick-off's Parameters are at most %d bytes", maxKickoffBody)})
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return v, nil
	}
	pv, err := parametersValues(b)
	if err != nil {
		return nil, err
	}
	for k, vs := range pv {
		v[k] = append(v[k], vs...)
	}
	return v, nil
}

// parametersValues reads a FHIR Parameters resource of string-like values
// (valueString, valueCode, valueInstant, valueDateTime, valueUri) as query
// values. A parameter with another kind of value keeps its name with an
// empty value, so that parseExport refuses it by name.
func parametersValues(b []byte) (url.Values, error) {
	var p struct {
		ResourceType string `json:"resourceType"`
		Parameter    []map[string]json.RawMessage
	}
	if err := json.Unmarshal(b, &p); err != nil || p.ResourceType != "Parameters" {
		return nil, fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: "a POST kick-off's body must be a FHIR Parameters resource"})
	}
	v := url.Values{}
	for _, param := range p.Parameter {
		var name string
		if json.Unmarshal(param["name"], &name) != nil || name == "" {
			return nil, fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: "every parameter needs a name"})
		}
		value := ""
		for _, k := range []string{"valueString", "valueCode", "valueInstant", "valueDateTime", "valueUri"} {
			if raw, ok := param[k]; ok && json.Unmarshal(raw, &value) != nil {
				return nil, fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: "parameter " + safeName(name) + ": " + k + " must be a string"})
			}
		}
		v[name] = append(v[name], value)
	}
	return v, nil
}

var paramNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$`)

// safeName returns a client's parameter name fit for a message: only if it
// looks like one, since anything may be sent.
func safeName(n string) string {
	if paramNamePattern.MatchString(n) {
		return strconv.Quote(n)
	}
	return "(a parameter)"
}

func invalidParam(name, format string, args ...any) error {
	return fhir.NewError(fhir.ErrInvalid, fhir.Issue{Code: "value", Diagnostics: "parameter " + name + ": " + fmt.Sprintf(format, args...)})
}

// parseExport reads a kick-off's parameters into a scope. Parameters the
// server does not support are refused, as the IG asks when the client has
// not sent Prefer: handling=lenient; the server is never lenient.
func parseExport(v url.Values, level exportLevel) (custodian.ExportScope, error) {
	scope := custodian.ExportScope{Directory: level == systemLevel}
	var unknown []string
	for name := range v {
		if !slices.Contains(exportParams, name) {
			unknown = append(unknown, safeName(name))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return scope, fhir.NewError(fhir.ErrUnsupported, fhir.Issue{Diagnostics: "$export does not support " + strings.Join(unknown, ", ")})
	}
	if f := v["_outputFormat"]; len(f) > 1 || len(f) == 1 && !slices.Contains(outputFormats, f[0]) {
		return scope, invalidParam("_outputFormat", "only %s is served", ndjsonType)
	}
	var err error
	if scope.Types, err = exportTypes(v["_type"], level); err != nil {
		return scope, err
	}
	if since := v["_since"]; len(since) > 0 {
		if len(since) > 1 {
			return scope, invalidParam("_since", "give it once")
		}
		if scope.Since, err = time.Parse(time.RFC3339Nano, since[0]); err != nil {
			return scope, invalidParam("_since", "must be a FHIR instant (e.g. 2024-01-02T03:04:05Z)")
		}
	}
	scope.Filters, err = typeFilters(v["_typeFilter"], scope.Types, level)
	return scope, err
}

// exportTypes reads _type: comma-separated resource types, which at the
// Patient and Group levels must be in the patient compartment.
func exportTypes(vals []string, level exportLevel) ([]string, error) {
	var types []string
	for _, val := range vals {
		for t := range strings.SplitSeq(val, ",") {
			t = strings.TrimSpace(t)
			if err := checkExportType(t, level); err != nil {
				return nil, invalidParam("_type", "%s", err)
			}
			types = append(types, t)
		}
	}
	slices.Sort(types)
	return slices.Compact(types), nil
}

func checkExportType(t string, level exportLevel) error {
	if !fhir.IsResourceType(t) {
		return errors.New("not an R4 resource type: " + safeName(t))
	}
	if level != systemLevel && !fhir.InPatientCompartment(t) {
		return fmt.Errorf("%s is not in the patient compartment", t)
	}
	return nil
}

// typeFilters reads _typeFilter: comma-separated FHIR searches
// Type?params, each on a type of _type when _type is given.
func typeFilters(vals []string, types []string, level exportLevel) (map[string][]*fhir.Query, error) {
	filters := map[string][]*fhir.Query{}
	for _, val := range vals {
		for f := range strings.SplitSeq(val, ",") {
			typ, query, _ := strings.Cut(strings.TrimSpace(f), "?")
			if err := checkExportType(typ, level); err != nil {
				return nil, invalidParam("_typeFilter", "%s", err)
			}
			if types != nil && !slices.Contains(types, typ) {
				return nil, invalidParam("_typeFilter", "%s is not one of _type", typ)
			}
			params, err := url.ParseQuery(query)
			if err != nil {
				return nil, invalidParam("_typeFilter", "the search after %s? does not parse", typ)
			}
			q, err := fhir.ParseQuery(typ, params)
			if err != nil {
				return nil, err
			}
			filters[typ] = append(filters[typ], q)
		}
	}
	return filters, nil
}

// groupPatients returns the pseudonyms of the active Patient members of
// Group id that are held here, sorted.
func (s *Server) groupPatients(ctx context.Context, req custodian.Requester, id string) ([]string, error) {
	g, err := s.c.Read(ctx, req, "Group", id)
	if err != nil {
		return nil, err
	}
	var group struct {
		Member []struct {
			Entity   struct{ Reference string }
			Inactive bool
		}
	}
	if err := json.Unmarshal(g.Canonical(), &group); err != nil {
		return nil, err
	}
	out := []string{} // not nil: no members exports no patient
	for _, m := range group.Member {
		pid, ok := strings.CutPrefix(m.Entity.Reference, "Patient/")
		if !ok || m.Inactive || !fhir.ValidID(pid) {
			continue
		}
		p, err := s.c.PseudonymOf(pid)
		if errors.Is(err, fhir.ErrNotFound) || errors.Is(err, fhir.ErrGone) {
			continue // not held here (or erased): nothing to export
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// runExport runs job to its end: its decisions, files and manifest counts.
func (s *Server) runExport(ctx context.Context, job *exportJob, req custodian.Requester, scope custodian.ExportScope) {
	w := newExportWriter(job)
	st, err := s.c.Export(ctx, req, scope, w.write, job.progress)
	if err == nil {
		err = writeLeftOut(w, st)
	}
	var files []exportFileInfo
	if err != nil {
		w.abort()
	} else {
		files, err = w.close()
	}
	s.exports.finish(job, files, st, err)
}

// writeLeftOut says in the error file how many patients consent kept out
// of the export, in whole or in part, without naming them.
func writeLeftOut(w *exportWriter, st custodian.ExportStats) error {
	var issues []fhir.Issue
	if st.LeftOut > 0 {
		issues = append(issues, fhir.Issue{Severity: "information", Code: "suppressed",
			Diagnostics: fmt.Sprintf("%d patients left out: consent does not permit this purpose", st.LeftOut)})
	}
	if st.Partial > 0 {
		issues = append(issues, fhir.Issue{Severity: "information", Code: "suppressed",
			Diagnostics: fmt.Sprintf("%d patients in part: consent permits only some of their records for this purpose", st.Partial)})
	}
	if len(issues) == 0 {
		return nil
	}
	return w.writeError(fhir.OperationOutcome(issues...))
}

// manifest is the completed status's body (Bulk Data IG v2).
type manifest struct {
	TransactionTime     string         `json:"transactionTime"`
	Request             string         `json:"request"`
	RequiresAccessToken bool           `json:"requiresAccessToken"`
	Output              []manifestFile `json:"output"`
	Error               []manifestFile `json:"error"`
	Extension           map[string]any `json:"extension"`
}

type manifestFile struct {
	Type  string `json:"type"`
	URL   string `json:"url"`
	Count int    `json:"count"`
}

// consentCounts is the manifest's extension: what consent decided, in
// counts of patients (never their names).
type consentCounts struct {
	Patients     int `json:"patients"`
	LeftOut      int `json:"patientsLeftOut"`
	Partial      int `json:"patientsPartial"`
	Accesses     int `json:"accesses"`
	Transactions int `json:"transactions"`
}

func notAnExport() error {
	return fhir.NewError(fhir.ErrNotFound, fhir.Issue{Diagnostics: "no such export: exports end when deleted, when their files expire, and when the node restarts"})
}

// exportStatus answers a poll: 202 with X-Progress while the job runs,
// its error, or 200 with the manifest.
func (s *Server) exportStatus(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	job := s.exports.job(r.PathValue("job"), who.Address)
	if job == nil {
		return notAnExport()
	}
	job.mu.Lock()
	defer job.mu.Unlock()
	if !job.finished {
		w.Header().Set("X-Progress", fmt.Sprintf("%d of %d patients decided", job.done, job.total))
		w.Header().Set("Retry-After", exportRetrySeconds)
		w.WriteHeader(http.StatusAccepted)
		return nil
	}
	if job.err != nil {
		return job.err
	}
	m := manifest{
		TransactionTime: job.started.Format(time.RFC3339Nano), Request: job.request, RequiresAccessToken: true,
		Output: []manifestFile{}, Error: []manifestFile{},
		Extension: map[string]any{leftOutExtension: consentCounts{
			Patients: job.stats.Patients, LeftOut: job.stats.LeftOut, Partial: job.stats.Partial,
			Accesses: job.stats.Accesses, Transactions: job.stats.Txs,
		}},
	}
	for _, f := range job.files {
		mf := manifestFile{Type: f.typ, URL: fhirBase(r) + "/$export-file/" + job.id + "-" + f.name, Count: f.count}
		if f.error {
			m.Error = append(m.Error, mf)
		} else {
			m.Output = append(m.Output, mf)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	w.Header().Set("Expires", job.expires.UTC().Format(http.TimeFormat))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	return nil
}

// exportDelete cancels a running job or deletes a finished one's files.
func (s *Server) exportDelete(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	job := s.exports.job(r.PathValue("job"), who.Address)
	if job == nil {
		return notAnExport()
	}
	s.exports.remove(job)
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// exportFile serves one ndjson file of a finished job: {job}-{name}.
func (s *Server) exportFile(w http.ResponseWriter, r *http.Request, who *identity.Account) error {
	id, name, _ := strings.Cut(r.PathValue("file"), "-")
	job := s.exports.job(id, who.Address)
	if job == nil {
		return notAnExport()
	}
	job.mu.Lock()
	f, ok := job.file(name)
	job.mu.Unlock()
	if !ok {
		return fhir.NewError(fhir.ErrNotFound, fhir.Issue{Diagnostics: "the export has no such file (yet)"})
	}
	file, err := os.Open(filepath.Join(job.dir, f.name))
	if errors.Is(err, fs.ErrNotExist) {
		return notAnExport() // deleted since
	}
	if err != nil {
		return err
	}
	defer file.Close()
	w.Header().Set("Content-Type", ndjsonType)
	if err := copySealed(w, file, job.key, f.num); err != nil {
		// The status is sent: end the response unfinished, so the client
		// cannot take a truncated file for a whole one.
		s.log.Error("export file", "job", job.id, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}
