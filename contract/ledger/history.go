package ledger

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/wire"
)

// Memo says where a balance change comes from: the block's height and, for
// a claim's payment, the claim's ID (zeros for none).
type Memo struct {
	Height int64
	Ref    [32]byte
}

// The kinds of history entry.
const (
	KindDeposit  = "deposit"  // money entered the account
	KindPaid     = "paid"     // money left it for Counterparty
	KindReceived = "received" // money came from Counterparty
)

// Entry is one change of an account's balance. Seq numbers an account's
// entries from 0; Balance is the account's balance after it; Ref is the
// claim paid (hex), if any.
type Entry struct {
	Seq          uint64 `json:"seq"`
	Height       int64  `json:"height"`
	Kind         string `json:"kind"`
	Amount       uint64 `json:"amount"`
	Counterparty string `json:"counterparty,omitempty"`
	Ref          string `json:"claim,omitempty"`
	Balance      uint64 `json:"balance"`
}

var kinds = []string{KindDeposit, KindPaid, KindReceived}

func countKey(account string) []byte { return append([]byte("L/n/"), account...) }

func entryKey(account string, seq uint64) []byte {
	k := append(append([]byte("L/h/"), account...), 0)
	return binary.BigEndian.AppendUint64(k, seq)
}

// HistoryLen returns how many entries account's history holds.
func HistoryLen(s identity.Reader, account string) (uint64, error) {
	b, err := s.Get(countKey(account))
	if err != nil || b == nil {
		return 0, err
	}
	r := wire.NewReader(b)
	n := r.Uint()
	return n, r.Done()
}

// record appends e to account's history, with the balance it left.
func record(s contract.Store, account string, e Entry, m Memo) error {
	seq, err := HistoryLen(s, account)
	if err != nil {
		return err
	}
	bal, err := Balance(s, account)
	if err != nil {
		return err
	}
	kind := 0
	for kinds[kind] != e.Kind {
		kind++
	}
	w := wire.NewWriter(64)
	w.Uint(uint64(m.Height))
	w.Uint(uint64(kind))
	w.Uint(e.Amount)
	w.String(e.Counterparty)
	if m.Ref == ([32]byte{}) {
		w.Blob(nil)
	} else {
		w.Blob(m.Ref[:])
	}
	w.Uint(bal)
	if err := s.Set(entryKey(account, seq), w.Bytes()); err != nil {
		return err
	}
	c := wire.NewWriter(10)
	c.Uint(seq + 1)
	return s.Set(countKey(account), c.Bytes())
}

// History returns up to limit of account's entries before sequence number
// before (all: HistoryLen), newest first: a page that a later call
// continues with the last entry's Seq.
func History(s identity.Reader, account string, before uint64, limit int) ([]Entry, error) {
	n, err := HistoryLen(s, account)
	if err != nil {
		return nil, err
	}
	before = min(before, n)
	out := []Entry{}
	for seq := before; seq > 0 && len(out) < limit; seq-- {
		e, err := loadEntry(s, account, seq-1)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func loadEntry(s identity.Reader, account string, seq uint64) (Entry, error) {
	b, err := s.Get(entryKey(account, seq))
	if err != nil {
		return Entry{}, err
	}
	if b == nil {
		return Entry{}, fmt.Errorf("history of %s lacks entry %d", account, seq)
	}
	r := wire.NewReader(b)
	e := Entry{Seq: seq, Height: int64(r.Uint())}
	kind := r.Uint()
	e.Amount, e.Counterparty = r.Uint(), r.String(64)
	if ref := r.Blob(32); len(ref) > 0 {
		e.Ref = hex.EncodeToString(ref)
	}
	e.Balance = r.Uint()
	if err := r.Done(); err != nil || kind >= uint64(len(kinds)) {
		return Entry{}, fmt.Errorf("decode history entry %d of %s: %v", seq, account, err)
	}
	e.Kind = kinds[kind]
	return e, nil
}
