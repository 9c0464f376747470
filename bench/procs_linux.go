package bench

import "syscall"

// sysProcAttr puts a node in its own process group, so that a Ctrl-C at the
// terminal reaches the benchmark alone, which stops the nodes cleanly; and
// has the kernel kill the node if the benchmark dies without stopping it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
