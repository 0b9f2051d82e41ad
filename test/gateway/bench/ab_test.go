package bench_test

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/dnsfailover/dnsfailover/test/gateway/gwproc"
	"github.com/dnsfailover/dnsfailover/test/kubeapi"
)

// BenchmarkGatewayAB compares builds on a shared, noisy machine: rounds of
// short dnsperf runs (all hits, 10k Ingresses) alternating the current
// gateway, another build (GATEWAY_BENCH_OLD_BINARY, e.g. an earlier commit)
// and the plain miekg/dns reference, unpinned and pinned, so load changes hit
// all of them alike. Reports the median QPS of each.
func BenchmarkGatewayAB(b *testing.B) {
	old := os.Getenv("GATEWAY_BENCH_OLD_BINARY")
	if old == "" {
		b.Skip("set GATEWAY_BENCH_OLD_BINARY to the build to compare with")
	}
	const n, rounds, seconds = 10000, 3, 10
	requireDNSPerf(b)
	cluster := kubeapi.StartCluster(b)
	loadIngresses(b, fastClient(b, cluster.Config), 0, n)
	kubeconfig := cluster.KubeconfigFile(b)
	queries := writeQueries(b, n, 0)
	servers := []struct{ name, bin string }{
		{"current", gwproc.Binary(b)},
		{"old", old},
		{"reference", gwproc.Build(b, "./test/gateway/bench/refserver")},
	}
	qps := map[string][]float64{}
	for round := range rounds {
		for _, s := range servers {
			for _, pin := range []struct{ name, server, client string }{{"unpinned", "", ""}, {"pinned", "0", "1"}} {
				args := gatewayArgs(kubeconfig)
				if s.name == "reference" {
					args = []string{"--names", itoa(n)}
				}
				key := s.name + "/" + pin.name
				b.Run(fmt.Sprintf("%s/round-%d", key, round), func(b *testing.B) {
					p := gwproc.Start(b, gwproc.Options{Binary: s.bin, Args: args, CPUs: pin.server})
					if s.name != "reference" {
						p.WaitReady(b, time.Minute, 10*time.Millisecond)
					}
					r := dnsperf(b, p.DNSAddr, queries, seconds, pin.client)
					b.ReportMetric(r.QPS, "qps")
					qps[key] = append(qps[key], r.QPS)
				})
			}
		}
	}
	for key, v := range qps {
		slices.Sort(v)
		b.Logf("%-20s median %.0f qps of %v", key, v[len(v)/2], v)
	}
}

// BenchmarkGatewayABStatus alternates the current build and
// GATEWAY_BENCH_OLD_BINARY for status-write-to-answer rounds of 200 new
// Ingresses each (10k loaded), so both see the same machine load.
func BenchmarkGatewayABStatus(b *testing.B) {
	old := os.Getenv("GATEWAY_BENCH_OLD_BINARY")
	if old == "" {
		b.Skip("set GATEWAY_BENCH_OLD_BINARY to the build to compare with")
	}
	const n, rounds, per = 10000, 3, 200
	cluster := kubeapi.StartCluster(b)
	cs := fastClient(b, cluster.Config)
	loadIngresses(b, cs, 0, n)
	kubeconfig := cluster.KubeconfigFile(b)
	next := n
	all := map[string]latencies{}
	for round := range rounds {
		for _, s := range []struct{ name, bin string }{{"current", gwproc.Binary(b)}, {"old", old}} {
			b.Run(fmt.Sprintf("%s/round-%d", s.name, round), func(b *testing.B) {
				p := gwproc.Start(b, gwproc.Options{Binary: s.bin, Args: gatewayArgs(kubeconfig)})
				p.WaitReady(b, time.Minute, 10*time.Millisecond)
				fromReturn, _ := statusToAnswer(b, cs, p.DNSAddr, next, per)
				next += per
				b.ReportMetric(float64(fromReturn.quantile(0.5).Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(fromReturn.quantile(0.99).Microseconds())/1000, "p99-ms")
				all[s.name] = append(all[s.name], fromReturn...)
			})
		}
	}
	for name, l := range all {
		sortLatencies(l)
		b.Logf("%-8s all rounds: %v", name, l)
	}
}
