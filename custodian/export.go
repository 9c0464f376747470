package custodian

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/tx"
)

// ExportScope is what a bulk export ($export) covers.
type ExportScope struct {
	// Patients are the pseudonyms to export; nil exports every patient
	// whose records are held here.
	Patients []string
	// Types limits the export to these resource types; nil exports all.
	Types []string
	// Since, if not zero, exports only records last updated after it.
	Since time.Time
	// Filters are, by type, searches of which a resource of that type
	// must match at least one (_typeFilter).
	Filters map[string][]*fhir.Query
	// Directory adds the resources about no patient (Organization,
	// Practitioner, ...), which need no decision: a system-level export.
	Directory bool
}

// ExportStats count what an export decided and released. They name no
// patient.
type ExportStats struct {
	Patients  int // patients with records in scope, each decided
	LeftOut   int // of them, patients every decision denied: nothing released
	Partial   int // of them, patients of whom some types were denied
	Resources int // resources released
	Accesses  int // consent.access messages committed
	Txs       int // transactions that carried them
}

// exportAccess is one consent.access of an export: one patient's items.
type exportAccess struct {
	patient int // index into the plan's patients
	msg     consent.Access
}

// exportBatch is one transaction of accesses and, once committed, their
// decisions (one slice per access, in order).
type exportBatch struct {
	accesses  []exportAccess
	decisions [][]consent.Decision
	err       error
	done      chan struct{}
}

// ExportProgress is told, after each batch, how many of the patients to
// decide have been released.
type ExportProgress func(done, total int)

// Export releases scope's records to who in bulk. Each patient's release
// is decided by the consent contract, one access per patient covering the
// types in scope the patient has records of, many accesses per
// transaction; a patient's records are read and handed to emit (type and
// canonical JSON) only after the transaction holding their decision
// commits. Patients come in pseudonym order, their records in type and id
// order. Only members of an organization export: a patient reads their own
// records with Patient/$everything.
func (c *Custodian) Export(ctx context.Context, who Requester, scope ExportScope, emit func(typ string, content []byte) error, progress ExportProgress) (ExportStats, error) {
	var st ExportStats
	if who.Account.Kind != identity.Member {
		return st, forbidden("bulk export is for members of an organization")
	}
	if scope.Directory {
		if err := c.exportDirectory(scope, emit, &st); err != nil {
			return st, err
		}
	}
	patients, batches, err := c.planExport(who, scope)
	if err != nil {
		return st, err
	}
	st.Patients = len(patients)
	if progress != nil {
		progress(0, len(patients))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A few transactions (txInFlight) await their block at once, so that
	// one block carries hundreds of patients' decisions, while only their
	// decisions (never records) are held ahead of the release.
	slots := make(chan struct{}, txInFlight)
	go func() {
		for _, b := range batches {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go c.decideBatch(ctx, b)
		}
	}()
	done := 0
	for _, b := range batches {
		select {
		case <-b.done:
		case <-ctx.Done():
			return st, ctx.Err()
		}
		if b.err != nil {
			return st, b.err
		}
		st.Txs++
		st.Accesses += len(b.accesses)
		n, err := c.releaseBatch(patients, b, scope, emit, &st)
		if err != nil {
			return st, err
		}
		<-slots
		if done += n; progress != nil {
			progress(done, len(patients))
		}
	}
	return st, nil
}

// exportPatient is one patient to decide and what was decided so far.
type exportPatient struct {
	pseudonym        string
	permits, denials int
}

// planExport lists the patients in scope and the types each has records
// of (reading keys only), and groups their accesses into transactions.
func (c *Custodian) planExport(who Requester, scope ExportScope) ([]exportPatient, []*exportBatch, error) {
	pseudonyms := scope.Patients
	if pseudonyms == nil {
		var err error
		if pseudonyms, err = c.opts.Vault.Patients(); err != nil {
			return nil, nil, err
		}
	}
	var patients []exportPatient
	var units [][]exportAccess // each patient's accesses, which share a transaction
	for _, p := range pseudonyms {
		types, err := c.typesInScope(p, scope)
		if err != nil {
			return nil, nil, err
		}
		if len(types) == 0 {
			continue
		}
		addr, err := tx.ParseAddress(p)
		if err != nil {
			return nil, nil, fmt.Errorf("vault pseudonym: %w", err)
		}
		patients = append(patients, exportPatient{pseudonym: p})
		// A patient's accesses (more than one only past consent.MaxItems
		// types) go in one transaction: releaseBatch counts them there.
		var accesses []exportAccess
		for chunk := range slices.Chunk(types, consent.MaxItems) {
			// Never a break-the-glass: an emergency is one patient's.
			a := consent.Access{Requester: who.Account.Address, Patient: addr, Purpose: who.Purpose, Items: make([]consent.Item, len(chunk))}
			for i, t := range chunk {
				a.Items[i] = consent.Item{Type: t}
			}
			accesses = append(accesses, exportAccess{patient: len(patients) - 1, msg: a})
		}
		units = append(units, accesses)
	}
	var batches []*exportBatch
	for _, t := range packTxs(units, exportCost) {
		b := &exportBatch{done: make(chan struct{})}
		for _, u := range t {
			b.accesses = append(b.accesses, u...)
		}
		batches = append(batches, b)
	}
	return patients, batches, nil
}

// exportCost bounds one patient's accesses for packTxs.
func exportCost(as []exportAccess) (msgs, bytes int) {
	for _, a := range as {
		bytes += 64 + len(a.msg.Purpose) + 32*len(a.msg.Items) // a bound on its encoding
	}
	return len(as), bytes
}

// typesInScope returns the types of patient's records that scope covers.
func (c *Custodian) typesInScope(patient string, scope ExportScope) ([]string, error) {
	types, err := c.opts.Vault.Types(patient)
	if err != nil {
		return nil, err
	}
	if scope.Types != nil {
		types = slices.DeleteFunc(types, func(t string) bool { return !slices.Contains(scope.Types, t) })
	}
	return types, nil
}

// decideBatch commits b's accesses in one transaction and keeps their
// decisions.
func (c *Custodian) decideBatch(ctx context.Context, b *exportBatch) {
	defer close(b.done)
	msgs := make([]tx.Msg, len(b.accesses))
	for i, a := range b.accesses {
		msgs[i] = contract.Encode(a.msg)
	}
	res, err := c.send.Send(ctx, msgs...)
	if err != nil {
		b.err = fmt.Errorf("access refused: %w", nodeFault(err))
		return
	}
	b.decisions, b.err = decisionsByAccess(res.Events)
	if b.err == nil && len(b.decisions) != len(b.accesses) {
		b.err = fmt.Errorf("export: %d accesses decided of %d sent", len(b.decisions), len(b.accesses))
	}
}

// decisionsByAccess splits a transaction's decisions by the access they
// belong to, in order: each access's event precedes its decisions.
func decisionsByAccess(evs []contract.Event) ([][]consent.Decision, error) {
	var out [][]consent.Decision
	for _, e := range evs {
		if _, ok := consent.AccessOf(e); ok {
			out = append(out, nil)
			continue
		}
		if e.Type != consent.EventDecision {
			continue
		}
		_, d, ok := consent.DecisionOf(e)
		if !ok || len(out) == 0 {
			return nil, errors.New("decision event does not parse")
		}
		out[len(out)-1] = append(out[len(out)-1], d)
	}
	return out, nil
}

// releaseBatch emits what b's decisions permit and counts its patients;
// it returns how many patients it finished.
func (c *Custodian) releaseBatch(patients []exportPatient, b *exportBatch, scope ExportScope, emit func(string, []byte) error, st *ExportStats) (int, error) {
	finished := 0
	for i, a := range b.accesses {
		p := &patients[a.patient]
		for _, d := range b.decisions[i] {
			if !d.Permit {
				p.denials++
				continue
			}
			p.permits++
			n, err := c.releaseType(p.pseudonym, &d, scope, emit)
			if err != nil {
				return finished, err
			}
			st.Resources += n
		}
		// A patient's accesses are consecutive; the last one closes them.
		if i+1 == len(b.accesses) || b.accesses[i+1].patient != a.patient {
			finished++
			switch {
			case p.permits == 0:
				st.LeftOut++
			case p.denials > 0:
				st.Partial++
			}
		}
	}
	return finished, nil
}

// releaseType emits patient's records of the type d permits that scope
// selects. A record is parsed only when d permits part of the type or a
// filter must be matched; otherwise its stored canonical JSON goes as it is.
func (c *Custodian) releaseType(patient string, d *consent.Decision, scope ExportScope, emit func(string, []byte) error) (int, error) {
	recs, err := c.opts.Vault.List(patient, d.Item.Type)
	if err != nil {
		return 0, err
	}
	filters := scope.Filters[d.Item.Type]
	n := 0
	for _, rec := range recs {
		if !scope.Since.IsZero() && !rec.Updated.After(scope.Since) {
			continue
		}
		if d.Partial() || len(filters) > 0 {
			r, err := fhir.Parse(rec.Content)
			if err != nil {
				return n, fmt.Errorf("stored %s/%s does not parse: %w", rec.Type, rec.ID, err)
			}
			if !within(d, r, rec.ID) || len(filters) > 0 && !slices.ContainsFunc(filters, func(q *fhir.Query) bool { return q.Match(r) }) {
				continue
			}
		}
		if err := emit(rec.Type, rec.Content); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// exportDirectory emits the resources about no patient in scope.
func (c *Custodian) exportDirectory(scope ExportScope, emit func(string, []byte) error, st *ExportStats) error {
	types, err := c.typesInScope("", scope)
	if err != nil {
		return err
	}
	everything := &consent.Decision{Permit: true}
	for _, t := range types {
		everything.Item.Type = t
		n, err := c.releaseType("", everything, scope, emit)
		if err != nil {
			return err
		}
		st.Resources += n
	}
	return nil
}
