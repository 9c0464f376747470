package epcisapi

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/epcis"
	"github.com/careledger/careledger/tx"
)

// txOverhead bounds what a transaction adds to its message: chain ID,
// signer key, sequence, signature and framing.
const txOverhead = 512

// maxJobs bounds the capture jobs kept for GET /epcis/capture/{id}.
const maxJobs = 10000

// job is a capture job as the REST binding reports it.
type job struct {
	ID         string     `json:"captureID"`
	CreatedAt  time.Time  `json:"createdAt"`
	FinishedAt *time.Time `json:"finishedAt,omitempty"`
	Running    bool       `json:"running"`
	Success    bool       `json:"success"`
	Behaviour  string     `json:"captureErrorBehaviour"`
	Events     int        `json:"eventCount"`
	Errors     []jobError `json:"errors"`
}

// jobError is one error of a capture job: a problem, and the event it is
// about when there is one.
type jobError struct {
	problem
	Event   *int   `json:"eventIndex,omitempty"`
	EventID string `json:"eventID,omitempty"` // the event's hash ID
}

// captureRoles are the roles of a member who may capture for the node's
// organization: those the contract lets record supply events.
var captureRoles = []identity.Role{identity.Admin, identity.Service, identity.Pharmacist}

func (s *Server) capturer(r *http.Request) error {
	acct, err := s.opts.Auth.Authenticate(r)
	if err != nil {
		return err
	}
	if acct.Kind != identity.Member || acct.Org != s.opts.Org {
		return tx.Rejectf(tx.CodeWrongOrganization, "this node captures for organization %s; its members capture here", s.opts.Org)
	}
	for _, role := range captureRoles {
		if acct.HasRole(role) {
			return nil
		}
	}
	return tx.Rejectf(tx.CodeUnauthorized, "capturing needs the admin, service or pharmacist role")
}

func (s *Server) capture(w http.ResponseWriter, r *http.Request) { s.captureDoc(w, r, false) }

func (s *Server) captureEvent(w http.ResponseWriter, r *http.Request) { s.captureDoc(w, r, true) }

// captureDoc checks, parses, validates and converts the document at once
// (so that a bad one is a 4xx answer and never a job), then starts the
// job that records it.
func (s *Server) captureDoc(w http.ResponseWriter, r *http.Request, single bool) {
	if err := s.capturer(r); err != nil {
		s.problem(w, err)
		return
	}
	raw, isXML, err := s.readDocument(r)
	if err != nil {
		s.problem(w, err)
		return
	}
	doc, err := s.parse(raw, isXML)
	if err != nil {
		s.problem(w, err)
		return
	}
	if single && (doc.Type == "EPCISDocument" || doc.Type == "EPCISQueryDocument" || len(doc.Events) != 1) {
		s.problem(w, tx.Rejectf(tx.CodeInvalid, "POST /epcis/events takes one event; send documents to /epcis/capture"))
		return
	}
	p, err := s.prepare(doc, raw, isXML)
	if err != nil {
		if fit, ok := err.(tooLarge); ok {
			w.Header().Set("GS1-EPCIS-Capture-Limit", strconv.Itoa(fit.events))
		}
		s.problem(w, err)
		return
	}
	j, err := s.startJob(p)
	if err != nil {
		s.problem(w, err)
		return
	}
	s.versionHeaders(w)
	w.Header().Set("Location", "/epcis/capture/"+j.ID)
	w.WriteHeader(http.StatusAccepted)
}

// readDocument reads the body, up to the file size limit, and tells XML
// from JSON by its Content-Type.
func (s *Server) readDocument(r *http.Request) ([]byte, bool, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		mt = ""
	}
	var isXML bool
	switch mt {
	case "application/json", "application/ld+json":
	case "application/xml", "text/xml":
		isXML = true
	default:
		return nil, false, &unsupported{}
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, int64(s.opts.FileSizeLimit)+1))
	if err != nil {
		return nil, false, tx.Rejectf(tx.CodeMalformed, "reading the document: %v", err)
	}
	if len(raw) > s.opts.FileSizeLimit {
		return nil, false, tx.Rejectf(tx.CodeOversized, "a document is at most %d bytes (GS1-EPCIS-Capture-File-Size-Limit)", s.opts.FileSizeLimit)
	}
	return raw, isXML, nil
}

// unsupported is a Content-Type capture does not read: 415.
type unsupported struct{}

func (*unsupported) Error() string {
	return "Content-Type must be application/json, application/ld+json, application/xml or text/xml"
}

func (s *Server) parse(raw []byte, isXML bool) (*epcis.Document, error) {
	l := epcis.Limits{MaxBytes: s.opts.FileSizeLimit, MaxEvents: s.opts.CaptureLimit}
	if isXML {
		return l.ParseXML(raw)
	}
	return l.ParseJSON(raw)
}

// prepared is a document ready to record: its chain message and the
// entries this node keeps.
type prepared struct {
	record  supply.Record
	msg     tx.Msg
	entries []*entry
	// resumed is set for a job taken up again after a restart.
	resumed bool
}

// tooLarge refuses a document whose message would not fit a transaction,
// with about how many of its events would.
type tooLarge struct {
	*tx.Rejection
	events int
}

func (s *Server) prepare(doc *epcis.Document, raw []byte, isXML bool) (*prepared, error) {
	now := s.opts.Now()
	parties := resolver{config: s.opts.Parties}
	if s.opts.State != nil {
		parties.state = s.opts.State()
	}
	bs, err := bodies(doc, raw, isXML)
	if err != nil {
		return nil, err
	}
	p := &prepared{}
	for i, e := range doc.Events {
		if err := e.CheckTime(i, now, s.opts.FutureTolerance); err != nil {
			return nil, err
		}
		c, err := convert(i, e, parties)
		if err != nil {
			return nil, err
		}
		p.record.Events = append(p.record.Events, c.chain)
		body := bs[i]
		if e.EventID == "" {
			body = withEventID(body, c.hashID) // the binding: an event sent without one is known by its hash
		}
		p.entries = append(p.entries, s.entryOf(e, c, body))
	}
	p.msg = contract.Encode(p.record)
	if size, max := len(p.msg.Body)+txOverhead, s.opts.MaxTxBytes(); size > max {
		fit := len(doc.Events) * max / size
		return nil, tooLarge{tx.Rejectf(tx.CodeOversized, "the document's %d events need a %d-byte transaction; the network takes %d: send about %d events per document", len(doc.Events), size, max, fit), fit}
	}
	return p, nil
}

func (s *Server) entryOf(e *epcis.Event, c *converted, body []byte) *entry {
	en := &entry{
		Hash: c.chain.Hash, HashID: c.hashID, EventID: e.EventID, Capturer: s.opts.Org, Parties: c.parties, PartyGLNs: c.glns,
		Type: string(e.Type), Action: string(e.Action), BizStep: e.BizStep, Disposition: e.Disposition,
		ReadPoint: e.ReadPoint, BizLocation: e.BizLocation, EventTime: e.EventTime,
		EPCs:    append(append([]string(nil), e.EPCList...), e.ChildEPCs...),
		AnyEPCs: append(append([]string(nil), e.InputEPCList...), e.OutputEPCList...),
		Body:    body, Declares: e.ErrorDeclaration != nil,
	}
	if e.ParentID != "" {
		en.AnyEPCs = append(en.AnyEPCs, e.ParentID)
	}
	if e.ILMD != nil {
		en.Lot, en.Expiry = e.ILMD.Lot(), e.ILMD.ItemExpirationDate()
	}
	return en
}

func newJobID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// startJob stores the job and the document's entries (synced), then
// records the document in the background.
func (s *Server) startJob(p *prepared) (*job, error) {
	j := &job{ID: newJobID(), CreatedAt: s.opts.Now().UTC(), Running: true, Behaviour: "rollback", Events: len(p.entries), Errors: []jobError{}}
	s.mu.Lock()
	num := s.nextJob
	s.nextJob++
	var forget []uint64
	for len(s.jobOrder) >= maxJobs {
		forget = append(forget, s.jobOrder[0].num)
		delete(s.jobs, s.jobOrder[0].id)
		s.jobOrder = s.jobOrder[1:]
	}
	s.jobs[j.ID] = j
	s.jobOrder = append(s.jobOrder, jobRef{j.ID, num})
	s.mu.Unlock()
	sj := &storedJob{Job: *j, Record: p.msg.Body}
	if err := s.store.startJob(num, sj, p.entries, forget); err != nil {
		s.mu.Lock()
		delete(s.jobs, j.ID)
		s.mu.Unlock()
		return nil, err
	}
	s.runJob(j, num, p)
	return j, nil
}

// jobRef is a job's place in the store.
type jobRef struct {
	id  string
	num uint64
}

// runJob records p in the background and writes the job's outcome.
func (s *Server) runJob(j *job, num uint64, p *prepared) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		errs := s.run(p)
		if len(errs) > 0 && p.resumed && s.recordedHere(p) {
			// sent twice across a restart (by the tracker's journal and
			// by the resumed job): the first copy committed.
			errs = nil
		}
		if len(errs) > 0 && s.ctx.Err() != nil {
			return // the node is stopping: the job stays running, resumed at start
		}
		now := s.opts.Now().UTC()
		s.mu.Lock()
		j.Running, j.Success, j.FinishedAt = false, len(errs) == 0, &now
		if len(errs) > 0 {
			j.Errors = errs
		}
		final := *j
		s.mu.Unlock()
		if err := s.store.finishJob(num, final); err != nil {
			s.opts.Logf("epcis: capture job %s: writing its outcome: %v", j.ID, err)
		}
	}()
}

// recordedHere reports whether the chain holds every event of p as this
// organization's.
func (s *Server) recordedHere(p *prepared) bool {
	view := s.opts.State()
	for _, e := range p.record.Events {
		rec, err := supply.LoadEvent(view, e.Hash)
		if err != nil || rec == nil || rec.Org != s.opts.Org {
			return false
		}
	}
	return true
}

// run records the document: events already on the chain are refused
// before anything is sent; then its one message is sent (its entries are
// stored already); the contract applies all its events or none.
func (s *Server) run(p *prepared) []jobError {
	if p.resumed && s.recordedHere(p) {
		s.indexNew(p)
		return nil
	}
	if errs := s.duplicates(p); len(errs) > 0 {
		return errs
	}
	if err := s.send(p); err != nil {
		return []jobError{s.jobErrorOf(err, p)}
	}
	s.indexNew(p)
	return nil
}

func (s *Server) indexNew(p *prepared) {
	now := s.opts.Now().UTC()
	s.mu.Lock()
	for _, e := range p.entries {
		e.RecordTime = now
		s.index(e)
	}
	s.mu.Unlock()
}

// duplicates reports each event (not an error declaration) that the chain
// already holds: 409 with its hash.
func (s *Server) duplicates(p *prepared) []jobError {
	view := s.opts.State()
	var errs []jobError
	for i, e := range p.record.Events {
		if e.Corrects != nil {
			continue
		}
		rec, err := supply.LoadEvent(view, e.Hash)
		if err != nil {
			return []jobError{{problem: problemOf(err)}}
		}
		if rec != nil {
			errs = append(errs, jobError{
				problem: problemOf(tx.Rejectf(tx.CodeAlreadyExists, "the event was captured by %s at height %d", rec.Org, rec.Height)),
				Event:   &i, EventID: p.entries[i].HashID,
			})
		}
	}
	return errs
}

// eventIndex reads the event a contract rejection names ("event 3 (...)").
var eventIndex = regexp.MustCompile(`^event (\d+) `)

func (s *Server) jobErrorOf(err error, p *prepared) jobError {
	je := jobError{problem: problemOf(err)}
	var rej *tx.Rejection
	if !errors.As(err, &rej) {
		je.Detail = "the transaction did not complete"
		return je
	}
	if m := eventIndex.FindStringSubmatch(rej.Msg); m != nil {
		if i, err := strconv.Atoi(m[1]); err == nil && i < len(p.entries) {
			je.Event, je.EventID = &i, p.entries[i].HashID
		}
	}
	return je
}

func (s *Server) captureJob(w http.ResponseWriter, r *http.Request) {
	if err := s.capturer(r); err != nil {
		s.problem(w, err)
		return
	}
	s.mu.RLock()
	j, ok := s.jobs[r.PathValue("id")]
	var copied job
	if ok {
		copied = *j
		copied.Errors = append([]jobError(nil), j.Errors...)
	}
	s.mu.RUnlock()
	if !ok {
		s.problem(w, tx.Rejectf(tx.CodeNotFound, "no capture job with this id"))
		return
	}
	s.writeJSON(w, http.StatusOK, copied)
}

func (t tooLarge) Unwrap() error { return t.Rejection }
