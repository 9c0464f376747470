package verify

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cometbft/cometbft/consensus"
)

// The consensus write-ahead log is CometBFT's record of the messages of the
// height in progress: a group of files, data/cs.wal/wal.000, .001, ... and
// the head, data/cs.wal/wal, each a sequence of records (CRC-32C, length,
// a protobuf message). After block H commits, CometBFT writes the marker
// #ENDHEIGHT H; on start it replays the records after the marker of the
// last committed height. The records before it are of committed heights:
// nothing reads them again.

// walRecord is one record of a WAL file, as CometBFT's decoder reads it.
type walRecord struct {
	offset int64
	end    int64 // the height of an #ENDHEIGHT marker, or -1
	err    error // a consensus.DataCorruptionError: the record does not decode
}

// walFile is one file of the WAL group and its records.
type walFile struct {
	rel  string // relative to the home
	recs []walRecord
}

// walFiles returns the files of the WAL group in the order CometBFT
// writes them: wal.000, wal.001, ..., then the head, wal.
func walFiles(home string) ([]string, error) {
	dir := filepath.Join(home, "data", "cs.wal")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rotated []string
	head := ""
	for _, e := range entries {
		switch name := e.Name(); {
		case name == "wal":
			head = name
		case isRotatedWAL(name):
			rotated = append(rotated, name)
		}
	}
	sort.Strings(rotated) // three or more digits, zero-padded
	if head != "" {
		rotated = append(rotated, head)
	}
	for i, name := range rotated {
		rotated[i] = filepath.Join("data", "cs.wal", name)
	}
	return rotated, nil
}

// isRotatedWAL reports whether name is a rotated file of the WAL group
// ("wal.000"), not the backup a repair leaves ("wal.CORRUPTED").
func isRotatedWAL(name string) bool {
	digits, ok := strings.CutPrefix(name, "wal.")
	if !ok || len(digits) < 3 {
		return false
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readWAL decodes every record of a WAL file with CometBFT's own decoder,
// going on after a damaged record as CometBFT's search for a marker does.
func readWAL(path string) ([]walRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := &countingReader{r: f}
	dec := consensus.NewWALDecoder(cr)
	var recs []walRecord
	for {
		off := cr.n
		msg, err := dec.Decode()
		if errors.Is(err, io.EOF) {
			return recs, nil
		}
		rec := walRecord{offset: off, end: -1}
		switch {
		case consensus.IsDataCorruptionError(err):
			rec.err = err
		case err != nil:
			return recs, err
		default:
			if m, ok := msg.Msg.(consensus.EndHeightMessage); ok {
				rec.end = m.Height
			}
		}
		recs = append(recs, rec)
	}
}

// wal decodes every record of the consensus WAL and, if one is damaged,
// says what the next start of the node does with it.
func (c *checker) wal(sum *Summary) error {
	paths, err := walFiles(c.home)
	if err != nil {
		return err
	}
	var files []walFile
	records := 0
	for _, rel := range paths {
		recs, err := readWAL(filepath.Join(c.home, rel))
		if err != nil {
			c.damage(Damage{Part: rel, Problem: err.Error(), Remedy: remedyBackup})
			continue
		}
		files = append(files, walFile{rel: rel, recs: recs})
		records += len(recs)
	}
	damaged := false
	for _, f := range files {
		for _, r := range f.recs {
			if r.err != nil {
				damaged = true
				c.damage(Damage{
					Part:    filepath.ToSlash(f.rel),
					Problem: fmt.Sprintf("the record at byte %d does not decode: %v", r.offset, r.err),
					Remedy:  c.walRestart(files, sum),
				})
				break // what follows a bad length is misread
			}
		}
	}
	if !damaged && len(paths) > 0 {
		fmt.Fprintf(c.out, "consensus WAL: %d records in %d files, every checksum matches\n", records, len(files))
	}
	return nil
}

// walRestart says what CometBFT v0.38 does on start with a damaged WAL
// (consensus.State.OnStart, catchupReplay, repairWalFile), for a node whose
// block store ends at sum.Blocks.
func (c *checker) walRestart(files []walFile, sum *Summary) string {
	if sum.Blocks == 0 || c.headers == nil {
		return "the block store does not verify, so what a restart replays is unknown"
	}
	end := sum.Blocks // the marker of the last committed height
	if sum.Blocks+1 == c.initialHeight {
		end = 0
	}
	next := sum.Blocks + 1
	startBare := fmt.Sprintf("starts without replaying the WAL: the node's own messages of height %d are lost, "+
		"and priv_validator_state.json still keeps it from signing twice", next)
	noReplay := fmt.Sprintf("finds no #ENDHEIGHT %d marker, logs the error and ", end) + startBare
	fi, _, result := replayWAL(files, end)
	switch result {
	case replayed:
		return fmt.Sprintf("harmless to a restart: the record is of a committed height, before the #ENDHEIGHT %d marker, "+
			"and CometBFT skips it; to clear this report, move data/cs.wal aside with the node stopped: it then "+startBare, end)
	case noMarker:
		return "a restart " + noReplay
	}
	// A damaged record after the marker: CometBFT copies the head file to
	// wal.CORRUPTED, keeps the head's records before its first damaged
	// one, and tries once more; a second failure stops the node.
	head := len(files) - 1
	if fi != head {
		return "a restart fails: the damaged record is after the last committed height's marker, in a rotated file that " +
			"CometBFT does not repair; move data/cs.wal aside with the node stopped: it then " + startBare
	}
	repaired := append([]walFile{}, files...)
	repaired[head] = walFile{rel: files[head].rel, recs: files[head].recs[:firstDamaged(files[head].recs)]}
	const repair = "a restart copies the head file to data/cs.wal/wal.CORRUPTED, cuts the head at its first damaged record and "
	if _, _, result := replayWAL(repaired, end); result == noMarker {
		return repair + noReplay
	}
	return repair + fmt.Sprintf("replays the records before it: the node's own messages of height %d from there on are lost, and "+
		"priv_validator_state.json still keeps it from signing twice", next)
}

// replayResult is the outcome of CometBFT's catch-up replay of a WAL.
type replayResult int

const (
	replayed  replayResult = iota // the marker found, every record after it decoded
	noMarker                      // no marker: the node starts without a replay
	corrupted                     // a damaged record after the marker: a data corruption error
)

// replayWAL does what catchupReplay does: it finds the marker #ENDHEIGHT
// end, searching the newest file first and skipping damaged records, then
// decodes every record after it, through the newer files. For a corrupted
// replay it returns the file of the first damaged record it meets.
func replayWAL(files []walFile, end int64) (file, rec int, _ replayResult) {
	for i := len(files) - 1; i >= 0; i-- {
		for j, r := range files[i].recs {
			if r.err != nil || r.end != end {
				continue
			}
			for k := i; k < len(files); k++ {
				recs := files[k].recs
				from := 0
				if k == i {
					from = j + 1
				}
				if d := firstDamaged(recs[from:]); d < len(recs)-from {
					return k, from + d, corrupted
				}
			}
			return -1, -1, replayed
		}
	}
	return -1, -1, noMarker
}

// firstDamaged returns the index of the first damaged record, or
// len(recs).
func firstDamaged(recs []walRecord) int {
	for j, r := range recs {
		if r.err != nil {
			return j
		}
	}
	return len(recs)
}
