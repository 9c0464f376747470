package dscsa

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

// Authenticator returns the account a request's bearer token names;
// api.Auth satisfies it.
type Authenticator interface {
	Authenticate(r *http.Request) (*identity.Account, error)
}

// State is committed ledger state at one height; state.View satisfies it.
type State interface {
	identity.Iterator
	Version() int64
}

// Sender signs messages with the node's service key and waits until they
// commit; sender.Sender satisfies it.
type Sender interface {
	Commit(ctx context.Context, msgs ...tx.Msg) error
}

// Options configure a Server. Auth, State, Sender and Org are required.
type Options struct {
	Auth   Authenticator
	State  func() State
	Sender Sender
	// Org is the node's organization: the responder of its answers, whose
	// service key signs their receipts.
	Org string
	// BatchReceipts is how many receipts one transaction records at most.
	// Default (and most) supply.MaxReceipts, 512.
	BatchReceipts int
	// FlushInterval is how long a receipt may wait for others to fill its
	// batch. Default 200 ms.
	FlushInterval time.Duration
	// MaxQueued is how many receipts may wait to be recorded; beyond it a
	// verification waits for room up to QueueWait, then answers busy
	// (503). Default 65536.
	MaxQueued int
	// QueueWait is how long a verification may wait for its receipt's
	// place in a full queue. Default 2 s.
	QueueWait time.Duration
	// MaxInFlight is how many batches may be committing at once. Default 4.
	MaxInFlight int
	// Now is the clock of answers' timestamps (not of any rule). Default
	// time.Now.
	Now func() time.Time
	// Logf reports receipts that could not be recorded (counts, never
	// identifiers). Default: discard.
	Logf func(format string, args ...any)
	// Webhooks configure subscription delivery.
	Webhooks WebhookOptions
	// SubscriptionsFile is where subscriptions and their delivery cursors
	// are kept. Default "": in memory only, ended by a restart.
	SubscriptionsFile string
	// Blocks reads committed blocks back, for deliveries that fall behind
	// the last 64 blocks (after a restart, or a slow webhook). Default nil:
	// a delivery further behind skips those blocks.
	Blocks Blocks
}

// EnsureDefaults sets each zero field to its default.
func (o *Options) EnsureDefaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.BatchReceipts, 512)
	def(&o.MaxQueued, 1<<16)
	def(&o.MaxInFlight, 4)
	if o.QueueWait == 0 {
		o.QueueWait = 2 * time.Second
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = 200 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	o.Webhooks.EnsureDefaults()
}

// Validate reports a missing or out-of-range field (after EnsureDefaults).
func (o Options) Validate() error {
	switch {
	case o.Auth == nil || o.State == nil || o.Sender == nil:
		return errors.New("dscsa: Auth, State and Sender are required")
	case identity.ValidateOrgID(o.Org) != nil:
		return errors.New("dscsa: Org is the node's organization ID")
	case o.BatchReceipts < 1 || o.BatchReceipts > 512:
		return errors.New("dscsa: BatchReceipts is 1 to 512")
	case o.MaxQueued < 1 || o.MaxInFlight < 1 || o.FlushInterval < 0 || o.QueueWait < 0:
		return errors.New("dscsa: MaxQueued, MaxInFlight, FlushInterval and QueueWait must be positive")
	}
	return o.Webhooks.Validate()
}

// Server serves verification and subscriptions. It is an app.Listener (for
// subscriptions); register it with the app.
type Server struct {
	opts     Options
	receipts *batcher
	subs     *subscriptions
	mux      *http.ServeMux
}

var _ app.Listener = (*Server)(nil)

// New returns a server and starts its receipt batcher; Close stops it.
func New(o Options) (*Server, error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	s := &Server{opts: o, mux: http.NewServeMux()}
	var err error
	if s.subs, err = openSubscriptions(o); err != nil {
		return nil, err
	}
	s.receipts = newBatcher(o)
	for _, rt := range s.routeTable() {
		s.mux.HandleFunc(rt.pattern, rt.handler)
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, tx.Rejectf(tx.CodeNotFound, "no route %s %s", r.Method, r.URL.Path))
	})
	return s, nil
}

type route struct {
	pattern string
	handler http.HandlerFunc
}

// routeTable lists the server's routes; Patterns gives the node what to
// mount.
func (s *Server) routeTable() []route {
	return []route{
		{"GET /01/{gtin}/21/{serial}", s.identifier},
		{"GET /01/{gtin}/10/{lot}/21/{serial}", s.identifier},
		{"GET /01/{gtin}/10/{lot}", s.lot},
		{"GET /00/{sscc}", s.logisticUnit},
		{"POST " + subscriptionsPath, s.subscribe},
		{"GET " + subscriptionsPath, s.listSubscriptions},
		{"DELETE " + subscriptionsPath + "/{id}", s.unsubscribe},
		{"GET " + streamPath, s.stream},
	}
}

// Patterns returns the server's routes in http.ServeMux syntax ("GET
// /01/{gtin}/21/{serial}"), for the API description's test. Every one is
// for trading partners, with a bearer token.
func Patterns() []string {
	var out []string
	for _, rt := range (*Server)(nil).routeTable() {
		out = append(out, rt.pattern)
	}
	return out
}

// Prefixes are the path prefixes the server answers under, for the node to
// mount.
var Prefixes = []string{"/01/", "/00/", subscriptionsRoot}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// BlockCommitted delivers the block's events to the subscriptions they
// match.
func (s *Server) BlockCommitted(b *app.Block) { s.subs.blockCommitted(b) }

// Close records the receipts still queued (waiting at most until ctx ends)
// and stops deliveries.
func (s *Server) Close(ctx context.Context) error {
	s.subs.close()
	return s.receipts.close(ctx)
}

// Stats counts verification receipts: answered (queued), recorded on the
// chain, and dropped (their transaction refused, or the node stopped).
type Stats struct {
	Answered, Recorded, Dropped uint64
}

// Stats returns the receipt counts so far.
func (s *Server) Stats() Stats { return s.receipts.stats() }
