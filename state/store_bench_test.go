package state_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/careledger/careledger/state"
)

// benchKey returns the i-th key of a benchmark state: an account-like key
// ("a/" and 20 bytes) spread at random over the key space, as addresses are.
func benchKey(i uint64) []byte {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], i)
	h := sha256.Sum256(n[:])
	return append([]byte("a/"), h[:20]...)
}

func benchValue(rng *rand.Rand) []byte {
	v := make([]byte, 64)
	for i := 0; i < len(v); i += 8 {
		binary.LittleEndian.PutUint64(v[i:], rng.Uint64())
	}
	return v
}

// preload fills the store in dir with keys benchKey(0..n-1), in versions of
// up to preloadBatch writes. The keys are inserted in sorted order, which
// helps LevelDB; the buckets and the root do not depend on the order. It
// skips fsync (Options.NoSync): the preload is setup, and the timed part
// reopens the store with the real setting.
func preload(b *testing.B, dir string, n int) {
	b.Helper()
	const preloadBatch = 500_000
	start := time.Now()
	s, err := state.Open(dir, state.Options{NoSync: true})
	if err != nil {
		b.Fatalf("Open(%q) = %v; want nil", dir, err)
	}
	defer s.Close()
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = benchKey(uint64(i))
	}
	slices.SortFunc(keys, bytes.Compare)
	rng := rand.New(rand.NewPCG(uint64(n), 1))
	for len(keys) > 0 {
		o := state.NewOverlay(s.Working())
		batch := keys[:min(preloadBatch, len(keys))]
		keys = keys[len(batch):]
		for _, k := range batch {
			if err := o.Set(k, benchValue(rng)); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := s.Apply(o); err != nil {
			b.Fatalf("Apply() = %v; want nil", err)
		}
		if _, _, err := s.Commit(); err != nil {
			b.Fatalf("Commit() = %v; want nil", err)
		}
	}
	b.Logf("preloaded %d keys in %v", n, time.Since(start).Round(time.Millisecond))
}

// commitBlock applies and commits a block of writes writes to s: half
// updates of random keys among the first size, half new keys from *next on.
func commitBlock(b *testing.B, s *state.Store, rng *rand.Rand, writes, size int, next *uint64) {
	o := state.NewOverlay(s.Working())
	for i := range writes {
		k := *next
		if i%2 == 0 {
			k = rng.Uint64N(uint64(size))
		} else {
			*next++
		}
		if err := o.Set(benchKey(k), benchValue(rng)); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.Apply(o); err != nil {
		b.Fatalf("Apply() = %v; want nil", err)
	}
	if _, _, err := s.Commit(); err != nil {
		b.Fatalf("Commit() = %v; want nil", err)
	}
}

// BenchmarkCommitBlock measures a block of writes (half updates of random
// existing keys, half new keys) applied and committed, fsync included, to
// states of different sizes. A block rewrites each touched bucket (a read of
// its record, a handful of entries) and the in-memory paths above them, so
// its cost grows with its writes, not with the state size, apart from
// LevelDB reads that its caches no longer answer. ns/write should stay
// nearly flat across sizes, and a block of 2000 writes should cost about
// four times one of 500.
//
// Building the large states takes a minute or two, once per size; the
// benchmark runs only with -bench.
func BenchmarkCommitBlock(b *testing.B) {
	for _, size := range []int{10_000, 1_000_000, 3_000_000} {
		b.Run(fmt.Sprintf("keys=%d", size), func(b *testing.B) {
			dir := b.TempDir()
			preload(b, dir, size)
			s, err := state.Open(dir, state.Options{})
			if err != nil {
				b.Fatalf("Open(%q) = %v; want nil", dir, err)
			}
			defer s.Close()
			rng := rand.New(rand.NewPCG(uint64(size), 2))
			next := uint64(size) // the next new key
			// Warm LevelDB's caches, as a running node's are.
			for range 5 {
				commitBlock(b, s, rng, 2000, size, &next)
			}
			for _, writes := range []int{500, 2000} {
				b.Run(fmt.Sprintf("writes=%d", writes), func(b *testing.B) {
					for b.Loop() {
						commitBlock(b, s, rng, writes, size, &next)
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*writes), "ns/write")
				})
			}
		})
	}
}
