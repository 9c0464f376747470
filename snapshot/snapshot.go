// Package snapshot keeps the snapshots of the application's state that a
// node offers to nodes joining by state sync, and defines the encoding of
// their chunks.
//
// A snapshot holds the committed state at a height (every key and value)
// and the audit log's leaves up to that height. It is cut into chunks of
// about DefaultChunkSize bytes, each a sequence of records:
//
//	0x01 key value   a state entry; keys in strictly increasing order
//	0x02 leaf        an audit log leaf, in log order, after every entry
//
// where key, value and leaf are byte strings in the wire encoding (a
// uvarint length, then the bytes). The snapshot's metadata is the SHA-256
// of each chunk, in order, and its hash is the SHA-256 of the metadata, so
// that a joining node checks each chunk as it arrives. What proves the
// snapshot is the app hash: the restored state's root and the log rebuilt
// from the leaves must give the app hash of a header the light client
// verified.
//
// On disk, a snapshot is a directory named by its height holding its
// chunks and its metadata; it is written under a temporary name, synced
// and renamed, so a snapshot is listed only once complete.
//
// snapshot imports the wire package and the standard library.
package snapshot

import (
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/careledger/careledger/wire"
)

// Format is the version of the chunk encoding; a node refuses snapshots of
// any other.
const Format = 1

// Record kinds.
const (
	kindState = 1
	kindLeaf  = 2
)

// maxRecord bounds a key, value or leaf: CometBFT carries a chunk in one
// message of at most 16 MiB.
const maxRecord = 8 << 20

// Info describes a snapshot, as ABCI's ListSnapshots reports it.
type Info struct {
	Height   uint64
	Format   uint32
	Chunks   uint32
	Hash     []byte // SHA-256 of Metadata
	Metadata []byte // the SHA-256 of each chunk, in order
}

// ChunkHashes returns the chunk hashes that metadata lists, after checking
// that it lists chunks of them and that hash is its SHA-256.
func ChunkHashes(metadata, hash []byte, chunks uint32) ([][]byte, error) {
	if chunks == 0 || len(metadata) != int(chunks)*sha256.Size {
		return nil, fmt.Errorf("snapshot metadata of %d bytes for %d chunks", len(metadata), chunks)
	}
	if sum := sha256.Sum256(metadata); string(sum[:]) != string(hash) {
		return nil, errors.New("snapshot hash is not the hash of its metadata")
	}
	hs := make([][]byte, chunks)
	for i := range hs {
		hs[i] = metadata[i*sha256.Size : (i+1)*sha256.Size]
	}
	return hs, nil
}

// Sink receives a chunk's records.
type Sink interface {
	State(key, value []byte) error
	Leaf(leaf []byte) error
}

// Decode passes the records of chunk to sink, in order. The slices alias
// chunk.
func Decode(chunk []byte, sink Sink) error {
	r := wire.NewReader(chunk)
	for r.Len() > 0 {
		var err error
		switch kind := r.Uint(); kind {
		case kindState:
			key, value := r.Blob(maxRecord), r.Blob(maxRecord)
			if r.Err() == nil {
				err = sink.State(key, value)
			}
		case kindLeaf:
			if leaf := r.Blob(maxRecord); r.Err() == nil {
				err = sink.Leaf(leaf)
			}
		default:
			if r.Err() == nil {
				err = fmt.Errorf("snapshot chunk: unknown record kind %d", kind)
			}
		}
		if err != nil {
			return err
		}
		if err := r.Err(); err != nil {
			return fmt.Errorf("snapshot chunk: %w", err)
		}
	}
	return nil
}
