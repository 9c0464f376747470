package custodian

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"

	"github.com/careledger/careledger/contract/records"
	"github.com/careledger/careledger/wire"
)

// Proof shows that one record version is a leaf of an anchor on the chain:
// the anchor's root, the leaf's index among Count leaves, and the RFC 6962
// inclusion proof. With the record's salt and content (which the vault
// holds), anyone can recompute the leaf and check it against the root that
// the chain holds.
type Proof struct {
	Root  [32]byte
	Index uint64
	Count uint64
	Path  [][]byte
}

// Proofs keeps each stored version's Proof, in its own LevelDB beside the
// vault. Proofs are not secret: they hold hashes, no content and no salt.
type Proofs struct{ db *leveldb.DB }

// OpenProofs opens, or creates, the store of proofs at path, as the node
// does.
func OpenProofs(path string) (*Proofs, error) {
	return openProofs(path, nil)
}

// OpenProofsReadOnly opens the store of proofs at path for reading only,
// as an offline check does: nothing at path is written, and a store that
// does not exist is an error.
func OpenProofsReadOnly(path string) (*Proofs, error) {
	return openProofs(path, &opt.Options{ReadOnly: true, ErrorIfMissing: true})
}

func openProofs(path string, o *opt.Options) (*Proofs, error) {
	db, err := leveldb.OpenFile(path, o)
	if err != nil {
		return nil, fmt.Errorf("open anchor proofs: %w", err)
	}
	return &Proofs{db}, nil
}

func proofKey(typ, id string, version uint64) []byte {
	k := append([]byte(typ), 0)
	k = append(append(k, id...), 0)
	return binary.BigEndian.AppendUint64(k, version)
}

// save stores the proofs of every leaf of an anchor, in one synced batch.
func (p *Proofs) save(leaves []records.Leaf, root [32]byte) error {
	b := new(leveldb.Batch)
	paths, err := records.ProveAll(leaves)
	if err != nil {
		return err
	}
	for i, l := range leaves {
		path := paths[i]
		w := wire.NewWriter(48 + 32*len(path))
		w.Raw(root[:])
		w.Uint(uint64(i))
		w.Uint(uint64(len(leaves)))
		w.Uint(uint64(len(path)))
		for _, h := range path {
			w.Raw(h)
		}
		b.Put(proofKey(l.Type, l.ID, l.Version), w.Bytes())
	}
	return p.db.Write(b, &opt.WriteOptions{Sync: true})
}

// ErrNoProof reports a version of which no proof is kept.
var ErrNoProof = errors.New("no anchor proof")

// Close closes the store.
func (p *Proofs) Close() error { return p.db.Close() }

// Load returns the proof of one version.
func (p *Proofs) Load(typ, id string, version uint64) (*Proof, error) {
	b, err := p.db.Get(proofKey(typ, id, version), nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil, ErrNoProof
	}
	if err != nil {
		return nil, err
	}
	r := wire.NewReader(b)
	pr := &Proof{}
	copy(pr.Root[:], r.Raw(32))
	pr.Index, pr.Count = r.Uint(), r.Uint()
	pr.Path = make([][]byte, r.Count(64))
	for i := range pr.Path {
		pr.Path[i] = r.Raw(32)
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode anchor proof of %s/%s: %w", typ, id, err)
	}
	return pr, nil
}
