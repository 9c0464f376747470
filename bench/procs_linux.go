package bench

import (
	"syscall"
	"time"
)

// sysProcAttr puts a node in its own process group, so that a Ctrl-C at the
// terminal reaches the benchmark alone, which stops the nodes cleanly; and
// has the kernel kill the node if the benchmark dies without stopping it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// cpuTime returns the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
