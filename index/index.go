// Package index stores the results of committed transactions for lookups
// that the state does not serve: a transaction by hash, and the transactions
// of an account. It is written before the block's state commits (see
// app.Indexer), so it is never behind the state; a block replayed after a
// crash is indexed again with identical results. Nothing in it is needed for
// consensus, and its entries hold no health data: hashes, pseudonymous
// addresses, codes and events.
//
// index imports app, tx, contract and goleveldb.
package index

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/filter"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/tx"
)

// Index is the transaction index.
type Index struct {
	db *leveldb.DB
}

var _ app.Indexer = (*Index)(nil)

// Open opens or creates the index in dir.
func Open(dir string) (*Index, error) {
	// Submissions look up hashes that are not committed yet: a Bloom
	// filter answers those without reading a table.
	db, err := leveldb.OpenFile(filepath.Join(dir, "index.db"), &opt.Options{
		Filter: filter.NewBloomFilter(10), WriteBuffer: 32 << 20, CompactionTableSize: 8 << 20,
	})
	if err != nil {
		return nil, fmt.Errorf("open index: %w", err)
	}
	return &Index{db: db}, nil
}

// OpenReadOnly opens the index in dir for reading only, with every
// checksum checked (for a check of a stopped node's home).
func OpenReadOnly(dir string) (*Index, error) {
	db, err := leveldb.OpenFile(filepath.Join(dir, "index.db"), &opt.Options{
		Filter: filter.NewBloomFilter(10), ReadOnly: true, ErrorIfMissing: true, Strict: opt.StrictAll,
	})
	if err != nil {
		return nil, fmt.Errorf("open index: %w", err)
	}
	return &Index{db: db}, nil
}

// Close closes the index.
func (x *Index) Close() error { return x.db.Close() }

func txKey(h tx.Hash) []byte { return append([]byte("t/"), h[:]...) }

func accountPrefix(a tx.Address) []byte { return append([]byte("a/"), a[:]...) }

func accountKey(a tx.Address, height int64, i int) []byte {
	k := accountPrefix(a)
	k = binary.BigEndian.AppendUint64(k, uint64(height))
	return binary.BigEndian.AppendUint32(k, uint32(i))
}

// IndexBlock stores every transaction result of b, durably.
func (x *Index) IndexBlock(b *app.Block) error {
	// A result takes some hundreds of bytes; growing a batch of thousands
	// of records copies it many times.
	batch := leveldb.MakeBatch(512 * len(b.Txs))
	for i := range b.Txs {
		r := &b.Txs[i]
		v, err := json.Marshal(r)
		if err != nil {
			return err
		}
		batch.Put(txKey(r.Hash), v)
		for _, a := range r.Accounts() {
			batch.Put(accountKey(a, r.Height, r.Index), r.Hash[:])
		}
	}
	batch.Put([]byte("h"), binary.BigEndian.AppendUint64(nil, uint64(b.Height)))
	return x.db.Write(batch, &opt.WriteOptions{Sync: true})
}

// Tx returns the result of the committed transaction with hash h, or nil.
func (x *Index) Tx(h tx.Hash) (*app.TxResult, error) {
	v, err := x.db.Get(txKey(h), nil)
	if err == leveldb.ErrNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	r := new(app.TxResult)
	if err := json.Unmarshal(v, r); err != nil {
		return nil, fmt.Errorf("decode index entry %s: %w", h, err)
	}
	return r, nil
}

// AccountTxs returns up to limit results of transactions that concern
// account a, newest first, starting below height before (0 for the newest).
func (x *Index) AccountTxs(a tx.Address, before int64, limit int) ([]*app.TxResult, error) {
	rng := util.BytesPrefix(accountPrefix(a))
	if before > 0 {
		rng.Limit = accountKey(a, before, 0)
	}
	it := x.db.NewIterator(rng, nil)
	defer it.Release()
	var out []*app.TxResult
	for ok := it.Last(); ok && len(out) < limit; ok = it.Prev() {
		var h tx.Hash
		copy(h[:], it.Value())
		r, err := x.Tx(h)
		if err != nil {
			return nil, err
		}
		if r != nil {
			out = append(out, r)
		}
	}
	return out, it.Error()
}

// Height returns the last indexed block height.
func (x *Index) Height() (int64, error) {
	v, err := x.db.Get([]byte("h"), nil)
	if err == leveldb.ErrNotFound {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read index height: %w", err)
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("index height record is corrupt: %d bytes", len(v))
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}
