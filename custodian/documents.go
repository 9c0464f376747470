package custodian

import (
	"context"
	"errors"

	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/vault"
)

// Documents about no patient that a node keeps for a contract's commitment
// (a trial's ResearchStudy, whose SHA-256 the trials contract holds) are
// stored and read here without a member's write role or a consent
// decision: the caller has checked the signed transaction that commits to
// the document, and the document holds no health data.

// PutDocument stores r, of a type outside the patient compartment, as the
// latest version of its id, anchored like any record.
func (c *Custodian) PutDocument(ctx context.Context, r *fhir.Resource) (*fhir.Resource, error) {
	if fhir.InPatientCompartment(r.Type()) || r.Type() == "Patient" {
		return nil, fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: r.Type() + " is about a patient, not a document"})
	}
	p, err := c.prepare(r, nil)
	if err != nil {
		return nil, err
	}
	if p.patient != "" {
		return nil, fhir.NewError(fhir.ErrConflict, fhir.Issue{Diagnostics: r.Type() + "/" + r.ID() + " is a patient's record"})
	}
	return r, c.store(ctx, []*pending{p})
}

// Document returns the latest version of typ/id if it is stored here and
// about no patient, else nil.
func (c *Custodian) Document(typ, id string) (*fhir.Resource, error) {
	rec, err := c.latest(typ, id)
	if errors.Is(err, vault.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, vaultError(err, typ, id)
	}
	if rec.Deleted || rec.Patient != "" {
		return nil, nil
	}
	return fhir.Parse(rec.Content)
}
