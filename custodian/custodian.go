// Package custodian is a node's side of the health records its organization
// holds: it keeps FHIR resources in the encrypted vault, anchors every
// version on the chain, and before it releases anything it has the consent
// contract decide the read and waits until that decision, the receipt, is
// committed. It also carries out the erasures the chain orders.
//
// custodian imports the vault, the fhir package, the contracts (to build
// messages and read committed state), the app's result types and sender
// (which signs and submits its transactions); the HTTP layer (package
// fhirapi) calls it.
package custodian

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/records"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/sender"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/vault"
)

// PatientSystem is the identifier system by which a Patient resource names
// the patient's CareLedger account (its address), linking the records to
// the pseudonym the patient signs grants with.
const PatientSystem = "urn:careledger:patient"

// Options configure a Custodian.
type Options struct {
	Org   string // the organization this node holds records for
	Vault *vault.Vault
	// Validator checks resources against the FHIR R4 schema; nil checks
	// only what parsing does (a JSON object of a known type).
	Validator *fhir.Validator
	// Sender signs the node's transactions with its service key, a member
	// of Org with role service, and submits them. Required.
	Sender *sender.Sender
	// Now gives meta.lastUpdated (off the chain: the wall clock is right
	// here). Default time.Now.
	Now func() time.Time
	// Log receives erasure failures. Default slog.Default().
	Log *slog.Logger
	// ProofsDir is where each version's anchor proof is kept. Required.
	ProofsDir string
}

// Custodian stores, anchors and releases one organization's records.
type Custodian struct {
	opts   Options
	send   *sender.Sender
	proofs *Proofs
	erases chan erasure
	// writes serializes conditional writes from their match to their
	// vault write (see conditional.go).
	writes sync.Mutex
}

// New returns a custodian. Run must be running for erasures; Close closes
// its store of proofs.
func New(o Options) (*Custodian, error) {
	if o.Sender == nil {
		return nil, errors.New("custodian: a sender is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	ps, err := OpenProofs(o.ProofsDir)
	if err != nil {
		return nil, err
	}
	return &Custodian{opts: o, send: o.Sender, proofs: ps, erases: make(chan erasure, 1024)}, nil
}

// Close closes the custodian's store of proofs.
func (c *Custodian) Close() error { return c.proofs.Close() }

// Org returns the organization the custodian holds records for.
func (c *Custodian) Org() string { return c.opts.Org }

// Requester is who reads, and why.
type Requester struct {
	Account    *identity.Account
	Purpose    string // an HL7 PurposeOfUse code
	BreakGlass bool   // an emergency access without a grant (ETREAT)
	// GlassReason is BreakGlass's reason, one of consent.GlassReasons.
	GlassReason string
	// Limit, if set, is asked before each consent decision whether the
	// request may reach records of these types of patient at all (a
	// token's SMART scopes). Its error is returned and nothing is decided.
	Limit func(patient tx.Address, types []string) error
}

func forbidden(format string, args ...any) error {
	return fhir.NewError(fhir.ErrForbidden, fhir.Issue{Diagnostics: fmt.Sprintf(format, args...)})
}

// vaultError maps the vault's errors to FHIR's.
func vaultError(err error, typ, id string) error {
	switch {
	case errors.Is(err, vault.ErrNotFound):
		return fhir.NewError(fhir.ErrNotFound, fhir.Issue{Diagnostics: fmt.Sprintf("%s/%s is not known", typ, id)})
	case errors.Is(err, vault.ErrErased):
		return fhir.NewError(fhir.ErrGone, fhir.Issue{Diagnostics: fmt.Sprintf("%s/%s was erased", typ, id)})
	case errors.Is(err, vault.ErrVersionConflict):
		return fhir.NewError(fhir.ErrConflict, fhir.Issue{Diagnostics: fmt.Sprintf("%s/%s changed concurrently", typ, id)})
	}
	return err
}

// canWrite reports whether an account may add records here: a clinician,
// admin or service member of the custodian's own organization.
func (c *Custodian) canWrite(a *identity.Account) error {
	if a.Kind != identity.Member || a.Org != c.opts.Org ||
		!slices.ContainsFunc([]identity.Role{identity.Physician, identity.Nurse, identity.Admin, identity.Service}, a.HasRole) {
		return forbidden("only physicians, nurses and admins of %s write its records", c.opts.Org)
	}
	return nil
}

// pending is a resource about to be stored: its next version and patient.
type pending struct {
	res     *fhir.Resource
	patient string // pseudonym, "" for a resource about no patient
	version int
	deleted bool
}

// prepare checks r and decides its version and patient. batch maps the ids
// of Patient resources stored in the same call to their pseudonyms.
func (c *Custodian) prepare(r *fhir.Resource, batch map[string]string) (*pending, error) {
	if c.opts.Validator != nil {
		if err := c.opts.Validator.Validate(r); err != nil {
			return nil, err
		}
	}
	p := &pending{res: r, version: 1}
	latest, err := c.latest(r.Type(), r.ID())
	switch {
	case err == nil:
		p.version, p.patient = latest.Version+1, latest.Patient
		return p, nil
	case !errors.Is(err, vault.ErrNotFound):
		return nil, vaultError(err, r.Type(), r.ID())
	}
	if p.patient, err = c.pseudonymOf(r, batch); err != nil {
		return nil, err
	}
	return p, nil
}

// pseudonymOf returns the patient pseudonym a new resource is filed under.
func (c *Custodian) pseudonymOf(r *fhir.Resource, batch map[string]string) (string, error) {
	if r.Type() == "Patient" {
		if addr := accountOf(r); addr != "" {
			return addr, nil
		}
		var b [tx.AddressSize]byte
		rand.Read(b[:]) // a pseudonym not linked to an account (yet)
		return hex.EncodeToString(b[:]), nil
	}
	if !fhir.InPatientCompartment(r.Type()) {
		if fhir.AboutPatient(r.Type()) { // never shared, and not filed here
			return "", fhir.NewError(fhir.ErrUnprocessable, fhir.Issue{Diagnostics: r.Type() + " is about a patient and is not stored here"})
		}
		return "", nil
	}
	pid, ok := fhir.PatientOf(r)
	if !ok {
		return "", fhir.NewError(fhir.ErrUnprocessable, fhir.Issue{Diagnostics: r.Type() + " must name exactly one patient"})
	}
	if p, ok := batch[pid]; ok {
		return p, nil
	}
	rec, err := c.latest("Patient", pid)
	if err != nil {
		if errors.Is(err, vault.ErrNotFound) {
			return "", fhir.NewError(fhir.ErrUnresolved, fhir.Issue{Diagnostics: "the patient " + r.Type() + " refers to is not held here"})
		}
		return "", vaultError(err, "Patient", pid)
	}
	return rec.Patient, nil
}

// accountOf returns the address a Patient resource's PatientSystem
// identifier names, or "".
func accountOf(r *fhir.Resource) string {
	var p struct {
		Identifier []struct{ System, Value string }
	}
	if json.Unmarshal(r.Canonical(), &p) != nil {
		return ""
	}
	for _, id := range p.Identifier {
		if id.System == PatientSystem {
			if a, err := tx.ParseAddress(id.Value); err == nil {
				return a.String()
			}
		}
	}
	return ""
}

// store writes the pending versions to the vault in one durable batch, then
// anchors them, one anchor per patient (anchor), and waits until they
// commit.
func (c *Custodian) store(ctx context.Context, ps []*pending) error {
	recs, err := c.put(ps)
	if err != nil {
		return err
	}
	return c.anchor(ctx, recs)
}

// put writes the pending versions to the vault in one durable batch.
func (c *Custodian) put(ps []*pending) ([]vault.Record, error) {
	now := c.opts.Now().UTC()
	recs := make([]vault.Record, len(ps))
	for i, p := range ps {
		salt, err := vault.NewSalt()
		if err != nil {
			return nil, err
		}
		p.res.SetMeta(p.version, now)
		ref := c.Ref(p.res.Type(), p.res.ID())
		p.res.SetTag(RecordTagSystem, ref)
		recs[i] = vault.Record{Patient: p.patient, Type: p.res.Type(), ID: ref, Version: p.version, Updated: now, Deleted: p.deleted, Salt: salt}
		if !p.deleted {
			recs[i].Content = p.res.Canonical()
		}
	}
	if err := c.opts.Vault.Put(recs...); err != nil {
		return nil, vaultError(err, ps[0].res.Type(), ps[0].res.ID())
	}
	c.indexRecords(recs)
	return recs, nil
}

// anchor anchors stored versions, one anchor per patient, in as few
// transactions as hold them (sendAll), and waits until they commit.
func (c *Custodian) anchor(ctx context.Context, recs []vault.Record) error {
	msgs, err := c.anchors(recs)
	if err != nil {
		return err
	}
	// A crash between the vault's write and the anchors' commit, or one
	// of several anchor transactions refused, leaves versions stored but
	// not anchored; they are not served as anchored records would be, and
	// the write is reported failed.
	if _, err := c.sendAll(ctx, msgs); err != nil {
		return fmt.Errorf("anchor: %w", nodeFault(err))
	}
	return nil
}

// nodeFault returns err, a failure of one of the node's own transactions,
// as the client should hear of it. A rejection for what the request asked
// or for the node's load keeps its code, which the FHIR API reports by tx's
// table: an unknown purpose of use (invalid), a suspended requester, a full
// mempool (busy). A rejection of the envelope (the node's key, sequence,
// chain or encoding) is the node's fault, not the client's: it becomes an
// internal error, logged and answered 500, since a 401 or 409 would send
// the client looking for a fault of its own.
func nodeFault(err error) error {
	code, ok := tx.CodeOf(err)
	if err == nil || !ok {
		return err
	}
	switch code {
	case tx.CodeMalformed, tx.CodeOversized, tx.CodeWrongChain, tx.CodeBadSignature,
		tx.CodeSequenceReplayed, tx.CodeSequenceSkipped, tx.CodeUnknownMessage, tx.CodeUnknownSigner:
		return fmt.Errorf("node transaction refused: %s", err) // %s, not %w: no longer a rejection
	}
	return err
}

// anchors returns one Anchor message per patient of recs, in order of first
// appearance, and keeps each version's proof.
func (c *Custodian) anchors(recs []vault.Record) ([]tx.Msg, error) {
	var order []string
	leaves := map[string][]records.Leaf{}
	for _, r := range recs {
		if _, ok := leaves[r.Patient]; !ok {
			order = append(order, r.Patient)
		}
		leaves[r.Patient] = append(leaves[r.Patient], records.Leaf{
			Type: r.Type, ID: r.ID, Version: uint64(r.Version), Commitment: vault.Commitment(r.Salt, r.Content),
		})
	}
	msgs := make([]tx.Msg, len(order))
	for i, p := range order {
		root, err := records.Root(leaves[p])
		if err != nil {
			return nil, err
		}
		if err := c.proofs.save(leaves[p], root); err != nil {
			return nil, err
		}
		var addr tx.Address
		if p != "" {
			if addr, err = tx.ParseAddress(p); err != nil {
				return nil, fmt.Errorf("vault pseudonym: %w", err)
			}
		}
		msgs[i] = contract.Encode(records.Anchor{Custodian: c.opts.Org, Patient: addr, Root: root, Count: uint64(len(leaves[p]))})
	}
	return msgs, nil
}

// Create stores a new resource under a server-assigned id.
func (c *Custodian) Create(ctx context.Context, who *identity.Account, r *fhir.Resource) (*fhir.Resource, error) {
	if err := c.canWrite(who); err != nil {
		return nil, err
	}
	if err := r.SetID(newID()); err != nil {
		return nil, err
	}
	p, err := c.prepare(r, nil)
	if err != nil {
		return nil, err
	}
	return r, c.store(ctx, []*pending{p})
}

// Update stores a new version of typ/id, creating it if it does not exist.
func (c *Custodian) Update(ctx context.Context, who *identity.Account, r *fhir.Resource) (res *fhir.Resource, created bool, err error) {
	return c.UpdateIf(ctx, who, r, "")
}

// Delete records a deletion version of typ/id. The history stays; erasure
// is a different thing, ordered on the chain.
func (c *Custodian) Delete(ctx context.Context, who *identity.Account, typ, id string) error {
	return c.DeleteIf(ctx, who, typ, id, "")
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // a version 4 UUID, as FHIR servers commonly assign
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// decide has the consent contract decide items of patient's records for
// who, and waits for the decision to commit: the receipt comes before the
// data.
func (c *Custodian) decide(ctx context.Context, who Requester, patient string, items []consent.Item) ([]consent.Decision, error) {
	addr, err := tx.ParseAddress(patient)
	if err != nil {
		return nil, fmt.Errorf("vault pseudonym: %w", err)
	}
	if who.Limit != nil {
		types := make([]string, len(items))
		for i, it := range items {
			types[i] = it.Type
		}
		if err := who.Limit(addr, types); err != nil {
			return nil, err
		}
	}
	res, err := c.send.Send(ctx, contract.Encode(consent.Access{
		Requester: who.Account.Address, Patient: addr, Purpose: who.Purpose, BreakGlass: who.BreakGlass, GlassReason: who.GlassReason, Items: items,
	}))
	if err != nil {
		// A refused access is not a decision to deny: its code says why it
		// could not be decided.
		return nil, fmt.Errorf("access refused: %w", nodeFault(err))
	}
	_, ds, err := consent.ParseDecisions(res.Events)
	return ds, err
}

// Read returns the latest version of typ/id if the consent contract permits
// who to read it.
func (c *Custodian) Read(ctx context.Context, who Requester, typ, id string) (*fhir.Resource, error) {
	rec, err := c.latest(typ, id)
	if err != nil {
		return nil, vaultError(err, typ, id)
	}
	return c.release(ctx, who, rec, id)
}

// VRead returns one version of typ/id, under the same decision as Read.
func (c *Custodian) VRead(ctx context.Context, who Requester, typ, id string, version int) (*fhir.Resource, error) {
	rec, err := c.opts.Vault.Version(typ, c.Ref(typ, id), version)
	if err != nil {
		return nil, vaultError(err, typ, id)
	}
	return c.release(ctx, who, rec, id)
}

// release decides the read of rec, the record the client names id, and
// returns its content if permitted. rec.ID is the record's ref, which the
// decision names.
func (c *Custodian) release(ctx context.Context, who Requester, rec vault.Record, id string) (*fhir.Resource, error) {
	if rec.Deleted {
		return nil, fhir.NewError(fhir.ErrGone, fhir.Issue{Diagnostics: fmt.Sprintf("%s/%s is deleted", rec.Type, id)})
	}
	r, err := fhir.Parse(rec.Content)
	if err != nil {
		return nil, fmt.Errorf("stored %s/%s does not parse: %w", rec.Type, rec.ID, err)
	}
	if rec.Patient == "" {
		return r, nil // directory data (Organization, Practitioner, ...), not health data
	}
	ds, err := c.decide(ctx, who, rec.Patient, []consent.Item{{Type: rec.Type, ID: rec.ID, Categories: fhir.Categories(r)}})
	if err != nil {
		return nil, err
	}
	if !ds[0].Permit {
		return nil, forbidden("%s may not read %s/%s for %s (%s)", who.Account.Address, rec.Type, id, who.Purpose, ds[0].Basis)
	}
	return r, nil
}

// History returns every version of typ/id, newest first, if the consent
// contract permits who to read the record. The versions' ID is id.
func (c *Custodian) History(ctx context.Context, who Requester, typ, id string) ([]vault.Record, error) {
	ref := c.Ref(typ, id)
	hist, err := c.opts.Vault.History(typ, ref)
	if err != nil {
		return nil, vaultError(err, typ, id)
	}
	for i := range hist {
		hist[i].ID = id
	}
	if p := hist[0].Patient; p != "" {
		var cats []string
		for _, h := range hist {
			if !h.Deleted {
				if r, err := fhir.Parse(h.Content); err == nil {
					cats = fhir.Categories(r)
				}
				break
			}
		}
		ds, err := c.decide(ctx, who, p, []consent.Item{{Type: typ, ID: ref, Categories: cats}})
		if err != nil {
			return nil, err
		}
		if !ds[0].Permit {
			return nil, forbidden("%s may not read %s/%s for %s (%s)", who.Account.Address, typ, id, who.Purpose, ds[0].Basis)
		}
	}
	return hist, nil
}

// Search returns the resources q matches that who may see. A search of a
// type in the patient compartment must name the patient; it is decided as
// one access to that type, and returns nothing beyond what the decision
// permits (an empty result when denied, as when nothing matches). A search
// of Patient by name, birthdate or identifier goes through the blind index
// and is decided per matching patient (search.go).
func (c *Custodian) Search(ctx context.Context, who Requester, q *fhir.Query) ([]*fhir.Resource, error) {
	patient := ""
	if fhir.InPatientCompartment(q.Type) {
		pid := q.Patient()
		if pid == "" && fhir.Indexed(q.Type) {
			return c.searchIndexed(ctx, who, q)
		}
		if pid == "" {
			return nil, fhir.NewError(fhir.ErrUnsupported, fhir.Issue{Diagnostics: "a search of " + q.Type + " must name one patient (patient, subject or _id)"})
		}
		rec, err := c.latest("Patient", pid)
		if err != nil {
			if errors.Is(err, vault.ErrNotFound) || errors.Is(err, vault.ErrErased) {
				return nil, nil
			}
			return nil, err
		}
		patient = rec.Patient
	}
	recs, err := c.opts.Vault.List(patient, q.Type)
	if err != nil {
		return nil, err
	}
	var d *consent.Decision
	if patient != "" {
		ds, err := c.decide(ctx, who, patient, []consent.Item{{Type: q.Type}})
		if err != nil {
			return nil, err
		}
		if d = &ds[0]; !d.Permit {
			return nil, nil
		}
	}
	var out []*fhir.Resource
	for _, rec := range recs {
		r, err := fhir.Parse(rec.Content)
		if err != nil {
			return nil, fmt.Errorf("stored %s/%s does not parse: %w", rec.Type, rec.ID, err)
		}
		if q.Match(r) && (d == nil || within(d, r, rec.ID)) {
			out = append(out, r)
		}
	}
	return out, nil
}

// within reports whether a search decision that permits only some records
// (which it names by ref) covers r, whose ref is ref.
func within(d *consent.Decision, r *fhir.Resource, ref string) bool {
	if len(d.Records) > 0 && !slices.Contains(d.Records, r.Type()+"/"+ref) {
		return false
	}
	if len(d.Categories) > 0 && !slices.ContainsFunc(fhir.Categories(r), func(c string) bool { return slices.Contains(d.Categories, c) }) {
		return false
	}
	return true
}

// erasure is an erasure the chain ordered of this custodian's records.
type erasure struct {
	patient string
	record  string // "Type/ref" (see Ref), or "*" for all of the patient's records
}

var _ app.Listener = (*Custodian)(nil)

// BlockCommitted queues the block's erasures of this custodian's records;
// Run carries them out. It never blocks: the chain's tombstone already
// denies every read, so shredding may follow a moment later.
func (c *Custodian) BlockCommitted(b *app.Block) {
	for _, r := range b.Txs {
		c.Erasures(r.Events)
	}
}

// Erasures queues the erasures of this custodian's records among evs. The
// node also gives it, when it starts, every erasure the chain ever ordered
// of its records, so that one committed while the node was down, or queued
// when it crashed, is carried out; shredding again is harmless.
func (c *Custodian) Erasures(evs []contract.Event) {
	for _, e := range evs {
		er, ok := records.ErasureOf(e)
		if !ok || er.Custodian != c.opts.Org {
			continue
		}
		select {
		case c.erases <- erasure{patient: er.Patient.String(), record: er.Record}:
		default:
			c.opts.Log.Error("erasure queue full; restart the node to shred")
		}
	}
}

// Run shreds what the chain erased until ctx ends.
func (c *Custodian) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-c.erases:
			if err := c.shred(e); err != nil {
				c.opts.Log.Error("erase", "record", e.record, "err", err)
			}
		}
	}
}

func (c *Custodian) shred(e erasure) error {
	if e.record == "*" {
		err := c.opts.Vault.ErasePatient(e.patient)
		if errors.Is(err, vault.ErrNotFound) {
			return nil
		}
		return err
	}
	typ, ref, _ := strings.Cut(e.record, "/")
	// The contract cannot know whose record typ/ref is: a patient may erase
	// only their own.
	rec, err := c.opts.Vault.Latest(typ, ref)
	if err != nil {
		if errors.Is(err, vault.ErrNotFound) || errors.Is(err, vault.ErrErased) {
			return nil
		}
		return err
	}
	if rec.Patient != e.patient {
		return fmt.Errorf("erasure of %s names patient %s, who does not own it", e.record, e.patient)
	}
	return c.opts.Vault.EraseRecord(typ, ref)
}

// PseudonymOf returns the pseudonym the Patient resource id is filed under.
func (c *Custodian) PseudonymOf(id string) (string, error) {
	rec, err := c.latest("Patient", id)
	if err != nil {
		return "", vaultError(err, "Patient", id)
	}
	return rec.Patient, nil
}

// TrailOf returns the pseudonym whose audit trail the Patient resource id
// belongs to. Unlike PseudonymOf it answers for an erased patient too: the
// accounting of who read a record outlives its content.
func (c *Custodian) TrailOf(id string) (string, error) {
	p, err := c.opts.Vault.PatientOf("Patient", c.Ref("Patient", id))
	if err != nil {
		return "", vaultError(err, "Patient", id)
	}
	return p, nil
}

// Everything returns the records held here about patient (a pseudonym)
// that who may see, decided as one access covering every resource type the
// patient has records of.
func (c *Custodian) Everything(ctx context.Context, who Requester, patient string) ([]*fhir.Resource, error) {
	recs, err := c.opts.Vault.List(patient, "")
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	var items []consent.Item
	for _, rec := range recs {
		if len(items) == 0 || items[len(items)-1].Type != rec.Type { // List orders by type
			items = append(items, consent.Item{Type: rec.Type})
		}
	}
	ds, err := c.decide(ctx, who, patient, items)
	if err != nil {
		return nil, err
	}
	byType := map[string]*consent.Decision{}
	for i := range ds {
		byType[ds[i].Item.Type] = &ds[i]
	}
	var out []*fhir.Resource
	for _, rec := range recs {
		d := byType[rec.Type]
		if d == nil || !d.Permit {
			continue
		}
		r, err := fhir.Parse(rec.Content)
		if err != nil {
			return nil, fmt.Errorf("stored %s/%s does not parse: %w", rec.Type, rec.ID, err)
		}
		if within(d, r, rec.ID) {
			out = append(out, r)
		}
	}
	return out, nil
}

// Relay submits a transaction a client signed (a patient's grant carried in
// a FHIR Consent) and waits until it commits.
func (c *Custodian) Relay(ctx context.Context, raw []byte) (*app.TxResult, error) {
	return c.send.Relay(ctx, raw)
}

// AnchorProof returns one version of typ/id, if who may read it, with its
// salt and the proof that it is a leaf of an anchor on the chain. The
// version's ID is the record's ref, which its leaf holds.
func (c *Custodian) AnchorProof(ctx context.Context, who Requester, typ, id string, version int) (vault.Record, *Proof, error) {
	rec, err := c.opts.Vault.Version(typ, c.Ref(typ, id), version)
	if err != nil {
		return rec, nil, vaultError(err, typ, id)
	}
	if _, err := c.release(ctx, who, rec, id); err != nil {
		return rec, nil, err
	}
	p, err := c.proofs.Load(typ, rec.ID, uint64(version))
	if errors.Is(err, ErrNoProof) {
		err = fhir.NewError(fhir.ErrNotFound, fhir.Issue{Diagnostics: "no anchor proof is kept for this version"})
	}
	return rec, p, err
}
