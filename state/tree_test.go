package state

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestHashNode(t *testing.T) {
	var zero Hash
	x := sha256.Sum256([]byte("x"))
	if got := hashNode(zero, zero); got != zero {
		t.Errorf("hashNode(0, 0) = %x; want 0", got)
	}
	left, right := hashNode(x, zero), hashNode(zero, x)
	if left == zero || right == zero || left == right {
		t.Errorf("hashNode(x, 0) = %x, hashNode(0, x) = %x; want distinct and non-zero", left, right)
	}
	want := sha256.Sum256(slices.Concat([]byte{nodeTag}, x[:], zero[:]))
	if left != want {
		t.Errorf("hashNode(x, 0) = %x; want SHA-256(2 || x || 0) = %x", left, want)
	}
}

func TestEntryHash(t *testing.T) {
	// The key's length keeps a key and a value from trading bytes.
	if entryHash([]byte("ab"), []byte("c")) == entryHash([]byte("a"), []byte("bc")) {
		t.Errorf(`entryHash("ab", "c") = entryHash("a", "bc"); want different`)
	}
	want := sha256.Sum256([]byte("\x00\x03keyvalue"))
	if got := entryHash([]byte("key"), []byte("value")); got != want {
		t.Errorf(`entryHash("key", "value") = %x; want SHA-256(0 || 3 || "key" || "value") = %x`, got, want)
	}
	if got := (bucket{}).hash(); got != (Hash{}) {
		t.Errorf("empty bucket hash = %x; want 0", got)
	}
}

func TestBucketRecord(t *testing.T) {
	b := bucket{}.set("b", []byte("2")).set("a", []byte("1")).set("c", []byte{})
	b = b.set("b", nil).set("zz", nil) // delete one key and one never there
	if keys := []string{b[0].key, b[1].key}; len(b) != 2 || !slices.Equal(keys, []string{"a", "c"}) {
		t.Fatalf("bucket keys = %v; want [a c]", b)
	}
	rec := b.encode()
	got, err := decodeBucket(rec)
	if err != nil || !slices.Equal(got, b) {
		t.Errorf("decodeBucket(encode(%v)) = %v, %v; want the same bucket", b, got, err)
	}
	swapped := bucket{b[1], b[0]}.encode()
	for name, rec := range map[string][]byte{
		"truncated":    rec[:len(rec)-1],
		"out of order": swapped,
		"huge length":  {0xff, 0xff, 0xff, 0xff, 0x0f},
	} {
		if got, err := decodeBucket(rec); err == nil {
			t.Errorf("decodeBucket(%s record) = %v, nil; want an error", name, got)
		}
	}
}

// TestRootOneKey computes the root of a state holding one key by hand: the
// bucket's hash, then a node on each level with an empty sibling, on the
// side the bucket number's bits give.
func TestRootOneKey(t *testing.T) {
	key, value := []byte("p/0001"), []byte("registered")
	s := OpenMemory()
	o := NewOverlay(s.Working())
	if err := o.Set(key, value); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(o); err != nil {
		t.Fatalf("Apply() = %v; want nil", err)
	}
	root, _, err := s.Commit()
	if err != nil {
		t.Fatalf("Commit() = %v; want nil", err)
	}

	b := bucketOf(key)
	sum := sha256.Sum256(key)
	if want := uint32(sum[0])<<12 | uint32(sum[1])<<4 | uint32(sum[2])>>4; b != want {
		t.Fatalf("bucketOf(%q) = %d; want the first 20 bits of its SHA-256, %d", key, b, want)
	}
	h := bucket{{key: string(key), hash: entryHash(key, value)}}.hash()
	for level := 0; level < bucketBits; level++ {
		if b>>level&1 == 0 {
			h = hashNode(h, Hash{})
		} else {
			h = hashNode(Hash{}, h)
		}
	}
	if !bytes.Equal(root, h[:]) {
		t.Errorf("root of {%q: %q} = %x; want %x", key, value, root, h)
	}
}

// collidingKeys returns groups of keys that share a bucket, so that the
// tests exercise buckets of several entries.
func collidingKeys(groups int) []string {
	seen := make(map[uint32]string)
	var out []string
	for i := 0; groups > 0; i++ {
		k := fmt.Sprintf("c/%d", i)
		b := bucketOf([]byte(k))
		if other, ok := seen[b]; ok {
			out = append(out, other, k)
			groups--
		}
		seen[b] = k
	}
	return out
}

// TestRootDependsOnContentOnly applies random sets and deletions in several
// blocks, several overlays each, and requires the root of a fresh store
// given only the final content in one block.
func TestRootDependsOnContentOnly(t *testing.T) {
	keys := collidingKeys(5)
	for i := range 30 {
		keys = append(keys, fmt.Sprintf("k/%d", i))
	}
	for seed := range uint64(8) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 42))
			s := OpenMemory()
			var dir string
			if seed == 0 { // on disk, reopened at the end: Open checks the root
				dir = t.TempDir()
				var err error
				if s, err = Open(dir, Options{NoSync: true}); err != nil {
					t.Fatalf("Open() = %v; want nil", err)
				}
				t.Cleanup(func() { s.Close() })
			}
			content := make(map[string][]byte)
			var log []string // the operations, for the failure message
			for blk := range 1 + rng.IntN(6) {
				for range 1 + rng.IntN(3) {
					o := NewOverlay(s.Working())
					for range rng.IntN(40) {
						k := keys[rng.IntN(len(keys))]
						if rng.IntN(3) == 0 {
							log = append(log, fmt.Sprintf("%d: delete %s", blk, k))
							o.Delete([]byte(k))
							delete(content, k)
						} else {
							v := []byte(fmt.Sprint(rng.IntN(4)))
							if v[0] == '0' {
								v = []byte{}
							}
							log = append(log, fmt.Sprintf("%d: set %s=%q", blk, k, v))
							o.Set([]byte(k), v)
							content[k] = v
						}
					}
					if _, err := s.Apply(o); err != nil {
						t.Fatalf("Apply() = %v; want nil", err)
					}
				}
				if _, _, err := s.Commit(); err != nil {
					t.Fatalf("Commit() = %v; want nil", err)
				}
			}

			fresh := OpenMemory()
			o := NewOverlay(fresh.Working())
			for _, k := range slices.Sorted(maps.Keys(content)) {
				o.Set([]byte(k), content[k])
			}
			want, err := fresh.Apply(o)
			if err != nil {
				t.Fatalf("Apply() = %v; want nil", err)
			}
			if len(content) == 0 && !bytes.Equal(want, make([]byte, sha256.Size)) {
				t.Errorf("root of an empty state = %x; want 0", want)
			}
			if got := s.Hash(); !bytes.Equal(got, want) {
				t.Errorf("after\n%v\nroot = %x; want the root of the final content %x", log, got, want)
			}
			for _, k := range keys {
				got, err := s.Committed().Get([]byte(k))
				if v, ok := content[k]; err != nil || !bytes.Equal(got, v) || (got == nil) == ok {
					t.Errorf("Get(%q) = %q, %v; want %q (present %v)", k, got, err, v, ok)
				}
			}
			if dir != "" {
				s.Close()
				var err error
				if s, err = Open(dir, Options{}); err != nil {
					t.Fatalf("Open() again = %v; want nil", err)
				}
				if got := s.Hash(); !bytes.Equal(got, want) {
					t.Errorf("reopened root = %x; want %x", got, want)
				}
			}
		})
	}
}
