package dataset

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
)

// A dataset's rows are hashed in chunks of whole rows, on every core: each
// chunk's leaf hashes, and the perfect subtrees they fill, are computed by
// one goroutine, and the chunks' compact ranges are merged in order. The
// tree, and so the root, is the same whatever the chunks.
//
// With short rows, SHA-256 calls, not bytes, are the cost: a row of 25
// bytes costs one compression for its leaf and, on average, two for the
// inner node above it (65 bytes).

// chunkSize is how many bytes of rows a goroutine hashes at a time: large
// enough that merging chunks costs nothing, small enough to keep memory
// small and every core busy.
const chunkSize = 1 << 20

// leavesPerTask is how many leaf hashes RootOf gives a goroutine at a time
// (a power of two, so every task but the last is one perfect subtree).
const leavesPerTask = 1 << 16

// smallRow is the longest row hashed by copying it after its prefix into a
// scratch buffer (one sha256.Sum256 call); longer rows are streamed into a
// reused SHA-256 state.
const smallRow = 1024

// treeHasher hashes leaves and inner nodes as rfc6962.DefaultHasher does,
// into the caller's memory, from scratch buffers it reuses: one
// sha256.Sum256 call (no allocation) per short leaf and per node, and one
// reused SHA-256 state for long rows. One per goroutine.
type treeHasher struct {
	leaf [1 + smallRow]byte      // prefix, row
	node [1 + 2*sha256.Size]byte // prefix, children
	d    hash.Hash
}

func newTreeHasher() *treeHasher {
	t := &treeHasher{d: sha256.New()}
	t.leaf[0] = rfc6962.RFC6962LeafHashPrefix
	t.node[0] = rfc6962.RFC6962NodeHashPrefix
	return t
}

// hashLeaf writes the leaf hash of row into dst[:32].
func (t *treeHasher) hashLeaf(dst, row []byte) {
	if len(row) <= smallRow {
		sum := sha256.Sum256(t.leaf[:1+copy(t.leaf[1:], row)])
		copy(dst, sum[:])
		return
	}
	t.d.Reset()
	t.d.Write(t.leaf[:1])
	t.d.Write(row)
	t.d.Sum(dst[:0:sha256.Size])
}

// hashChildren writes the hash of the node over left and right into
// dst[:32]; dst may overlap either.
func (t *treeHasher) hashChildren(dst, left, right []byte) {
	copy(t.node[1:], left[:sha256.Size])
	copy(t.node[1+sha256.Size:], right[:sha256.Size])
	sum := sha256.Sum256(t.node[:])
	copy(dst, sum[:])
}

// reducePerfect replaces the first hash of hs (a power of two of 32-byte
// hashes, back to back) with the root of the perfect tree over them.
func (t *treeHasher) reducePerfect(hs []byte) {
	for w := len(hs) / sha256.Size; w > 1; w /= 2 {
		for i := range w / 2 {
			t.hashChildren(hs[i*sha256.Size:], hs[2*i*sha256.Size:], hs[(2*i+1)*sha256.Size:])
		}
	}
}

// compactRange returns the hashes of the compact range of leaves [begin,
// begin+n), whose leaf hashes are leaves (n of 32 bytes, back to back, which
// it overwrites): the roots of its perfect subtrees, left to right.
func (t *treeHasher) compactRange(begin uint64, leaves []byte) [][]byte {
	n := uint64(len(leaves) / sha256.Size)
	ids := compact.RangeNodes(begin, begin+n, nil)
	hs := make([][]byte, len(ids))
	flat := make([]byte, len(ids)*sha256.Size) // one allocation for all
	for k, id := range ids {
		lo, hi := id.Coverage()
		sub := leaves[(lo-begin)*sha256.Size : (hi-begin)*sha256.Size]
		t.reducePerfect(sub)
		hs[k] = flat[k*sha256.Size : (k+1)*sha256.Size : (k+1)*sha256.Size]
		copy(hs[k], sub)
	}
	return hs
}

// chunk is a run of whole rows of a dataset and what is computed of them.
type chunk struct {
	data   []byte // rows, each ended by an LF but maybe the file's last
	begin  uint64 // the index of its first row
	rows   int
	leaves []byte   // the rows' leaf hashes, 32 bytes each
	hashes [][]byte // the rows' compact range, if asked for
	done   chan struct{}
}

// hash computes the chunk's leaf hashes and, if ranged, its compact range
// (reducing the leaf hashes in place).
func (c *chunk) hash(t *treeHasher, ranged bool) {
	if need := c.rows * sha256.Size; cap(c.leaves) < need {
		c.leaves = make([]byte, need)
	} else {
		c.leaves = c.leaves[:need]
	}
	data := c.data
	for i := 0; len(data) > 0; i++ {
		row := data
		if j := bytes.IndexByte(data, '\n'); j >= 0 {
			row, data = data[:j], data[j+1:]
		} else {
			data = nil
		}
		t.hashLeaf(c.leaves[i*sha256.Size:], row)
	}
	if ranged {
		c.hashes = t.compactRange(c.begin, c.leaves)
	}
}

// countRows returns the number of rows in data, which ends with an LF unless
// it is the end of the file.
func countRows(data []byte) int {
	n := bytes.Count(data, []byte{'\n'})
	if len(data) > 0 && data[len(data)-1] != '\n' {
		n++
	}
	return n
}

// hashRows reads r's rows in chunks, hashes them on every core, and calls
// use with each chunk in the order of the file, once its leaf hashes (and
// if ranged, its compact range) are computed; use may keep c.leaves, and
// must set it to nil if it does. It returns the number of rows.
func hashRows(r io.Reader, ranged bool, use func(c *chunk)) (uint64, error) {
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan *chunk)
	ordered := make(chan *chunk, 2*workers)
	free := make(chan *chunk, 3*workers+2)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			t := newTreeHasher()
			for c := range jobs {
				c.hash(t, ranged)
				close(c.done)
			}
		})
	}
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		for c := range ordered {
			<-c.done
			use(c)
			select {
			case free <- c:
			default:
			}
		}
	}()
	n, err := readChunks(r, free, func(c *chunk) {
		ordered <- c
		jobs <- c
	})
	close(jobs)
	close(ordered)
	<-consumed
	wg.Wait()
	return n, err
}

// readChunks reads r into chunks of whole rows (taken from free when it
// holds one) and hands each to dispatch. It returns the number of rows.
func readChunks(r io.Reader, free chan *chunk, dispatch func(*chunk)) (uint64, error) {
	next := func() *chunk {
		select {
		case c := <-free:
			c.data, c.hashes, c.done = c.data[:0], nil, make(chan struct{})
			return c
		default:
			return &chunk{data: make([]byte, 0, chunkSize), done: make(chan struct{})}
		}
	}
	var rows uint64
	c := next()
	for eof := false; !eof; {
		for len(c.data) < cap(c.data) && !eof {
			m, err := r.Read(c.data[len(c.data):cap(c.data)])
			c.data = c.data[:len(c.data)+m]
			if err == io.EOF {
				eof = true
			} else if err != nil {
				return rows, fmt.Errorf("read row %d: %w", rows+uint64(bytes.Count(c.data, []byte{'\n'})), err)
			}
		}
		cut := len(c.data)
		if !eof {
			cut = bytes.LastIndexByte(c.data, '\n') + 1
		}
		if unended := len(c.data) - bytes.LastIndexByte(c.data, '\n') - 1; unended > MaxRow {
			return rows, fmt.Errorf("row %d is longer than %d bytes", rows+uint64(bytes.Count(c.data, []byte{'\n'})), MaxRow)
		}
		if cut == 0 && eof { // nothing after the last row
			break
		}
		if cut == 0 { // the buffer holds the start of one long row: grow it
			c.data = append(make([]byte, 0, min(2*cap(c.data), MaxRow+1)), c.data...)
			continue
		}
		tail := c.data[cut:]
		c.data = c.data[:cut]
		c.begin, c.rows = rows, countRows(c.data)
		rows += uint64(c.rows)
		following := next()
		following.data = append(following.data, tail...)
		dispatch(c)
		c = following
	}
	return rows, nil
}

// parallelRoot returns the root of leaf hashes hs (each 32 bytes, at least
// one), hashing its subtrees on every core.
func parallelRoot(hs [][]byte) ([]byte, error) {
	tasks := (len(hs) + leavesPerTask - 1) / leavesPerTask
	ranges := make([][][]byte, tasks)
	var nextTask atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), tasks) {
		wg.Go(func() {
			t := newTreeHasher()
			leaves := make([]byte, leavesPerTask*sha256.Size)
			for k := int(nextTask.Add(1) - 1); k < tasks; k = int(nextTask.Add(1) - 1) {
				part := hs[k*leavesPerTask : min((k+1)*leavesPerTask, len(hs))]
				buf := leaves[:len(part)*sha256.Size]
				for i, h := range part {
					copy(buf[i*sha256.Size:], h)
				}
				ranges[k] = t.compactRange(uint64(k*leavesPerTask), buf)
			}
		})
	}
	wg.Wait()
	whole := rangeFactory.NewEmptyRange(0)
	for k, hashes := range ranges {
		begin := uint64(k * leavesPerTask)
		part, err := rangeFactory.NewRange(begin, min(begin+leavesPerTask, uint64(len(hs))), hashes)
		if err != nil {
			return nil, err
		}
		if err := whole.AppendRange(part, nil); err != nil {
			return nil, err
		}
	}
	return whole.GetRootHash(nil)
}
