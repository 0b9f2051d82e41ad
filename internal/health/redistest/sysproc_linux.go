package redistest

import "syscall"

// Own process group (Kill reaches fork()ed children) and SIGKILL if the
// test binary dies, so no redis-server outlives its test.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
