//go:build !unix

package node

import (
	"errors"
	"os"
)

// errLocked is lockFile's error when another process holds the lock.
var errLocked = errors.New("locked")

// lockFile takes no lock where flock is missing: LevelDB's own lock still
// keeps a second node off the home, with a less helpful message.
func lockFile(*os.File) error { return nil }
