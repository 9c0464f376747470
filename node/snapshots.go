package node

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/audit/auditdb"
	"github.com/careledger/careledger/snapshot"
)

// snapshotter writes a snapshot every interval blocks, off the block's
// path: a committed view stays readable while later blocks commit. One is
// written at a time; a height reached meanwhile is skipped.
type snapshotter struct {
	app      *app.App
	audit    *auditdb.Store
	store    *snapshot.Store
	interval int64

	busy     atomic.Bool
	stopping atomic.Bool
	wg       sync.WaitGroup
}

func (s *snapshotter) BlockCommitted(b *app.Block) {
	if b.Height%s.interval != 0 || s.stopping.Load() || !s.busy.CompareAndSwap(false, true) {
		return
	}
	// Listeners run inside Commit, after the state committed b.
	v := s.app.State()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.busy.Store(false)
		_, err := s.store.Create(uint64(v.Version()), func(w *snapshot.Writer) error {
			return app.ExportSnapshot(v, s.audit, stoppable{w, &s.stopping})
		})
		if err != nil && !errors.Is(err, errStopping) {
			fmt.Fprintln(os.Stderr, "snapshot:", err)
		}
	}()
}

// stop abandons a snapshot being written and waits for it, before the
// stores close.
func (s *snapshotter) stop() {
	s.stopping.Store(true)
	s.wg.Wait()
}

var errStopping = errors.New("the node is stopping")

// stoppable is a snapshot sink that fails once the node is stopping.
type stoppable struct {
	snapshot.Sink
	stopping *atomic.Bool
}

func (s stoppable) State(k, v []byte) error {
	if s.stopping.Load() {
		return errStopping
	}
	return s.Sink.State(k, v)
}

func (s stoppable) Leaf(l []byte) error {
	if s.stopping.Load() {
		return errStopping
	}
	return s.Sink.Leaf(l)
}
