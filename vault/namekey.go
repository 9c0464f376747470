package vault

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// The name key is the vault's key for keyed hashes (HMAC-SHA-256) of
// identifying values: names by which records are known outside the
// custodian (on the chain, in the audit log) and the tokens of a blind
// search index. A value's keyed hash tells nothing about the value to one
// who lacks the key, however guessable the value (a medical record number),
// and the custodian, which holds the key, computes it again to find the
// value's entries. It is 32 random bytes wrapped by the KeyWrapper, made
// when the vault first opens without one, at key "n".
const (
	tagNameKey = 'n'
	aadNameKey = "careledger/vault/v1/name-key"
)

// loadNameKey unwraps the name key, or makes and stores one.
func (v *Vault) loadNameKey() error {
	val, err := v.db.Get([]byte{tagNameKey}, nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		if err := v.checkNoRecords(); err != nil {
			return err
		}
		key := make([]byte, keySize)
		if _, err := rand.Read(key); err != nil {
			return err
		}
		w, err := v.kw.Wrap(key, []byte(aadNameKey))
		if err != nil {
			return fmt.Errorf("wrap name key: %w", err)
		}
		if err := v.db.Put([]byte{tagNameKey}, append([]byte{formatV1}, w...), syncWrite); err != nil {
			return err
		}
		v.nameKey = key
		return nil
	}
	if err != nil {
		return err
	}
	if len(val) < 2 || val[0] != formatV1 {
		return fmt.Errorf("name key value: %w", ErrCorrupt)
	}
	key, err := v.kw.Unwrap(val[1:], []byte(aadNameKey))
	if err != nil {
		return fmt.Errorf("unwrap name key: %w", err)
	}
	if len(key) != keySize {
		return fmt.Errorf("name key is %d bytes: %w", len(key), ErrCorrupt)
	}
	v.nameKey = key
	return nil
}

// ErrOldFormat: the vault holds records but no name key. It was made
// before records were named by keyed hashes (a pre-release format, which
// named them by their FHIR ids), and cannot be read as if it had been.
var ErrOldFormat = errors.New("the vault was made by an earlier pre-release version that named records by their FHIR ids; " +
	"start from a new home and load the records again")

// checkNoRecords returns ErrOldFormat if the vault holds a record (or a
// record's tombstone): a vault that lacks a name key must be new, since
// records written before it existed were named under a different rule.
func (v *Vault) checkNoRecords() error {
	it := v.db.NewIterator(util.BytesPrefix([]byte{tagLocator}), nil)
	found := it.First()
	it.Release()
	if err := it.Error(); err != nil {
		return err
	}
	if found {
		return ErrOldFormat
	}
	return nil
}

// KeyedHash returns HMAC-SHA-256 under the vault's name key of domain, a
// 0 byte and value. domain names what is hashed ("record", "search/name"),
// so that equal values of different kinds give unrelated hashes.
func (v *Vault) KeyedHash(domain string, value []byte) [32]byte {
	m := hmac.New(sha256.New, v.nameKey)
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write(value)
	var h [32]byte
	m.Sum(h[:0])
	return h
}
