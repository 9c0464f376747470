package vault_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/filter"
	"github.com/syndtr/goleveldb/leveldb/opt"

	"github.com/careledger/careledger/vault"
)

// The benchmarks compare the vault with plain goleveldb doing the same
// work without encryption, key hierarchy or listing index: a Put looks up
// each record's latest version (for the version check) and writes one
// synced batch of one entry per record; a Latest is a single Get. The
// ratio is the cost of the vault.

const (
	benchBatch      = 100  // records per Put, as in a bulk import
	benchContent    = 1024 // bytes of JSON per record
	benchPerPatient = 50   // consecutive records of one patient
	benchPreload    = 10_000
)

// benchContents returns benchBatch distinct resources of about 1 KB.
func benchContents() [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([][]byte, benchBatch)
	for j := range out {
		var b bytes.Buffer
		fmt.Fprintf(&b, `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"note":"`)
		for b.Len() < benchContent-2 {
			b.WriteByte('a' + byte(rng.IntN(26)))
		}
		b.WriteString(`"}`)
		out[j] = b.Bytes()
	}
	return out
}

// benchRecords returns the batch-th batch of new records.
func benchRecords(batch int, contents [][]byte) []vault.Record {
	recs := make([]vault.Record, benchBatch)
	for j := range recs {
		n := batch*benchBatch + j
		recs[j] = vault.Record{
			Patient: patient(n / benchPerPatient),
			Type:    "Observation",
			ID:      fmt.Sprintf("obs-%08d", n),
			Version: 1,
			Updated: epoch,
			Content: contents[j],
		}
	}
	return recs
}

func plainDB(b *testing.B) *leveldb.DB {
	b.Helper()
	// The vault's options.
	db, err := leveldb.OpenFile(filepath.Join(b.TempDir(), "plain.db"), &opt.Options{
		Filter:             filter.NewBloomFilter(10),
		Compression:        opt.NoCompression,
		BlockCacheCapacity: 64 << 20,
		WriteBuffer:        16 << 20,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// plainPut stores the batch as plain goleveldb would: it checks that each
// record is new, then writes type/id → version, salt and content in one
// synced batch.
func plainPut(db *leveldb.DB, recs []vault.Record) error {
	batch := new(leveldb.Batch)
	for i := range recs {
		r := &recs[i]
		k := []byte(r.Type + "/" + r.ID)
		if _, err := db.Get(k, nil); !errors.Is(err, leveldb.ErrNotFound) {
			return fmt.Errorf("%s is not new: %v", k, err)
		}
		v := binary.BigEndian.AppendUint32(nil, uint32(r.Version))
		v = append(v, r.Salt[:]...)
		batch.Put(k, append(v, r.Content...))
	}
	return db.Write(batch, &opt.WriteOptions{Sync: true})
}

func BenchmarkPut(b *testing.B) {
	contents := benchContents()
	b.Run("vault", func(b *testing.B) {
		v := newVault(b)
		b.SetBytes(benchBatch * benchContent)
		i := 0
		for b.Loop() {
			if err := v.Put(benchRecords(i, contents)...); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("plain-leveldb", func(b *testing.B) {
		db := plainDB(b)
		b.SetBytes(benchBatch * benchContent)
		i := 0
		for b.Loop() {
			if err := plainPut(db, benchRecords(i, contents)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

func BenchmarkLatest(b *testing.B) {
	contents := benchContents()
	const batches = benchPreload / benchBatch
	b.Run("vault", func(b *testing.B) {
		v := newVault(b)
		for i := range batches {
			if err := v.Put(benchRecords(i, contents)...); err != nil {
				b.Fatal(err)
			}
		}
		rng := rand.New(rand.NewPCG(3, 4))
		for b.Loop() {
			id := fmt.Sprintf("obs-%08d", rng.IntN(benchPreload))
			if _, err := v.Latest("Observation", id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("plain-leveldb", func(b *testing.B) {
		db := plainDB(b)
		for i := range batches {
			if err := plainPut(db, benchRecords(i, contents)); err != nil {
				b.Fatal(err)
			}
		}
		rng := rand.New(rand.NewPCG(3, 4))
		for b.Loop() {
			id := fmt.Sprintf("obs-%08d", rng.IntN(benchPreload))
			if _, err := db.Get([]byte("Observation/"+id), nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
