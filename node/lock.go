package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrHomeInUse is returned when a running node holds the home that a node,
// verify data or rebuild would open.
var ErrHomeInUse = errors.New("home in use by a running node")

// pidPath is the file whose lock a running node holds, and in which it
// writes its process ID. LevelDB locks each store too, but its error ("resource
// temporarily unavailable") names neither the home nor who holds it.
func pidPath(home string) string { return filepath.Join(home, "node.pid") }

// homeLock is a held lock on a home's PID file.
type homeLock struct{ f *os.File }

// lockHome takes the home's lock and writes this process's ID in its file.
// If another process holds it, the error wraps ErrHomeInUse and names the
// holder's PID. The lock is the kernel's: a node killed with SIGKILL
// leaves the file but not the lock.
func lockHome(home string) (*homeLock, error) {
	f, err := os.OpenFile(pidPath(home), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock home: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if !errors.Is(err, errLocked) {
			return nil, fmt.Errorf("lock home %s: %w", home, err)
		}
		b, _ := os.ReadFile(pidPath(home))
		if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil && pid > 0 {
			return nil, fmt.Errorf("%w: %s (PID %d); stop it first", ErrHomeInUse, home, pid)
		}
		return nil, fmt.Errorf("%w: %s; stop it first", ErrHomeInUse, home)
	}
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock home: write %s: %w", pidPath(home), err)
	}
	return &homeLock{f: f}, nil
}

// release empties the PID file and releases the lock. The file stays: were
// it removed, a process that opened it just before could lock the removed
// file while a third locked a new one.
func (l *homeLock) release() error {
	if l == nil {
		return nil
	}
	err := l.f.Truncate(0)
	return errors.Join(err, l.f.Close()) // closing releases the lock
}

// LockHome takes a stopped node's home for a command that opens its stores
// (verify data, rebuild): while it holds the home, no node starts on it; if
// a node runs on it, the error wraps ErrHomeInUse and names its PID. A home
// that does not exist is not locked (the command reports what is missing).
// The returned function releases the lock.
func LockHome(home string) (unlock func() error, err error) {
	if _, err := os.Stat(home); errors.Is(err, fs.ErrNotExist) {
		return func() error { return nil }, nil
	}
	l, err := lockHome(home)
	if err != nil {
		return nil, err
	}
	return l.release, nil
}
