package dataset_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/careledger/careledger/dataset"
)

// naiveLeaves splits file into rows the plain way and hashes each with
// rfc6962.DefaultHasher: the reference the parallel hashing must match.
func naiveLeaves(file []byte) [][]byte {
	if len(file) == 0 {
		return nil
	}
	rows := bytes.Split(bytes.TrimSuffix(file, []byte{'\n'}), []byte{'\n'})
	hs := make([][]byte, len(rows))
	for i, row := range rows {
		hs[i] = rfc6962.DefaultHasher.HashLeaf(row)
	}
	return hs
}

func naiveRoot(hs [][]byte) []byte {
	cr := (&compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}).NewEmptyRange(0)
	for _, h := range hs {
		cr.Append(h, nil)
	}
	root, _ := cr.GetRootHash(nil)
	return root
}

// randomFile has n rows of random lengths (some empty, some longer than a
// chunk of the parallel hashing), with or without a final LF.
func randomFile(r *rand.Rand, n int) []byte {
	var b bytes.Buffer
	for i := range n {
		length := r.IntN(60)
		switch r.IntN(1000) {
		case 0:
			length = 0
		case 1:
			length = 1000 + r.IntN(5000) // streamed into the hasher
		}
		if r.IntN(20000) == 0 {
			length = 1<<20 + r.IntN(1<<20) // longer than a chunk
		}
		for range length {
			b.WriteByte("abc,\r 0123456789"[r.IntN(16)])
		}
		if i < n-1 || r.IntN(2) == 0 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// TestParallelHashingMatchesReference: Root, LeafHashes and RootOf, which
// hash chunks of rows on every core, give the leaves and root of the plain
// one-row-at-a-time computation, for files around chunk and task sizes and
// readers that return a little at a time.
func TestParallelHashingMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sizes := []int{1, 2, 3, 7, 64, 1000, 40000, 65535, 65536, 65537, 150001}
	for _, n := range sizes {
		file := randomFile(r, n)
		want := naiveLeaves(file)
		wantRoot := naiveRoot(want)
		for name, reader := range map[string]io.Reader{
			"whole": bytes.NewReader(file),
			"half":  iotest.HalfReader(bytes.NewReader(file)),
		} {
			root, rows, err := dataset.Root(reader)
			if err != nil || rows != uint64(len(want)) || !bytes.Equal(root, wantRoot) {
				t.Fatalf("%d rows, %s reads: Root = %x, %d, %v; want %x, %d", n, name, root, rows, err, wantRoot, len(want))
			}
		}
		got, err := dataset.LeafHashes(iotest.HalfReader(bytes.NewReader(file)))
		if err != nil || len(got) != len(want) {
			t.Fatalf("%d rows: LeafHashes gave %d, %v; want %d", n, len(got), err, len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("%d rows: leaf %d = %x; want %x", n, i, got[i], want[i])
			}
		}
		if root, err := dataset.RootOf(got); err != nil || !bytes.Equal(root, wantRoot) {
			t.Fatalf("%d rows: RootOf = %x, %v; want %x", n, root, err, wantRoot)
		}
	}
}

func TestRowLongerThanMaxIsRefused(t *testing.T) {
	file := "a\nb\n" + strings.Repeat("x", dataset.MaxRow+1) + "\nc\n"
	if _, _, err := dataset.Root(strings.NewReader(file)); err == nil || !strings.Contains(err.Error(), "row 2 is longer") {
		t.Errorf("Root of a file with a row of MaxRow+1 bytes: %v; want row 2 is longer", err)
	}
	file = "a\n" + strings.Repeat("x", dataset.MaxRow) + "\n"
	if _, rows, err := dataset.Root(strings.NewReader(file)); err != nil || rows != 2 {
		t.Errorf("Root of a file with a row of MaxRow bytes: %d rows, %v; want 2, nil", rows, err)
	}
}

func TestReadErrorIsReported(t *testing.T) {
	broken := io.MultiReader(strings.NewReader("a\nb\n"), iotest.ErrReader(errors.New("disk gone")))
	if _, _, err := dataset.Root(broken); err == nil || !strings.Contains(err.Error(), "disk gone") {
		t.Errorf("Root of a failing reader: %v; want its error", err)
	}
}

// FuzzRoot: any file's root and leaf hashes, hashed in chunks on every
// core, are those of the plain one-row-at-a-time computation.
func FuzzRoot(f *testing.F) {
	for _, seed := range []string{"", "\n", "a", "a\n", "a\nb", "a\r\n\nb\n", "\n\n\n", "x,y,z\n1,2,3\n"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, file []byte) {
		want := naiveLeaves(file)
		root, rows, err := dataset.Root(iotest.HalfReader(bytes.NewReader(file)))
		if len(want) == 0 {
			if err == nil {
				t.Fatalf("Root of an empty file = %x, %d; want an error", root, rows)
			}
			return
		}
		if err != nil || rows != uint64(len(want)) || !bytes.Equal(root, naiveRoot(want)) {
			t.Fatalf("Root = %x, %d, %v; want %x, %d", root, rows, err, naiveRoot(want), len(want))
		}
		got, err := dataset.LeafHashes(bytes.NewReader(file))
		if err != nil || len(got) != len(want) {
			t.Fatalf("LeafHashes gave %d, %v; want %d", len(got), err, len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("leaf %d = %x; want %x", i, got[i], want[i])
			}
		}
	})
}
