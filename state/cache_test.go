package state

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"testing"
)

// cacheTestKeys returns keys that share buckets two or three at a time,
// and as many that have a bucket to themselves.
func cacheTestKeys() [][]byte {
	byBucket := map[uint32][][]byte{}
	var shared, alone [][]byte
	for i := 0; len(shared) < 300 || len(alone) < 150; i++ {
		k := []byte(fmt.Sprintf("k/%d", i))
		b := bucketOf(k)
		byBucket[b] = append(byBucket[b], k)
		switch n := len(byBucket[b]); {
		case n == 2 && len(shared) < 300:
			shared = append(shared, byBucket[b]...)
		case n == 3 && len(shared) < 300:
			shared = append(shared, k)
		case n == 1 && len(alone) < 150:
			alone = append(alone, k)
		}
	}
	return append(shared, alone...)
}

// randomBlock changes model with writes and deletions of keys, and returns
// the overlay that does the same to s.
func randomBlock(t *testing.T, s *Store, rng *rand.Rand, keys [][]byte, model map[string][]byte) *Overlay {
	t.Helper()
	o := NewOverlay(s.Working())
	for range 80 {
		k := keys[rng.IntN(len(keys))]
		var err error
		if rng.IntN(3) == 0 {
			delete(model, string(k))
			err = o.Delete(k)
		} else {
			v := fmt.Appendf(nil, "v%d", rng.Uint64())
			model[string(k)] = v
			err = o.Set(k, v)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return o
}

// checkView requires v to read what model holds, for every key.
func checkView(t *testing.T, v View, keys [][]byte, model map[string][]byte) {
	t.Helper()
	if err := compareView(v, keys, model); err != nil {
		t.Fatal(err)
	}
}

func compareView(v View, keys [][]byte, model map[string][]byte) error {
	for _, k := range keys {
		got, err := v.Get(k)
		if err != nil {
			return fmt.Errorf("version %d: Get(%q) = %v", v.Version(), k, err)
		}
		if want := model[string(k)]; !bytes.Equal(got, want) || (got == nil) != (want == nil) {
			return fmt.Errorf("version %d: Get(%q) = %q; want %q", v.Version(), k, got, want)
		}
	}
	return nil
}

// TestBucketCacheReads: every committed view, kept while later versions
// commit, reads what the state held at its version, whether the cache holds
// every bucket, a few, or none; the roots agree; and a reopened store reads
// the same.
func TestBucketCacheReads(t *testing.T) {
	keys := cacheTestKeys()
	var roots [][]byte
	for _, budget := range []int64{0, 2 << 10, -1} {
		t.Run(fmt.Sprintf("budget=%d", budget), func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir, Options{NoSync: true, BucketCache: budget})
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			model := map[string][]byte{}
			var views []View
			var models []map[string][]byte
			for range 25 {
				if _, err := s.Apply(randomBlock(t, s, rng, keys, model)); err != nil {
					t.Fatal(err)
				}
				if _, _, err := s.Commit(); err != nil {
					t.Fatal(err)
				}
				views, models = append(views, s.Committed()), append(models, maps.Clone(model))
				for i, v := range views {
					checkView(t, v, keys, models[i])
				}
			}
			roots = append(roots, s.Hash())
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s, err = Open(dir, Options{NoSync: true, BucketCache: budget})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			checkView(t, s.Committed(), keys, model)
		})
	}
	for _, r := range roots[1:] {
		if !bytes.Equal(r, roots[0]) {
			t.Fatalf("roots differ with the cache's budget: %x", roots)
		}
	}
}

// TestBucketCacheConcurrentReaders reads an old view from other goroutines
// while blocks commit: run with -race.
func TestBucketCacheConcurrentReaders(t *testing.T) {
	keys := cacheTestKeys()
	s := OpenMemory()
	defer s.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	model := map[string][]byte{}
	if _, err := s.Apply(randomBlock(t, s, rng, keys, model)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	first, firstModel := s.Committed(), maps.Clone(model)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := compareView(first, keys, firstModel); err != nil {
					t.Error(err)
					return
				}
				for _, k := range keys[:20] { // the latest version: for the race detector
					if _, err := s.Committed().Get(k); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	for range 20 {
		if _, err := s.Apply(randomBlock(t, s, rng, keys, model)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}
