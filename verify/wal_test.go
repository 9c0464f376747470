package verify

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/consensus"
	cmttypes "github.com/cometbft/cometbft/types"
)

// walOf builds WAL files from records written as "e5" (the marker
// #ENDHEIGHT 5), "m" (a message) and "x" (a damaged record).
func walOf(files ...string) []walFile {
	var out []walFile
	for _, f := range files {
		var wf walFile
		for _, r := range strings.Fields(f) {
			rec := walRecord{end: -1}
			switch {
			case r == "x":
				rec.err = errors.New("damaged")
			case r[0] == 'e':
				rec.end = int64(r[1] - '0')
			}
			wf.recs = append(wf.recs, rec)
		}
		out = append(out, wf)
	}
	return out
}

// TestWALRestart checks what verify data says a restart of a node whose
// last block is 5 does with a damaged WAL, case by case of CometBFT's
// catchupReplay and repairWalFile.
func TestWALRestart(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []string
		want  string
	}{
		{"before the last marker", []string{"e3 m x m e4 m e5 m m"}, "harmless to a restart"},
		{"after the last marker", []string{"e4 m e5 m x m"}, "cuts the head at its first damaged record and replays the records before it"},
		{"the last marker itself", []string{"e4 m x m m"}, "finds no #ENDHEIGHT 5 marker"},
		{"in a rotated file after the marker", []string{"e4 m e5 m x", "m m"}, "a restart fails"},
		{"before the marker and after it in the head", []string{"x e5 m x"}, "cuts the head at its first damaged record and finds no #ENDHEIGHT 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &checker{headers: map[int64][]byte{}, initialHeight: 1}
			got := c.walRestart(walOf(tc.files...), &Summary{Blocks: 5})
			if !strings.Contains(got, tc.want) {
				t.Errorf("walRestart(%q) = %q; want it to say %q", tc.files, got, tc.want)
			}
		})
	}
}

// FuzzReadWAL feeds arbitrary bytes to the WAL reader: it must not panic,
// must end, and must give records at increasing offsets within the file.
func FuzzReadWAL(f *testing.F) {
	var buf bytes.Buffer
	enc := consensus.NewWALEncoder(&buf)
	for h := int64(1); h <= 3; h++ {
		if err := enc.Encode(&consensus.TimedWALMessage{Time: time.Unix(h, 0).UTC(), Msg: consensus.EndHeightMessage{Height: h}}); err != nil {
			f.Fatal(err)
		}
	}
	if err := enc.Encode(&consensus.TimedWALMessage{Time: time.Unix(4, 0).UTC(), Msg: cmttypes.EventDataRoundState{Height: 4, Step: "x"}}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:buf.Len()-3])
	f.Add([]byte{0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "wal")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		recs, err := readWAL(p)
		if err != nil {
			t.Fatalf("readWAL: %v", err)
		}
		last := int64(-1)
		for _, r := range recs {
			if r.offset <= last || r.offset >= int64(len(b)) {
				t.Fatalf("record at offset %d after %d in %d bytes", r.offset, last, len(b))
			}
			last = r.offset
		}
	})
}
