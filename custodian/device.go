package custodian

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/fhir"
)

// LOINCSystem is the code system of the codes a device may write.
const LOINCSystem = "http://loinc.org"

// CreateReadings stores new Observations a monitoring device sent, as
// Create stores a clinician's, in one durable batch anchored together: the
// device must be authorized at this custodian, and each Observation be about
// its patient and carry a LOINC code that salt, the device's, commits to
// among its code commitments. Any refused reading refuses them all, and
// nothing is stored.
func (c *Custodian) CreateReadings(ctx context.Context, d *identity.MonitoringDevice, salt []byte, rs []*fhir.Resource) ([]*fhir.Resource, error) {
	if d == nil || d.Revoked {
		return nil, forbidden("this device is not authorized")
	}
	if d.Custodian != c.opts.Org {
		return nil, forbidden("this device writes to another custodian, not %s", c.opts.Org)
	}
	if len(rs) == 0 {
		return rs, nil // an empty Bundle stores and anchors nothing
	}
	ps := make([]*pending, len(rs))
	patient := map[string]string{} // the Patient ids checked, to d.Patient's pseudonym
	for i, r := range rs {
		if err := c.checkReading(d, salt, r, patient); err != nil {
			return nil, err
		}
		if err := r.SetID(newID()); err != nil {
			return nil, err
		}
		p, err := c.prepare(r, patient)
		if err != nil {
			return nil, err
		}
		ps[i] = p
	}
	return rs, c.store(ctx, ps)
}

// checkReading refuses a resource a device may not write: not an
// Observation, without an allowed LOINC code, or about anyone but the
// device's patient (a subject not held here included, so that a device
// learns nothing of which patients are).
func (c *Custodian) checkReading(d *identity.MonitoringDevice, salt []byte, r *fhir.Resource, checked map[string]string) error {
	if r.Type() != "Observation" {
		return forbidden("a device writes only Observations")
	}
	if !slices.ContainsFunc(loincCodes(r), func(code string) bool { return d.Allows(salt, code) }) {
		return forbidden("this device may not write Observations of this code")
	}
	pid, ok := fhir.PatientOf(r)
	if !ok {
		return forbidden("a device's Observation must name its patient as subject")
	}
	if _, ok := checked[pid]; ok {
		return nil
	}
	p, err := c.PseudonymOf(pid)
	if fe := (*fhir.Error)(nil); err != nil && !errors.As(err, &fe) {
		return err // the vault's fault, not the device's
	}
	if err != nil || p != d.Patient.String() {
		return forbidden("a device writes only about its own patient")
	}
	checked[pid] = p
	return nil
}

// loincCodes returns the LOINC codes of an Observation's code.
func loincCodes(r *fhir.Resource) []string {
	var o struct {
		Code struct {
			Coding []struct{ System, Code string }
		}
	}
	if json.Unmarshal(r.Canonical(), &o) != nil {
		return nil
	}
	var codes []string
	for _, c := range o.Code.Coding {
		if c.System == LOINCSystem {
			codes = append(codes, c.Code)
		}
	}
	return codes
}
