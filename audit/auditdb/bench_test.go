package auditdb_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/careledger/careledger/audit"
	"github.com/careledger/careledger/audit/auditdb"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/disclosure"
	"github.com/careledger/careledger/tx"
)

// The benchmarks below measure the audit log at the size the issue sets:
// ten million events, of which one patient's 200 reads (a consent.access
// event and its consent.decision each) are spread across the whole log.
// Each runs beside a baseline in the same run, so that the result is a
// ratio as well as a number.
//
// Generating the log takes minutes, so it is built once into a directory
// that later runs reuse: CARELEDGER_AUDIT_BENCH_DIR (default
// $TMPDIR/careledger-audit-10m for the default size, -<size> otherwise),
// holding CARELEDGER_AUDIT_BENCH_EVENTS events (default 10,000,000). A
// marker file, written last, tells a complete log from an interrupted build,
// which is redone. BenchmarkDisclosureReport is here rather than in package
// disclosure: it shares the generated log, and what it measures is mostly
// this store's index and proof reads. Try it small first:
//
//	CARELEDGER_AUDIT_BENCH_EVENTS=100000 go test ./audit/auditdb -run '^$' -bench . -benchtime 100x
//	go test ./audit/auditdb -run '^$' -bench . -benchtime 100x -timeout 2h

const (
	benchBlockEvents = 1000 // events per block, about
	benchReads       = 200  // the target patient's reads (consent.access and its decision)
	benchRequesters  = 8
	benchGenerator   = 3 // bump when the generated log or the store's layout changes
)

var benchStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// benchOptions open the benchmarks' stores: the generated log holds no
// event of a type a node indexes by type, so it indexes none.
var benchOptions = auditdb.Options{}

// benchLog is a generated log and what the benchmarks need to know of it.
type benchLog struct {
	Generator int    `json:"generator"`
	Events    uint64 `json:"events"`
	Height    int64  `json:"height"` // the last block
	Build     string `json:"build"`  // how long generating it took
}

// splitmix is a cheap deterministic generator of account addresses and
// transaction hashes.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func fill(b []byte, seed uint64) {
	for i := 0; i < len(b); i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], splitmix(seed+uint64(i)))
		copy(b[i:], w[:])
	}
}

func benchAddress(tag byte, i uint64) tx.Address {
	var a tx.Address
	fill(a[:], uint64(tag)<<56^i*0x100000001b3)
	return a
}

func benchTxHash(i uint64) tx.Hash {
	var h tx.Hash
	fill(h[:], 0x7478<<48^i*0x100000001b3)
	return h
}

var (
	benchPatient = benchAddress('p', 0) // the patient whose accounting is compiled
	benchOrgs    = []string{"general-hospital", "city-lab", "state-registry", "university-research"}
)

func benchRequester(k int) tx.Address { return benchAddress('r', uint64(k%benchRequesters)) }

// orgOf names a requester's organization, as the state would.
func orgOf(a tx.Address) string {
	for k := range benchRequesters {
		if benchRequester(k) == a {
			return benchOrgs[k%len(benchOrgs)]
		}
	}
	return ""
}

// readEvents returns the target patient's k-th read: a consent.access event
// and its consent.decision, as consent.access emits them. One in ten is for
// treatment (left out of the accounting), one in twenty is denied (nothing
// disclosed), one in ten breaks the glass; the rest are for research or
// public health, and listed.
func readEvents(k int) []contract.Event {
	access := strconv.Itoa(1000 + k)
	purpose, glass, verdict, basis := "HRESCH", false, "permit", "grant"
	switch {
	case k%10 == 0:
		purpose, basis = "TREAT", "policy"
	case k%10 == 1:
		purpose, glass, basis = "ETREAT", true, "break_glass"
	case k%20 == 3:
		verdict, basis = "deny", "none"
	case k%10 == 5:
		purpose = "PUBHLTH"
	}
	outcome := verdict
	req := benchRequester(k)
	accounts := []tx.Address{benchPatient, req}
	dec := []contract.Attr{
		{Key: "access", Value: access}, {Key: "item", Value: fmt.Sprintf("Observation/obs-%d", k)},
		{Key: "decision", Value: verdict}, {Key: "basis", Value: basis},
	}
	if basis == "grant" {
		dec = append(dec, contract.Attr{Key: "grant", Value: "7"}, contract.Attr{Key: "category", Value: "laboratory"})
	}
	return []contract.Event{
		{Type: "consent.access", Attrs: []contract.Attr{
			{Key: "access", Value: access}, {Key: "custodian", Value: benchOrgs[0]}, {Key: "requester", Value: req.String()},
			{Key: "patient", Value: benchPatient.String()}, {Key: "purpose", Value: purpose},
			{Key: "outcome", Value: outcome}, {Key: "break_glass", Value: strconv.FormatBool(glass)},
		}, Accounts: accounts},
		{Type: "consent.decision", Attrs: dec, Accounts: accounts},
	}
}

// registration is another patient's event, the bulk of the log.
func registration(i uint64) []contract.Event {
	p := benchAddress('o', i)
	return []contract.Event{{
		Type: "identity.patient_registered", Attrs: []contract.Attr{{Key: "patient", Value: p.String()}}, Accounts: []tx.Address{p},
	}}
}

// generate writes a log of n events to s in blocks of about
// benchBlockEvents, as FinalizeBlock does: mostly other patients'
// registrations, and the target patient's reads spread evenly across it.
// With others false it writes the reads alone. It returns the last height.
func generate(s *auditdb.Store, n uint64, others bool) (int64, error) {
	type built struct {
		blk *audit.Block
		err error
	}
	// Hashing the leaves and writing them to LevelDB overlap: one goroutine
	// builds blocks, this one writes them.
	out := make(chan built, 4)
	go func() {
		defer close(out)
		log := audit.NewLog()
		var txs uint64 // transactions so far, for their hashes
		k := 0         // the next read
		nextRead := func() uint64 { return uint64(k) * n / benchReads }
		for h := int64(1); log.Size() < n; h++ {
			blk := &audit.Block{Height: h, First: log.Size()}
			visit := func(level uint, index uint64, hash []byte) {
				blk.Nodes = append(blk.Nodes, audit.Node{Level: level, Index: index, Hash: hash})
			}
			t := benchStart.Add(time.Duration(h) * 5 * time.Second)
			for txIndex := 0; len(blk.Events) < benchBlockEvents && log.Size() < n; txIndex++ {
				var evs []contract.Event
				if k < benchReads && (log.Size() >= nextRead() || !others) {
					evs = readEvents(k)
					k++
				} else {
					evs = registration(log.Size())
				}
				hash := benchTxHash(txs)
				txs++
				for j, e := range evs {
					ev := audit.Event{Height: h, Time: t, Tx: hash, TxIndex: txIndex, Index: j, Event: e}
					if err := log.Append(audit.LeafHash(ev.Encode()), visit); err != nil {
						out <- built{err: err}
						return
					}
					blk.Events = append(blk.Events, ev)
				}
				if !others && k == benchReads {
					break
				}
			}
			blk.Size = log.Size()
			root, err := log.Root()
			if err != nil {
				out <- built{err: err}
				return
			}
			state := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(h)))
			blk.Root, blk.StateRoot = root, state[:]
			out <- built{blk: blk}
			if !others && k == benchReads {
				return
			}
		}
	}()
	var last int64
	var err error
	for b := range out {
		if err == nil && b.err != nil {
			err = b.err
		}
		if err == nil {
			err = s.Write(b.blk)
			last = b.blk.Height
		}
	}
	return last, err
}

// benchEvents reads the log size the benchmarks use.
func benchEvents(b *testing.B) uint64 {
	b.Helper()
	n := uint64(10_000_000)
	if v := os.Getenv("CARELEDGER_AUDIT_BENCH_EVENTS"); v != "" {
		var err error
		if n, err = strconv.ParseUint(v, 10, 64); err != nil || n < 10*benchReads {
			b.Fatalf("CARELEDGER_AUDIT_BENCH_EVENTS=%q: want a number of events of at least %d", v, 10*benchReads)
		}
	}
	return n
}

func sizeName(n uint64) string {
	switch {
	case n%1_000_000 == 0:
		return fmt.Sprintf("%dm", n/1_000_000)
	case n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return strconv.FormatUint(n, 10)
}

func dirSize(dir string) int64 {
	var total int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total
}

// openBenchLog opens the generated log, building it first unless a
// complete one of the wanted size is there. The store is closed when b
// ends.
func openBenchLog(b *testing.B) (*auditdb.Store, *audit.Certified) {
	b.Helper()
	n := benchEvents(b)
	dir := os.Getenv("CARELEDGER_AUDIT_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "careledger-audit-"+sizeName(n))
	}
	dbDir, marker := filepath.Join(dir, "audit.db"), filepath.Join(dir, "complete.json")
	var meta benchLog
	raw, err := os.ReadFile(marker)
	switch {
	case err == nil && json.Unmarshal(raw, &meta) == nil && meta.Generator == benchGenerator && meta.Events == n:
		b.Logf("reusing the log of %d events in %s (built in %s, %d MiB)", n, dir, meta.Build, dirSize(dbDir)>>20)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		b.Fatal(err)
	default:
		// Only the store and the marker are removed: the directory may be
		// one the user named.
		if err := os.Remove(marker); err != nil && !errors.Is(err, fs.ErrNotExist) {
			b.Fatal(err)
		}
		if err := os.RemoveAll(dbDir); err != nil {
			b.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		b.Logf("generating a log of %d events in %s", n, dir)
		start := time.Now()
		s, err := auditdb.Open(dbDir, benchOptions)
		if err != nil {
			b.Fatal(err)
		}
		height, err := generate(s, n, true)
		if cerr := s.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			b.Fatalf("generate %d events: %v", n, err)
		}
		meta = benchLog{Generator: benchGenerator, Events: n, Height: height, Build: time.Since(start).Round(time.Millisecond).String()}
		raw, _ := json.Marshal(meta)
		if err := os.WriteFile(marker, raw, 0o644); err != nil {
			b.Fatal(err)
		}
		b.Logf("generated %d events in %s: %d MiB on disk", n, meta.Build, dirSize(dbDir)>>20)
	}
	s, err := auditdb.Open(dbDir, benchOptions)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s, certified(b, s, meta.Height)
}

// certified returns the log's checkpoint after height, with no signed
// header: BuildReport only copies it.
func certified(b *testing.B, s *auditdb.Store, height int64) *audit.Certified {
	b.Helper()
	cp, err := s.Checkpoint(height)
	if err != nil {
		b.Fatalf("Checkpoint(%d) = %v", height, err)
	}
	return &audit.Certified{Checkpoint: *cp}
}

// latencies collects per-operation durations for percentiles.
type latencies []time.Duration

func (l latencies) report(b *testing.B, unit string, scale time.Duration) {
	if len(l) == 0 {
		return
	}
	slices.Sort(l)
	b.ReportMetric(float64(l[len(l)/2])/float64(scale), "p50-"+unit)
	b.ReportMetric(float64(l[min(len(l)-1, len(l)*99/100)])/float64(scale), "p99-"+unit)
}

// BenchmarkDisclosureReport compiles the target patient's accounting of
// disclosures (disclosure.BuildReport: read the patient's index, then read,
// prove and decode each of their 400 leaves) over the whole generated log
// (goal: under 50 ms at 10M events). Baselines: reading the patient's
// index alone, and the same report from a log holding the patient's
// events alone.
func BenchmarkDisclosureReport(b *testing.B) {
	big, bigCP := openBenchLog(b)
	small, err := auditdb.Open(filepath.Join(b.TempDir(), "audit.db"), benchOptions)
	if err != nil {
		b.Fatal(err)
	}
	defer small.Close()
	height, err := generate(small, 2*benchReads, false)
	if err != nil {
		b.Fatal(err)
	}
	smallCP := certified(b, small, height)
	from, to := benchStart, benchStart.AddDate(10, 0, 0)

	b.Run(fmt.Sprintf("index/events=%d", bigCP.Size), func(b *testing.B) {
		var lat latencies
		for b.Loop() {
			start := time.Now()
			idx, err := big.AccountEvents(benchPatient, 0, 1<<30)
			lat = append(lat, time.Since(start))
			if err != nil || len(idx) != 2*benchReads {
				b.Fatalf("AccountEvents = %d indexes, %v; want %d", len(idx), err, 2*benchReads)
			}
		}
		lat.report(b, "µs", time.Microsecond)
	})
	for _, c := range []struct {
		name string
		s    *auditdb.Store
		cp   *audit.Certified
	}{
		{"report/patient-only", small, smallCP},
		{"report/full", big, bigCP},
	} {
		b.Run(fmt.Sprintf("%s/events=%d", c.name, c.cp.Size), func(b *testing.B) {
			var lat latencies
			entries := 0
			for b.Loop() {
				start := time.Now()
				r, err := disclosure.BuildReport(c.s.Cached(), "bench", benchPatient, from, to, false, c.cp, orgOf)
				lat = append(lat, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				entries = len(r.Entries)
			}
			// 200 reads less 20 for treatment and 10 denied.
			if entries != 170 {
				b.Fatalf("the report has %d entries; want 170", entries)
			}
			lat.report(b, "ms", time.Millisecond)
		})
	}
}

// BenchmarkInclusionProof generates the inclusion proof of a leaf picked
// at random in the whole generated log (goal: under 1 ms at 10M events).
// Baselines: one leaf read (Store.Leaf), and the log's root
// (Store.Root, which reads one node per perfect subtree).
func BenchmarkInclusionProof(b *testing.B) {
	s, cp := openBenchLog(b)
	size := cp.Size
	ops := []struct {
		name string
		op   func(i uint64) error
	}{
		{"leaf", func(i uint64) error { _, err := s.Leaf(i); return err }},
		{"root", func(uint64) error { _, err := s.Root(size); return err }},
		{"proof", func(i uint64) error { _, err := s.InclusionProof(i, size); return err }},
	}
	for _, c := range ops {
		b.Run(fmt.Sprintf("%s/events=%d", c.name, size), func(b *testing.B) {
			// Other leaves in every run, so that a run does not find those
			// of the last one in LevelDB's caches.
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
			var lat latencies
			for b.Loop() {
				i := rng.Uint64N(size)
				start := time.Now()
				err := c.op(i)
				lat = append(lat, time.Since(start))
				if err != nil {
					b.Fatalf("%s(%d) = %v", c.name, i, err)
				}
			}
			lat.report(b, "µs", time.Microsecond)
		})
	}
}

// BenchmarkVerifyInclusion verifies an inclusion proof in the whole
// generated log (goal: under 100 µs at 10M events), for leaves picked at
// random. Baseline: the leaf's hash alone (audit.LeafHash), one SHA-256 of
// what verification hashes about 25 times.
func BenchmarkVerifyInclusion(b *testing.B) {
	s, cp := openBenchLog(b)
	type sample struct {
		index uint64
		leaf  []byte
		proof [][]byte
	}
	rng := rand.New(rand.NewPCG(3, 4))
	samples := make([]sample, 256)
	for k := range samples {
		i := rng.Uint64N(cp.Size)
		leaf, err := s.Leaf(i)
		if err != nil {
			b.Fatal(err)
		}
		p, err := s.InclusionProof(i, cp.Size)
		if err != nil {
			b.Fatal(err)
		}
		samples[k] = sample{i, leaf, p}
	}
	b.Run(fmt.Sprintf("leafhash/events=%d", cp.Size), func(b *testing.B) {
		k := 0
		for b.Loop() {
			audit.LeafHash(samples[k%len(samples)].leaf)
			k++
		}
	})
	b.Run(fmt.Sprintf("verify/events=%d", cp.Size), func(b *testing.B) {
		var lat latencies
		k := 0
		for b.Loop() {
			x := samples[k%len(samples)]
			k++
			start := time.Now()
			err := audit.VerifyInclusion(x.leaf, x.index, cp.Size, x.proof, cp.Root)
			lat = append(lat, time.Since(start))
			if err != nil {
				b.Fatalf("VerifyInclusion(leaf %d) = %v", x.index, err)
			}
		}
		lat.report(b, "µs", time.Microsecond)
	})
}
