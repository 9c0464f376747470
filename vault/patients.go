package vault

import (
	"bytes"
	"fmt"

	"github.com/syndtr/goleveldb/leveldb/util"
)

// Patients returns the pseudonyms of the patients whose records the vault
// holds and who were not erased, in order. It reads keys only: a bulk
// export enumerates its population without decrypting anything.
func (v *Vault) Patients() ([]string, error) {
	v.rmu.RLock()
	defer v.rmu.RUnlock()
	var out []string
	it := v.db.NewIterator(util.BytesPrefix([]byte{tagPatientKey}), nil)
	defer it.Release()
	for it.Next() {
		p := string(it.Key()[1:])
		if p == "" { // the directory key: resources about no patient
			continue
		}
		if err := checkPatient(p); err != nil {
			return nil, fmt.Errorf("patients: a patient key's name: %w", ErrCorrupt)
		}
		if w, err := decodePatientKey(it.Value()); err != nil {
			return nil, fmt.Errorf("patients: %v: %w", err, ErrCorrupt)
		} else if w == nil {
			continue // erased
		}
		out = append(out, p)
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("patients: %w", err)
	}
	return out, nil
}

// Types returns the resource types of which the vault holds records of
// patient ("" for the resources about no patient), in order, reading keys
// only. A type whose records were all deleted (FHIR delete) is still
// listed; List then finds none.
func (v *Vault) Types(patient string) ([]string, error) {
	if err := checkPatient(patient); err != nil {
		return nil, fmt.Errorf("types: %w", err)
	}
	v.rmu.RLock()
	defer v.rmu.RUnlock()
	prefix := recordsPrefix(patient, "")
	var out []string
	it := v.db.NewIterator(util.BytesPrefix(prefix), nil)
	defer it.Release()
	// One key per type: after TYPE's first record, seek past TYPE 0 to TYPE 1.
	for ok := it.First(); ok; {
		typ, _, found := bytes.Cut(it.Key()[len(prefix):], []byte{0})
		if !found || checkType(string(typ)) != nil {
			return nil, fmt.Errorf("types: a record key: %w", ErrCorrupt)
		}
		out = append(out, string(typ))
		ok = it.Seek(append(append(bytes.Clone(prefix), typ...), 1))
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("types: %w", err)
	}
	return out, nil
}
