//go:build !linux

package bench

import "syscall"

// sysProcAttr is the default elsewhere: there, nodes that a killed
// benchmark leaves behind must be stopped by hand.
func sysProcAttr() *syscall.SysProcAttr { return nil }
