package bench

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/schedule"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/tracker"
	"github.com/careledger/careledger/tx"
)

// The workloads CareLedger's node can be loaded with (Options.Workload).
// The baseline is kvstore with its own transactions whatever the workload.
const (
	// Registrations: each transaction a patient registration from a new
	// key. The default.
	Registrations = "registrations"
	// Claims: each transaction a claim of five lines, submitted by one of
	// the provider's claims agents and adjudicated and settled in its
	// block, under a policy of 10,000 fee-schedule codes and 100,000 code
	// pairs.
	Claims = "claims"
	// Bookings: each transaction a patient's booking of a slot, RacersPerSlot
	// patients racing for each slot; one wins, the others are refused
	// (and count as Failed). No slot may be booked twice.
	Bookings = "bookings"
)

// Workloads lists the workloads, the default first.
var Workloads = []string{Registrations, Claims, Bookings}

// RacersPerSlot is how many patients race for each slot in Bookings.
const RacersPerSlot = 8

// signerCount is how many keys a workload signs with: each signs many of
// a phase's transactions, in sequence order, so there must be more than
// one batch's worth for a batch to hold one transaction of each at most.
const signerCount = 8192

// benchPayer is the payer organization of the claims workload, founded
// at genesis beside the node's own (a provider).
var benchPayer = node.Org{ID: "bench-payer", Name: "Bench Payer", Type: identity.Payer}

// workload is a load of many transactions from a few thousand signers,
// each in sequence order, prepared on a running node.
type workload struct {
	n       *node.Node
	chainID string
	signers []ed25519.PrivKey
	// next[i] is the sequence number of signer i's next transaction not
	// yet committed; a transaction is submitted once it is its own. A
	// signer has one transaction in flight at a time, as a client that
	// waits for each answer: CheckTx forgets the mempool's sequence numbers
	// at each Commit until its recheck, and refuses meanwhile a signer's
	// transaction submitted after another not yet committed.
	next []atomic.Uint64
	// meta locates each transaction of the phase being run.
	mu   sync.Mutex
	meta map[[32]byte]txMeta
	made int // transactions made so far, over all phases
	msg  func(i, signer int) tx.Msg
	// observe, if set, sees each committed transaction of the phase.
	observe func(m txMeta, code tx.Code)
	// check, if set, reports a broken invariant of the committed state.
	check func() error
	// openSlots, if set, opens the slots up to slot upTo (not included)
	// before a phase's bookings are made.
	openSlots func(ctx context.Context, upTo int) error
	// booked counts the bookings applied.
	booked atomic.Int64
}

type txMeta struct {
	signer int
	seq    uint64
	item   int // the workload's number for what the transaction targets
}

// startWorkload prepares the named workload on n (its state: organizations'
// members, patients, policy, schedules) and returns it.
func startWorkload(ctx context.Context, n *node.Node, home, name string) (*workload, error) {
	w := &workload{n: n, chainID: n.ChainID(), meta: map[[32]byte]txMeta{}}
	if err := firstBlock(ctx, n); err != nil {
		return nil, err
	}
	admin, err := node.KeysDir(home).Load("admin", nil)
	if err != nil {
		return nil, fmt.Errorf("the node's admin key: %w", err)
	}
	w.signers = make([]ed25519.PrivKey, signerCount)
	w.next = make([]atomic.Uint64, signerCount)
	for i := range w.signers {
		w.signers[i] = ed25519.GenPrivKey()
	}
	switch name {
	case Claims:
		err = w.prepareClaims(ctx, home, admin)
	case Bookings:
		err = w.prepareBookings(ctx, admin)
	default:
		err = fmt.Errorf("unknown workload %q (want one of %v)", name, Workloads)
	}
	return w, err
}

// firstBlock waits until n committed its first block: until then CheckTx
// does not see the genesis's organizations.
func firstBlock(ctx context.Context, n *node.Node) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		info, err := n.App().Info(ctx, &abci.RequestInfo{})
		if err != nil {
			return err
		}
		if info.LastBlockHeight > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no first block: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// makeTxs signs count transactions, each signer's from the next sequence
// number its committed account expects; the phase before has committed all
// of its own.
func (w *workload) makeTxs(count int) [][]byte {
	if w.openSlots != nil {
		if err := w.openSlots(context.Background(), (w.made+count)/RacersPerSlot+1); err != nil {
			panic(fmt.Sprintf("opening the bench's slots: %v", err)) // a setup on a local node that took every one before
		}
	}
	seqs := make([]uint64, len(w.signers))
	for i, k := range w.signers {
		seq, err := w.n.App().Sequence(tx.AddressOf(k.PubKey().Bytes()))
		if err != nil {
			panic(fmt.Sprintf("sequence of a bench signer: %v", err)) // the state is local and readable
		}
		seqs[i] = seq
		w.next[i].Store(seq)
	}
	out := make([][]byte, count)
	metas := make([]txMeta, count)
	first := w.made
	w.made += count
	parallel(count, func(i int) {
		s := i % len(w.signers)
		m := txMeta{signer: s, seq: seqs[s] + uint64(i/len(w.signers)), item: first + i}
		t := &tx.Tx{ChainID: w.chainID, Signer: w.signers[s].PubKey().Bytes(), Sequence: m.seq, Msgs: []tx.Msg{w.msg(first+i, s)}}
		if err := t.Sign(w.signers[s]); err != nil {
			panic(err) // signing with a well-formed key cannot fail
		}
		out[i], metas[i] = t.Encode(), m
	})
	w.mu.Lock()
	clear(w.meta)
	for i, raw := range out {
		w.meta[sha256.Sum256(raw)] = metas[i]
	}
	w.mu.Unlock()
	return out
}

// gateWait is how long submit waits for a transaction's predecessor of
// the same signer to commit before offering it back as if the mempool were
// busy.
const gateWait = 50 * time.Millisecond

// submit hands raws to the node once the transactions before each of the
// same signer committed, and returns those to offer again.
func (w *workload) submit(raws [][]byte) ([][]byte, error) {
	metas := make([]txMeta, len(raws))
	w.mu.Lock()
	for i, raw := range raws {
		metas[i] = w.meta[sha256.Sum256(raw)]
	}
	w.mu.Unlock()
	deadline := time.Now().Add(gateWait)
	var ready, later [][]byte
	var readyMeta []txMeta
	for i, raw := range raws {
		for w.next[metas[i].signer].Load() < metas[i].seq && time.Now().Before(deadline) {
			time.Sleep(100 * time.Microsecond)
		}
		if w.next[metas[i].signer].Load() < metas[i].seq {
			later = append(later, raw)
			continue
		}
		ready, readyMeta = append(ready, raw), append(readyMeta, metas[i])
	}
	if len(ready) == 0 {
		return later, nil
	}
	rs, err := w.n.Tracker().SubmitAll(ready...)
	if err != nil {
		return nil, err
	}
	for i, r := range rs {
		if r.Status == tracker.Rejected && r.Code == tx.CodeSequenceSkipped {
			// Its predecessor is in the mempool, but CheckTx has not seen
			// it again since the last block (the recheck runs after
			// Commit): offered again in a moment, as a client would.
			later = append(later, ready[i])
			continue
		}
		isBusy, err := busy(r)
		if err != nil {
			return nil, err
		}
		if isBusy {
			later = append(later, ready[i])
		}
	}
	return later, nil
}

// committed frees the signer of a committed transaction of the phase for
// its next, and passes it to observe.
func (w *workload) committed(h [32]byte, code tx.Code) {
	w.mu.Lock()
	m, ok := w.meta[h]
	w.mu.Unlock()
	if !ok {
		return
	}
	w.next[m.signer].Store(m.seq + 1)
	if w.observe != nil {
		w.observe(m, code)
	}
}

// setup signs msgs with key, as few transactions of at most perTx
// messages each in sequence order, submits them all and waits until every
// one applied.
func (w *workload) setup(ctx context.Context, key ed25519.PrivKey, perTx int, msgs []tx.Msg) error {
	seq, err := w.n.App().Sequence(tx.AddressOf(key.PubKey().Bytes()))
	if err != nil {
		return err
	}
	var raws [][]byte
	for len(msgs) > 0 {
		k := min(perTx, len(msgs))
		t := &tx.Tx{ChainID: w.chainID, Signer: key.PubKey().Bytes(), Sequence: seq, Msgs: msgs[:k]}
		if err := t.Sign(key); err != nil {
			return err
		}
		raws, msgs, seq = append(raws, t.Encode()), msgs[k:], seq+1
	}
	return w.submitAndWait(ctx, raws)
}

// submitAndWait submits raws in order, offering again those the mempool
// was too full for, and waits until each applied.
func (w *workload) submitAndWait(ctx context.Context, raws [][]byte) error {
	for rest := raws; len(rest) > 0; {
		chunk := rest[:min(len(rest), 500)]
		rs, err := w.n.Tracker().SubmitAll(chunk...)
		if err != nil {
			return err
		}
		taken := 0
		for _, r := range rs {
			isBusy, err := busy(r)
			if err != nil {
				return fmt.Errorf("setup: %w", err)
			}
			if isBusy {
				break // the rest of the chunk goes again, in order
			}
			taken++
		}
		rest = rest[taken:]
		if taken < len(chunk) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for _, raw := range raws {
		r, err := w.n.Tracker().Wait(ctx, sha256.Sum256(raw))
		if err != nil {
			return err
		}
		if r.Status != tracker.Committed || r.Code != tx.CodeOK {
			return fmt.Errorf("setup transaction %s: %s %s %s", r.Hash, r.Status, r.Code, r.Log)
		}
	}
	return nil
}

// registerSigners has every signer register as a patient (its own first
// transaction), or, with org, the org's admin register them as its
// members with roles.
func (w *workload) registerSigners(ctx context.Context, admin ed25519.PrivKey, org string, roles ...identity.Role) error {
	if org != "" {
		msgs := make([]tx.Msg, len(w.signers))
		for i, k := range w.signers {
			msgs[i] = contract.Encode(identity.RegisterMember{Org: org, PubKey: k.PubKey().Bytes(), Roles: roles})
		}
		return w.setup(ctx, admin, 64, msgs) // a transaction holds at most 64 messages
	}
	raws := make([][]byte, len(w.signers))
	parallel(len(w.signers), func(i int) {
		t := &tx.Tx{ChainID: w.chainID, Signer: w.signers[i].PubKey().Bytes(), Msgs: []tx.Msg{contract.Encode(identity.RegisterPatient{})}}
		if err := t.Sign(w.signers[i]); err != nil {
			panic(err)
		}
		raws[i] = t.Encode()
	})
	return w.submitAndWait(ctx, raws)
}

// The claims workload's policy: the size BenchmarkAdjudicate uses, and
// the same rules.
const (
	benchFeeCodes = 10_000
	benchPairs    = 100_000
	claimPatients = 64
	rowsPerLoad   = 500 // a policy load's rows, to keep a transaction under 64 KiB
)

var benchRules = []claims.Rule{
	{ID: "peds-only-99213", Action: claims.Deny, Reason: "6", Expr: `code == "99213" && age > 150`},
	{ID: "office-ecg", Action: claims.Deny, Reason: "58", Expr: `code == "93000" && place != "11"`},
	{ID: "mri-auth", Action: claims.RequireAuth, Expr: `code == "70553"`},
}

func feeCode(i int) string { return fmt.Sprintf("C%05d", i%benchFeeCodes) }

// prepareClaims registers the signers as the node's organization's claims
// agents, claimPatients patients covered by the payer's plan, and the
// payer's plan, policy and funds.
func (w *workload) prepareClaims(ctx context.Context, home string, admin ed25519.PrivKey) error {
	payerAdmin, err := node.KeysDir(home).Load(benchPayer.ID+"-admin", nil)
	if err != nil {
		return fmt.Errorf("the bench payer's admin key: %w", err)
	}
	if err := w.registerSigners(ctx, admin, "local", identity.ClaimsAgent); err != nil {
		return fmt.Errorf("registering claims agents: %w", err)
	}
	patients := make([]tx.Address, claimPatients)
	var raws [][]byte
	for i := range patients {
		k := ed25519.GenPrivKey()
		patients[i] = tx.AddressOf(k.PubKey().Bytes())
		t := &tx.Tx{ChainID: w.chainID, Signer: k.PubKey().Bytes(), Msgs: []tx.Msg{contract.Encode(identity.RegisterPatient{})}}
		if err := t.Sign(k); err != nil {
			return err
		}
		raws = append(raws, t.Encode())
	}
	if err := w.submitAndWait(ctx, raws); err != nil {
		return fmt.Errorf("registering patients: %w", err)
	}
	payer := benchPayer.ID
	msgs := []tx.Msg{contract.Encode(claims.RegisterPlan{Payer: payer, Plan: "gold", Deductible: 50_000, Coinsurance: 2_000, Copay: 2_500, OOPMax: 200_000, YearStart: 101})}
	for start := 0; start < benchFeeCodes; start += rowsPerLoad {
		load := claims.PolicyLoad{Payer: payer, Version: 1}
		for i := start; i < start+rowsPerLoad; i++ {
			load.Fees = append(load.Fees, claims.Fee{Code: feeCode(i), Allowed: uint64(1_000 + i)})
		}
		msgs = append(msgs, contract.Encode(load))
	}
	for start := 0; start < benchPairs; start += rowsPerLoad {
		load := claims.PolicyLoad{Payer: payer, Version: 1}
		for i := start; i < start+rowsPerLoad; i++ {
			load.Pairs = append(load.Pairs, claims.CodePair{Column1: feeCode(i), Column2: feeCode(i*7 + 1), Modifier: uint8(i % 2)})
		}
		msgs = append(msgs, contract.Encode(load))
	}
	msgs = append(msgs,
		contract.Encode(claims.PolicyLoad{Payer: payer, Version: 1, Rules: benchRules}),
		contract.Encode(claims.PolicyPublish{Payer: payer, Version: 1, Effective: 20000101}),
		contract.Encode(claims.Deposit{Payer: payer, Amount: 1_000_000_000_000}))
	for i, p := range patients {
		msgs = append(msgs, contract.Encode(claims.RegisterCoverage{Payer: payer, Coverage: fmt.Sprintf("cov-%02d", i), Plan: "gold", Patient: p, Start: 20000101}))
	}
	if err := w.setup(ctx, payerAdmin, 1, msgs); err != nil {
		return fmt.Errorf("the payer's policy: %w", err)
	}
	w.msg = func(i, _ int) tx.Msg {
		p := i % claimPatients
		m := claims.Submit{
			Claim: sha256.Sum256(binary.BigEndian.AppendUint64([]byte("bench-claim"), uint64(i))), Use: claims.UseClaim,
			Patient: patients[p], Provider: "local", Payer: payer, Coverage: fmt.Sprintf("cov-%02d", p),
			Age: 40, Place: "11", Diagnoses: []string{"E11.9"},
		}
		date := uint32(20010101 + (i/28/12)%25*10000 + (i/28%12)*100 + i%28)
		for j := range 5 {
			m.Lines = append(m.Lines, claims.Line{Code: feeCode(i*5 + j), Units: 1, Charge: 20_000, Date: date, Pointers: []uint64{1}})
		}
		return contract.Encode(m)
	}
	return nil
}

// prepareBookings registers the signers as patients and publishes the
// node's organization's schedule; each phase's makeTxs opens the slots its
// bookings race for.
func (w *workload) prepareBookings(ctx context.Context, admin ed25519.PrivKey) error {
	if err := w.registerSigners(ctx, admin, ""); err != nil {
		return err
	}
	const sched = "bench"
	if err := w.setup(ctx, admin, 1, []tx.Msg{contract.Encode(schedule.Publish{Provider: "local", Schedule: sched, Category: "primary-care", CancelBefore: 3600})}); err != nil {
		return err
	}
	// Slots a minute apart from a day after the node's clock now: in the
	// future of every block of the run.
	origin := time.Now().Add(24*time.Hour).Unix() / 60 * 60
	slotStart := func(slot int) int64 { return origin + int64(slot)*60 }
	opened := 0
	var mu sync.Mutex
	wins := map[int]int{} // slot → bookings applied
	var doubles atomic.Int64
	w.msg = func(i, s int) tx.Msg {
		return contract.Encode(schedule.Book{Patient: tx.AddressOf(w.signers[s].PubKey().Bytes()), SlotRef: schedule.SlotRef{Provider: "local", Schedule: sched, Start: slotStart(i / RacersPerSlot)}})
	}
	var unexpected atomic.Int64
	w.observe = func(m txMeta, code tx.Code) {
		if code == tx.CodeAlreadyExists {
			return // a racer that lost its slot
		}
		if code != tx.CodeOK {
			unexpected.Add(1)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		slot := m.item / RacersPerSlot
		if wins[slot]++; wins[slot] > 1 {
			doubles.Add(1)
		}
		w.booked.Add(1)
	}
	w.check = func() error {
		if d := doubles.Load(); d > 0 {
			return fmt.Errorf("%d slots booked twice", d)
		}
		if u := unexpected.Load(); u > 0 {
			return fmt.Errorf("%d bookings refused for another reason than a taken slot", u)
		}
		return nil
	}
	w.openSlots = func(ctx context.Context, upTo int) error {
		var msgs []tx.Msg
		for ; opened < upTo; opened += schedule.MaxSlots {
			open := schedule.OpenSlots{Provider: "local", Schedule: sched}
			for s := opened; s < opened+schedule.MaxSlots; s++ {
				open.Slots = append(open.Slots, schedule.SlotSpec{Start: slotStart(s), Minutes: 1})
			}
			msgs = append(msgs, contract.Encode(open))
		}
		return w.setup(ctx, admin, 16, msgs)
	}
	return nil
}
