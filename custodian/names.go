package custodian

import (
	"encoding/hex"

	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/vault"
)

// RecordTagSystem is the meta.tag system of a record's ref: every version
// the custodian stores carries its ref there, so that whoever may read the
// record learns the name the chain knows it by (to erase it, or to grant
// access to it alone).
const RecordTagSystem = "urn:careledger:record"

// Ref returns the name of the record typ/id outside the custodian: on the
// chain (anchor leaves, access items, grants' scopes, erasures), in the
// audit log, and in the vault and the store of proofs, which are keyed by
// it. It is HMAC-SHA-256 under the vault's name key of "typ/id", in 64
// lowercase hex digits, a FHIR id: a client chooses ids (a medical record
// number, which HIPAA counts as an identifier), and only the custodian,
// which holds the key, can tell which record a ref names or test a guess.
func (c *Custodian) Ref(typ, id string) string {
	h := c.opts.Vault.KeyedHash("record", []byte(typ+"/"+id))
	return hex.EncodeToString(h[:])
}

// ResolveRef returns the FHIR id of the record typ/ref that this custodian
// holds about patient (a pseudonym), read from its content, and whether it
// found one. An erased record, one held elsewhere, and one of another
// patient are not found: their ref is all there is to show.
func (c *Custodian) ResolveRef(typ, ref, patient string) (string, bool) {
	hist, err := c.opts.Vault.History(typ, ref)
	if err != nil || hist[0].Patient != patient {
		return "", false
	}
	for _, h := range hist { // a deleted version has no content
		if h.Deleted {
			continue
		}
		if r, err := fhir.Parse(h.Content); err == nil && r.Type() == typ {
			return r.ID(), true
		}
		return "", false
	}
	return "", false
}

// latest returns the latest version of the record typ/id, named by its ref.
func (c *Custodian) latest(typ, id string) (vault.Record, error) {
	return c.opts.Vault.Latest(typ, c.Ref(typ, id))
}
