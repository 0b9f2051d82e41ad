package redistest

import (
	"context"
	"os"
	"testing"
	"time"
)

// Server is a Process owned by a test: it is killed in t.Cleanup and its
// methods fail the test instead of returning errors.
type Server struct {
	*Process
	t testing.TB
}

// Option configures Start.
type Option func(t testing.TB, c *Config)

// WithPassword sets requirepass.
func WithPassword(pw string) Option {
	return func(_ testing.TB, c *Config) { c.Password = pw }
}

// WithTLS serves TLS only, with a fresh CA and a server certificate for the
// server's host (see Server.TLS for the CA bundle). The files are made in
// Start, after all options, so WithHost may come in any order.
func WithTLS() Option {
	return func(_ testing.TB, c *Config) { c.TLS = &TLSFiles{} }
}

// WithReplicaOf starts the server as a replica of addr; masterAuth is the
// master's password ("" for none).
func WithReplicaOf(addr, masterAuth string) Option {
	return func(_ testing.TB, c *Config) { c.ReplicaOf, c.MasterAuth = addr, masterAuth }
}

// WithHost binds the server to another loopback address, e.g. 127.0.0.2, so
// that several servers can share a port and differ by IP, as Memorystore
// instances do.
func WithHost(host string) Option {
	return func(_ testing.TB, c *Config) { c.Host = host }
}

// WithPort fixes the port instead of picking a free one.
func WithPort(port int) Option {
	return func(_ testing.TB, c *Config) { c.Port = port }
}

// WithArgs appends redis-server arguments.
func WithArgs(args ...string) Option {
	return func(_ testing.TB, c *Config) { c.Args = append(c.Args, args...) }
}

// RequireBinary returns the redis-server path. When it is missing the test
// fails under CI=true (CI must exercise the real server) and is skipped
// otherwise.
func RequireBinary(t testing.TB) string {
	t.Helper()
	bin, err := FindBinary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v; CI must run the real server", err)
		}
		t.Skipf("%v; skipping", err)
	}
	return bin
}

// Start runs a redis-server on a free 127.0.0.1 port for the rest of the test.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := Config{Binary: RequireBinary(t), Dir: t.TempDir()}
	for _, o := range opts {
		o(t, &cfg)
	}
	if cfg.TLS != nil && cfg.TLS.CAFile == "" {
		var hosts []string
		if cfg.Host != "" {
			hosts = append(hosts, cfg.Host)
		}
		files, err := NewTLSFiles(t.TempDir(), hosts...)
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		cfg.TLS = files
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	p, err := Launch(ctx, cfg)
	if err != nil {
		t.Fatalf("%v", err)
	}
	s := &Server{Process: p, t: t}
	t.Cleanup(func() {
		if err := p.Kill(); err != nil {
			t.Errorf("%v", err)
		}
		if t.Failed() {
			t.Logf("redis-server %s log tail: %s", p.Addr(), p.logTail(20))
		}
	})
	return s
}

// Kill stops the server with SIGKILL (clients see connection refused).
func (s *Server) Kill() {
	s.t.Helper()
	if err := s.Process.Kill(); err != nil {
		s.t.Fatalf("%v", err)
	}
}

// Restart kills and starts the server again on the same port.
func (s *Server) Restart() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := s.Process.Restart(ctx); err != nil {
		s.t.Fatalf("%v", err)
	}
}

// ReplicaOf makes the server a replica of addr.
func (s *Server) ReplicaOf(addr string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Process.ReplicaOf(ctx, addr); err != nil {
		s.t.Fatalf("%v", err)
	}
}

// PromoteToMaster runs REPLICAOF NO ONE.
func (s *Server) PromoteToMaster() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Process.PromoteToMaster(ctx); err != nil {
		s.t.Fatalf("%v", err)
	}
}
