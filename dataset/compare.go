package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"math/bits"
)

// Proven is a leaf hash at an index of a tree of Size leaves, with its
// inclusion proof against that tree's root.
type Proven struct {
	Index    uint64   `json:"index"`
	Size     uint64   `json:"size"`
	LeafHash []byte   `json:"leaf_hash"`
	Proof    [][]byte `json:"proof"`
}

// Difference is one row where a file differs from the committed dataset:
// Kind is "changed" (Committed and File hold the row's two versions),
// "added" (File holds it) or "removed" (Committed holds it). Index is the
// row's index in the tree that holds it (the committed one for a changed
// row); each proof is against that tree's root.
type Difference struct {
	Kind      string  `json:"kind"`
	Index     uint64  `json:"index"`
	Committed *Proven `json:"committed,omitempty"`
	File      *Proven `json:"file,omitempty"`
}

// Result is what Compare finds.
type Result struct {
	Root          []byte `json:"root"` // of the file
	Rows          uint64 `json:"rows"`
	Committed     []byte `json:"committed"`
	CommittedRows uint64 `json:"committed_rows,omitempty"` // 0 when not known
	// Match: the file is the committed dataset.
	Match bool `json:"match"`
	// Appended: the file is the committed dataset with rows after it, and
	// Consistency proves that the committed root is a prefix of the file's.
	Appended    bool     `json:"appended,omitempty"`
	Consistency [][]byte `json:"consistency,omitempty"`
	// Differences are the rows that differ, when the committed leaf hashes
	// were given; at most MaxDifferences, Truncated if there were more.
	Differences []Difference `json:"differences,omitempty"`
	Truncated   bool         `json:"truncated,omitempty"`
}

// MaxDifferences is the most differing rows Compare reports with proofs.
const MaxDifferences = 100

// ErrLeavesNotCommitted is returned when the committed leaf hashes given to
// Compare do not give the committed root.
var ErrLeavesNotCommitted = errors.New("the leaves file does not give the committed root: it is not the committed dataset's")

// Compare checks a file's leaf hashes against a committed root (and row
// count, if rows is not 0). committedLeaves, if not nil, are the committed
// dataset's leaf hashes, which locate the rows that differ.
func Compare(file [][]byte, committed []byte, rows uint64, committedLeaves [][]byte) (*Result, error) {
	if len(file) == 0 {
		return nil, errors.New("the dataset has no rows")
	}
	root, err := RootOf(file)
	if err != nil {
		return nil, err
	}
	res := &Result{Root: root, Rows: uint64(len(file)), Committed: committed, CommittedRows: rows}
	if bytes.Equal(root, committed) && (rows == 0 || rows == res.Rows) {
		res.Match = true
		return res, nil
	}
	if committedLeaves != nil {
		croot, err := RootOf(committedLeaves)
		if err != nil || !bytes.Equal(croot, committed) || rows != 0 && rows != uint64(len(committedLeaves)) {
			return nil, ErrLeavesNotCommitted
		}
		res.CommittedRows = uint64(len(committedLeaves))
		res.Differences, res.Truncated = differences(committedLeaves, file)
		res.Appended = isAppend(res.Differences, res.CommittedRows)
	} else if rows != 0 && rows < res.Rows {
		if prefix, err := RootOf(file[:rows]); err == nil && bytes.Equal(prefix, committed) {
			res.Appended = true
			ft := newTree(file)
			for i := rows; i < res.Rows && len(res.Differences) < MaxDifferences; i++ {
				res.Differences = append(res.Differences, Difference{Kind: "added", Index: i, File: ft.prove(i)})
			}
			res.Truncated = res.Rows-rows > MaxDifferences
		}
	}
	if res.Appended {
		res.Consistency = consistency(res.CommittedRows, file)
	}
	return res, nil
}

func isAppend(ds []Difference, committedRows uint64) bool {
	for _, d := range ds {
		if d.Kind != "added" || d.Index < committedRows {
			return false
		}
	}
	return len(ds) > 0
}

// differences aligns the committed leaves with the file's: the rows before
// the first difference and after the last are common; between them, rows
// of one side only are added or removed, and rows of both are changed.
func differences(committed, file [][]byte) ([]Difference, bool) {
	pre := 0
	for pre < len(committed) && pre < len(file) && bytes.Equal(committed[pre], file[pre]) {
		pre++
	}
	suf := 0
	for suf < len(committed)-pre && suf < len(file)-pre && bytes.Equal(committed[len(committed)-1-suf], file[len(file)-1-suf]) {
		suf++
	}
	cEnd, fEnd := len(committed)-suf, len(file)-suf
	ct, ft := newTree(committed), newTree(file)
	var out []Difference
	add := func(d Difference) bool {
		if len(out) == MaxDifferences {
			return false
		}
		out = append(out, d)
		return true
	}
	i := pre
	for ; i < cEnd && i < fEnd; i++ { // rows on both sides: changed
		if !bytes.Equal(committed[i], file[i]) &&
			!add(Difference{Kind: "changed", Index: uint64(i), Committed: ct.prove(uint64(i)), File: ft.prove(uint64(i))}) {
			return out, true
		}
	}
	for j := i; j < cEnd; j++ { // committed rows the file lacks
		if !add(Difference{Kind: "removed", Index: uint64(j), Committed: ct.prove(uint64(j))}) {
			return out, true
		}
	}
	for j := i; j < fEnd; j++ { // file rows the commitment lacks
		if !add(Difference{Kind: "added", Index: uint64(j), File: ft.prove(uint64(j))}) {
			return out, true
		}
	}
	return out, false
}

// tree holds every complete subtree hash of a list of leaf hashes, so that
// a proof costs O(log² n) hashes, not a pass over the leaves.
type tree struct{ levels [][][]byte } // levels[0] are the leaf hashes

func newTree(hs [][]byte) *tree {
	t := &tree{levels: [][][]byte{hs}}
	for l := t.levels[0]; len(l) > 1; {
		next := make([][]byte, len(l)/2)
		for i := range next {
			next[i] = hasher.HashChildren(l[2*i], l[2*i+1])
		}
		t.levels = append(t.levels, next)
		l = next
	}
	return t
}

func (t *tree) size() int { return len(t.levels[0]) }

func (t *tree) prove(i uint64) *Proven {
	return &Proven{Index: i, Size: uint64(t.size()), LeafHash: t.levels[0][i], Proof: t.inclusion(int(i), 0, t.size())}
}

// split returns the size of an RFC 6962 tree's left subtree: the largest
// power of two below n (n > 1).
func split(n int) int { return 1 << (bits.Len(uint(n-1)) - 1) }

// mth is the RFC 6962 Merkle tree hash of leaves [lo, hi).
func (t *tree) mth(lo, hi int) []byte {
	n := hi - lo
	if n&(n-1) == 0 && lo%n == 0 { // a complete subtree: stored
		return t.levels[bits.TrailingZeros(uint(n))][lo/n]
	}
	k := split(n)
	return hasher.HashChildren(t.mth(lo, lo+k), t.mth(lo+k, hi))
}

// inclusion is RFC 6962's PATH(m, D[lo:hi]).
func (t *tree) inclusion(m, lo, hi int) [][]byte {
	if hi-lo == 1 {
		return nil
	}
	k := split(hi - lo)
	if m < k {
		return append(t.inclusion(m, lo, lo+k), t.mth(lo+k, hi))
	}
	return append(t.inclusion(m-k, lo+k, hi), t.mth(lo, lo+k))
}

// consistency is RFC 6962's PROOF(m, D[n]) over leaf hashes.
func consistency(m uint64, hs [][]byte) [][]byte {
	if m == 0 || m >= uint64(len(hs)) {
		return nil
	}
	t := newTree(hs)
	return t.subproof(int(m), 0, len(hs), true)
}

func (t *tree) subproof(m, lo, hi int, whole bool) [][]byte {
	if m == hi-lo {
		if whole {
			return nil
		}
		return [][]byte{t.mth(lo, hi)}
	}
	k := split(hi - lo)
	if m <= k {
		return append(t.subproof(m, lo, lo+k, whole), t.mth(lo+k, hi))
	}
	return append(t.subproof(m-k, lo+k, hi, false), t.mth(lo, lo+k))
}

// String describes the result in a line per finding.
func (r *Result) String() string {
	var b bytes.Buffer
	switch {
	case r.Match:
		fmt.Fprintf(&b, "verified: %d rows, root %x\n", r.Rows, r.Root)
		return b.String()
	case r.Appended:
		fmt.Fprintf(&b, "NOT VERIFIED: rows were added after the %d committed ones (consistency proof of %d hashes)\n", r.CommittedRows, len(r.Consistency))
	default:
		fmt.Fprintf(&b, "NOT VERIFIED: %d rows with root %x; committed root %x\n", r.Rows, r.Root, r.Committed)
	}
	for _, d := range r.Differences {
		fmt.Fprintf(&b, "row %d %s\n", d.Index, d.Kind)
	}
	if r.Truncated {
		fmt.Fprintf(&b, "more rows differ; the first %d are listed\n", MaxDifferences)
	}
	if len(r.Differences) == 0 {
		b.WriteString("the rows that differ are found with the committed dataset's leaves file (--leaves)\n")
	}
	return b.String()
}
