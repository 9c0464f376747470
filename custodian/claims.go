package custodian

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/vault"
)

// ClaimBuilder returns the message that submits a Claim: patient is the
// account of the Patient it names, birth that Patient's birth date as
// YYYYMMDD (0 if it has none), commitment the stored body's. An error
// refuses the claim before anything is stored.
type ClaimBuilder func(patient tx.Address, birth uint32, commitment [32]byte) (tx.Msg, error)

// SubmitClaim stores a Claim like any record (encrypted, filed under its
// patient) and, in one transaction, anchors it and sends the message build
// returns, which carries the body's commitment (a claims/submit). A
// message the chain refuses leaves nothing: the stored body is erased (a
// transaction that only timed out keeps it, as it may yet commit). Only
// a claims agent of the custodian's organization submits its claims.
func (c *Custodian) SubmitClaim(ctx context.Context, who *identity.Account, r *fhir.Resource, build ClaimBuilder) (*fhir.Resource, *app.TxResult, error) {
	if err := c.MaySubmitClaims(who); err != nil {
		return nil, nil, err
	}
	if err := r.SetID(newID()); err != nil {
		return nil, nil, err
	}
	p, err := c.prepare(r, nil)
	if err != nil {
		return nil, nil, err
	}
	patient, err := tx.ParseAddress(p.patient)
	if err != nil {
		return nil, nil, fhir.NewError(fhir.ErrUnprocessable, fhir.Issue{Diagnostics: "claim-patient-account: the claim's Patient is not linked to a patient account (identifier " + PatientSystem + ")"})
	}
	birth, err := c.birthDate(r)
	if err != nil {
		return nil, nil, err
	}
	salt, err := vault.NewSalt()
	if err != nil {
		return nil, nil, err
	}
	now := c.opts.Now().UTC()
	ref := c.Ref(r.Type(), r.ID())
	r.SetMeta(1, now)
	r.SetTag(RecordTagSystem, ref)
	rec := vault.Record{Patient: p.patient, Type: r.Type(), ID: ref, Version: 1, Updated: now, Salt: salt, Content: r.Canonical()}
	msg, err := build(patient, birth, vault.Commitment(salt, rec.Content))
	if err != nil {
		return nil, nil, err
	}
	if err := c.opts.Vault.Put(rec); err != nil {
		return nil, nil, vaultError(err, r.Type(), r.ID())
	}
	c.indexRecords([]vault.Record{rec})
	anchors, err := c.anchors([]vault.Record{rec})
	if err != nil {
		return nil, nil, err
	}
	res, err := c.send.Send(ctx, append(anchors, msg)...)
	if err != nil {
		// Only a transaction the chain refused leaves nothing to keep: one
		// that timed out may still commit, and its claim needs its body.
		if _, refused := tx.CodeOf(err); refused {
			if eraseErr := c.opts.Vault.EraseRecord(r.Type(), ref); eraseErr != nil {
				c.opts.Log.Error("erase refused claim", "err", eraseErr)
			}
		}
		return nil, nil, fmt.Errorf("claim refused: %w", nodeFault(err))
	}
	return r, res, nil
}

// MaySubmitClaims refuses anyone but a claims agent of the custodian's
// organization.
func (c *Custodian) MaySubmitClaims(who *identity.Account) error {
	if who.Kind != identity.Member || who.Org != c.opts.Org || !who.HasRole(identity.ClaimsAgent) {
		return forbidden("only claims agents of %s submit its claims", c.opts.Org)
	}
	return nil
}

// birthDate returns the birth date of the Patient a claim names, as
// YYYYMMDD, 0 if it has none: the claim's message carries the patient's
// age, not the date. A partial date ("1970", "1970-05") counts from its
// first day.
func (c *Custodian) birthDate(r *fhir.Resource) (uint32, error) {
	pid, _ := fhir.PatientOf(r)
	rec, err := c.latest("Patient", pid)
	if err != nil {
		return 0, vaultError(err, "Patient", pid)
	}
	var p struct{ BirthDate string }
	if json.Unmarshal(rec.Content, &p) != nil {
		return 0, nil
	}
	return partialDate(p.BirthDate), nil
}

// partialDate reads a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD) as
// YYYYMMDD, a missing month or day as 01; 0 if it is none of those.
func partialDate(s string) uint32 {
	if len(s) != 4 && len(s) != 7 && len(s) != 10 {
		return 0
	}
	s += "-01-01"[len(s)-4:]
	var y, m, d uint32
	if n, err := fmt.Sscanf(s, "%4d-%2d-%2d", &y, &m, &d); err != nil || n != 3 || m < 1 || m > 12 || d < 1 || d > 31 {
		return 0
	}
	return y*10000 + m*100 + d
}

// ConditionCode returns the code (the first coding's) of the Condition id
// held here about patient (an account), for the claim that names it as a
// diagnosis: the node's organization reading its own record to bill for
// it, which the claim's submission on the chain records. A Condition of
// another patient is not found.
func (c *Custodian) ConditionCode(id string, patient tx.Address) (string, error) {
	rec, err := c.latest("Condition", id)
	if err == nil && (rec.Patient != patient.String() || rec.Deleted) {
		err = vault.ErrNotFound
	}
	if err != nil {
		return "", fhir.NewError(fhir.ErrUnresolved, fhir.Issue{Diagnostics: "claim-diagnosis: the Condition is not held here about the claim's patient"})
	}
	var cond struct {
		Code struct{ Coding []struct{ Code string } }
	}
	if json.Unmarshal(rec.Content, &cond) != nil || len(cond.Code.Coding) == 0 {
		return "", nil
	}
	return cond.Code.Coding[0].Code, nil
}

// ClaimCommitment returns the commitment of the Claim id as it was
// submitted (its first version), the ID of its decision on the chain.
func (c *Custodian) ClaimCommitment(id string) ([32]byte, error) {
	rec, err := c.opts.Vault.Version("Claim", c.Ref("Claim", id), 1)
	if err != nil {
		return [32]byte{}, vaultError(err, "Claim", id)
	}
	if rec.Deleted {
		return [32]byte{}, vaultError(vault.ErrNotFound, "Claim", id)
	}
	return vault.Commitment(rec.Salt, rec.Content), nil
}

// ReceiptClaimReads records on the chain that who read the decisions of
// ids, shown as view, for purpose (claims/read, several when there are
// more than claims.MaxReadClaims), and waits for each receipt to commit:
// as for a record, the receipt comes before the data. The contract
// decides again who may read a claim; its refusal is returned.
func (c *Custodian) ReceiptClaimReads(ctx context.Context, who *identity.Account, purpose, view string, ids [][32]byte) error {
	for len(ids) > 0 {
		n := min(len(ids), claims.MaxReadClaims)
		m := claims.Read{Reader: who.Address, Purpose: purpose, View: view, Claims: ids[:n]}
		if _, err := c.send.Send(ctx, contract.Encode(m)); err != nil {
			return fmt.Errorf("claim read refused: %w", nodeFault(err))
		}
		ids = ids[n:]
	}
	return nil
}
