package fhirapi

import (
	"cmp"
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/careledger/careledger/custodian"
	"github.com/careledger/careledger/tx"
)

// Export defaults.
const (
	defaultExportTTL     = time.Hour
	defaultExportRunning = 2  // jobs deciding and writing at once (the work is CPU-bound)
	defaultExportHeld    = 64 // jobs held at once, running or awaiting download
)

var errTooManyExports = errors.New("too many bulk exports at once")

// exports are a node's bulk export jobs. They live in memory: a restart
// loses them (their status answers 404) and the sealed files left on disk,
// whose keys were in memory only, are removed when the server starts.
type exports struct {
	ttl time.Duration // how long a finished job's files stay

	mu      sync.Mutex
	dir     string // "" until the first job, when Options.ExportDir is ""
	jobs    map[string]*exportJob
	running int // jobs running now
	wg      sync.WaitGroup
}

// exportJob is one kick-off and what came of it.
type exportJob struct {
	id      string
	owner   tx.Address // the account whose token kicked it off: only it polls and downloads
	request string     // the kick-off URL
	started time.Time  // the manifest's transactionTime
	dir     string
	key     cipher.AEAD
	cancel  context.CancelFunc

	mu       sync.Mutex
	done     int // patients decided and released
	total    int
	finished bool
	removed  bool
	err      error
	expires  time.Time
	files    []exportFileInfo
	stats    custodian.ExportStats
}

// exportFileInfo is one file of a finished job.
type exportFileInfo struct {
	typ   string // resource type; OperationOutcome for the error file
	name  string // Type.ndjson, or error.ndjson
	num   uint32 // its number in the job: part of each chunk's nonce
	count int    // resources in it
	error bool   // the manifest's error file, not an output
}

func newExports(dir string, ttl time.Duration) *exports {
	if ttl <= 0 {
		ttl = defaultExportTTL
	}
	if dir != "" {
		os.RemoveAll(dir) // a previous run's files: their keys are gone
	}
	return &exports{dir: dir, ttl: ttl, jobs: map[string]*exportJob{}}
}

// start registers a job for owner and returns it, or errTooManyExports.
func (e *exports) start(owner tx.Address, request string) (*exportJob, context.Context, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.running >= defaultExportRunning || len(e.jobs) >= defaultExportHeld {
		return nil, nil, errTooManyExports
	}
	if e.dir == "" {
		d, err := os.MkdirTemp("", "careledger-exports-")
		if err != nil {
			return nil, nil, err
		}
		e.dir = d
	}
	var b [16]byte
	rand.Read(b[:])
	key, err := newSealKey()
	if err != nil {
		return nil, nil, err
	}
	j := &exportJob{id: hex.EncodeToString(b[:]), owner: owner, request: request, started: time.Now().UTC(), key: key}
	j.dir = filepath.Join(e.dir, j.id)
	if err := os.MkdirAll(j.dir, 0o700); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	j.cancel = cancel
	e.jobs[j.id] = j
	e.running++
	e.wg.Add(1)
	return j, ctx, nil
}

// job returns owner's job id, or nil: another account's job is not found.
func (e *exports) job(id string, owner tx.Address) *exportJob {
	e.mu.Lock()
	defer e.mu.Unlock()
	if j := e.jobs[id]; j != nil && j.owner == owner {
		return j
	}
	return nil
}

// finish records the end of j's run and schedules the removal of its
// files after the TTL.
func (e *exports) finish(j *exportJob, files []exportFileInfo, st custodian.ExportStats, err error) {
	defer e.wg.Done()
	e.mu.Lock()
	e.running--
	e.mu.Unlock()
	j.mu.Lock()
	j.finished, j.files, j.stats, j.err = true, files, st, err
	j.expires = time.Now().Add(e.ttl)
	removed := j.removed
	j.mu.Unlock()
	if removed {
		os.RemoveAll(j.dir) // deleted while it ran
		return
	}
	time.AfterFunc(e.ttl, func() { e.remove(j) })
}

// remove cancels j if it runs, forgets it and deletes its files (at once,
// or when its run ends).
func (e *exports) remove(j *exportJob) {
	e.mu.Lock()
	delete(e.jobs, j.id)
	e.mu.Unlock()
	j.cancel()
	j.mu.Lock()
	defer j.mu.Unlock()
	j.removed = true
	if j.finished {
		os.RemoveAll(j.dir)
		j.files = nil
	}
}

// close cancels every job, waits for the running ones and deletes every
// file.
func (e *exports) close() {
	e.mu.Lock()
	jobs := make([]*exportJob, 0, len(e.jobs))
	for _, j := range e.jobs {
		jobs = append(jobs, j)
	}
	dir := e.dir
	e.mu.Unlock()
	for _, j := range jobs {
		e.remove(j)
	}
	e.wg.Wait()
	if dir != "" {
		os.RemoveAll(dir)
	}
}

// progress is the job's custodian.ExportProgress.
func (j *exportJob) progress(done, total int) {
	j.mu.Lock()
	j.done, j.total = done, total
	j.mu.Unlock()
}

// exportWriter writes a job's ndjson files, one per resource type, sealed.
type exportWriter struct {
	j      *exportJob
	open   map[string]*sealedWriter // by name
	files  []exportFileInfo
	byName map[string]int // index into files
}

func newExportWriter(j *exportJob) *exportWriter {
	return &exportWriter{j: j, open: map[string]*sealedWriter{}, byName: map[string]int{}}
}

// write appends one resource to its type's file. content is canonical
// JSON, one line.
func (w *exportWriter) write(typ string, content []byte) error {
	return w.append(exportFileInfo{typ: typ, name: typ + ".ndjson"}, content)
}

// writeError appends an OperationOutcome to the error file.
func (w *exportWriter) writeError(outcome []byte) error {
	return w.append(exportFileInfo{typ: "OperationOutcome", name: "error.ndjson", error: true}, outcome)
}

func (w *exportWriter) append(info exportFileInfo, line []byte) error {
	f, ok := w.open[info.name]
	if !ok {
		info.num = uint32(len(w.files))
		var err error
		if f, err = createSealed(filepath.Join(w.j.dir, info.name), w.j.key, info.num); err != nil {
			return err
		}
		w.open[info.name], w.byName[info.name] = f, len(w.files)
		w.files = append(w.files, info)
	}
	if _, err := f.Write(line); err != nil {
		return err
	}
	if _, err := f.Write([]byte{'\n'}); err != nil {
		return err
	}
	w.files[w.byName[info.name]].count++
	return nil
}

// close finishes every file and returns them in type order.
func (w *exportWriter) close() ([]exportFileInfo, error) {
	var errs []error
	for _, f := range w.open {
		errs = append(errs, f.Close())
	}
	w.open = nil
	slices.SortFunc(w.files, func(a, b exportFileInfo) int { return cmp.Compare(a.typ, b.typ) })
	return w.files, errors.Join(errs...)
}

// abort closes every file unfinished; the job's files are deleted with it.
func (w *exportWriter) abort() {
	for _, f := range w.open {
		f.abort()
	}
}

// file returns the finished file name of j, if it has one.
func (j *exportJob) file(name string) (exportFileInfo, bool) {
	for _, f := range j.files {
		if f.name == name {
			return f, true
		}
	}
	return exportFileInfo{}, false
}
