package realkafka

import "syscall"

// sysProcAttr kills the JVM when the test binary dies, so no broker outlives
// an interrupted `go test`.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
