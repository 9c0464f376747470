package vault

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/syndtr/goleveldb/leveldb/util"
)

// Each calls fn with every stored version of every record that is not
// erased, decrypting each: an offline check of the whole vault. It stops
// at fn's first error, or at the first record that does not decrypt
// (ErrCorrupt, naming the record).
func (v *Vault) Each(fn func(Record) error) error {
	v.rmu.RLock()
	var refs [][2]string
	it := v.db.NewIterator(util.BytesPrefix([]byte{tagLocator}), nil)
	for it.Next() {
		typ, id, ok := bytes.Cut(it.Key()[1:], []byte{0})
		if !ok {
			it.Release()
			v.rmu.RUnlock()
			return fmt.Errorf("vault locator %q: %w", it.Key(), ErrCorrupt)
		}
		refs = append(refs, [2]string{string(typ), string(id)})
	}
	it.Release()
	v.rmu.RUnlock()
	if err := it.Error(); err != nil {
		return fmt.Errorf("read vault: %w", err)
	}
	for _, ref := range refs {
		hist, err := v.History(ref[0], ref[1])
		if errors.Is(err, ErrErased) {
			continue
		}
		if err != nil {
			return err
		}
		for _, rec := range hist {
			if err := fn(rec); err != nil {
				return err
			}
		}
	}
	return nil
}
