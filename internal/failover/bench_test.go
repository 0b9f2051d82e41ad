package failover_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"cloud.google.com/go/redis/apiv1/redispb"
	"google.golang.org/api/option"

	"github.com/dnsfailover/dnsfailover/internal/clouddnsemu"
	"github.com/dnsfailover/dnsfailover/internal/config"
	"github.com/dnsfailover/dnsfailover/internal/dnsrec"
	"github.com/dnsfailover/dnsfailover/internal/failover"
	"github.com/dnsfailover/dnsfailover/internal/health"
	"github.com/dnsfailover/dnsfailover/internal/health/memorystorefake"
	"github.com/dnsfailover/dnsfailover/internal/health/redistest"
)

// benchWorld is the fixture's world for benchmarks: the Cloud DNS emulator
// without propagation delay, the Memorystore fake and two real redis-server
// processes; no cooldown, and a settle period too long to restore inline.
type benchWorld struct {
	emu       *clouddnsemu.Server
	cfg       *config.Config
	providers *dnsrec.CloudDNSProviders
	lookup    health.InstanceLookup
}

func newBenchWorld(b *testing.B, consecutive int) *benchWorld {
	b.Helper()
	ctx := context.Background()
	w := &benchWorld{}
	var err error
	w.emu, err = clouddnsemu.Start(ctx, clouddnsemu.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = w.emu.Close() })
	if err := w.emu.CreateZone(project, zoneName, "staging.internal.", true); err != nil {
		b.Fatal(err)
	}
	ra := redistest.Start(b, redistest.WithHost(hostA))
	redistest.Start(b, redistest.WithHost(hostB), redistest.WithPort(ra.Port()))
	ms, err := memorystorefake.Start(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(ms.Close)
	for _, in := range []struct{ name, host string }{{instA, hostA}, {instB, hostB}} {
		ms.Set(&redispb.Instance{Name: in.name, Host: in.host, Port: int32(ra.Port()), State: redispb.Instance_READY, Tier: redispb.Instance_BASIC})
	}
	client, err := ms.NewClient(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = client.Close() })
	w.lookup = health.NewMemorystoreLookup(client)
	if err := w.emu.AddRecordSets(project, zoneName, clouddnsemu.RecordSet{Name: recordFQD, Type: "A", TTL: 300, Rrdatas: []string{hostA}}); err != nil {
		b.Fatal(err)
	}
	w.cfg, err = config.Parse(fmt.Appendf(nil, `
project: %s
records:
  - name: %s
    zone: %s
    normalTTL: 300
    failoverTTL: 60
    port: %d
    allow: {instances: [%s, %s]}
    resolvers: [%q]
    verify: {consecutive: %d, interval: 1ms, timeout: 10s}
    settle: 1h
`, project, recordFQD, zoneName, ra.Port(), instA, instB, w.emu.DNSAddr(), consecutive))
	if err != nil {
		b.Fatal(err)
	}
	w.cfg.Records[0].Cooldown.Duration = 0 // every iteration swaps back at once
	w.providers = dnsrec.NewCloudDNSProviders(option.WithEndpoint(w.emu.URL()), option.WithoutAuthentication())
	return w
}

// reportLatency adds p50/p99 (ms) of the per-iteration durations.
func reportLatency(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	q := func(p float64) float64 {
		return float64(d[min(len(d)-1, int(p*float64(len(d))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(d[len(d)-1])/float64(time.Millisecond), "max-ms")
}

// BenchmarkEmergencyFailover measures the emergency path end to end: request
// -> target checks (Memorystore lookup, real redis-server PING/ROLE) -> CAS of
// A record and state -> verified over DNS. Targets alternate so every
// iteration really moves the record.
func BenchmarkEmergencyFailover(b *testing.B) {
	for _, k := range []int{1, 3} {
		b.Run(fmt.Sprintf("consecutive=%d", k), func(b *testing.B) {
			w := newBenchWorld(b, k)
			e, err := failover.New(w.cfg, failover.Deps{
				Provider: w.providers.Provider, Checker: failover.HealthChecker(w.lookup), Lookup: w.lookup,
				Verifier: dnsrec.NewVerifier(),
			})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background() // no deadline: the TTL restore is deferred, not slept
			targets := []string{instB, instA}
			durations := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				res, err := e.Run(ctx, failover.Request{
					ID: fmt.Sprintf("bench-%d", i), Source: "bench", Record: recordFQD,
					Target: targets[i%2], Mode: failover.Emergency, Reason: "benchmark",
				})
				durations = append(durations, time.Since(start))
				if err != nil || res.Outcome != failover.OutcomeSwapped {
					b.Fatalf("iteration %d: outcome %s, error %v", i, res.Outcome, err)
				}
			}
			b.StopTimer()
			reportLatency(b, durations)
		})
	}
}

// BenchmarkSwapOnly is the compare-and-swap alone (read, decide, changes.create),
// without target checks or verification, for comparison.
func BenchmarkSwapOnly(b *testing.B) {
	w := newBenchWorld(b, 1)
	ctx := context.Background()
	p, err := w.providers.Provider(ctx, project, zoneName)
	if err != nil {
		b.Fatal(err)
	}
	key := dnsrec.Key{Name: recordFQD, Type: "A"}
	hosts := []string{hostB, hostA}
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		res, err := dnsrec.CompareAndSwap(ctx, p, []dnsrec.Key{key}, func(live map[dnsrec.Key]*dnsrec.RecordSet) (dnsrec.Change, error) {
			return dnsrec.Change{
				Deletions: []dnsrec.RecordSet{*live[key]},
				Additions: []dnsrec.RecordSet{{Name: recordFQD, Type: "A", TTL: 60, Data: []string{hosts[i%2]}}},
			}, nil
		}, 0)
		durations = append(durations, time.Since(start))
		if err != nil || res.Applied.Empty() {
			b.Fatalf("iteration %d: %+v, %v", i, res, err)
		}
	}
	b.StopTimer()
	reportLatency(b, durations)
}
