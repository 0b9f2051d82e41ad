package failover_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/redis/apiv1/redispb"
	"github.com/miekg/dns"
	"google.golang.org/api/option"

	"github.com/dnsfailover/dnsfailover/internal/clouddnsemu"
	"github.com/dnsfailover/dnsfailover/internal/config"
	"github.com/dnsfailover/dnsfailover/internal/dnsrec"
	"github.com/dnsfailover/dnsfailover/internal/failover"
	"github.com/dnsfailover/dnsfailover/internal/health"
	"github.com/dnsfailover/dnsfailover/internal/health/memorystorefake"
	"github.com/dnsfailover/dnsfailover/internal/health/redistest"
)

const (
	project   = "acme-staging"
	zoneName  = "staging-internal"
	recordFQD = "redis-session-staging.staging.internal."
	instA     = "projects/acme-staging/locations/europe-west1/instances/session-a"
	instB     = "projects/acme-staging/locations/europe-west1/instances/session-b"
	hostA     = "127.0.0.2"
	hostB     = "127.0.0.3"
)

// fixture is a whole failover world on loopback: the Cloud DNS emulator
// serving the zone over DNS, the Memorystore API, and two real redis-server
// processes on distinct loopback addresses sharing one port, as two
// Memorystore instances do.
type fixture struct {
	emu       *clouddnsemu.Server
	ms        *memorystorefake.Server
	a, b      *redistest.Server
	port      int
	cfg       *config.Config
	providers *dnsrec.CloudDNSProviders
	lookup    health.InstanceLookup
}

type fixtureOpt func(*config.Record)

func newFixture(t *testing.T, opts ...fixtureOpt) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{}
	var err error
	f.emu, err = clouddnsemu.Start(ctx, clouddnsemu.Options{HTTPAddr: "127.0.0.1:0", DNSAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("start Cloud DNS emulator: %v", err)
	}
	t.Cleanup(func() { _ = f.emu.Close() })
	if err := f.emu.CreateZone(project, zoneName, "staging.internal.", true); err != nil {
		t.Fatalf("create zone: %v", err)
	}
	f.a = redistest.Start(t, redistest.WithHost(hostA))
	f.port = f.a.Port()
	f.b = redistest.Start(t, redistest.WithHost(hostB), redistest.WithPort(f.port))

	f.ms, err = memorystorefake.Start(ctx)
	if err != nil {
		t.Fatalf("start Memorystore fake: %v", err)
	}
	t.Cleanup(f.ms.Close)
	for _, in := range []struct{ name, host string }{{instA, hostA}, {instB, hostB}} {
		f.ms.Set(&redispb.Instance{Name: in.name, Host: in.host, Port: int32(f.port), State: redispb.Instance_READY, Tier: redispb.Instance_BASIC})
	}
	client, err := f.ms.NewClient(ctx)
	if err != nil {
		t.Fatalf("memorystore client: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	f.lookup = health.NewMemorystoreLookup(client)

	if err := f.emu.AddRecordSets(project, zoneName, clouddnsemu.RecordSet{Name: recordFQD, Type: "A", TTL: 300, Rrdatas: []string{hostA}}); err != nil {
		t.Fatalf("seed A record: %v", err)
	}
	cfg := fmt.Sprintf(`
project: %s
records:
  - name: %s
    zone: %s
    normalTTL: 300
    failoverTTL: 60
    port: %d
    targets: [%s, %s]
    allow: {instances: [%s, %s], cidrs: [127.0.0.2/31]}
    resolvers: [%q]
    verify: {consecutive: 3, interval: 5ms, timeout: 5s}
    cooldown: 10m
    settle: 1s
`, project, recordFQD, zoneName, f.port, instA, instB, instA, instB, f.emu.DNSAddr())
	f.cfg, err = config.Parse([]byte(cfg))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	for _, o := range opts {
		o(&f.cfg.Records[0])
	}
	f.providers = dnsrec.NewCloudDNSProviders(option.WithEndpoint(f.emu.URL()), option.WithoutAuthentication())
	return f
}

// engine returns an engine over the fixture; deps may override parts.
func (f *fixture) engine(t *testing.T, mod ...func(*failover.Deps)) *failover.Engine {
	t.Helper()
	d := failover.Deps{
		Provider: f.providers.Provider,
		Checker:  failover.HealthChecker(f.lookup),
		Lookup:   f.lookup,
		Verifier: dnsrec.NewVerifier(),
	}
	for _, m := range mod {
		m(&d)
	}
	e, err := failover.New(f.cfg, d)
	if err != nil {
		t.Fatalf("engine: %v", err)
	}
	return e
}

// snapshot is the zone's canonical content, for "unchanged" assertions.
func (f *fixture) snapshot(t *testing.T) string {
	t.Helper()
	b, err := f.emu.Snapshot(project, zoneName)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return string(b)
}

// liveA reads the A record over the API.
func (f *fixture) liveA(t *testing.T) *dnsrec.RecordSet {
	t.Helper()
	p, err := f.providers.Provider(context.Background(), project, zoneName)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := p.Get(context.Background(), dnsrec.Key{Name: recordFQD, Type: "A"})
	if err != nil {
		t.Fatalf("read A: %v", err)
	}
	return rs
}

// liveState reads and parses the state TXT over the API.
func (f *fixture) liveState(t *testing.T) *failover.State {
	t.Helper()
	p, _ := f.providers.Provider(context.Background(), project, zoneName)
	rs, err := p.Get(context.Background(), dnsrec.Key{Name: failover.StateName(recordFQD), Type: "TXT"})
	if err != nil {
		t.Fatalf("read state: %v", err)
	}
	st, err := failover.ParseState(rs)
	if err != nil {
		t.Fatalf("parse state: %v", err)
	}
	return st
}

// resolve asks the emulator's DNS server over UDP, as a pod's resolver would.
func (f *fixture) resolve(t *testing.T, proto string) ([]string, uint32) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(recordFQD, dns.TypeA)
	c := &dns.Client{Net: proto, Timeout: 2 * time.Second}
	in, _, err := c.Exchange(m, f.emu.DNSAddr())
	if err != nil {
		t.Fatalf("dns %s query: %v", proto, err)
	}
	var out []string
	var ttl uint32
	for _, rr := range in.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
			ttl = a.Hdr.Ttl
		}
	}
	return out, ttl
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
