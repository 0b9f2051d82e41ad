package health

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dnsfailover/dnsfailover/internal/health/redistest"
)

func probeCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func wantProbeErr(t *testing.T, r ProbeResult, want string) {
	t.Helper()
	if r.OK {
		t.Fatalf("probe of %s OK, want failure %q", r.Addr, want)
	}
	if !strings.Contains(r.Err, want) {
		t.Fatalf("probe of %s: Err = %q, want it to contain %q", r.Addr, r.Err, want)
	}
}

func TestProbeMaster(t *testing.T) {
	srv := redistest.Start(t)
	ctx := probeCtx(t)
	r := Probe(ctx, srv.Addr(), ProbeOptions{Timeout: 2 * time.Second})
	if !r.OK || r.Role != "master" || r.Err != "" || r.Addr != srv.Addr() {
		t.Fatalf("Probe = %+v, want OK master", r)
	}
	if r.Latency <= 0 || r.Connect <= 0 {
		t.Errorf("latency not measured: %+v", r)
	}
}

// statInt reads one integer field of INFO from the server.
func statInt(t *testing.T, srv *redistest.Server, section, field string) int {
	t.Helper()
	v, err := srv.Do(context.Background(), "INFO", section)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(field + `:(\d+)`).FindStringSubmatch(v.(string))
	if m == nil {
		t.Fatalf("INFO %s has no %s", section, field)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func TestProbeUsesOneConnectionAndClosesIt(t *testing.T) {
	srv := redistest.Start(t)
	before := statInt(t, srv, "stats", "total_connections_received")
	if r := Probe(probeCtx(t), srv.Addr(), ProbeOptions{}); !r.OK {
		t.Fatalf("Probe = %+v", r)
	}
	// The INFO call itself opens one connection; the probe exactly one more.
	after := statInt(t, srv, "stats", "total_connections_received")
	if got := after - before - 1; got != 1 {
		t.Errorf("probe opened %d connections, want 1", got)
	}
	// The probe's connection is gone: only the INFO connection remains.
	deadline := time.Now().Add(3 * time.Second)
	for statInt(t, srv, "clients", "connected_clients") != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("probe connection still open: connected_clients = %d", statInt(t, srv, "clients", "connected_clients"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestProbeReplica(t *testing.T) {
	master := redistest.Start(t)
	replica := redistest.Start(t, redistest.WithReplicaOf(master.Addr(), ""))
	r := Probe(probeCtx(t), replica.Addr(), ProbeOptions{})
	wantProbeErr(t, r, "ROLE is slave, want master")
	if r.Role != "slave" {
		t.Errorf("Role = %q, want slave", r.Role)
	}
	// Promoted, the same server passes.
	replica.PromoteToMaster()
	if r := Probe(probeCtx(t), replica.Addr(), ProbeOptions{}); !r.OK {
		t.Errorf("after promotion: %+v", r)
	}
}

func TestProbePassword(t *testing.T) {
	srv := redistest.Start(t, redistest.WithPassword("s3cret-auth"))
	ctx := probeCtx(t)
	if r := Probe(ctx, srv.Addr(), ProbeOptions{Password: "s3cret-auth"}); !r.OK {
		t.Fatalf("right password: %+v", r)
	}
	if r := Probe(ctx, srv.Addr(), ProbeOptions{Username: "default", Password: "s3cret-auth"}); !r.OK {
		t.Fatalf("right password with user default: %+v", r)
	}
	r := Probe(ctx, srv.Addr(), ProbeOptions{Password: "wrong"})
	wantProbeErr(t, r, "authentication failed")
	if strings.Contains(r.Err, "s3cret-auth") || strings.Contains(r.Err, "wrong\"") {
		t.Errorf("error leaks a password: %q", r.Err)
	}
	wantProbeErr(t, Probe(ctx, srv.Addr(), ProbeOptions{}), "requires a password")
}

func TestProbeConnectionRefused(t *testing.T) {
	srv := redistest.Start(t)
	addr := srv.Addr()
	srv.Kill()
	start := time.Now()
	wantProbeErr(t, Probe(probeCtx(t), addr, ProbeOptions{Timeout: 2 * time.Second}), "connection refused")
	// Refused is immediate: no dial retries stretch it towards the timeout.
	if d := time.Since(start); d > time.Second {
		t.Errorf("refused probe took %v", d)
	}
	// And back after a restart on the same port.
	srv.Restart()
	if r := Probe(probeCtx(t), addr, ProbeOptions{}); !r.OK {
		t.Errorf("after restart: %+v", r)
	}
}

// silentListener accepts connections and never writes a byte.
func silentListener(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = lis.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return lis.Addr().String()
}

func TestProbeTimeoutIsBounded(t *testing.T) {
	addr := silentListener(t)
	for _, tlsOn := range []bool{false, true} {
		start := time.Now()
		r := Probe(probeCtx(t), addr, ProbeOptions{Timeout: 300 * time.Millisecond, TLS: tlsOn})
		elapsed := time.Since(start)
		wantProbeErr(t, r, "timed out")
		if elapsed > 3*time.Second {
			t.Errorf("TLS=%v: probe against a silent server took %v with a 300ms timeout", tlsOn, elapsed)
		}
	}
	// The caller's deadline bounds it too.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	wantProbeErr(t, Probe(ctx, addr, ProbeOptions{Timeout: time.Minute}), "timed out")
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("caller deadline ignored: %v", elapsed)
	}
}

func TestProbeTLS(t *testing.T) {
	srv := redistest.Start(t, redistest.WithTLS(), redistest.WithPassword("tls-pass"))
	files := srv.TLS()
	ctx := probeCtx(t)

	if r := Probe(ctx, srv.Addr(), ProbeOptions{TLS: true, CAFile: files.CAFile, Password: "tls-pass"}); !r.OK || r.Role != "master" {
		t.Fatalf("TLS with CA file: %+v", r)
	}
	if r := Probe(ctx, srv.Addr(), ProbeOptions{TLS: true, CAPEM: files.CAPEM, Password: "tls-pass"}); !r.OK {
		t.Fatalf("TLS with CA PEM: %+v", r)
	}
	// The certificate names localhost as well as the IP.
	if r := Probe(ctx, srv.Addr(), ProbeOptions{TLS: true, CAPEM: files.CAPEM, ServerName: "localhost", Password: "tls-pass"}); !r.OK {
		t.Fatalf("TLS with server name localhost: %+v", r)
	}
	// Not trusted without our CA (system roots only).
	wantProbeErr(t, Probe(ctx, srv.Addr(), ProbeOptions{TLS: true, Password: "tls-pass"}), "TLS failed")
	// Wrong name in the certificate check.
	wantProbeErr(t, Probe(ctx, srv.Addr(), ProbeOptions{TLS: true, CAPEM: files.CAPEM, ServerName: "redis.other", Password: "tls-pass"}), "TLS failed")
	// Another CA does not verify this server.
	other, err := redistest.NewTLSFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	wantProbeErr(t, Probe(ctx, srv.Addr(), ProbeOptions{TLS: true, CAFile: other.CAFile, Password: "tls-pass"}), "certificate")
	// Plain text against a TLS port fails within the timeout.
	start := time.Now()
	r := Probe(ctx, srv.Addr(), ProbeOptions{Password: "tls-pass", Timeout: time.Second})
	if r.OK {
		t.Fatalf("plain text against TLS port succeeded: %+v", r)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("plain text against TLS took %v", time.Since(start))
	}
}

func TestProbeTLSConfigErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Errors come before any dial: the address is never contacted.
	addr := silentListener(t)
	cases := []struct {
		o    ProbeOptions
		want string
	}{
		{ProbeOptions{TLS: true, CAFile: filepath.Join(dir, "missing.pem")}, "read CA bundle"},
		{ProbeOptions{TLS: true, CAFile: notPEM}, "holds no PEM certificate"},
		{ProbeOptions{TLS: true, CAPEM: []byte("garbage")}, "CAPEM holds no PEM certificate"},
	}
	for _, c := range cases {
		start := time.Now()
		wantProbeErr(t, Probe(probeCtx(t), addr, c.o), c.want)
		if time.Since(start) > time.Second {
			t.Errorf("%q: config error took %v (did it dial?)", c.want, time.Since(start))
		}
	}
	wantProbeErr(t, Probe(probeCtx(t), "no-port", ProbeOptions{TLS: true}), "tls: address")
}
