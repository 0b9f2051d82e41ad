// Package server runs the gateway's listeners: DNS over UDP (a raw read loop
// over the fast path), DNS over TCP (miekg/dns), and HTTP for health,
// readiness and metrics.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsfailover/dnsfailover/internal/gateway/wire"
)

// DNS serves queries from a Responder.
type DNS struct {
	Responder *wire.Responder
	Metrics   *Metrics
	Log       *slog.Logger
}

// ServeUDP answers on conns (sockets sharing one port, see ListenUDP), one
// reader per socket, until ctx ends.
func (s *DNS) ServeUDP(ctx context.Context, conns []*net.UDPConn) error {
	stop := context.AfterFunc(ctx, func() {
		for _, c := range conns {
			c.Close()
		}
	})
	defer stop()
	var wg sync.WaitGroup
	errs := make([]error, len(conns))
	for i, c := range conns {
		wg.Go(func() { errs[i] = s.udpLoop(ctx, c) })
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return errors.Join(errs...)
}

func (s *DNS) dropped() {
	if s.Metrics != nil {
		s.Metrics.dropped.Inc()
	}
}

// ServeTCP answers DNS over TCP on ln (RFC 7766) with miekg/dns handling
// framing, pipelining and idle timeouts, until ctx ends.
func (s *DNS) ServeTCP(ctx context.Context, ln net.Listener) error {
	srv := &dns.Server{
		Listener:     ln,
		Net:          "tcp",
		Handler:      dns.HandlerFunc(s.serveTCPMsg),
		ReadTimeout:  5 * time.Second,
		WriteTimeout: 5 * time.Second,
	}
	stop := context.AfterFunc(ctx, func() { _ = srv.Shutdown() })
	defer stop()
	if err := srv.ActivateAndServe(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("serve tcp: %w", err)
	}
	return nil
}

func (s *DNS) serveTCPMsg(w dns.ResponseWriter, r *dns.Msg) {
	start := time.Now()
	raw, err := r.Pack()
	if err != nil {
		fail := new(dns.Msg)
		fail.SetRcode(r, dns.RcodeFormatError)
		_ = w.WriteMsg(fail)
		return
	}
	resp, res := s.Responder.Respond(make([]byte, 0, 512), raw, true)
	if resp == nil {
		return
	}
	if _, err := w.Write(resp); err != nil && s.Log != nil {
		s.Log.Debug("tcp write failed", "client", w.RemoteAddr(), "error", err)
	}
	s.Metrics.observe(res, true, start)
}
