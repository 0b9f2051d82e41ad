package server

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strconv"
)

// ListenUDP opens the UDP sockets for addr: on Linux one per CPU
// (GOMAXPROCS), all bound to the same port with SO_REUSEPORT so the kernel
// spreads clients over them and each has its own reader without a shared
// lock; elsewhere one. A ":0" port is resolved by the first socket.
func ListenUDP(ctx context.Context, addr string) ([]*net.UDPConn, error) {
	n := 1
	if reusePortSupported {
		n = runtime.GOMAXPROCS(0)
	}
	lc := net.ListenConfig{Control: reusePort}
	var conns []*net.UDPConn
	closeAll := func() {
		for _, c := range conns {
			c.Close()
		}
	}
	for range n {
		pc, err := lc.ListenPacket(ctx, "udp", addr)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("listen udp %s: %w", addr, err)
		}
		c := pc.(*net.UDPConn)
		conns = append(conns, c)
		if len(conns) == 1 { // later sockets join the port the first one got
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				closeAll()
				return nil, fmt.Errorf("listen udp %s: %w", addr, err)
			}
			addr = net.JoinHostPort(host, strconv.Itoa(c.LocalAddr().(*net.UDPAddr).Port))
		}
	}
	return conns, nil
}
