package epcisapi

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/careledger/careledger/vault"
)

// entry is what this node keeps of an event it captured: the fields the
// query matches on and the body, sealed together on disk.
type entry struct {
	Seq         uint64    `json:"seq"`
	Hash        [32]byte  `json:"hash"`
	HashID      string    `json:"hash_id"`
	EventID     string    `json:"event_id,omitempty"`
	Capturer    string    `json:"capturer"`
	Parties     []string  `json:"parties,omitempty"`
	Type        string    `json:"type"`
	Action      string    `json:"action,omitempty"`
	BizStep     string    `json:"biz_step,omitempty"`
	Disposition string    `json:"disposition,omitempty"`
	ReadPoint   string    `json:"read_point,omitempty"`
	BizLocation string    `json:"biz_location,omitempty"`
	EventTime   time.Time `json:"event_time"`
	RecordTime  time.Time `json:"record_time"`
	EPCs        []string  `json:"epcs,omitempty"`     // epcList and childEPCs, as written
	AnyEPCs     []string  `json:"any_epcs,omitempty"` // parentID, inputs and outputs
	Lot         string    `json:"lot,omitempty"`
	Expiry      string    `json:"expiry,omitempty"`
	// Declares is set for an error declaration, which has the hash of the
	// event it declares erroneous.
	Declares bool            `json:"declares,omitempty"`
	Body     json.RawMessage `json:"body"`
}

// store keeps entries sealed in LevelDB: AES-256-GCM under a data key that
// the KeyWrapper (the vault's master key) wraps, so nothing of an event is
// on disk in plaintext. Keys are a tag and a sequence number, no content:
//
//	k            → the data key, wrapped ("careledger/epcis/v1/key")
//	e SEQ(8, BE) → nonce || sealed entry JSON ("careledger/epcis/v1/event" SEQ)
//
// Entries are written before their transaction is sent, so that a crash
// after the commit loses no body; the index takes in only entries whose
// event the chain recorded for this organization.
type store struct {
	db   *leveldb.DB
	aead cipher.AEAD
	mu   sync.Mutex // orders sequence numbers
	next uint64
}

const (
	keyAAD   = "careledger/epcis/v1/key"
	eventAAD = "careledger/epcis/v1/event"
)

func openStore(dir string, kw vault.KeyWrapper) (*store, error) {
	db, err := leveldb.OpenFile(dir, &opt.Options{})
	if err != nil {
		return nil, fmt.Errorf("open epcis store: %w", err)
	}
	s := &store{db: db}
	if err := s.loadKey(kw); err != nil {
		db.Close()
		return nil, err
	}
	it := db.NewIterator(util.BytesPrefix([]byte("e")), nil)
	if it.Last() {
		s.next = binary.BigEndian.Uint64(it.Key()[1:]) + 1
	}
	it.Release()
	return s, nil
}

func (s *store) loadKey(kw vault.KeyWrapper) error {
	wrapped, err := s.db.Get([]byte("k"), nil)
	var key []byte
	switch {
	case errors.Is(err, leveldb.ErrNotFound):
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return err
		}
		if wrapped, err = kw.Wrap(key, []byte(keyAAD)); err != nil {
			return err
		}
		if err := s.db.Put([]byte("k"), wrapped, &opt.WriteOptions{Sync: true}); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if key, err = kw.Unwrap(wrapped, []byte(keyAAD)); err != nil {
			return fmt.Errorf("epcis store key: %w", err)
		}
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return err
	}
	s.aead, err = cipher.NewGCM(block)
	return err
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64([]byte("e"), seq) }

func seqAAD(seq uint64) []byte { return binary.BigEndian.AppendUint64([]byte(eventAAD), seq) }

// put seals and writes entries in one synced batch, giving each its
// sequence number.
func (s *store) put(es []*entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := new(leveldb.Batch)
	for i, e := range es {
		e.Seq = s.next + uint64(i)
		plain, err := json.Marshal(e)
		if err != nil {
			return err
		}
		nonce := make([]byte, s.aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return err
		}
		b.Put(seqKey(e.Seq), s.aead.Seal(nonce, nonce, plain, seqAAD(e.Seq)))
	}
	if err := s.db.Write(b, &opt.WriteOptions{Sync: true}); err != nil {
		return fmt.Errorf("write epcis events: %w", err)
	}
	s.next += uint64(len(es))
	return nil
}

// each calls fn with every entry in sequence order.
func (s *store) each(fn func(*entry) error) error {
	it := s.db.NewIterator(util.BytesPrefix([]byte("e")), nil)
	defer it.Release()
	for it.Next() {
		k, v := it.Key(), it.Value()
		if len(k) != 9 || len(v) < s.aead.NonceSize() {
			return errors.New("epcis store: a stored event is corrupt")
		}
		seq := binary.BigEndian.Uint64(k[1:])
		n := s.aead.NonceSize()
		plain, err := s.aead.Open(nil, v[:n], v[n:], seqAAD(seq))
		if err != nil {
			return fmt.Errorf("epcis store: event %d does not authenticate", seq)
		}
		e := new(entry)
		if err := json.Unmarshal(plain, e); err != nil {
			return fmt.Errorf("epcis store: event %d does not decode", seq)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return it.Error()
}

func (s *store) close() error { return s.db.Close() }
