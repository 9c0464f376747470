package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/careledger/careledger/audit"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/state"
	"github.com/careledger/careledger/tx"
)

// AppVersion is the version of the state machine's rules. It changes when a
// change would make old blocks produce different results.
const AppVersion = 1

// Config configures an App.
type Config struct {
	// ChainID is the network's chain ID, from genesis. Required.
	ChainID string
	// VerifyWorkers is the number of goroutines verifying a block's
	// signatures. Default runtime.GOMAXPROCS(0).
	VerifyWorkers int
	// CheckCacheSize bounds each generation of the cache of transactions
	// that passed the stateless checks (decoded, signature verified).
	// Default 200,000.
	CheckCacheSize int
	// Indexer, if set, stores each block's results before its state commits.
	Indexer Indexer
	// AuditLog, if set, keeps the audit log's leaves and nodes, for proofs.
	// A node restores snapshots only if it is set.
	AuditLog AuditLog
	// Snapshots, if set, are the snapshots this node offers to nodes
	// joining by state sync.
	Snapshots Snapshots
}

// App is the ABCI application.
type App struct {
	abci.BaseApplication

	cfg      Config
	store    *state.Store
	checked  *checkCache
	sigGroup sigGroup
	router   *contract.Router

	paramsMu   sync.RWMutex
	params     Params
	nextParams *Params // what governance decided in the block being committed

	// pending holds, for accounts with transactions in the mempool, the next
	// sequence number CheckTx expects. Commit clears it and the mempool's
	// recheck fills it again.
	mu      sync.Mutex
	pending map[tx.Address]uint64

	block     *Block   // the block between FinalizeBlock and Commit
	restoring *restore // the snapshot being restored, during state sync

	listenMu  sync.Mutex
	listeners []Listener
}

var _ abci.Application = (*App)(nil)

// New returns an application over store.
func New(store *state.Store, cfg Config) (*App, error) {
	if cfg.ChainID == "" {
		return nil, fmt.Errorf("app config: chain ID is required")
	}
	if cfg.VerifyWorkers == 0 {
		cfg.VerifyWorkers = runtime.GOMAXPROCS(0)
	}
	if cfg.CheckCacheSize == 0 {
		cfg.CheckCacheSize = 200_000
	}
	router, err := NewRouter()
	if err != nil {
		return nil, err
	}
	a := &App{
		cfg:     cfg,
		store:   store,
		checked: newCheckCache(cfg.CheckCacheSize),
		router:  router,
		params:  DefaultParams(),
		pending: make(map[tx.Address]uint64),
	}
	if store.Height() > 0 {
		b, err := store.Committed().Get(paramsKey)
		if err != nil {
			return nil, fmt.Errorf("load params: %w", err)
		}
		if a.params, err = decodeParams(b); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Listen adds a listener for committed blocks. BlockCommitted runs inside
// Commit, while CometBFT holds the mempool lock: it must not block.
func (a *App) Listen(l Listener) {
	a.listenMu.Lock()
	defer a.listenMu.Unlock()
	a.listeners = append(a.listeners, l)
}

// ChainID returns the network's chain ID.
func (a *App) ChainID() string { return a.cfg.ChainID }

// State returns a read-only view of the last committed state.
func (a *App) State() state.View { return a.store.Committed() }

// Params returns the current network parameters.
func (a *App) Params() Params {
	a.paramsMu.RLock()
	defer a.paramsMu.RUnlock()
	return a.params
}

// Info tells CometBFT where the application stands, so that on start it
// replays exactly the blocks the application has not committed.
func (a *App) Info(context.Context, *abci.RequestInfo) (*abci.ResponseInfo, error) {
	v := a.store.Committed()
	res := &abci.ResponseInfo{Data: "careledger", AppVersion: AppVersion, LastBlockHeight: v.Version()}
	if res.LastBlockHeight > 0 {
		h, err := AppHashOf(v)
		if err != nil {
			return nil, err
		}
		res.LastBlockAppHash = h
	}
	return res, nil
}

// InitChain applies the genesis state.
func (a *App) InitChain(_ context.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	if req.ChainId != a.cfg.ChainID {
		return nil, fmt.Errorf("genesis chain ID %q, configured %q", req.ChainId, a.cfg.ChainID)
	}
	g, err := ParseGenesis(req.AppStateBytes)
	if err != nil {
		return nil, err
	}
	if err := checkValidators(g, req.Validators); err != nil {
		return nil, err
	}
	o := state.NewOverlay(a.store.Working())
	ctx := &contract.Context{ChainID: a.cfg.ChainID, Height: req.InitialHeight, Time: req.Time, Store: o}
	for _, c := range a.router.Contracts() {
		if c.Genesis == nil {
			continue
		}
		if err := c.Genesis(ctx, req.AppStateBytes); err != nil {
			return nil, fmt.Errorf("init %s: %w", c.Name, err)
		}
	}
	if err := o.Set(paramsKey, g.Params.encode()); err != nil {
		return nil, err
	}
	stateRoot, err := a.store.Apply(o)
	if err != nil {
		return nil, err
	}
	empty, err := audit.NewLog().Root()
	if err != nil {
		return nil, err
	}
	hash := audit.AppHash(stateRoot, 0, empty)
	a.paramsMu.Lock()
	a.params = g.Params
	a.paramsMu.Unlock()
	return &abci.ResponseInitChain{AppHash: hash}, nil
}

// checkValidators requires CometBFT's genesis validators to be exactly the
// organizations' validators, so that every validator belongs to a known
// organization.
func checkValidators(g *Genesis, got []abci.ValidatorUpdate) error {
	var want []abci.ValidatorUpdate
	for _, o := range g.Validators() {
		want = append(want, abci.Ed25519ValidatorUpdate(o.ValidatorKey, o.Power))
	}
	order := func(a, b abci.ValidatorUpdate) int {
		return bytes.Compare(a.PubKey.GetEd25519(), b.PubKey.GetEd25519())
	}
	got = slices.Clone(got)
	slices.SortFunc(got, order)
	slices.SortFunc(want, order)
	if !slices.EqualFunc(got, want, func(a, b abci.ValidatorUpdate) bool {
		return a.Power == b.Power && bytes.Equal(a.PubKey.GetEd25519(), b.PubKey.GetEd25519())
	}) {
		return fmt.Errorf("genesis validators do not match the organizations' validator keys and powers")
	}
	return nil
}

// Prechecked is what Precheck found of one transaction: the decoded
// transaction, or the *tx.Rejection that refuses it.
type Prechecked struct {
	Tx      *tx.Tx
	Hash    tx.Hash
	Err     error
	checked *checkedTx
}

// Precheck decodes transactions and checks everything that needs no state:
// size, encoding, chain ID, signature and message bodies. The signatures
// not verified before are verified together, in batches, which costs less
// per signature the more there are. A transaction that passes is
// remembered, decoded, so that CheckTx, rechecks and FinalizeBlock neither
// decode nor verify it again.
func (a *App) Precheck(raws ...[]byte) []Prechecked {
	return a.precheck(raws, a.sigGroup.verify)
}

// precheck is Precheck with the given verifier: submissions share batches
// through the sigGroup; CheckTx, which the mempool calls one transaction at
// a time, verifies its own, so that it never waits for a submission's batch.
func (a *App) precheck(raws [][]byte, verify func([]*tx.Tx, int) []bool) []Prechecked {
	lim := a.Params().limits()
	out := make([]Prechecked, len(raws))
	unverified := make([]*tx.Tx, len(raws))
	for i, raw := range raws {
		p := &out[i]
		p.Hash = tx.HashOf(raw)
		if p.checked = a.checked.get(p.Hash, lim.MaxTxBytes, false); p.checked != nil {
			p.Tx = p.checked.tx
			continue
		}
		p.Tx, p.Err = a.decode(raw, lim)
		if p.Err == nil {
			unverified[i] = p.Tx
		}
	}
	verified := verify(unverified, a.cfg.VerifyWorkers)
	for i := range out {
		p := &out[i]
		if unverified[i] == nil {
			continue
		}
		if p.checked, p.Err = a.checkSigned(p.Tx, verified[i], lim); p.Err != nil {
			p.Tx = nil
			continue
		}
		a.checked.add(p.Hash, p.checked)
	}
	return out
}

// decode decodes a transaction and checks its chain ID.
func (a *App) decode(raw []byte, lim tx.Limits) (*tx.Tx, error) {
	t, err := tx.Decode(raw, lim)
	if err == nil && t.ChainID != a.cfg.ChainID {
		return nil, tx.Rejectf(tx.CodeWrongChain, "chain ID %q, this network is %q", t.ChainID, a.cfg.ChainID)
	}
	return t, err
}

// checkSigned finishes the stateless checks of a decoded transaction whose
// signature was verified (sigOK) or not: it decodes and validates each
// message.
func (a *App) checkSigned(t *tx.Tx, sigOK bool, lim tx.Limits) (*checkedTx, error) {
	if !sigOK {
		return nil, tx.Rejectf(tx.CodeBadSignature, "signature does not verify")
	}
	return a.checkMsgs(t, lim.MaxTxBytes)
}

// CheckTx admits transactions to the mempool.
func (a *App) CheckTx(_ context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	err := a.checkTx(req.Tx)
	code, ok := tx.CodeOf(err)
	if !ok {
		return nil, err
	}
	return &abci.ResponseCheckTx{Code: uint32(code), Log: logOf(err)}, nil
}

func (a *App) checkTx(raw []byte) error {
	p := a.precheck([][]byte{raw}, verifySignatures)[0]
	if p.Err != nil {
		return p.Err
	}
	t := p.Tx
	who, err := resolveSigner(a.store.Committed(), t.Signer, p.checked.open)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	next, ok := a.pending[who.addr]
	if !ok {
		next = who.next
	}
	if err := checkSequence(t.Sequence, next); err != nil {
		return err
	}
	a.pending[who.addr] = next + 1
	return nil
}

// signer is who signed a transaction, as the state knows them.
type signer struct {
	addr       tx.Address
	next       uint64 // the sequence number the account expects
	registered bool
}

// resolveSigner finds the account of a transaction's signing key. A key that
// is not registered may sign only open messages, as the account it is about
// to create, whose first sequence number is 0.
func resolveSigner(s identity.Reader, key []byte, open bool) (signer, error) {
	acct, err := identity.Resolve(s, key)
	if err != nil {
		return signer{}, err
	}
	if acct == nil {
		if !open {
			return signer{}, tx.Rejectf(tx.CodeUnknownSigner, "signer key is not registered")
		}
		return signer{addr: tx.AddressOf(key)}, nil
	}
	who := signer{addr: acct.Address, next: acct.Sequence, registered: true}
	if acct.Kind == identity.Device {
		// A device's only power is its custodian's FHIR API: on the chain
		// it can neither act for its patient nor for itself.
		return who, tx.Rejectf(tx.CodeUnauthorized, "a device signs no transactions")
	}
	if acct.Suspended {
		return who, tx.Rejectf(tx.CodeSuspended, "account %s is suspended", acct.Address)
	}
	return who, nil
}

func checkSequence(got, want uint64) error {
	switch {
	case got < want:
		return tx.Rejectf(tx.CodeSequenceReplayed, "sequence %d already used; next is %d", got, want)
	case got > want:
		return tx.Rejectf(tx.CodeSequenceSkipped, "sequence %d is ahead; next is %d", got, want)
	}
	return nil
}

// NextSequence returns the sequence number CheckTx expects next from addr:
// after its committed transactions and those waiting in the mempool.
func (a *App) NextSequence(addr tx.Address) (uint64, error) {
	a.mu.Lock()
	n, ok := a.pending[addr]
	a.mu.Unlock()
	if ok {
		return n, nil
	}
	return a.Sequence(addr)
}

// Sequence returns the next sequence number of account a in committed state:
// 0 for an address with no account.
func (a *App) Sequence(addr tx.Address) (uint64, error) {
	acct, err := identity.LoadAccount(a.store.Committed(), addr)
	if err != nil || acct == nil {
		return 0, err
	}
	return acct.Sequence, nil
}

// FinalizeBlock executes a decided block.
func (a *App) FinalizeBlock(_ context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	lim := a.Params().limits()
	checked := make([]*checkedTx, len(req.Txs))
	txs := make([]*tx.Tx, len(req.Txs))
	errs := make([]error, len(req.Txs))
	unverified := make([]*tx.Tx, len(req.Txs))
	b := &Block{Height: req.Height, Time: req.Time, Txs: make([]TxResult, len(req.Txs))}
	for i, raw := range req.Txs {
		b.Txs[i] = TxResult{Hash: tx.HashOf(raw), Height: req.Height, Index: i}
		if checked[i] = a.checked.get(b.Txs[i].Hash, lim.MaxTxBytes, true); checked[i] != nil {
			txs[i] = checked[i].tx
			continue
		}
		if txs[i], errs[i] = tx.Decode(raw, lim); errs[i] == nil {
			unverified[i] = txs[i]
		}
	}
	verified := verifySignatures(unverified, a.cfg.VerifyWorkers)

	blk := state.NewOverlay(a.store.Working())
	results := make([]*abci.ExecTxResult, len(req.Txs))
	for i, t := range txs {
		r := &b.Txs[i]
		err := errs[i]
		if err == nil {
			err = a.deliver(blk, b, t, checked[i], unverified[i] == nil || verified[i], lim, r)
		}
		if err := r.setOutcome(err); err != nil {
			return nil, fmt.Errorf("block %d transaction %d: %w", req.Height, i, err)
		}
		results[i] = r.abci()
	}
	updates, err := a.governanceUpdates(blk, b)
	if err != nil {
		return nil, err
	}
	if err := a.recordMisbehavior(blk, b, req.Misbehavior); err != nil {
		return nil, err
	}
	indexed := a.index(b)
	hash, err := a.settle(blk, b)
	if err := errors.Join(err, <-indexed); err != nil {
		return nil, err
	}
	b.AppHash = hash
	a.block = b
	return &abci.ResponseFinalizeBlock{
		TxResults: results, AppHash: hash,
		ValidatorUpdates: updates.validators, ConsensusParamUpdates: updates.consensus,
	}, nil
}

// index writes the block's results to the index, beside the rest of
// FinalizeBlock, which does not change them: the index write takes a third
// of a block's time on the consensus path otherwise. The block is decided
// (FinalizeBlock runs only for committed blocks), and indexing it before its
// state commits keeps the index from ever being behind the state, and the
// work out of Commit, during which CometBFT's mempool admits nothing.
func (a *App) index(b *Block) <-chan error {
	done := make(chan error, 1)
	if a.cfg.Indexer == nil {
		done <- nil
		return done
	}
	go func() {
		if err := a.cfg.Indexer.IndexBlock(b); err != nil {
			done <- fmt.Errorf("index block %d: %w", b.Height, err)
		}
		close(done)
	}()
	return done
}

// settle appends the block's events to the audit log and its writes to the
// state, and returns the app hash, which commits to both.
func (a *App) settle(blk *state.Overlay, b *Block) ([]byte, error) {
	ab, err := a.appendEvents(blk, b)
	if err != nil {
		return nil, err
	}
	stateRoot, err := a.store.Apply(blk)
	if err != nil {
		return nil, err
	}
	hash := audit.AppHash(stateRoot, ab.Size, ab.Root)
	ab.StateRoot = stateRoot
	if a.cfg.AuditLog != nil {
		if err := a.cfg.AuditLog.Write(ab); err != nil {
			return nil, fmt.Errorf("audit log of block %d: %w", b.Height, err)
		}
	}
	return hash, nil
}

// deliver applies one transaction to the block's overlay: c if the
// stateless checks passed before, else t, whose signature verified if sigOK.
// Only the transaction's own overlay sees its messages' writes until all
// succeed.
func (a *App) deliver(blk *state.Overlay, b *Block, t *tx.Tx, c *checkedTx, sigOK bool, lim tx.Limits, r *TxResult) error {
	r.Sequence = t.Sequence
	r.Msgs = make([]string, len(t.Msgs))
	for i, m := range t.Msgs {
		r.Msgs[i] = a.router.Name(m.Type)
	}
	if c == nil {
		if t.ChainID != a.cfg.ChainID {
			return tx.Rejectf(tx.CodeWrongChain, "chain ID %q, this network is %q", t.ChainID, a.cfg.ChainID)
		}
		var err error
		if c, err = a.checkSigned(t, sigOK, lim); err != nil {
			return err
		}
	}
	who, err := resolveSigner(blk, t.Signer, c.open)
	r.Signer = who.addr
	if err != nil {
		return err
	}
	if err := checkSequence(t.Sequence, who.next); err != nil {
		return err
	}
	own := blk.Child()
	ctx := &contract.Context{
		ChainID: a.cfg.ChainID, Height: b.Height, Time: b.Time, Store: own,
		Signer: who.addr, SignerKey: t.Signer,
	}
	var failed error
	for i, m := range c.msgs {
		if failed = c.specs[i].Handle(ctx, m); failed != nil {
			break
		}
	}
	if failed == nil {
		if err := own.Flush(); err != nil {
			return err
		}
		r.Events = ctx.Events()
	}
	// The sequence is consumed even when a message fails, so that a signed
	// transaction can never be replayed. A key that registered nothing has
	// no account whose sequence to consume.
	consume, err := consumesSequence(blk, who, t, failed)
	if err != nil {
		return err
	}
	if consume {
		if err := identity.SetSequence(blk, who.addr, t.Sequence+1); err != nil {
			return err
		}
	}
	return failed
}

// consumesSequence reports whether t consumes a sequence number of the
// account at who.addr: always for a registered signer; for a key that was
// not, only if t made it that account's key (identity/register_patient). A
// key an open message gave to an account that existed before
// (identity/complete_recovery) leaves that account's sequence alone: the
// transaction, at sequence 0, now replays against it as any other.
func consumesSequence(blk identity.Reader, who signer, t *tx.Tx, failed error) (bool, error) {
	if who.registered || failed != nil {
		return who.registered, nil
	}
	acct, err := identity.Resolve(blk, t.Signer)
	return acct != nil && acct.Address == who.addr, err
}

// setOutcome records err as the result's code and log. It returns err if
// err is not a rejection: a fault that must stop the node.
func (r *TxResult) setOutcome(err error) error {
	code, ok := tx.CodeOf(err)
	if !ok {
		return err
	}
	r.Code, r.Log = code, logOf(err)
	return nil
}

// logOf returns a rejection's message, which goes into results without the
// code name that results carry apart.
func logOf(err error) string {
	var rej *tx.Rejection
	if errors.As(err, &rej) {
		return rej.Msg
	}
	return ""
}

func (r *TxResult) abci() *abci.ExecTxResult {
	res := &abci.ExecTxResult{Code: uint32(r.Code), Log: r.Log}
	for _, e := range r.Events {
		ev := abci.Event{Type: e.Type}
		for _, at := range e.Attrs {
			ev.Attributes = append(ev.Attributes, abci.EventAttribute{Key: at.Key, Value: at.Value})
		}
		for _, acct := range e.Accounts {
			ev.Attributes = append(ev.Attributes, abci.EventAttribute{Key: "account", Value: acct.String()})
		}
		res.Events = append(res.Events, ev)
	}
	return res
}

// Commit makes the finalized block durable and tells the listeners.
func (a *App) Commit(context.Context, *abci.RequestCommit) (*abci.ResponseCommit, error) {
	b := a.block
	if b == nil {
		return nil, fmt.Errorf("commit without a finalized block")
	}
	if _, _, err := a.store.Commit(); err != nil {
		return nil, err
	}
	a.block = nil
	a.mu.Lock()
	a.pending = make(map[tx.Address]uint64)
	a.mu.Unlock()
	if a.nextParams != nil {
		a.paramsMu.Lock()
		a.params, a.nextParams = *a.nextParams, nil
		a.paramsMu.Unlock()
	}

	a.listenMu.Lock()
	ls := slices.Clone(a.listeners)
	a.listenMu.Unlock()
	for _, l := range ls {
		l.BlockCommitted(b)
	}
	return &abci.ResponseCommit{}, nil
}
