package clouddnsemu

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/miekg/dns"
	dnsv1 "google.golang.org/api/dns/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
)

const (
	testProject = "proj-1"
	testZone    = "staging-internal"
	testOrigin  = "staging.internal."
	testName    = "redis-session-staging.staging.internal."
)

// startEmu starts an emulator on loopback ports that is closed when the test ends.
func startEmu(t *testing.T, o Options) *Server {
	t.Helper()
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	s, err := Start(context.Background(), o)
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close emulator: %v", err)
		}
	})
	return s
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// newClient is the real google.golang.org/api/dns/v1 client pointed at the emulator.
func newClient(t *testing.T, s *Server) *dnsv1.Service {
	t.Helper()
	svc, err := dnsv1.NewService(context.Background(), option.WithEndpoint(s.URL()), option.WithoutAuthentication())
	if err != nil {
		t.Fatalf("dns client: %v", err)
	}
	return svc
}

// setupZone starts an emulator with the staging zone holding the ADR's A record (ttl 300, 10.0.0.5).
func setupZone(t *testing.T, o Options) (*Server, *dnsv1.Service) {
	t.Helper()
	s := startEmu(t, o)
	if err := s.CreateZone(testProject, testZone, testOrigin, true); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRecordSets(testProject, testZone, RecordSet{Name: testName, Type: "A", TTL: 300, Rrdatas: []string{"10.0.0.5"}}); err != nil {
		t.Fatal(err)
	}
	return s, newClient(t, s)
}

func snapshot(t *testing.T, s *Server) []byte {
	t.Helper()
	b, err := s.Snapshot(testProject, testZone)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantAPIError asserts err is a *googleapi.Error with code and first reason.
func wantAPIError(t *testing.T, err error, code int, reason string) *googleapi.Error {
	t.Helper()
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		t.Fatalf("want *googleapi.Error %d %s, got %T %v", code, reason, err, err)
	}
	if ge.Code != code || len(ge.Errors) == 0 || ge.Errors[0].Reason != reason {
		t.Fatalf("want %d %s, got %d %+v (%s)", code, reason, ge.Code, ge.Errors, ge.Message)
	}
	return ge
}

func rrs(name, typ string, ttl int64, data ...string) *dnsv1.ResourceRecordSet {
	return &dnsv1.ResourceRecordSet{Name: name, Type: typ, Ttl: ttl, Rrdatas: data}
}

// query sends one question to the emulator's DNS server over net ("udp" or "tcp").
func query(t *testing.T, s *Server, network, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, s.DNSAddr())
	if err != nil {
		t.Fatalf("%s query %s %s: %v", network, name, dns.TypeToString[qtype], err)
	}
	return r
}

// answerA returns the A addresses and TTLs in r's answer section.
func answerA(r *dns.Msg) (addrs []string, ttls []uint32) {
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			addrs = append(addrs, a.A.String())
			ttls = append(ttls, a.Hdr.Ttl)
		}
	}
	return addrs, ttls
}

// requireTool fails under CI (where every tool must be installed) and skips elsewhere.
func requireTool(t *testing.T, tool string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required in CI but is not installed", tool)
	}
	t.Skipf("%s not installed", tool)
}

func splitHostPort(t *testing.T, addr string) (string, string) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return host, port
}
