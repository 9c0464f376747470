package epcisapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/vault"
)

// Sender signs transactions with the node's service key and waits for
// them to commit (package sender): a refused one is a *tx.Rejection. Its
// result is not read back (a document's record emits an event per EPCIS
// event, which decoding again costs more than the wait).
type Sender interface {
	Commit(ctx context.Context, msgs ...tx.Msg) error
}

// Authenticator names the account of a request's bearer token (api.Auth).
type Authenticator interface {
	Authenticate(r *http.Request) (*identity.Account, error)
}

// Options configure a Server. Org, Sender, State, Auth, Keys and Dir are
// required.
type Options struct {
	// Org is the organization this node captures for: its service key's.
	Org    string
	Sender Sender
	// State returns the committed state.
	State func() identity.Iterator
	Auth  Authenticator
	// Keys wraps the store's data key (the vault's master key).
	Keys vault.KeyWrapper
	// Dir is the sealed store's directory.
	Dir string
	// Parties maps owning-party identifiers to organization IDs.
	Parties Parties
	// Peers, if set, fetches bodies from the nodes that captured them.
	Peers *Peers
	// MaxTxBytes returns the network's largest transaction. Default 65536.
	MaxTxBytes func() int
	// CaptureLimit is the most events in one capture. Default 250, about
	// what a default 64 KiB transaction holds of one-EPC events.
	CaptureLimit int
	// FileSizeLimit is the largest document, in bytes. Default 4 MiB.
	FileSizeLimit int
	// FutureTolerance is how far past the node's clock an eventTime may
	// be. Default 10 minutes.
	FutureTolerance time.Duration
	// Now is the node's clock. Default time.Now.
	Now func() time.Time
	// Logf reports what the node cannot tell a client (a job's outcome
	// that could not be written). Default: discard.
	Logf func(format string, args ...any)
}

func (o *Options) ensureDefaults() {
	if o.MaxTxBytes == nil {
		o.MaxTxBytes = func() int { return tx.DefaultLimits.MaxTxBytes }
	}
	if o.CaptureLimit <= 0 {
		o.CaptureLimit = 250
	}
	if o.FileSizeLimit <= 0 {
		o.FileSizeLimit = 4 << 20
	}
	if o.FutureTolerance <= 0 {
		o.FutureTolerance = 10 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
}

func (o *Options) validate() error {
	if o.Org == "" || o.Sender == nil || o.State == nil || o.Auth == nil || o.Keys == nil || o.Dir == "" {
		return errors.New("epcisapi: Org, Sender, State, Auth, Keys and Dir are required")
	}
	return nil
}

// Server serves /epcis.
type Server struct {
	opts  Options
	store *store
	mux   *http.ServeMux

	mu        sync.RWMutex
	entries   []*entry // captured and committed, in capture order
	byHash    map[[32]byte]*entry
	byEventID map[string]*entry
	jobs      map[string]*job
	jobOrder  []jobRef // oldest first
	nextJob   uint64

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	queue  chan *sending // documents ready to send, to the senders
}

// New opens the sealed store in opts.Dir and indexes the events this
// organization captured that the chain recorded.
func New(opts Options) (*Server, error) {
	opts.ensureDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	st, err := openStore(opts.Dir, opts.Keys)
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts: opts, store: st,
		byHash: map[[32]byte]*entry{}, byEventID: map[string]*entry{}, jobs: map[string]*job{},
		queue: make(chan *sending),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	pending, err := s.indexRecorded()
	if err != nil {
		st.close()
		return nil, err
	}
	resume, err := s.loadJobs(pending)
	if err != nil {
		st.close()
		return nil, err
	}
	s.routes()
	for range senders {
		s.wg.Add(1)
		go s.sendLoop()
	}
	for _, r := range resume {
		s.runJob(r.job, r.num, r.p)
	}
	return s, nil
}

// indexRecorded indexes the stored events that the chain recorded for
// this organization, and returns the others by sequence number: the
// entries of documents not (yet) recorded.
func (s *Server) indexRecorded() (map[uint64]*entry, error) {
	view := s.opts.State()
	pending := map[uint64]*entry{}
	err := s.store.each(func(e *entry) error {
		rec, err := supply.LoadEvent(view, e.Hash)
		switch {
		case err != nil:
			return err
		case rec == nil:
			pending[e.Seq] = e
		case rec.Org == s.opts.Org:
			s.index(e)
		}
		return nil
	})
	return pending, err
}

// resumedJob is a job that was running when the node stopped.
type resumedJob struct {
	job *job
	num uint64
	p   *prepared
}

// loadJobs reads the stored jobs (the newest maxJobs) and returns those
// still running, to be taken up again: their document is sent again
// unless the chain already holds it (sent before the stop, or by the
// tracker's journal since), in which case they succeed.
func (s *Server) loadJobs(pending map[uint64]*entry) ([]resumedJob, error) {
	var resume []resumedJob
	err := s.store.eachJob(func(num uint64, sj *storedJob) error {
		j := sj.Job
		s.jobs[j.ID] = &j
		s.jobOrder = append(s.jobOrder, jobRef{j.ID, num})
		s.nextJob = num + 1
		if !j.Running {
			return nil
		}
		rec, err := sj.recordOf()
		if err != nil {
			return fmt.Errorf("epcis store: running job %d: %w", num, err)
		}
		p := &prepared{record: rec, msg: contract.Encode(rec), resumed: true}
		for i := 0; i < j.Events; i++ {
			if e := pending[sj.FirstSeq+uint64(i)]; e != nil {
				p.entries = append(p.entries, e)
			}
		}
		resume = append(resume, resumedJob{&j, num, p})
		return nil
	})
	for len(s.jobOrder) > maxJobs {
		delete(s.jobs, s.jobOrder[0].id)
		s.jobOrder = s.jobOrder[1:]
	}
	return resume, err
}

// Close stops the captures in flight and closes the store.
func (s *Server) Close() error {
	s.cancel()
	s.wg.Wait()
	return s.store.close()
}

// Handler returns the handler of /epcis and everything under it.
func (s *Server) Handler() http.Handler { return s.mux }

// Route is one route of the binding this server serves, in
// http.ServeMux syntax, with who may call it: "capturer" (members of the
// node's organization with the admin, service or pharmacist role),
// "orgMember" (members of any organization; bodies are shown by party) or
// "open" (discovery).
type Route struct {
	Pattern, Access string
	handler         http.HandlerFunc
}

// routeTable lists the routes; s may be nil when only the patterns and
// access rules are wanted.
func (s *Server) routeTable() []Route {
	return []Route{
		{"POST /epcis/capture", "capturer", s.capture},
		{"GET /epcis/capture/{id}", "capturer", s.captureJob},
		{"POST /epcis/events", "capturer", s.captureEvent},
		{"GET /epcis/events", "orgMember", s.query},
		{"GET /epcis/events/{eventID...}", "orgMember", s.event},
		{"OPTIONS /epcis/capture", "open", s.options("OPTIONS, POST")},
		{"OPTIONS /epcis/events", "open", s.options("OPTIONS, GET, POST")},
		{"OPTIONS /epcis", "open", s.options("OPTIONS")},
	}
}

// Routes returns the server's routes and their access rules, for the API
// description's test.
func Routes() []Route { return (*Server)(nil).routeTable() }

func (s *Server) routes() {
	m := http.NewServeMux()
	for _, rt := range s.routeTable() {
		m.HandleFunc(rt.Pattern, rt.handler)
	}
	notFound := func(w http.ResponseWriter, r *http.Request) {
		s.problem(w, tx.Rejectf(tx.CodeNotFound, "no EPCIS resource at this path, or not with this method"))
	}
	m.HandleFunc("/epcis", notFound)
	m.HandleFunc("/epcis/", notFound)
	s.mux = m
}

// index adds a committed entry to the in-memory index. The first entry of
// a hash is the event; a later one is its error declaration (listed by
// queries, and found by its own eventID) or a retry (dropped).
func (s *Server) index(e *entry) {
	if _, ok := s.byHash[e.Hash]; ok && !e.Declares {
		return
	} else if !ok {
		s.byHash[e.Hash] = e
	}
	s.entries = append(s.entries, e)
	if e.EventID != "" && e.EventID != e.HashID {
		if _, ok := s.byEventID[e.EventID]; !ok {
			s.byEventID[e.EventID] = e
		}
	}
}

// versionHeaders are sent with every answer, for discovery.
func (s *Server) versionHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("GS1-EPCIS-Version", "2.0.0")
	h.Set("GS1-CBV-Version", "2.0.0")
	h.Set("GS1-EPCIS-Min", "1.2.0")
	h.Set("GS1-EPCIS-Max", "2.0.0")
	h.Set("GS1-EPCIS-Capture-Limit", strconv.Itoa(s.opts.CaptureLimit))
	h.Set("GS1-EPCIS-Capture-File-Size-Limit", strconv.Itoa(s.opts.FileSizeLimit))
	h.Set("GS1-Capture-Error-Behaviour", "rollback")
}

func (s *Server) options(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.versionHeaders(w)
		w.Header().Set("Allow", allow)
		w.Header().Set("GS1-EPCIS-Capture-Error-Behaviour", "rollback")
		w.WriteHeader(http.StatusNoContent)
	}
}

// problem is an RFC 7807 problem of the EPCIS 2.0 REST binding.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// problemOf maps an error to its problem: a *tx.Rejection or an
// *epcis.Error by its code, anything else as an internal error whose
// detail is not shown.
func problemOf(err error) problem {
	var u *unsupported
	if errors.As(err, &u) {
		return problem{Type: "epcisException:ValidationException", Title: "unsupported_media_type", Status: http.StatusUnsupportedMediaType, Detail: u.Error()}
	}
	var na *notAcceptable
	if errors.As(err, &na) {
		return problem{Type: "epcisException:ValidationException", Title: "not_acceptable", Status: http.StatusNotAcceptable, Detail: na.Error()}
	}
	code, ok := tx.CodeOf(err)
	if !ok {
		var ce interface{ Code() tx.Code }
		if errors.As(err, &ce) {
			code, ok = ce.Code(), true
		}
	}
	if !ok {
		return problem{Type: "epcisException:ImplementationException", Title: "internal error", Status: http.StatusInternalServerError}
	}
	detail := err.Error()
	var rej *tx.Rejection
	if errors.As(err, &rej) {
		detail = rej.Msg
	}
	return problem{Type: code.EPCISProblemType(), Title: code.String(), Status: code.HTTPStatus(), Detail: detail}
}

func (s *Server) problem(w http.ResponseWriter, err error) {
	p := problemOf(err)
	s.versionHeaders(w)
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	s.versionHeaders(w)
	w.Header().Set("Content-Type", "application/ld+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
