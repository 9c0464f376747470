// Package dataset commits a trial's dataset file to an RFC 6962 Merkle root
// and checks a file against a committed root, offline.
//
// A dataset file is a sequence of rows, one per line: the bytes between
// line feeds (LF), exactly as they are, so that a carriage return, a space
// or a changed quote is a changed row. A final line feed ends the last row
// and does not start an empty one. A CSV file is committed the same way, a
// line a row, its header the first; a quoted field holding a line break
// spans two rows, which still detects any change. Row i is leaf i of the
// tree; its leaf hash is the RFC 6962 hash of the row's bytes
// (SHA-256(0x00 || row)), as transparency-dev/merkle computes it, so any
// RFC 6962 implementation gives the same root.
//
// The root alone tells whether a file is the committed one, and whether
// rows were only appended to it (the committed root is then the root of the
// file's first rows, shown with a consistency proof). To find which row
// changed, or was added or removed in the middle, Compare takes the leaf
// hashes of the committed dataset (a leaves file: one hex hash per line,
// which its sponsor publishes, checked against the root first) and reports
// each differing row with its inclusion proof. The leaf hashes reveal no row
// that cannot be guessed.
//
// dataset imports transparency-dev/merkle and the standard library.
package dataset

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
)

// MaxRow is the longest row a reader accepts, in bytes.
const MaxRow = 16 << 20

var hasher = rfc6962.DefaultHasher

// LeafHash returns the leaf hash of one row.
func LeafHash(row []byte) []byte { return hasher.HashLeaf(row) }

// splitRows is a bufio.SplitFunc for rows: the bytes up to each LF, kept
// exactly (bufio.ScanLines would drop a CR).
func splitRows(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// Rows calls fn with each row of r, in order, and its index. The row's
// bytes are valid only during the call.
func Rows(r io.Reader, fn func(i uint64, row []byte) error) (uint64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxRow)
	sc.Split(splitRows)
	var n uint64
	for sc.Scan() {
		if err := fn(n, sc.Bytes()); err != nil {
			return n, err
		}
		n++
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return n, fmt.Errorf("row %d is longer than %d bytes", n, MaxRow)
		}
		return n, fmt.Errorf("read row %d: %w", n, err)
	}
	return n, nil
}

// LeafHashes returns the leaf hash of every row of r, hashed on every core.
func LeafHashes(r io.Reader) ([][]byte, error) {
	var chunks [][]byte // each chunk's leaf hashes, back to back
	n, err := hashRows(r, false, func(c *chunk) {
		chunks = append(chunks, c.leaves)
		c.leaves = nil // kept
	})
	if err != nil || n == 0 {
		return nil, err
	}
	hs := make([][]byte, 0, n)
	for _, leaves := range chunks {
		for i := 0; i < len(leaves); i += sha256.Size {
			hs = append(hs, leaves[i:i+sha256.Size:i+sha256.Size])
		}
	}
	return hs, nil
}

var rangeFactory = compact.RangeFactory{Hash: hasher.HashChildren}

// Root returns the RFC 6962 root of r's rows and their number, in one pass
// with memory independent of the rows' number (a few chunks of rows in
// flight): what a sponsor commits.
func Root(r io.Reader) ([]byte, uint64, error) {
	whole := rangeFactory.NewEmptyRange(0)
	var mergeErr error
	n, err := hashRows(r, true, func(c *chunk) {
		part, err := rangeFactory.NewRange(c.begin, c.begin+uint64(c.rows), c.hashes)
		if err == nil {
			err = whole.AppendRange(part, nil)
		}
		if mergeErr == nil {
			mergeErr = err
		}
	})
	if err == nil {
		err = mergeErr
	}
	if err != nil {
		return nil, n, err
	}
	if n == 0 {
		return nil, 0, errors.New("the dataset has no rows")
	}
	root, err := whole.GetRootHash(nil)
	return root, n, err
}

// RootOf returns the root of leaf hashes hs (at least one).
func RootOf(hs [][]byte) ([]byte, error) {
	if len(hs) > 1 && allHashes(hs) {
		return parallelRoot(hs)
	}
	cr := rangeFactory.NewEmptyRange(0)
	for _, h := range hs {
		if err := cr.Append(h, nil); err != nil {
			return nil, err
		}
	}
	return cr.GetRootHash(nil)
}

// allHashes reports whether every h is as long as a SHA-256 hash.
func allHashes(hs [][]byte) bool {
	for _, h := range hs {
		if len(h) != sha256.Size {
			return false
		}
	}
	return true
}

// WriteLeaves writes leaf hashes as a leaves file: one lowercase hex hash a
// line.
func WriteLeaves(w io.Writer, hs [][]byte) error {
	bw := bufio.NewWriter(w)
	for _, h := range hs {
		bw.WriteString(hex.EncodeToString(h))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// ReadLeaves parses a leaves file.
func ReadLeaves(r io.Reader) ([][]byte, error) {
	var hs [][]byte
	_, err := Rows(r, func(i uint64, line []byte) error {
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) != 2*hasher.Size() {
			return fmt.Errorf("leaves file line %d is not %d hex digits", i+1, 2*hasher.Size())
		}
		h := make([]byte, hasher.Size())
		if _, err := hex.Decode(h, line); err != nil {
			return fmt.Errorf("leaves file line %d is not hex", i+1)
		}
		hs = append(hs, h)
		return nil
	})
	return hs, err
}
