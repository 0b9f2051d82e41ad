package bench_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// writeQueries writes a dnsperf data file over Ingresses [0, n): every
// missEvery-th line (0 = none) asks for a name that does not exist.
func writeQueries(t testing.TB, n, missEvery int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "queries.txt")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range n {
		if missEvery > 0 && i%missEvery == missEvery-1 {
			fmt.Fprintf(w, "missing-%05d.%s A\n", i, zone)
		} else {
			fmt.Fprintf(w, "%s A\n", ingressHost(i))
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// perfResult is what dnsperf's summary says.
type perfResult struct {
	QPS       float64
	Sent      int64
	Lost      int64
	Rcodes    string // e.g. "NOERROR 1328354 (80.00%), NXDOMAIN 332089 (20.00%)"
	AvgLatSec float64
	Output    string
}

// dnsperf runs Debian's dnsperf against addr ("host:port") as the issue's
// reference did: -c 4 -T 1 -l seconds; cpus, when set, pins it with taskset.
func dnsperf(t testing.TB, addr, queries string, seconds int, cpus string) perfResult {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	args := []string{"-s", host, "-p", port, "-d", queries, "-c", "4", "-T", "1", "-l", strconv.Itoa(seconds)}
	var cmd *exec.Cmd
	if cpus != "" {
		cmd = exec.Command("taskset", append([]string{"-c", cpus, "dnsperf"}, args...)...)
	} else {
		cmd = exec.Command("dnsperf", args...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
	}
	r := perfResult{Output: string(out)}
	for line := range strings.SplitSeq(string(out), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		first := strings.Fields(v + " ")
		switch k {
		case "Queries per second":
			r.QPS, _ = strconv.ParseFloat(first[0], 64)
		case "Queries sent":
			r.Sent, _ = strconv.ParseInt(first[0], 10, 64)
		case "Queries lost":
			r.Lost, _ = strconv.ParseInt(first[0], 10, 64)
		case "Response codes":
			r.Rcodes = v
		case "Average Latency (s)":
			r.AvgLatSec, _ = strconv.ParseFloat(first[0], 64)
		}
	}
	if r.QPS == 0 {
		t.Fatalf("no QPS in dnsperf output:\n%s", out)
	}
	return r
}

func requireDNSPerf(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("dnsperf"); err != nil {
		t.Fatal("dnsperf not installed (Debian package dnsperf)")
	}
}
