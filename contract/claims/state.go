package claims

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// State keys. Every key of the contract starts with "C/" and a letter;
// balances are the ledger's ("L/b/"):
//
//	C/p/PAYER \0 PLAN               plan
//	C/g/PAYER \0 COVERAGE           coverage
//	C/y/PAYER \0 COVERAGE \0 YEAR   accumulators of a plan year (YEAR: 4 bytes)
//	C/v/PAYER                       published policy versions (version, effective)
//	C/d/PAYER \0 VER                draft version's row counts (VER: 8 bytes)
//	C/f/PAYER \0 VER CODE \0 MOD    fee schedule: allowed per unit
//	C/e/PAYER \0 VER COL1 \0 COL2   code-pair edit: modifier indicator
//	C/m/PAYER \0 VER CODE           unit limit
//	C/r/PAYER \0 VER                rules
//	C/c/CLAIM                       adjudicated claim
//	C/x/PATIENT PROVIDER \0 DATE CODE \0 MODS   line already paid: duplicate index
//	C/a/CLAIM                       a preauthorization's lines and their authorization state
//	C/q/PAYER                       claims approved and waiting for the payer's funds, in order
//	C/l/CLAIM                       a claim's billed lines, kept when one was denied, for an appeal's overturn
//	C/o/CLAIM                       a claim's appeals, oldest first
//	C/s/PAYER \0 VER                a published version's row counts
//	C/i/ORG \0 SEQ                  the claims of a payer or provider, numbered (index.go)
//	C/n/ORG                         how many claims that list holds
func key(letter byte, parts ...[]byte) []byte {
	n := 4 + len(parts)
	for _, p := range parts {
		n += len(p)
	}
	k := append(make([]byte, 0, n), 'C', '/', letter, '/') // one allocation: keys are built on every line
	for i, p := range parts {
		if i > 0 {
			k = append(k, 0)
		}
		k = append(k, p...)
	}
	return k
}

func ver(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func planKey(payer, plan string) []byte { return key('p', []byte(payer), []byte(plan)) }
func coverageKey(payer, cov string) []byte {
	return key('g', []byte(payer), []byte(cov))
}
func accumKey(payer, cov string, year uint32) []byte {
	return key('y', []byte(payer), []byte(cov), binary.BigEndian.AppendUint32(nil, year))
}
func versionsKey(payer string) []byte        { return key('v', []byte(payer)) }
func draftKey(payer string, v uint64) []byte { return key('d', []byte(payer), ver(v)) }
func feeKey(payer string, v uint64, code, mod string) []byte {
	return key('f', []byte(payer), append(ver(v), code...), []byte(mod))
}
func pairKey(payer string, v uint64, c1, c2 string) []byte {
	return key('e', []byte(payer), append(ver(v), c1...), []byte(c2))
}
func unitKey(payer string, v uint64, code string) []byte {
	return key('m', []byte(payer), append(ver(v), code...))
}
func rulesKey(payer string, v uint64) []byte { return key('r', []byte(payer), ver(v)) }
func claimKey(id [32]byte) []byte            { return key('c', id[:]) }
func queueKey(payer string) []byte           { return key('q', []byte(payer)) }

func dupKey(patient tx.Address, provider string, l *Line) []byte {
	k := key('x', append(patient[:], provider...), binary.BigEndian.AppendUint32(nil, l.Date))
	k = append(k, l.Code...)
	for _, m := range l.Modifiers {
		k = append(append(k, 0), m...)
	}
	return k
}

// Plan is a registered plan's cost sharing (see RegisterPlan).
type Plan struct {
	Deductible  uint64 `json:"deductible"`
	Coinsurance uint64 `json:"coinsurance_bps"`
	Copay       uint64 `json:"copay"`
	OOPMax      uint64 `json:"oop_max"`
	YearStart   uint32 `json:"year_start"`
}

// LoadPlan returns payer's plan, or nil.
func LoadPlan(s identity.Reader, payer, plan string) (*Plan, error) {
	b, err := s.Get(planKey(payer, plan))
	if err != nil || b == nil {
		return nil, err
	}
	r := wire.NewReader(b)
	p := &Plan{Deductible: r.Uint(), Coinsurance: r.Uint(), Copay: r.Uint(), OOPMax: r.Uint(), YearStart: uint32(r.Uint())}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode plan: %w", err)
	}
	return p, nil
}

func savePlan(s contract.Store, payer, plan string, p *Plan) error {
	w := wire.NewWriter(32)
	w.Uint(p.Deductible)
	w.Uint(p.Coinsurance)
	w.Uint(p.Copay)
	w.Uint(p.OOPMax)
	w.Uint(uint64(p.YearStart))
	return s.Set(planKey(payer, plan), w.Bytes())
}

// Coverage is a patient's registered coverage.
type Coverage struct {
	Plan    string     `json:"plan"`
	Patient tx.Address `json:"patient"`
	Start   uint32     `json:"start"`
	End     uint32     `json:"end,omitempty"`
}

// LoadCoverage returns payer's coverage, or nil.
func LoadCoverage(s identity.Reader, payer, cov string) (*Coverage, error) {
	b, err := s.Get(coverageKey(payer, cov))
	if err != nil || b == nil {
		return nil, err
	}
	r := wire.NewReader(b)
	c := &Coverage{Plan: r.String(maxID)}
	copy(c.Patient[:], r.Raw(tx.AddressSize))
	c.Start, c.End = uint32(r.Uint()), uint32(r.Uint())
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode coverage: %w", err)
	}
	return c, nil
}

func saveCoverage(s contract.Store, payer, cov string, c *Coverage) error {
	w := wire.NewWriter(64)
	w.String(c.Plan)
	w.Raw(c.Patient[:])
	w.Uint(uint64(c.Start))
	w.Uint(uint64(c.End))
	return s.Set(coverageKey(payer, cov), w.Bytes())
}

// Covers reports whether the coverage is in force on date (YYYYMMDD).
func (c *Coverage) Covers(date uint32) bool {
	return date >= c.Start && (c.End == 0 || date <= c.End)
}

// Accumulators are what a patient has paid toward a plan year's deductible
// and out-of-pocket maximum.
type Accumulators struct {
	Deductible uint64 `json:"deductible"`
	OOP        uint64 `json:"oop"`
}

// LoadAccumulators returns the coverage's accumulators of the plan year
// starting in year.
func LoadAccumulators(s identity.Reader, payer, cov string, year uint32) (Accumulators, error) {
	b, err := s.Get(accumKey(payer, cov, year))
	if err != nil || b == nil {
		return Accumulators{}, err
	}
	r := wire.NewReader(b)
	a := Accumulators{Deductible: r.Uint(), OOP: r.Uint()}
	if err := r.Done(); err != nil {
		return a, fmt.Errorf("decode accumulators: %w", err)
	}
	return a, nil
}

func saveAccumulators(s contract.Store, payer, cov string, year uint32, a Accumulators) error {
	w := wire.NewWriter(16)
	w.Uint(a.Deductible)
	w.Uint(a.OOP)
	return s.Set(accumKey(payer, cov, year), w.Bytes())
}

// PlanYear returns the year in which the plan year holding date (YYYYMMDD)
// began, for a plan year starting on MMDD start.
func PlanYear(date, start uint32) uint32 {
	if date%10000 < start {
		return date/10000 - 1
	}
	return date / 10000
}

// Version is a published policy version and the date it takes effect.
type Version struct {
	Version   uint64 `json:"version"`
	Effective uint32 `json:"effective"`
}

// Versions returns payer's published policy versions, oldest first.
func Versions(s identity.Reader, payer string) ([]Version, error) {
	b, err := s.Get(versionsKey(payer))
	if err != nil || b == nil {
		return nil, err
	}
	r := wire.NewReader(b)
	vs := make([]Version, r.Count(MaxVersions))
	for i := range vs {
		vs[i] = Version{Version: r.Uint(), Effective: uint32(r.Uint())}
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode policy versions: %w", err)
	}
	return vs, nil
}

func saveVersions(s contract.Store, payer string, vs []Version) error {
	w := wire.NewWriter(8 * len(vs))
	w.Uint(uint64(len(vs)))
	for _, v := range vs {
		w.Uint(v.Version)
		w.Uint(uint64(v.Effective))
	}
	return s.Set(versionsKey(payer), w.Bytes())
}

// InForce returns the version of vs in force on date, or 0 if none is.
func InForce(vs []Version, date uint32) uint64 {
	for i := len(vs) - 1; i >= 0; i-- {
		if vs[i].Effective <= date {
			return vs[i].Version
		}
	}
	return 0
}

// draft counts the rows a draft version holds.
type draft struct{ fees, pairs, units, rules uint64 }

func loadDraft(s identity.Reader, payer string, v uint64) (*draft, error) {
	return loadCounts(s, draftKey(payer, v))
}

// loadCounts reads row counts (a draft's or a published version's) at k.
func loadCounts(s identity.Reader, k []byte) (*draft, error) {
	b, err := s.Get(k)
	if err != nil || b == nil {
		return nil, err
	}
	return decodeCounts(b)
}

func decodeCounts(b []byte) (*draft, error) {
	r := wire.NewReader(b)
	d := &draft{r.Uint(), r.Uint(), r.Uint(), r.Uint()}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode policy row counts: %w", err)
	}
	return d, nil
}

func saveDraft(s contract.Store, payer string, v uint64, d *draft) error {
	w := wire.NewWriter(16)
	for _, n := range []uint64{d.fees, d.pairs, d.units, d.rules} {
		w.Uint(n)
	}
	return s.Set(draftKey(payer, v), w.Bytes())
}

func getUint(s identity.Reader, k []byte) (uint64, bool, error) {
	b, err := s.Get(k)
	if err != nil || b == nil {
		return 0, false, err
	}
	r := wire.NewReader(b)
	v := r.Uint()
	return v, true, r.Done()
}

func setUint(s contract.Store, k []byte, v uint64) error {
	w := wire.NewWriter(10)
	w.Uint(v)
	return s.Set(k, w.Bytes())
}

// Rules returns the rules of payer's policy version v.
func Rules(s identity.Reader, payer string, v uint64) ([]Rule, error) {
	b, err := s.Get(rulesKey(payer, v))
	if err != nil || b == nil {
		return nil, err
	}
	r := wire.NewReader(b)
	rs := make([]Rule, r.Count(MaxRules))
	for i := range rs {
		rs[i] = Rule{ID: r.String(maxID), Action: RuleAction(r.Uint()), Reason: r.String(maxReason), Expr: r.String(exprMax)}
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode rules: %w", err)
	}
	return rs, nil
}

func saveRules(s contract.Store, payer string, v uint64, rs []Rule) error {
	w := wire.NewWriter(64 * len(rs))
	w.Uint(uint64(len(rs)))
	for _, ru := range rs {
		w.String(ru.ID)
		w.Uint(uint64(ru.Action))
		w.String(ru.Reason)
		w.String(ru.Expr)
	}
	return s.Set(rulesKey(payer, v), w.Bytes())
}

// MaxQueue bounds the claims waiting for one payer's funds; a payer with
// that many unpaid claims has further claims refused until it deposits.
const MaxQueue = 4096

// loadQueue returns the claims waiting for payer's funds, oldest first.
func loadQueue(s identity.Reader, payer string) ([][32]byte, error) {
	b, err := s.Get(queueKey(payer))
	if err != nil || b == nil {
		return nil, err
	}
	if len(b)%32 != 0 {
		return nil, fmt.Errorf("decode payment queue: %d bytes", len(b))
	}
	q := make([][32]byte, len(b)/32)
	for i := range q {
		copy(q[i][:], b[32*i:])
	}
	return q, nil
}

func saveQueue(s contract.Store, payer string, q [][32]byte) error {
	if len(q) == 0 {
		return s.Delete(queueKey(payer))
	}
	b := make([]byte, 0, 32*len(q))
	for _, id := range q {
		b = append(b, id[:]...)
	}
	return s.Set(queueKey(payer), b)
}

// Payable is an approved claim's benefit waiting for its payer's funds.
type Payable struct {
	Claim    string `json:"claim"` // hex
	Payer    string `json:"payer"`
	Provider string `json:"provider"`
	Amount   uint64 `json:"amount"`
	Height   int64  `json:"height"` // of the claim's adjudication
}

// Iterator is a state that lists the keys with a prefix in key order, as
// state.View does.
type Iterator interface {
	identity.Reader
	Iterate(prefix []byte, fn func(key, value []byte) bool) error
}

// Pending returns the payables that org owes as a payer, in the order its
// deposits will pay them, then those owed to org as a provider, by payer in
// ID order and then in queue order.
func Pending(s Iterator, org string) ([]Payable, error) {
	prefix := key('q')
	payers := []string{org}
	err := s.Iterate(prefix, func(k, _ []byte) bool {
		if p := string(k[len(prefix):]); p != org {
			payers = append(payers, p)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	out := []Payable{}
	for _, p := range payers {
		q, err := loadQueue(s, p)
		if err != nil {
			return nil, err
		}
		for _, id := range q {
			d, err := LoadDecision(s, id)
			if err != nil {
				return nil, err
			}
			if d == nil {
				return nil, fmt.Errorf("payment queue of %s names missing claim %x", p, id)
			}
			if p == org || d.Provider == org {
				out = append(out, Payable{Claim: hex.EncodeToString(id[:]), Payer: d.Payer, Provider: d.Provider, Amount: d.Due(), Height: d.Height})
			}
		}
	}
	return out, nil
}
