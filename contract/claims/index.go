package claims

import (
	"encoding/binary"
	"fmt"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/wire"
)

// The claims of an organization, as payer or as provider, in the order the
// chain decided them: C/i/ORG \0 SEQ holds the claim and its dates of
// service, C/n/ORG how many there are. A page is one read per entry
// (newest first) rather than a scan of every decision, and every node
// answers it alike: the keys are numbered, not a Go map's order.

func listedKey(org string, seq uint64) []byte {
	return key('i', []byte(org), binary.BigEndian.AppendUint64(nil, seq))
}
func listedCountKey(org string) []byte { return key('n', []byte(org)) }

// Listed is one claim in an organization's list: its number there (Seq,
// from 0) and the first and last dates of service of its lines.
type Listed struct {
	Seq   uint64
	Claim [32]byte
	From  uint32
	To    uint32
}

// ListedLen returns how many claims org's list holds.
func ListedLen(s identity.Reader, org string) (uint64, error) {
	n, _, err := getUint(s, listedCountKey(org))
	return n, err
}

// listClaim appends the claim to the lists of its payer and its provider.
func listClaim(s contract.Store, m *Submit) error {
	from, to := m.Lines[0].Date, m.Lines[0].Date
	for _, l := range m.Lines[1:] {
		from, to = min(from, l.Date), max(to, l.Date)
	}
	for _, org := range []string{m.Payer, m.Provider} {
		n, err := ListedLen(s, org)
		if err != nil {
			return err
		}
		w := wire.NewWriter(48)
		w.Raw(m.Claim[:])
		w.Uint(uint64(from))
		w.Uint(uint64(to))
		if err := s.Set(listedKey(org, n), w.Bytes()); err != nil {
			return err
		}
		if err := setUint(s, listedCountKey(org), n+1); err != nil {
			return err
		}
	}
	return nil
}

func loadListed(s identity.Reader, org string, seq uint64) (Listed, error) {
	b, err := s.Get(listedKey(org, seq))
	if err != nil {
		return Listed{}, err
	}
	if b == nil {
		return Listed{}, fmt.Errorf("claims list of %s lacks entry %d", org, seq)
	}
	r := wire.NewReader(b)
	l := Listed{Seq: seq}
	copy(l.Claim[:], r.Raw(32))
	l.From, l.To = uint32(r.Uint()), uint32(r.Uint())
	if err := r.Done(); err != nil {
		return Listed{}, fmt.Errorf("decode claims list entry: %w", err)
	}
	return l, nil
}

// The statuses of a claim in a list, one per claim, the first that holds:
// an appeal is open; part of the benefit waits for the payer's funds;
// every line is denied; else approved (in whole or in part, and paid).
const (
	StatusAppealed = "appealed"
	StatusPending  = "pending_payment"
	StatusDenied   = "denied"
	StatusApproved = "approved"
)

// Statuses lists the statuses a list is filtered by.
var Statuses = []string{StatusApproved, StatusDenied, StatusPending, StatusAppealed}

// StatusOf returns the status of a claim decided d with appeals as.
func StatusOf(d *Decision, as []AppealRecord) string {
	switch {
	case len(as) > 0 && as[len(as)-1].State == AppealOpen:
		return StatusAppealed
	case d.Due() > 0:
		return StatusPending
	case d.Outcome() == "denied":
		return StatusDenied
	}
	return StatusApproved
}

// ListFilter selects claims of a list: by status ("" any), and by dates
// of service, keeping a claim with a line on or after From and one on or
// before To (0: no bound).
type ListFilter struct {
	Status string
	From   uint32
	To     uint32
}

func (f ListFilter) dates(l Listed) bool {
	return (f.From == 0 || l.To >= f.From) && (f.To == 0 || l.From <= f.To)
}

// ListedClaim is a claim of a list with its decision, appeals and status.
type ListedClaim struct {
	Listed
	Decision *Decision
	Appeals  []AppealRecord
	Status   string
}

// MaxListScan bounds the entries one page looks at, so that a filter few
// claims match costs a bounded page; the page's next entry says where to
// go on.
const MaxListScan = 4096

// ClaimsOf returns up to limit claims of org's list numbered below before
// that f keeps, newest first, and the number a next page starts below (0:
// none is left). It looks at MaxListScan entries at most, so a page may
// hold fewer than limit claims and still have a next.
func ClaimsOf(s identity.Reader, org string, f ListFilter, before uint64, limit int) ([]ListedClaim, uint64, error) {
	n, err := ListedLen(s, org)
	if err != nil {
		return nil, 0, err
	}
	out := []ListedClaim{}
	seq := min(before, n)
	for scanned := 0; seq > 0 && len(out) < limit && scanned < MaxListScan; scanned++ {
		seq--
		l, err := loadListed(s, org, seq)
		if err != nil {
			return nil, 0, err
		}
		if !f.dates(l) {
			continue
		}
		c, err := loadListedClaim(s, l)
		if err != nil {
			return nil, 0, err
		}
		if f.Status == "" || f.Status == c.Status {
			out = append(out, c)
		}
	}
	return out, seq, nil
}

func loadListedClaim(s identity.Reader, l Listed) (ListedClaim, error) {
	d, err := LoadDecision(s, l.Claim)
	if err != nil {
		return ListedClaim{}, err
	}
	if d == nil {
		return ListedClaim{}, fmt.Errorf("claims list names missing claim %x", l.Claim)
	}
	as, err := LoadAppeals(s, l.Claim)
	if err != nil {
		return ListedClaim{}, err
	}
	return ListedClaim{Listed: l, Decision: d, Appeals: as, Status: StatusOf(d, as)}, nil
}
