package dataset_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"

	"github.com/careledger/careledger/dataset"
)

// TestRootMatchesRFC6962Vectors: a file whose rows are the reference
// leaves of transparency-dev/merkle has their reference roots, for every
// prefix (roots[n] is the root of n leaves; no leaf holds a line feed).
func TestRootMatchesRFC6962Vectors(t *testing.T) {
	leaves, roots := testonly.LeafInputs(), testonly.RootHashes()
	for n := 1; n <= len(leaves); n++ {
		var file []byte
		for _, l := range leaves[:n] {
			file = append(append(file, l...), '\n')
		}
		root, rows, err := dataset.Root(bytes.NewReader(file))
		if err != nil || rows != uint64(n) || !bytes.Equal(root, roots[n]) {
			t.Errorf("Root(first %d vectors) = %x, %d, %v; want %x, %d", n, root, rows, err, roots[n], n)
		}
	}
}

func TestRowsAreLinesExactly(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"a\nb\n", []string{"a", "b"}},
		{"a\nb", []string{"a", "b"}},
		{"a\r\nb\n", []string{"a\r", "b"}},
		{"a\n\nb\n", []string{"a", "", "b"}},
		{"", nil},
	}
	for _, tc := range tests {
		var got []string
		dataset.Rows(strings.NewReader(tc.in), func(_ uint64, row []byte) error { got = append(got, string(row)); return nil })
		if !slices.Equal(got, tc.want) {
			t.Errorf("Rows(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

// syntheaCSV writes the observations of the Synthea patients as a trial
// dataset: one CSV row per Observation with a quantity, each patient under
// a pseudonym.
func syntheaCSV(t *testing.T) []byte {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "data", "synthea", "google-fhir-data-pipes-synthea-hiv")
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(names) == 0 {
		t.Skipf("no Synthea bundles in %s", dir)
	}
	slices.Sort(names)
	var csv bytes.Buffer
	csv.WriteString("subject,date,loinc,value,unit\n")
	for k, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var bundle struct {
			Entry []struct {
				Resource struct {
					ResourceType      string          `json:"resourceType"`
					EffectiveDateTime string          `json:"effectiveDateTime"`
					Code              json.RawMessage `json:"code"` // an array in some resource types
					ValueQuantity     *struct {
						Value float64 `json:"value"`
						Unit  string  `json:"unit"`
					} `json:"valueQuantity"`
				} `json:"resource"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(b, &bundle); err != nil {
			t.Fatal(err)
		}
		for _, e := range bundle.Entry {
			r := e.Resource
			var code struct {
				Coding []struct{ Code string } `json:"coding"`
			}
			if r.ResourceType != "Observation" || r.ValueQuantity == nil || json.Unmarshal(r.Code, &code) != nil || len(code.Coding) == 0 {
				continue
			}
			fmt.Fprintf(&csv, "P-%04d,%s,%s,%g,%s\n", k+1, r.EffectiveDateTime, code.Coding[0].Code, r.ValueQuantity.Value, r.ValueQuantity.Unit)
		}
	}
	if bytes.Count(csv.Bytes(), []byte{'\n'}) < 10 {
		t.Skip("the Synthea patient has too few observations")
	}
	return csv.Bytes()
}

func leafHashes(t *testing.T, file []byte) [][]byte {
	t.Helper()
	hs, err := dataset.LeafHashes(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	return hs
}

// checkProof verifies a difference's proof with transparency-dev/merkle
// against the root of the tree it names.
func checkProof(t *testing.T, p *dataset.Proven, root []byte) {
	t.Helper()
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, p.Index, p.Size, p.LeafHash, p.Proof, root); err != nil {
		t.Errorf("inclusion proof of row %d of %d: %v", p.Index, p.Size, err)
	}
}

func lines(file []byte) [][]byte { return bytes.SplitAfter(file, []byte{'\n'}) }

func TestCompareSyntheaDataset(t *testing.T) {
	orig := syntheaCSV(t)
	committedLeaves := leafHashes(t, orig)
	root, rows, err := dataset.Root(bytes.NewReader(orig))
	if err != nil {
		t.Fatal(err)
	}
	// The leaves file round-trips through its text form.
	var lf bytes.Buffer
	dataset.WriteLeaves(&lf, committedLeaves)
	if got, err := dataset.ReadLeaves(&lf); err != nil || len(got) != len(committedLeaves) {
		t.Fatalf("ReadLeaves(WriteLeaves) = %d hashes, %v; want %d", len(got), err, len(committedLeaves))
	}

	res, err := dataset.Compare(committedLeaves, root, rows, nil)
	if err != nil || !res.Match {
		t.Fatalf("Compare(the committed file) = %+v, %v; want a match", res, err)
	}

	ls := lines(orig)
	edit := func(f func(ls [][]byte) [][]byte) []byte { return bytes.Join(f(slices.Clone(ls)), nil) }
	tests := []struct {
		name     string
		file     []byte
		kind     string
		index    uint64
		appended bool
	}{
		{"a value changed", edit(func(ls [][]byte) [][]byte {
			ls[5] = bytes.Replace(ls[5], []byte(","), []byte(",9"), 1)
			return ls
		}), "changed", 5, false},
		{"a row added in the middle", edit(func(ls [][]byte) [][]byte {
			return slices.Insert(ls, 7, []byte("P-0001,2020-01-01T00:00:00Z,4548-4,5.1,%\n"))
		}), "added", 7, false},
		{"a row removed", edit(func(ls [][]byte) [][]byte { return slices.Delete(ls, 3, 4) }), "removed", 3, false},
		{"a row appended", append(slices.Clone(orig), "P-0001,2030-01-01T00:00:00Z,4548-4,4.9,%\n"...), "added", rows, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := leafHashes(t, tc.file)
			res, err := dataset.Compare(file, root, rows, committedLeaves)
			if err != nil {
				t.Fatal(err)
			}
			if res.Match || len(res.Differences) != 1 || res.Appended != tc.appended {
				t.Fatalf("Compare = match %v, appended %v, %+v; want one %s row at %d", res.Match, res.Appended, res.Differences, tc.kind, tc.index)
			}
			d := res.Differences[0]
			if d.Kind != tc.kind || d.Index != tc.index {
				t.Fatalf("difference = %s at %d; want %s at %d", d.Kind, d.Index, tc.kind, tc.index)
			}
			if d.Committed != nil {
				checkProof(t, d.Committed, root)
			}
			if d.File != nil {
				checkProof(t, d.File, res.Root)
			}
			if tc.appended {
				if err := proof.VerifyConsistency(rfc6962.DefaultHasher, rows, res.Rows, res.Consistency, root, res.Root); err != nil {
					t.Errorf("consistency proof: %v", err)
				}
			}
			// Without the committed leaves, only an append is located.
			res, err = dataset.Compare(file, root, rows, nil)
			if err != nil || res.Match || res.Appended != tc.appended || (len(res.Differences) > 0) != tc.appended {
				t.Errorf("Compare without leaves = %+v, %v; want a mismatch, located only if appended", res, err)
			}
		})
	}
	t.Run("leaves of another dataset", func(t *testing.T) {
		if _, err := dataset.Compare(committedLeaves[2:], root, rows, committedLeaves[1:]); err != dataset.ErrLeavesNotCommitted {
			t.Fatalf("Compare with wrong leaves = %v; want ErrLeavesNotCommitted", err)
		}
	})
}

// TestProofsMatchTheReferenceTree checks every inclusion proof of trees of
// 1 to 40 leaves against transparency-dev/merkle's reference tree.
func TestProofsMatchTheReferenceTree(t *testing.T) {
	for n := 1; n <= 40; n++ {
		ref := testonly.New(rfc6962.DefaultHasher)
		var committed, file [][]byte
		for i := range n {
			row := fmt.Appendf(nil, "row %d", i)
			ref.AppendData(row)
			committed = append(committed, dataset.LeafHash(row))
		}
		for i := range n {
			file = slices.Clone(committed)
			file[i] = dataset.LeafHash([]byte("changed"))
			res, err := dataset.Compare(file, ref.Hash(), uint64(n), committed)
			if err != nil || len(res.Differences) != 1 {
				t.Fatalf("n=%d i=%d: Compare = %+v, %v", n, i, res, err)
			}
			want, _ := ref.InclusionProof(uint64(i), uint64(n))
			if got := res.Differences[0].Committed.Proof; !slices.EqualFunc(got, want, bytes.Equal) {
				t.Fatalf("n=%d i=%d: proof %x; want %x", n, i, got, want)
			}
		}
	}
}

func FuzzReadLeaves(f *testing.F) {
	f.Add([]byte(strings.Repeat("ab", 32) + "\n"))
	f.Add([]byte(strings.Repeat("0", 64) + "\r\n" + strings.Repeat("f", 64)))
	f.Add([]byte("zz\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		hs, err := dataset.ReadLeaves(bytes.NewReader(b))
		if err != nil {
			return
		}
		var out bytes.Buffer
		dataset.WriteLeaves(&out, hs)
		again, err := dataset.ReadLeaves(&out)
		if err != nil || !slices.EqualFunc(hs, again, bytes.Equal) {
			t.Fatalf("ReadLeaves(WriteLeaves(ReadLeaves(%q))) = %x, %v", b, again, err)
		}
	})
}

// FuzzCompare: any file checked against any committed dataset is a match
// exactly when the rows are the same, and every difference's proof
// verifies.
func FuzzCompare(f *testing.F) {
	f.Add([]byte("a\nb\nc\n"), []byte("a\nc\n"))
	f.Add([]byte("a\nb\n"), []byte("a\nb\nc\n"))
	f.Add([]byte("x\r\ny\n"), []byte("x\ny\n"))
	f.Fuzz(func(t *testing.T, committedFile, file []byte) {
		c, _ := dataset.LeafHashes(bytes.NewReader(committedFile))
		fl, _ := dataset.LeafHashes(bytes.NewReader(file))
		if len(c) == 0 || len(fl) == 0 {
			return
		}
		root, _ := dataset.RootOf(c)
		res, err := dataset.Compare(fl, root, uint64(len(c)), c)
		if err != nil {
			t.Fatal(err)
		}
		if same := slices.EqualFunc(c, fl, bytes.Equal); res.Match != same || !same && len(res.Differences) == 0 {
			t.Fatalf("Compare(%q, %q) = match %v with %d differences; rows equal: %v", committedFile, file, res.Match, len(res.Differences), same)
		}
		for _, d := range res.Differences {
			if d.Committed != nil {
				checkProof(t, d.Committed, root)
			}
			if d.File != nil {
				checkProof(t, d.File, res.Root)
			}
		}
	})
}
