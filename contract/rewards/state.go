package rewards

import (
	"fmt"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// State keys. Every key of the contract starts with "P/" and a letter:
// "P/p/PROGRAM" a program, "P/u/PROGRAM/" and an address what it paid a
// patient, "P/e/PROGRAM/" and a reference an attestation accepted.
func programKey(id string) []byte { return append([]byte("P/p/"), id...) }

func patientKey(id string, a tx.Address) []byte {
	return append(fmt.Appendf(nil, "P/u/%s/", id), a[:]...)
}

func refKey(id string, ref [32]byte) []byte {
	return append(fmt.Appendf(nil, "P/e/%s/", id), ref[:]...)
}

// Pool returns the ledger account holding program id's unpaid funding.
func Pool(id string) string { return ledger.Held("rewards/" + id) }

// Program is a reward program as the chain holds it.
type Program struct {
	Sponsor    string `json:"sponsor"`
	Funding    uint64 `json:"funding"`
	PatientCap uint64 `json:"patient_cap"`
	End        int64  `json:"end"`
	Rules      []Rule `json:"rules"`
	// RedeemTo are the organizations the rewards may be redeemed to
	// (Create); empty, rewards are paid to the patients' balances.
	RedeemTo []string `json:"redeem_to,omitempty"`
	Paid     uint64   `json:"paid"` // rewarded so far, held for patients or paid to them
	Closed   bool     `json:"closed"`
}

func (p *Program) encode() []byte {
	w := wire.NewWriter(128)
	Create{Sponsor: p.Sponsor, Funding: p.Funding, PatientCap: p.PatientCap, End: p.End, Rules: p.Rules, RedeemTo: p.RedeemTo}.EncodeTo(w)
	w.Uint(p.Paid)
	w.Bool(p.Closed)
	return w.Bytes()
}

// LoadProgram returns program id, or nil.
func LoadProgram(s identity.Reader, id string) (*Program, error) {
	b, err := s.Get(programKey(id))
	if err != nil || b == nil {
		return nil, err
	}
	r := wire.NewReader(b)
	c := readCreate(r)
	p := &Program{Sponsor: c.Sponsor, Funding: c.Funding, PatientCap: c.PatientCap, End: c.End, Rules: c.Rules, RedeemTo: c.RedeemTo, Paid: r.Uint(), Closed: r.Bool()}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode program: %w", err)
	}
	return p, nil
}

// EachProgram calls fn with every program, in ID order, until fn returns
// false or an error.
func EachProgram(s identity.Iterator, fn func(id string, p *Program) (bool, error)) error {
	prefix := programKey("")
	var ferr error
	err := s.Iterate(prefix, func(k, _ []byte) bool {
		id := string(k[len(prefix):])
		p, err := LoadProgram(s, id)
		more := false
		if err == nil && p != nil {
			more, err = fn(id, p)
		}
		ferr = err
		return more && err == nil
	})
	if err == nil {
		err = ferr
	}
	return err
}

func saveProgram(s contract.Store, id string, p *Program) error {
	return s.Set(programKey(id), p.encode())
}

// rule returns the program's rule for event, or nil.
func (p *Program) rule(event string) *Rule {
	for i := range p.Rules {
		if p.Rules[i].Event == event {
			return &p.Rules[i]
		}
	}
	return nil
}

// Received is what a program rewarded one patient: the total and the
// number of rewards, and what of them the program holds for the patient to
// redeem (always 0 when it pays to the patient's balance).
type Received struct {
	Total uint64 `json:"total"`
	Count uint64 `json:"count"`
	Held  uint64 `json:"held"`
}

// LoadReceived returns what program id paid patient.
func LoadReceived(s identity.Reader, id string, patient tx.Address) (Received, error) {
	b, err := s.Get(patientKey(id, patient))
	if err != nil || b == nil {
		return Received{}, err
	}
	r := wire.NewReader(b)
	v := Received{Total: r.Uint(), Count: r.Uint(), Held: r.Uint()}
	if err := r.Done(); err != nil {
		return Received{}, fmt.Errorf("decode received: %w", err)
	}
	return v, nil
}

func saveReceived(s contract.Store, id string, patient tx.Address, v Received) error {
	w := wire.NewWriter(24)
	w.Uint(v.Total)
	w.Uint(v.Count)
	w.Uint(v.Held)
	return s.Set(patientKey(id, patient), w.Bytes())
}
