package vault

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// The blind index finds records by tokens: keyed hashes (KeyedHash) of
// the values a search compares, computed by the caller, so that the index
// holds no value, only 32-byte HMACs under the name key. Two kinds of
// entry:
//
//	s TOKEN(32) TYPE 0 ID        → empty: the record has the token
//	t PATIENT 0 TYPE 0 ID        → 1, TOKENS (n × 32 bytes): the record's tokens
//
// The per-record list is what erasure and Index use to delete a record's
// entries. It is not sealed: the s entries already show which records
// share a token, and a token, without the name key, tells nothing about its
// value. Erasing a record or a patient deletes their entries in the same
// batch as the keys and compacts the whole s range (its entries are spread
// over it by token) and the record's or patient's t range, so that no
// token of an erased record is left in the live files.
const (
	tagSearch     = 's'
	tagTokens     = 't'
	TokenSize     = 32
	maxRecordToks = 1 << 16
)

func searchKey(token [TokenSize]byte, typ, id string) []byte {
	return append(append([]byte{tagSearch}, token[:]...), join(typ, id)...)
}

func searchPrefix(token [TokenSize]byte, typ string) []byte {
	return append(append(append([]byte{tagSearch}, token[:]...), typ...), 0)
}

func tokensKey(p, typ, id string) []byte { return key(tagTokens, p, typ, id) }

func tokensPrefix(p string) []byte { return append(key(tagTokens, p), 0) }

func encodeTokens(tokens [][TokenSize]byte) []byte {
	b := make([]byte, 1, 1+len(tokens)*TokenSize)
	b[0] = formatV1
	for _, t := range tokens {
		b = append(b, t[:]...)
	}
	return b
}

func decodeTokens(v []byte) ([][TokenSize]byte, error) {
	if len(v) < 1 || v[0] != formatV1 || (len(v)-1)%TokenSize != 0 {
		return nil, errors.New("token list value is malformed")
	}
	out := make([][TokenSize]byte, (len(v)-1)/TokenSize)
	for i := range out {
		copy(out[i][:], v[1+i*TokenSize:])
	}
	return out, nil
}

// Index replaces the blind index tokens of a stored record (named as it
// was to Put) with tokens, which may be none. It fails with ErrNotFound
// for a record not stored and ErrErased for one erased: the index never
// holds tokens of a record that is not there.
func (v *Vault) Index(typ, id string, tokens [][TokenSize]byte) error {
	if err := checkRef(typ, id); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if len(tokens) > maxRecordToks {
		return fmt.Errorf("index %s/%s: %d tokens: %w", typ, id, len(tokens), ErrInvalid)
	}
	v.wmu.Lock()
	defer v.wmu.Unlock()
	patient, err := v.locate("index", typ, id)
	if err != nil {
		return err
	}
	batch := new(leveldb.Batch)
	if err := v.unindex(batch, tokensKey(patient, typ, id), typ, id); err != nil {
		return fmt.Errorf("index %s/%s: %w", typ, id, err)
	}
	tokens = slices.Clone(tokens)
	slices.SortFunc(tokens, func(a, b [TokenSize]byte) int { return bytes.Compare(a[:], b[:]) })
	tokens = slices.Compact(tokens)
	for _, t := range tokens {
		batch.Put(searchKey(t, typ, id), nil)
	}
	if len(tokens) > 0 {
		batch.Put(tokensKey(patient, typ, id), encodeTokens(tokens))
	}
	if err := v.db.Write(batch, syncWrite); err != nil {
		return fmt.Errorf("index %s/%s: %w", typ, id, err)
	}
	return nil
}

// unindex adds to batch the deletion of the entries the token list at
// listKey names, and of the list; a record's type and id come from the
// caller, or, with typ "", from listKey. The caller holds wmu.
func (v *Vault) unindex(batch *leveldb.Batch, listKey []byte, typ, id string) error {
	val, err := v.db.Get(listKey, nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	tokens, err := decodeTokens(val)
	if err != nil {
		return fmt.Errorf("%v: %w", err, ErrCorrupt)
	}
	for _, t := range tokens {
		batch.Delete(searchKey(t, typ, id))
	}
	batch.Delete(listKey)
	return nil
}

// unindexPatient adds to batch the deletion of every index entry of the
// patient's records. The caller holds wmu.
func (v *Vault) unindexPatient(batch *leveldb.Batch, patient string) error {
	it := v.db.NewIterator(util.BytesPrefix(tokensPrefix(patient)), nil)
	defer it.Release()
	for it.Next() {
		k := bytes.Clone(it.Key())
		rk := append([]byte{tagRecord}, k[1:]...)
		typ, id, err := decodeRecordKey(rk, patient)
		if err != nil {
			batch.Delete(k) // no record to name its entries; s is compacted whole
			continue
		}
		if err := v.unindex(batch, k, typ, id); err != nil {
			return err
		}
	}
	return it.Error()
}

// indexRanges are the ranges an erasure compacts for the index: all of s,
// and the patient's or the record's t entries.
func indexRanges(patient, typ, id string) []util.Range {
	t := *util.BytesPrefix(tokensPrefix(patient))
	if typ != "" {
		t = exactly(tokensKey(patient, typ, id))
	}
	return []util.Range{*util.BytesPrefix([]byte{tagSearch}), t}
}

// Lookup returns the ids of the records of typ that have token, in id
// order.
func (v *Vault) Lookup(typ string, token [TokenSize]byte) ([]string, error) {
	if err := checkType(typ); err != nil {
		return nil, fmt.Errorf("lookup: %w", err)
	}
	v.rmu.RLock()
	defer v.rmu.RUnlock()
	prefix := searchPrefix(token, typ)
	it := v.db.NewIterator(util.BytesPrefix(prefix), nil)
	defer it.Release()
	var ids []string
	for it.Next() {
		id := string(it.Key()[len(prefix):])
		if checkID(id) != nil {
			return nil, fmt.Errorf("lookup: an index key does not decode: %w", ErrCorrupt)
		}
		ids = append(ids, id)
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("lookup: %w", err)
	}
	return ids, nil
}
