//go:build !linux

package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// udpLoop answers one datagram at a time (systems without recvmmsg).
func (s *DNS) udpLoop(ctx context.Context, conn *net.UDPConn) error {
	in := make([]byte, 65535)
	out := make([]byte, 0, 65535)
	for {
		n, addr, err := conn.ReadFromUDPAddrPort(in)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("read udp: %w", err)
		}
		start := time.Now()
		resp, res := s.Responder.Respond(out[:0], in[:n], false)
		if resp == nil {
			s.dropped()
			continue
		}
		if _, err := conn.WriteToUDPAddrPort(resp, addr); err != nil && s.Log != nil {
			s.Log.Debug("udp write failed", "client", addr, "error", err)
		}
		s.Metrics.observe(res, false, start)
	}
}
