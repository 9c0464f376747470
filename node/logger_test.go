package node

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
)

// TestQuietStop logs CometBFT's errors through the node's logger, running
// and stopping: those a clean stop causes are information (not shown at
// level error), of a peer's stop at any time and of this node's only while
// it stops; other errors stay errors.
func TestQuietStop(t *testing.T) {
	closedConn := errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: use of closed network connection")
	for _, tc := range []struct {
		msg      string
		keyvals  []any
		stopping bool
		want     bool // logged as an error
	}{
		{"Stopping peer for error", []any{"peer", "p", "err", io.EOF}, false, false},
		{"Stopping peer for error", []any{"err", errors.New("read tcp a->b: read: connection reset by peer")}, false, false},
		{"Stopping peer for error", []any{"err", closedConn}, false, true},
		{"Stopping peer for error", []any{"err", closedConn}, true, false},
		{"Stopping peer for error", []any{"err", errors.New("auth failure: secret conn failed")}, true, true},
		{"error while stopping peer", []any{"error", "already stopped"}, false, true},
		{"error while stopping peer", []any{"error", "already stopped"}, true, false},
		{"Error stopping pool", []any{"err", errors.New("already stopped")}, true, false},
		{"Won't start a peer - switch is not running", []any{"peer", "p"}, false, true},
		{"Won't start a peer - switch is not running", []any{"peer", "p"}, true, false},
		{"Stopped accept routine, as transport is closed", nil, false, false},
		{"Failed to save state", []any{"err", errors.New("disk full")}, true, true},
		{"CONSENSUS FAILURE!!!", []any{"err", "panic"}, false, true},
	} {
		var buf bytes.Buffer
		var stopping atomic.Bool
		stopping.Store(tc.stopping)
		l := newLogger("error", &buf, &stopping).With("module", "p2p")
		l.Error(tc.msg, tc.keyvals...)
		if got := strings.HasPrefix(buf.String(), "E["); got != tc.want {
			t.Errorf("Error(%q, %v) stopping %v: logged as an error %v; want %v\n%s", tc.msg, tc.keyvals, tc.stopping, got, tc.want, buf.String())
		}
		buf.Reset()
		newLogger("info", &buf, &stopping).Error(tc.msg, tc.keyvals...)
		if !strings.HasPrefix(buf.String(), "E[") && !strings.HasPrefix(buf.String(), "I[") {
			t.Errorf("Error(%q, %v) at level info: %q; want it logged", tc.msg, tc.keyvals, buf.String())
		}
	}
}
