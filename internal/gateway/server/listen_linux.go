package server

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

const reusePortSupported = true

// reusePort sets SO_REUSEPORT (and a larger receive buffer, so bursts wait
// in the kernel instead of being dropped) before bind.
func reusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); serr != nil {
			return
		}
		_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20)
	})
	if err != nil {
		return fmt.Errorf("socket control: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("SO_REUSEPORT: %w", serr)
	}
	return nil
}
