package tracker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/careledger/careledger/tx"
)

// FileJournal is a Journal of append-only segment files. An accepted
// transaction is appended to the current segment, a batch in one write; a
// segment is deleted once every transaction in it has settled. Nothing is
// rewritten or deleted record by record, so journaling costs a transaction
// little more than copying its bytes. Settling is known only in memory:
// after a restart, a segment that is still there gives back all of its
// transactions, and Recover finds the settled ones committed, or refused
// again. Writes are not synchronous: the journal survives the process, not
// the machine.
//
// A record is the transaction's length (uvarint), the CRC-32C of its bytes
// (4 bytes, big-endian) and the bytes. Reading a segment stops at the first
// record that is cut short or does not match its checksum: the tail a
// failing write left.
type FileJournal struct {
	dir          string
	segmentBytes int64 // the size after which a new segment starts

	mu      sync.Mutex
	cur     *os.File
	curSeg  uint64
	curSize int64
	where   map[tx.Hash]uint64 // the segment of each unsettled transaction
	live    map[uint64]int     // unsettled transactions by segment

	recovered [][]byte // what the segments held at open
}

const segmentExt = ".journal"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// OpenJournal opens the journal in dir, creating it if needed, and reads
// what earlier runs left unsettled.
func OpenJournal(dir string) (*FileJournal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	segs, err := segments(dir)
	if err != nil {
		return nil, err
	}
	j := &FileJournal{dir: dir, segmentBytes: 16 << 20, where: map[tx.Hash]uint64{}, live: map[uint64]int{}}
	for _, seg := range segs {
		b, err := os.ReadFile(j.path(seg))
		if err != nil {
			return nil, fmt.Errorf("read journal: %w", err)
		}
		for _, raw := range readSegment(b) {
			if h := tx.HashOf(raw); !j.has(h) {
				j.where[h] = seg
				j.live[seg]++
				j.recovered = append(j.recovered, raw)
			}
		}
		if j.live[seg] == 0 {
			if err := os.Remove(j.path(seg)); err != nil {
				return nil, fmt.Errorf("remove settled journal segment: %w", err)
			}
		}
	}
	next := uint64(1)
	if len(segs) > 0 {
		next = segs[len(segs)-1] + 1
	}
	if err := j.startSegment(next); err != nil {
		return nil, err
	}
	return j, nil
}

// segments lists the segment numbers in dir, in order.
func segments(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list journal: %w", err)
	}
	var segs []uint64
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), segmentExt)
		if !ok {
			continue
		}
		seg, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("journal holds a file it did not write: %s", e.Name())
		}
		segs = append(segs, seg)
	}
	slices.Sort(segs)
	return segs, nil
}

// readSegment returns the transactions of a segment, up to the first
// record that is cut short or corrupt, or that appendRecord did not write.
func readSegment(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		n, size := binary.Uvarint(b)
		if size <= 0 || size != len(binary.AppendUvarint(nil, n)) || uint64(len(b)-size) < 4 || n > uint64(len(b)-size-4) {
			break
		}
		sum := binary.BigEndian.Uint32(b[size:])
		raw := b[size+4 : size+4+int(n)]
		if crc32.Checksum(raw, castagnoli) != sum {
			break
		}
		out = append(out, raw)
		b = b[size+4+int(n):]
	}
	return out
}

// appendRecord appends raw's record to b.
func appendRecord(b, raw []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(raw)))
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(raw, castagnoli))
	return append(b, raw...)
}

func (j *FileJournal) path(seg uint64) string {
	return filepath.Join(j.dir, fmt.Sprintf("%016d%s", seg, segmentExt))
}

func (j *FileJournal) has(h tx.Hash) bool {
	_, ok := j.where[h]
	return ok
}

// startSegment makes seg the segment appended to. j.mu is held.
func (j *FileJournal) startSegment(seg uint64) error {
	f, err := os.OpenFile(j.path(seg), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("start journal segment: %w", err)
	}
	j.cur, j.curSeg, j.curSize = f, seg, 0
	return nil
}

// Save appends the transactions not journaled yet, raws[i] with hash hs[i].
func (j *FileJournal) Save(hs []tx.Hash, raws [][]byte) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	var buf []byte
	for i, h := range hs {
		if !j.has(h) {
			buf = appendRecord(buf, raws[i])
			j.where[h] = j.curSeg
			j.live[j.curSeg]++
		}
	}
	if len(buf) == 0 {
		return nil
	}
	if _, err := j.cur.Write(buf); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if j.curSize += int64(len(buf)); j.curSize < j.segmentBytes {
		return nil
	}
	full := j.curSeg
	if err := j.cur.Close(); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if err := j.startSegment(full + 1); err != nil {
		return err
	}
	return j.dropIfSettled(full)
}

// Remove marks transactions settled, and deletes the segments all of whose
// transactions have.
func (j *FileJournal) Remove(hs []tx.Hash) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	var errs []error
	for _, h := range hs {
		seg, ok := j.where[h]
		if !ok {
			continue
		}
		delete(j.where, h)
		j.live[seg]--
		errs = append(errs, j.dropIfSettled(seg))
	}
	return errors.Join(errs...)
}

// dropIfSettled deletes segment seg if it is full and holds nothing
// unsettled. j.mu is held.
func (j *FileJournal) dropIfSettled(seg uint64) error {
	if seg == j.curSeg || j.live[seg] > 0 {
		return nil
	}
	delete(j.live, seg)
	if err := os.Remove(j.path(seg)); err != nil {
		return fmt.Errorf("remove settled journal segment: %w", err)
	}
	return nil
}

// Journaled returns the unsettled transactions the journal held when it
// was opened.
func (j *FileJournal) Journaled() ([][]byte, error) { return j.recovered, nil }

// Close closes the current segment.
func (j *FileJournal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.cur.Close()
}

// CheckSegment returns how many whole records a journal segment's bytes
// hold and how many bytes follow them, which reading the segment ignores:
// none in a segment a clean stop left (for the offline check of a home).
func CheckSegment(b []byte) (records, trailing int) {
	recs := readSegment(b)
	used := 0
	for _, raw := range recs {
		used += len(binary.AppendUvarint(nil, uint64(len(raw)))) + 4 + len(raw)
	}
	return len(recs), len(b) - used
}
