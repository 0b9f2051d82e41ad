package pubsubemu

import "syscall"

// Own process group so Stop can kill gcloud and java together; gcloud dies
// with us if the test binary is killed.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
