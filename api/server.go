package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/cometbft/cometbft/crypto/ed25519"
	cmttypes "github.com/cometbft/cometbft/types"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/audit/auditdb"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/index"
	"github.com/careledger/careledger/tracker"
	"github.com/careledger/careledger/tx"
)

// BlockStore reads committed blocks; CometBFT's store.BlockStore satisfies it.
type BlockStore interface {
	Height() int64
	LoadBlock(height int64) *cmttypes.Block
	LoadBlockCommit(height int64) *cmttypes.Commit
	LoadSeenCommit(height int64) *cmttypes.Commit
}

// Mempool reports the mempool's size.
type Mempool interface {
	Size() int
}

// Backend is what the API serves from.
type Backend struct {
	App     *app.App
	Tracker *tracker.Tracker
	Index   *index.Index
	Audit   *auditdb.Store
	// ReportKey signs accountings of disclosures: the node's service key.
	ReportKey ed25519.PrivKey
	Blocks    BlockStore
	Mempool   Mempool
	// AuthSecret keys the HMAC of challenges and tokens. Required.
	AuthSecret []byte
	// Version is the software version reported by /v1/status.
	Version string
	// Streams bound the event streams of /v1/events; zero fields take
	// their defaults.
	Streams StreamOptions
	// ClaimReads records on the chain, and waits for, the receipt of who's
	// read of claims' decisions (claims/read) before GET /v1/claims/{claim}
	// answers anyone but the claim's provider's members. The node sets it;
	// nil answers without a receipt.
	ClaimReads func(ctx context.Context, who *identity.Account, purpose, view string, claims [][32]byte) error
}

// maxBodyBytes bounds every request body: a base64 transaction of the
// largest allowed size, with room for the JSON around it.
const maxBodyBytes = 8 << 20

// Server is the HTTP API.
type Server struct {
	b       Backend
	hub     *Hub
	metrics *Metrics
	auth    *Auth
	mux     *http.ServeMux
	closing chan struct{} // closed by Close: streams end
	// recruiter is set by SetRecruiter before the server serves.
	recruiter Recruiter
}

// New returns a server and subscribes its event hub and metrics to the app.
func New(b Backend) (*Server, error) {
	if len(b.AuthSecret) < 32 {
		return nil, errors.New("api: auth secret must be at least 32 bytes")
	}
	b.Streams.EnsureDefaults()
	if err := b.Streams.Validate(); err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	s := &Server{
		b:       b,
		hub:     NewHub(b.Streams),
		metrics: NewMetrics(b),
		auth:    &Auth{secret: b.AuthSecret, chainID: b.App.ChainID(), app: b.App},
		mux:     http.NewServeMux(),
		closing: make(chan struct{}),
	}
	b.App.Listen(s.hub)
	// Read after Listen: the hub hears of every block after this one.
	s.hub.start(b.App.State().Version())
	b.App.Listen(s.metrics)
	s.routes()
	return s, nil
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// Close ends the open event streams, which would otherwise keep a graceful
// HTTP shutdown waiting. Call it once, before shutting the HTTP server down.
func (s *Server) Close() { close(s.closing) }

// Hub returns the server's event hub.
func (s *Server) Hub() *Hub { return s.hub }

// Metrics returns the server's metrics.
func (s *Server) Metrics() *Metrics { return s.metrics }

// Auth returns the server's authenticator, for later APIs (FHIR, EPCIS).
func (s *Server) Auth() *Auth { return s.auth }

// route is one pattern the server serves, in http.ServeMux syntax
// ("METHOD /path/{wildcard}"), who may call it, and its handler.
type route struct {
	pattern string
	access  access
	handler http.HandlerFunc
}

// routeTable lists every route but the JSON 404 for unknown ones, each with
// its access rule (access.go): open, member (any registered account with a
// token), or a rule naming the path or query parameter whose patient,
// account or organization the answer concerns. routes registers exactly
// these behind guard; tests check that openapi.json describes each of them
// with its rule, and that each refuses whom its rule refuses.
func (s *Server) routeTable() []route {
	return []route{
		{"GET /healthz", open, s.healthz},
		{"GET /v1/openapi.json", open, serveOpenAPI},
		{"GET /v1/status", open, s.status},
		{"POST /v1/txs", open, s.submitTx},
		{"POST /v1/txs/batch", open, s.submitBatch},
		{"GET /v1/txs/{hash}", member, s.getTx},
		{"GET /v1/accounts/{address}", account("address"), s.getAccount},
		{"GET /v1/accounts/{address}/txs", account("address"), s.accountTxs},
		{"GET /v1/keys/{pubkey}", key("pubkey"), s.getKey},
		{"GET /v1/orgs", member, s.listOrgs},
		{"GET /v1/orgs/{id}", member, s.getOrg},
		{"GET /v1/orgs/{id}/members", org("id"), s.listMembers},
		{"GET /v1/orgs/{id}/reviews", orgAdmin("id"), s.orgReviews},
		{"GET /v1/orgs/{id}/schedules", member, s.orgSchedules},
		{"GET /v1/patients/{address}/grants", grants("address"), s.patientGrants},
		{"GET /v1/patients/{address}/delegates", patient("address"), s.patientDelegates},
		{"GET /v1/patients/{address}/teams", patient("address"), s.patientTeams},
		{"GET /v1/patients/{address}/recovery", guardians("address"), s.patientRecovery},
		{"GET /v1/patients/{address}/balance", patient("address"), s.patientBalance},
		{"GET /v1/schedules/{provider}/{schedule}/slots", member, s.scheduleSlots},
		{"GET /v1/programs", member, s.listPrograms},
		{"GET /v1/programs/{id}", member, s.getProgram},
		{"GET /v1/programs/{id}/patients/{address}", patient("address"), s.programPatient},
		{"GET /v1/grants/{id}", grant("id"), s.getGrant},
		{"GET /v1/teams/{id}", team("id"), s.getTeam},
		{"GET /v1/anchors/{root}", member, s.getAnchor},
		{"GET /v1/proposals/{id}", member, s.getProposal},
		{"GET /v1/validators", member, s.listValidators},
		{"GET /v1/audit/checkpoints/{height}", member, s.getCheckpoint},
		{"GET /v1/audit/events", auditList, s.listAuditEvents},
		{"GET /v1/audit/events/{index}", member, s.getAuditEvent},
		{"GET /v1/audit/proofs/inclusion", member, s.inclusionProof},
		{"GET /v1/audit/proofs/consistency", member, s.consistencyProof},
		{"GET /v1/audit/bundles/{index}", member, s.getBundle},
		{"GET /v1/audit/disclosures/{address}", patient("address"), s.disclosures},
		{"GET /v1/trials/{id}", member, s.getTrial},
		{"GET /v1/trials/{id}/datasets/{name}", member, s.getTrialDataset},
		{"GET /v1/trials/{id}/report", member, s.trialReport},
		{"GET /v1/trials/{id}/recruitment", member, s.getRecruitment},
		{"POST /v1/trials/{id}/recruit", s.custodianStaff(), s.recruit},
		{"GET /v1/patients/{address}/invitations", actsFor("address"), s.patientInvitations},
		{"GET /v1/requests/{id}", request("id"), s.getRequest},
		{"GET /v1/blocks/{height}", member, s.getBlock},
		{"GET /v1/events", patientQuery("account"), s.events},
		{"GET /v1/ledger/{id}", org("id"), s.getLedgerAccount},
		{"GET /v1/ledger/{id}/history", org("id"), s.getLedgerHistory},
		{"GET /v1/claims/{claim}", claim("claim"), s.getClaim},
		{"GET /v1/orgs/{id}/claims", orgMember("id"), s.listClaims},
		{"GET /v1/orgs/{id}/policies", member, s.listPolicies},
		{"POST /v1/auth/challenge", open, s.auth.challenge},
		{"POST /v1/auth/token", open, s.auth.token},
		{"GET /v1/auth/whoami", member, s.whoami},
		{"GET /.well-known/smart-configuration", open, smartConfiguration},
	}
}

func (s *Server) routes() {
	for _, rt := range s.routeTable() {
		s.mux.Handle(rt.pattern, s.guard(rt.access, rt.handler))
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, tx.Rejectf(tx.CodeNotFound, "no route %s %s", r.Method, r.URL.Path))
	})
}

// HTTPStatus returns the HTTP status for code, from tx's one table of how
// every API reports a code (500 for a code it does not know).
func HTTPStatus(code tx.Code) int { return code.HTTPStatus() }

// setRetryAfter tells the client of an answer with code when to try again,
// if the table says: a full mempool (busy) has room again within a few
// blocks.
func setRetryAfter(w http.ResponseWriter, code tx.Code) {
	if n := code.RetryAfter(); n > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(n))
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// writeError answers with err's code, or 500 for an internal error, whose
// details stay out of the answer.
func writeError(w http.ResponseWriter, err error) {
	var rej *tx.Rejection
	if !errors.As(err, &rej) {
		writeJSON(w, http.StatusInternalServerError, map[string]v1.Error{"error": {Name: "internal", Message: "internal error"}})
		return
	}
	setRetryAfter(w, rej.Code)
	writeJSON(w, HTTPStatus(rej.Code), map[string]v1.Error{"error": {Code: rej.Code, Name: rej.Code.String(), Message: rej.Msg}})
}

// readJSON decodes a size-limited JSON body into v, rejecting unknown fields.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		// Only the end of the body may follow the object. (Decoder.More
		// would let a stray '}' or ']', or a body over the limit, through.)
		if _, err = dec.Token(); err == io.EOF {
			return nil
		}
		if err == nil {
			err = errors.New("data after the JSON object")
		}
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return tx.Rejectf(tx.CodeOversized, "request body over %d bytes", maxBodyBytes)
	}
	return tx.Rejectf(tx.CodeMalformed, "request body is not the expected JSON: %v", err)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "height": s.b.App.State().Version()})
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	v := s.b.App.State()
	hash, err := app.AppHashOf(v)
	if err != nil {
		writeError(w, err)
		return
	}
	st := v1.Status{
		ChainID:     s.b.App.ChainID(),
		Height:      v.Version(),
		AppHash:     fmt.Sprintf("%X", hash),
		Version:     s.b.Version,
		AppVersion:  app.AppVersion,
		MempoolSize: s.b.Mempool.Size(),
		PendingTxs:  s.b.Tracker.Pending(),
	}
	if st.Height == 0 {
		st.AppHash = ""
	}
	if s.b.ReportKey != nil { // the node's service key, a member of its organization
		if acct, err := identity.Resolve(v, s.b.ReportKey.PubKey().Bytes()); err == nil && acct != nil {
			st.Org = acct.Org
		}
	}
	if blk := s.b.Blocks.LoadBlock(st.Height); blk != nil {
		st.BlockTime = blk.Time.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	}
	writeJSON(w, http.StatusOK, st)
}
