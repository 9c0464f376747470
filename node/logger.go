package node

import (
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	cmtlog "github.com/cometbft/cometbft/libs/log"
)

// newLogger returns CometBFT's logger at level, writing to w, which logs
// the errors that a stop causes as information (see quietStop).
func newLogger(level string, w io.Writer, stopping *atomic.Bool) cmtlog.Logger {
	if level == "none" {
		return cmtlog.NewNopLogger()
	}
	opt, err := cmtlog.AllowLevel(level)
	if err != nil {
		opt = cmtlog.AllowError()
	}
	return quietStop{Logger: cmtlog.NewFilter(cmtlog.NewTMLogger(cmtlog.NewSyncWriter(w)), opt), stopping: stopping}
}

// quietStop logs as information, not as errors, what CometBFT logs as
// errors when a node stops cleanly, so that an operator sees errors only
// when something is wrong: a peer that stops closes its connections (EOF,
// or a reset if data was in flight), and the node that stops closes its
// own under its reactors ("use of closed network connection"), stops
// services twice ("already stopped") and turns away peers that connect
// meanwhile. The latter are errors while the node
// runs, so they are taken for information only once stopping is set.
type quietStop struct {
	cmtlog.Logger
	stopping *atomic.Bool
}

func (q quietStop) Error(msg string, keyvals ...any) {
	if stopNoise(q.stopping.Load(), msg, keyvals) {
		q.Logger.Info(msg, keyvals...)
		return
	}
	q.Logger.Error(msg, keyvals...)
}

func (q quietStop) With(keyvals ...any) cmtlog.Logger {
	return quietStop{Logger: q.Logger.With(keyvals...), stopping: q.stopping}
}

// stopNoise reports whether CometBFT's error msg with keyvals is one that a
// clean stop causes: of a peer's at any time, of this node's while stopping.
// It matches messages and errors of CometBFT v0.38; another version may
// word them otherwise, and they are then logged as errors again.
func stopNoise(stopping bool, msg string, keyvals []any) bool {
	cause := ""
	for i := 0; i+1 < len(keyvals); i += 2 {
		if k, _ := keyvals[i].(string); k == "err" || k == "error" {
			cause = fmt.Sprint(keyvals[i+1])
		}
	}
	switch {
	case msg == "Stopping peer for error" && (cause == "EOF" || strings.HasSuffix(cause, "connection reset by peer")):
		return true // the peer closed the connection
	case msg == "Stopped accept routine, as transport is closed":
		return true // only a stop closes the transport
	case !stopping:
		return false
	}
	return msg == "Won't start a peer - switch is not running" || // a peer connected as the node stopped
		cause == "already stopped" ||
		strings.HasSuffix(cause, "use of closed network connection")
}
