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

	"github.com/careledger/careledger/contract/supply"
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
	Parties     []string  `json:"parties,omitempty"`    // as resolved at capture
	PartyGLNs   []string  `json:"party_glns,omitempty"` // the owning parties' GLNs
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
	mu   sync.Mutex // hands out sequence numbers
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

// each calls fn with every entry in sequence order.
func (s *store) each(fn func(*entry) error) error {
	it := s.db.NewIterator(util.BytesPrefix([]byte("e")), nil)
	defer it.Release()
	for it.Next() {
		k := it.Key()
		if len(k) != 9 {
			return errors.New("epcis store: a stored event is corrupt")
		}
		seq := binary.BigEndian.Uint64(k[1:])
		e := new(entry)
		if err := s.open(it.Value(), seqAAD(seq), e); err != nil {
			return fmt.Errorf("epcis store: event %d %v", seq, err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return it.Error()
}

func (s *store) close() error { return s.db.Close() }

// Capture jobs are kept beside the events, sealed the same way, so that a
// restarted node still answers GET /epcis/capture/{id}:
//
//	j NUM(8, BE) → nonce || sealed storedJob JSON ("careledger/epcis/v1/job" NUM)
//
// NUM orders jobs by creation; the oldest beyond maxJobs are deleted.
const jobAAD = "careledger/epcis/v1/job"

// storedJob is a job and, while it runs, what it needs to be finished
// after a restart: its chain message and its entries' sequence numbers.
type storedJob struct {
	Job job `json:"job"`
	// Record is the body of the job's supply/record message, in its wire
	// encoding (as JSON, its hashes would cost more than the rest).
	Record   []byte `json:"record,omitempty"`
	FirstSeq uint64 `json:"first_seq,omitempty"`
}

// recordOf decodes a stored job's message.
func (sj *storedJob) recordOf() (supply.Record, error) {
	m, err := recordSpec.Decode(supply.TypeRecord, sj.Record)
	if err != nil {
		return supply.Record{}, err
	}
	return m.(supply.Record), nil
}

// recordSpec decodes supply/record bodies (no cold-chain rule runs).
var recordSpec = supply.New(nil).Describe()

func jobKey(num uint64) []byte { return binary.BigEndian.AppendUint64([]byte("j"), num) }

func jobNumAAD(num uint64) []byte { return binary.BigEndian.AppendUint64([]byte(jobAAD), num) }

func (s *store) seal(b *leveldb.Batch, key, aad []byte, v any) error {
	plain, err := json.Marshal(v)
	if err != nil {
		return err
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	b.Put(key, s.aead.Seal(nonce, nonce, plain, aad))
	return nil
}

func (s *store) open(v, aad []byte, into any) error {
	n := s.aead.NonceSize()
	if len(v) < n {
		return errors.New("too short")
	}
	plain, err := s.aead.Open(nil, v[:n], v[n:], aad)
	if err != nil {
		return errors.New("does not authenticate")
	}
	return json.Unmarshal(plain, into)
}

// startJob writes a new job and its entries in one synced batch: once the
// client has its job's URL, a restart finds the job and its document.
// forget lists old jobs to delete.
func (s *store) startJob(num uint64, sj *storedJob, es []*entry, forget []uint64) error {
	// Only the sequence numbers are taken under the lock: concurrent
	// captures then seal in parallel and LevelDB merges their synced
	// writes into one fsync. A failed write leaves a gap in the numbers,
	// which are keys only.
	s.mu.Lock()
	first := s.next
	s.next += uint64(len(es))
	s.mu.Unlock()
	b := new(leveldb.Batch)
	sj.FirstSeq = first
	for i, e := range es {
		e.Seq = first + uint64(i)
		if err := s.seal(b, seqKey(e.Seq), seqAAD(e.Seq), e); err != nil {
			return err
		}
	}
	if err := s.seal(b, jobKey(num), jobNumAAD(num), sj); err != nil {
		return err
	}
	for _, old := range forget {
		b.Delete(jobKey(old))
	}
	if err := s.db.Write(b, &opt.WriteOptions{Sync: true}); err != nil {
		return fmt.Errorf("write epcis capture job: %w", err)
	}
	return nil
}

// finishJob writes a job's outcome. A success is not synced: if it is
// lost, the restarted node finds the job running, its events on the
// chain, and reports the same success. A failure is synced, so that a
// restart never sends again a document that was refused.
func (s *store) finishJob(num uint64, j job) error {
	b := new(leveldb.Batch)
	if err := s.seal(b, jobKey(num), jobNumAAD(num), &storedJob{Job: j}); err != nil {
		return err
	}
	return s.db.Write(b, &opt.WriteOptions{Sync: !j.Success})
}

// eachJob calls fn with every stored job, oldest first.
func (s *store) eachJob(fn func(num uint64, sj *storedJob) error) error {
	it := s.db.NewIterator(util.BytesPrefix([]byte("j")), nil)
	defer it.Release()
	for it.Next() {
		k := it.Key()
		if len(k) != 9 {
			return errors.New("epcis store: a stored job is corrupt")
		}
		num := binary.BigEndian.Uint64(k[1:])
		sj := new(storedJob)
		if err := s.open(it.Value(), jobNumAAD(num), sj); err != nil {
			return fmt.Errorf("epcis store: job %d %v", num, err)
		}
		if err := fn(num, sj); err != nil {
			return err
		}
	}
	return it.Error()
}
