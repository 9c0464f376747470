//go:build !linux

package bench

import (
	"syscall"
	"time"
)

// sysProcAttr is the default elsewhere: there, nodes that a killed
// benchmark leaves behind must be stopped by hand.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// cpuTime is not measured elsewhere.
func cpuTime() time.Duration { return 0 }
