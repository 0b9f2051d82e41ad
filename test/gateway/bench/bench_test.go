// Package bench_test measures the gateway binary end to end: a real
// kube-apiserver loaded with thousands of Ingresses, cmd/gateway as a child
// process, dnsperf and a fixed-rate Go prober on loopback. Run with
// -benchtime 1x (each benchmark is one measured run; see README.md).
package bench_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/dnsfailover/dnsfailover/test/gateway/gwproc"
	"github.com/dnsfailover/dnsfailover/test/kubeapi"
)

// gatewayArgs serves the benchmark zone from Ingresses only, as the
// k8s_gateway reference run did.
func gatewayArgs(kubeconfig string) []string {
	return []string{"--kubeconfig", kubeconfig, "--zones", zone, "--ns", "ns1." + zone + "=192.0.2.53", "--sources", "Ingress"}
}

const mib = 1 << 20

// BenchmarkGateway10k loads 10,000 Ingresses into a real API server and
// measures the gateway binary: start to ready, RSS, dnsperf max QPS
// (unpinned and pinned, all hits and 80/20 hits/NXDOMAIN), latency at a
// fixed rate, and status-write-to-answer time.
func BenchmarkGateway10k(b *testing.B) {
	const n = 10000
	seconds := 20
	if s := os.Getenv("GATEWAY_BENCH_SECONDS"); s != "" { // shorter runs while iterating
		if v, err := time.ParseDuration(s + "s"); err == nil && v > 0 && v <= 60*time.Second {
			seconds = int(v.Seconds())
		}
	}
	requireDNSPerf(b)
	cluster := kubeapi.StartCluster(b)
	cs := fastClient(b, cluster.Config)
	loadIngresses(b, cs, 0, n)
	kubeconfig := cluster.KubeconfigFile(b)
	allHits := writeQueries(b, n, 0)
	mixed := writeQueries(b, n, 5) // every 5th name missing: 80 % hits, 20 % NXDOMAIN

	b.Run("startup", func(b *testing.B) {
		p := gwproc.Start(b, gwproc.Options{Args: gatewayArgs(kubeconfig)})
		rcodes := probeDuringStartup(b, p)
		ready := p.WaitReady(b, time.Minute, time.Millisecond)
		rss, _ := p.RSS()
		b.ReportMetric(float64(ready.Microseconds())/1000, "ms-to-ready")
		b.ReportMetric(float64(rss)/mib, "MiB-RSS-after-sync")
		b.Logf("start to /readyz 200: %v; RSS after sync %.1f MiB; answers to app-00000 A while starting: %v", ready, float64(rss)/mib, rcodes())
	})

	for _, pin := range []struct{ name, server, client string }{{"unpinned", "", ""}, {"pinned", "0", "1"}} {
		b.Run("dnsperf/"+pin.name, func(b *testing.B) {
			args := gatewayArgs(kubeconfig)
			profileDir := os.Getenv("GATEWAY_BENCH_PROFILE_DIR") // CPU profiles of the gateway under dnsperf
			if profileDir != "" {
				args = append(args, "--pprof")
			}
			p := gwproc.Start(b, gwproc.Options{Args: args, CPUs: pin.server})
			p.WaitReady(b, time.Minute, 10*time.Millisecond)
			for _, q := range []struct{ name, file string }{{"all-hits", allHits}, {"80hit-20nx", mixed}} {
				b.Run(q.name, func(b *testing.B) {
					stop := sampleRSS(p)
					var profile func()
					if profileDir != "" {
						profile = cpuProfile(b, p, seconds-2, filepath.Join(profileDir, pin.name+"-"+q.name+".pprof"))
					}
					r := dnsperf(b, p.DNSAddr, q.file, seconds, pin.client)
					peak := stop()
					if profile != nil {
						profile()
					}
					b.ReportMetric(r.QPS, "qps")
					b.ReportMetric(float64(r.Lost), "lost")
					b.ReportMetric(r.AvgLatSec*1e3, "avg-ms")
					b.ReportMetric(float64(peak)/mib, "MiB-RSS-under-load")
					b.Logf("%s: %.0f qps, sent %d, lost %d, %s; RSS under load up to %.1f MiB", q.name, r.QPS, r.Sent, r.Lost, r.Rcodes, float64(peak)/mib)
					if strings.Contains(r.Rcodes, "SERVFAIL") {
						b.Errorf("SERVFAIL under load: %s", r.Rcodes)
					}
				})
			}
		})
	}

	// The same dnsperf runs against a plain miekg/dns server (refserver) under
	// the same machine load: the issue measured that design at about 1.3x
	// k8s_gateway here, so gateway/reference x 1.3 estimates the ratio to
	// k8s_gateway independently of what else the machine is doing.
	b.Run("dnsperf-reference", func(b *testing.B) {
		ref := gwproc.Build(b, "./test/gateway/bench/refserver")
		for _, pin := range []struct{ name, server, client string }{{"unpinned", "", ""}, {"pinned", "0", "1"}} {
			b.Run(pin.name, func(b *testing.B) {
				p := gwproc.Start(b, gwproc.Options{Binary: ref, Args: []string{"--names", itoa(n)}, CPUs: pin.server})
				r := dnsperf(b, p.DNSAddr, allHits, seconds, pin.client)
				b.ReportMetric(r.QPS, "qps")
				b.ReportMetric(float64(r.Lost), "lost")
				b.Logf("plain miekg/dns reference, all hits: %.0f qps, sent %d, lost %d, %s", r.QPS, r.Sent, r.Lost, r.Rcodes)
			})
		}
	})

	b.Run("fixed-rate", func(b *testing.B) {
		p := gwproc.Start(b, gwproc.Options{Args: gatewayArgs(kubeconfig)})
		p.WaitReady(b, time.Minute, 10*time.Millisecond)
		names := make([]string, n)
		for i := range names {
			names[i] = ingressHost(i)
		}
		for _, rate := range []int{10000, 50000} {
			r, err := probeFixedRate(p.DNSAddr, names, rate, 10*time.Second)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%d qps for 10s: sent %d, answered %d, bad %d, latency %v", rate, r.Sent, r.Received, r.Bad, r.Latency)
			if rate == 10000 {
				b.ReportMetric(float64(r.Latency.quantile(0.5).Microseconds()), "p50-µs@10k")
				b.ReportMetric(float64(r.Latency.quantile(0.99).Microseconds()), "p99-µs@10k")
			} else {
				b.ReportMetric(float64(r.Latency.quantile(0.5).Microseconds()), "p50-µs@50k")
				b.ReportMetric(float64(r.Latency.quantile(0.99).Microseconds()), "p99-µs@50k")
			}
			if r.Bad > 0 {
				b.Errorf("%d bad answers at %d qps", r.Bad, rate)
			}
		}
	})

	b.Run("status-to-answer", func(b *testing.B) {
		p := gwproc.Start(b, gwproc.Options{Args: gatewayArgs(kubeconfig)})
		p.WaitReady(b, time.Minute, 10*time.Millisecond)
		fromReturn, fromCall := statusToAnswer(b, cs, p.DNSAddr, n, 200)
		b.Logf("status write returned -> first correct answer: %v", fromReturn)
		b.Logf("status write called   -> first correct answer: %v", fromCall)
		b.ReportMetric(float64(fromReturn.quantile(0.5).Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(fromReturn.quantile(0.99).Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(fromCall.quantile(0.99).Microseconds())/1000, "p99-ms-from-call")
	})
}

// statusToAnswer creates Ingresses [first, first+count) one at a time and
// measures, for each, the time from its status write (returned, and called)
// to the first correct answer over UDP from addr.
func statusToAnswer(b *testing.B, cs kubernetes.Interface, addr string, first, count int) (fromReturn, fromCall latencies) {
	b.Helper()
	conn, err := net.Dial("udp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for i := first; i < first+count; i++ {
		ing, err := cs.NetworkingV1().Ingresses(namespace).Create(ctx, newIngress(i), metav1.CreateOptions{})
		if err != nil {
			b.Fatal(err)
		}
		call := time.Now()
		if err := writeStatus(ctx, cs, ing, i); err != nil {
			b.Fatal(err)
		}
		returned := time.Now()
		if _, err := firstCorrectAnswer(conn, ingressHost(i), ingressIP(i).As4(), 2*time.Second); err != nil {
			b.Fatal(err)
		}
		answered := time.Now()
		fromReturn = append(fromReturn, answered.Sub(returned))
		fromCall = append(fromCall, answered.Sub(call))
	}
	sortLatencies(fromReturn)
	sortLatencies(fromCall)
	return fromReturn, fromCall
}

// BenchmarkGatewayRSS measures the gateway's RSS after sync with 1k, 10k and
// 50k Ingresses in the API server (one cluster, grown between runs).
func BenchmarkGatewayRSS(b *testing.B) {
	cluster := kubeapi.StartCluster(b)
	cs := fastClient(b, cluster.Config)
	kubeconfig := cluster.KubeconfigFile(b)
	sizes := []int{1000, 10000, 50000}
	if env := os.Getenv("GATEWAY_BENCH_RSS_SIZES"); env != "" { // e.g. "10000" while iterating
		sizes = nil
		for f := range strings.SplitSeq(env, ",") {
			n, err := strconv.Atoi(f)
			if err != nil || n <= 0 || n > 100000 {
				b.Fatalf("GATEWAY_BENCH_RSS_SIZES: bad size %q", f)
			}
			sizes = append(sizes, n)
		}
	}
	profileDir := os.Getenv("GATEWAY_BENCH_PROFILE_DIR") // heap profiles after settling
	loaded := 0
	for _, n := range sizes {
		loadIngresses(b, cs, loaded, n)
		loaded = n
		b.Run(itoa(n), func(b *testing.B) {
			args := gatewayArgs(kubeconfig)
			if profileDir != "" {
				args = append(args, "--pprof")
			}
			p := gwproc.Start(b, gwproc.Options{Args: args})
			ready := p.WaitReady(b, 2*time.Minute, 5*time.Millisecond)
			rss, _ := p.RSS()
			hwm, _ := p.PeakRSS()
			time.Sleep(5 * time.Second) // settle: the list's garbage collected
			settled, _ := p.RSS()
			if profileDir != "" {
				code, body, err := p.HTTPGet(context.Background(), "/debug/pprof/heap")
				if err != nil || code != http.StatusOK {
					b.Fatalf("heap profile: %d %v", code, err)
				}
				if err := os.WriteFile(filepath.Join(profileDir, "heap-"+itoa(n)+".pprof"), []byte(body), 0o644); err != nil {
					b.Fatal(err)
				}
			}
			// Every object must be served before the number counts.
			last := ingressHost(n - 1)
			if r := ask(b, p.DNSAddr, last); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
				b.Fatalf("%s not served: %v", last, r)
			}
			b.ReportMetric(float64(ready.Microseconds())/1000, "ms-to-ready")
			b.ReportMetric(float64(rss)/mib, "MiB-RSS-at-ready")
			b.ReportMetric(float64(settled)/mib, "MiB-RSS-after-5s")
			b.ReportMetric(float64(hwm)/mib, "MiB-peak-RSS")
		})
	}
}

// probeDuringStartup asks for a loaded name every millisecond from process
// start until ready and counts the answers' rcodes (SERVFAIL must never
// appear; before ready an NXDOMAIN is possible, but no traffic is sent to an
// unready pod).
func probeDuringStartup(b *testing.B, p *gwproc.Process) func() map[string]int {
	var mu sync.Mutex
	counts := map[string]int{}
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		c := &dns.Client{Net: "udp", Timeout: 50 * time.Millisecond}
		m := new(dns.Msg)
		m.SetQuestion(ingressHost(0)+".", dns.TypeA)
		for i := 0; i < 60000 && !stop.Load(); i++ {
			r, _, err := c.Exchange(m, p.DNSAddr)
			key := "timeout"
			if err == nil {
				key = dns.RcodeToString[r.Rcode]
			}
			mu.Lock()
			counts[key]++
			mu.Unlock()
			if code, _, err := p.HTTPGet(context.Background(), "/readyz"); err == nil && code == http.StatusOK {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	return func() map[string]int {
		stop.Store(true)
		<-done
		mu.Lock()
		defer mu.Unlock()
		if counts["SERVFAIL"] > 0 {
			b.Errorf("SERVFAIL while starting: %v", counts)
		}
		return counts
	}
}

// sampleRSS records the process's largest VmRSS every 100ms until stopped.
func sampleRSS(p *gwproc.Process) (stop func() int64) {
	var peak atomic.Int64
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if rss, err := p.RSS(); err == nil && rss > peak.Load() {
				peak.Store(rss)
			}
			select {
			case <-quit:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 { close(quit); <-done; return peak.Load() }
}

// cpuProfile fetches a CPU profile of the gateway over the next seconds into
// path; the returned func waits for it.
func cpuProfile(b *testing.B, p *gwproc.Process, seconds int, path string) func() {
	done := make(chan error, 1)
	go func() {
		code, body, err := p.HTTPGet(context.Background(), "/debug/pprof/profile?seconds="+itoa(max(1, seconds)))
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("profile: HTTP %d", code)
		}
		if err == nil {
			err = os.WriteFile(path, []byte(body), 0o644)
		}
		done <- err
	}()
	return func() {
		if err := <-done; err != nil {
			b.Errorf("cpu profile: %v", err)
		}
	}
}
