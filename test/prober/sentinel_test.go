package prober_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/dnsfailover/dnsfailover/internal/demo"
	"github.com/dnsfailover/dnsfailover/internal/failover"
)

const masterName = "session"

// sentinelBinary is Debian's redis-sentinel (a link to redis-server, which
// also runs as Sentinel with --sentinel).
func sentinelBinary(t *testing.T) []string {
	t.Helper()
	if p, err := exec.LookPath("redis-sentinel"); err == nil {
		return []string{p}
	}
	if p, err := exec.LookPath("redis-server"); err == nil {
		return []string{p, "--sentinel"}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("redis-sentinel is not installed (apt-get install -y redis-sentinel)")
	}
	t.Skip("redis-sentinel not installed")
	return nil
}

// startSentinels runs n Sentinels on loopback watching master, with a short
// down-after so that the test is quick (the default is 30 s).
func startSentinels(t *testing.T, n int, master string) []string {
	t.Helper()
	bin := sentinelBinary(t)
	host, port, _ := net.SplitHostPort(master)
	var addrs []string
	for i := range n {
		dir := t.TempDir()
		p := freePort(t)
		conf := fmt.Sprintf(`port %d
bind 127.0.0.1
daemonize no
dir %s
logfile %s
sentinel monitor %s %s %s 2
sentinel down-after-milliseconds %s 1000
sentinel failover-timeout %s 10000
sentinel parallel-syncs %s 1
`, p, dir, filepath.Join(dir, "sentinel.log"), masterName, host, port, masterName, masterName, masterName)
		cfg := filepath.Join(dir, "sentinel.conf")
		if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin[0], append(bin[1:], cfg)...)
		if len(bin) > 1 { // redis-server --sentinel wants the file first
			cmd = exec.Command(bin[0], cfg, "--sentinel")
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start sentinel %d: %v", i, err)
		}
		t.Cleanup(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
			if t.Failed() {
				b, _ := os.ReadFile(filepath.Join(dir, "sentinel.log"))
				t.Logf("sentinel %d log:\n%s", i, b)
			}
		})
		addrs = append(addrs, net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	}
	// Wait until every Sentinel knows the replica and the other Sentinels:
	// before that a failover cannot be authorised.
	waitFor(t, 30*time.Second, "sentinels to discover the replica and each other", func() bool {
		for _, a := range addrs {
			c := goredis.NewSentinelClient(&goredis.Options{Addr: a, Protocol: 2})
			m, err := c.Master(context.Background(), masterName).Result()
			_ = c.Close()
			if err != nil || m["num-slaves"] != "1" || m["num-other-sentinels"] != strconv.Itoa(n-1) {
				return false
			}
		}
		return true
	})
	return addrs
}

// TestSentinel: a real master and replica (the demo's session-a and
// session-b), three real Sentinels; the master dies, Sentinel promotes the
// replica, and the prober points the record at it through the failover
// function, verified over DNS.
func TestSentinel(t *testing.T) {
	sentinelBinary(t)
	k := startKube(t)
	w := startWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	primary, standby := w.Primary(), w.Standby()
	// The standby starts as a plain master: make it a replica that
	// announces its own loopback address (it dials from 127.0.0.1).
	if _, err := standby.Do(ctx, "CONFIG", "SET", "replica-announce-ip", standby.Host()); err != nil {
		t.Fatal(err)
	}
	if err := standby.ReplicaOf(ctx, primary.Addr()); err != nil {
		t.Fatal(err)
	}
	if err := standby.WaitReplicaLinkUp(ctx); err != nil {
		t.Fatal(err)
	}
	sentinels := startSentinels(t, 3, primary.Addr())

	const group = "sentinel"
	rc := countRequests(t, w, group)
	cfg := fmt.Sprintf(`project: %s
requestsTopic: %s
leaseName: %s
records:
  - name: %s
    port: %d
    probe: false
    primary: %s
    sentinel:
      masterName: %s
      addrs: [%s]
      poll: 1s
`, demo.Project, demo.RequestsTopic, group, demo.Record, primary.Port(), followDNS(w), masterName, `"`+strings.Join(sentinels, `", "`)+`"`)
	var ps []*proc
	for i := range 3 {
		ps = append(ps, startProber(t, k, w, fmt.Sprintf("sentinel-%d", i), cfg))
	}
	waitFor(t, 20*time.Second, "a leader", func() bool { return anyLeader(t, ps) })
	time.Sleep(2 * time.Second) // a few polls agreeing with the record: nothing to do
	if reqs, _, _ := rc.snapshot(); len(reqs) != 0 {
		t.Fatalf("requests while Sentinel and the record agree: %+v", reqs)
	}

	killed := time.Now()
	if err := primary.Kill(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 40*time.Second, "the record to follow Sentinel over DNS", func() bool { return answer(w) == standby.Host() })
	moved := time.Now()
	reqs, at, bad := rc.snapshot()
	if len(reqs) == 0 || len(bad) != 0 {
		t.Fatalf("requests %+v, undecodable %v", reqs, bad)
	}
	req := reqs[0]
	if req.Target != standby.Host() || req.Mode != string(failover.Emergency) ||
		!strings.HasPrefix(req.RequestID, fmt.Sprintf("sentinel:%s:%s:%d:", masterName, standby.Host(), standby.Port())) {
		t.Fatalf("request %+v", req)
	}
	res, _, err := w.AwaitResult(ctx, req.RequestID, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != failover.OutcomeSwapped {
		t.Fatalf("outcome %s (%s)", res.Outcome, res.Error)
	}
	role, err := standby.Do(ctx, "ROLE")
	if err != nil || fmt.Sprint(role.([]any)[0]) != "master" {
		t.Fatalf("standby ROLE %v %v: Sentinel did not promote it", role, err)
	}
	time.Sleep(3 * time.Second) // polls now agree with the record again
	if reqs, _, _ := rc.snapshot(); len(reqs) != 1 {
		t.Fatalf("want one request for one switch, got %+v", reqs)
	}
	t.Logf("MEASURE sentinel kill->request %.2fs kill->dns %.2fs (down-after 1000ms)", at[0].Sub(killed).Seconds(), moved.Sub(killed).Seconds())
}
