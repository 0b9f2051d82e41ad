// Package clouddnsemu is a local Cloud DNS emulator: the dns/v1 REST API (managedZones, rrsets,
// changes) with the real API's change semantics, plus an authoritative DNS server (UDP and TCP)
// that serves every zone once its changes are done.
package clouddnsemu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// DefaultNameServers are reported for new zones when Options.NameServers is empty.
var DefaultNameServers = []string{
	"ns-cloud-e1.googledomains.com.", "ns-cloud-e2.googledomains.com.",
	"ns-cloud-e3.googledomains.com.", "ns-cloud-e4.googledomains.com.",
}

// Options configures Start.
type Options struct {
	HTTPAddr         string        // REST API listen address, e.g. "127.0.0.1:0"
	DNSAddr          string        // DNS listen address, UDP and TCP on the same port, e.g. "127.0.0.1:0"
	PropagationDelay time.Duration // a change stays "pending" this long and DNS serves the old data until then
	NameServers      []string      // nameServers reported for new zones; default DefaultNameServers
	Logger           *slog.Logger  // nil discards logs
}

// Server is a running emulator.
type Server struct {
	st       *store
	faults   faultState
	counters *counterSet
	log      *slog.Logger

	httpLn  net.Listener
	httpSrv *http.Server
	udp     *dns.Server
	tcp     *dns.Server

	closeOnce sync.Once
	closeErr  error
	stop      context.CancelFunc
}

// Start listens on both addresses and serves until Close or until ctx is done.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.HTTPAddr == "" {
		o.HTTPAddr = "127.0.0.1:0"
	}
	if o.DNSAddr == "" {
		o.DNSAddr = "127.0.0.1:0"
	}
	if o.PropagationDelay < 0 {
		return nil, fmt.Errorf("clouddnsemu: negative propagation delay %v", o.PropagationDelay)
	}
	ns := o.NameServers
	if len(ns) == 0 {
		ns = DefaultNameServers
	}
	for _, n := range ns {
		if !validDomain(n) || n[len(n)-1] != '.' {
			return nil, fmt.Errorf("clouddnsemu: name server %q is not a fully qualified domain name", n)
		}
	}
	s := &Server{st: newStore(o.PropagationDelay, ns), counters: newCounterSet(), log: newLogger(o.Logger)}

	var err error
	if s.httpLn, err = net.Listen("tcp", o.HTTPAddr); err != nil {
		return nil, fmt.Errorf("clouddnsemu: listen http %s: %w", o.HTTPAddr, err)
	}
	pc, ln, err := listenDNS(o.DNSAddr)
	if err != nil {
		_ = s.httpLn.Close()
		return nil, err
	}
	h := &dnsHandler{st: s.st}
	s.udp = &dns.Server{PacketConn: pc, Handler: h}
	s.tcp = &dns.Server{Listener: ln, Handler: h, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second}
	s.httpSrv = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}

	var started sync.WaitGroup
	started.Add(2)
	s.udp.NotifyStartedFunc, s.tcp.NotifyStartedFunc = started.Done, started.Done
	go func() { _ = s.udp.ActivateAndServe() }()
	go func() { _ = s.tcp.ActivateAndServe() }()
	started.Wait() // Shutdown fails on a dns.Server that has not started yet
	go func() {
		if err := s.httpSrv.Serve(s.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", "err", err)
		}
	}()
	ctx, s.stop = context.WithCancel(ctx)
	go func() {
		<-ctx.Done()
		_ = s.Close()
	}()
	s.log.Info("cloud dns emulator started", "api", s.URL(), "dns", s.DNSAddr(), "propagationDelay", o.PropagationDelay)
	return s, nil
}

// listenDNS binds UDP and TCP on the same port; with port 0 it retries until both are free.
func listenDNS(addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("clouddnsemu: dns address %q: %w", addr, err)
	}
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("clouddnsemu: listen udp %s: %w", addr, err)
		}
		tcpAddr := net.JoinHostPort(host, fmt.Sprint(pc.LocalAddr().(*net.UDPAddr).Port))
		ln, err := net.Listen("tcp", tcpAddr)
		if err == nil {
			return pc, ln, nil
		}
		_ = pc.Close()
		lastErr = err
		if port != "0" {
			break
		}
	}
	return nil, nil, fmt.Errorf("clouddnsemu: listen tcp for %s: %w", addr, lastErr)
}

// URL is the API endpoint with a trailing slash, for option.WithEndpoint and
// CLOUDSDK_API_ENDPOINT_OVERRIDES_DNS.
func (s *Server) URL() string { return "http://" + s.httpLn.Addr().String() + "/" }

// DNSAddr is the host:port serving every zone authoritatively over UDP and TCP.
func (s *Server) DNSAddr() string { return s.udp.PacketConn.LocalAddr().String() }

// Close stops the API and DNS servers.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.stop()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		errs := []error{s.udp.ShutdownContext(ctx), s.tcp.ShutdownContext(ctx)}
		if err := s.httpSrv.Shutdown(ctx); err != nil {
			errs = append(errs, s.httpSrv.Close())
		}
		s.closeErr = errors.Join(errs...)
		if s.closeErr != nil {
			s.closeErr = fmt.Errorf("clouddnsemu: close: %w", s.closeErr)
		}
	})
	return s.closeErr
}

// SetFaults replaces the fault injection settings; safe for concurrent use.
func (s *Server) SetFaults(f Faults) { s.faults.set(f) }

// Faults returns the remaining fault settings (counts decrease as faults fire).
func (s *Server) Faults() Faults { return s.faults.get() }

// Counters returns a copy of the call, change and fault counters.
func (s *Server) Counters() Counters {
	c := s.counters.snapshot()
	c.ChangesApplied = s.st.appliedCount()
	return c
}

// SetPropagationDelay changes the delay for changes applied from now on.
func (s *Server) SetPropagationDelay(d time.Duration) {
	s.st.mu.Lock()
	s.st.delay = max(d, 0)
	s.st.mu.Unlock()
}
