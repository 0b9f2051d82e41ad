package redistest

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || !errors.Is(err, syscall.ESRCH)
}

func TestCleanupKillsServer(t *testing.T) {
	var pid int
	var addr string
	t.Run("inner", func(t *testing.T) {
		s := Start(t)
		pid, addr = s.Pid(), s.Addr()
		if pid == 0 || !alive(pid) {
			t.Fatalf("pid %d not running", pid)
		}
	})
	if alive(pid) {
		t.Fatalf("redis-server %d still running after its test ended", pid)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		_ = c.Close()
		t.Fatalf("%s still accepts after cleanup", addr)
	}
}

func TestKillRestart(t *testing.T) {
	s := Start(t)
	ctx := testCtx(t)
	if _, err := s.Do(ctx, "SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	oldPid, port := s.Pid(), s.Port()
	s.Kill()
	if s.Running() || alive(oldPid) {
		t.Fatal("still running after Kill")
	}
	if _, err := s.Do(ctx, "PING"); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("PING after Kill: %v", err)
	}
	s.Restart()
	if s.Port() != port || s.Pid() == oldPid || !s.Running() {
		t.Fatalf("restart: port %d pid %d (old %d %d)", s.Port(), s.Pid(), port, oldPid)
	}
	// No persistence: a restarted server is empty.
	if v, err := s.Do(ctx, "DBSIZE"); err != nil || v.(int64) != 0 {
		t.Fatalf("DBSIZE after restart = %v, %v", v, err)
	}
}

func TestReplication(t *testing.T) {
	master := Start(t, WithPassword("pw"))
	replica := Start(t, WithPassword("pw"), WithArgs("--masterauth", "pw"))
	ctx := testCtx(t)
	replica.ReplicaOf(master.Addr())
	if err := replica.WaitReplicaLinkUp(ctx); err != nil {
		t.Fatal(err)
	}
	v, err := replica.Do(ctx, "ROLE")
	if err != nil || v.([]any)[0] != "slave" {
		t.Fatalf("ROLE = %v, %v", v, err)
	}
	if _, err := master.Do(ctx, "SET", "k", "replicated"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		v, err := replica.Do(ctx, "GET", "k")
		if err == nil && v == "replicated" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET on replica = %v, %v", v, err)
		}
	}
	replica.PromoteToMaster()
	if v, err := replica.Do(ctx, "ROLE"); err != nil || v.([]any)[0] != "master" {
		t.Fatalf("ROLE after promotion = %v, %v", v, err)
	}
}

func TestTLSServer(t *testing.T) {
	s := Start(t, WithTLS())
	if s.TLS() == nil || s.TLS().CAFile == "" {
		t.Fatal("no TLS files")
	}
	if v, err := s.Do(testCtx(t), "PING"); err != nil || v != "PONG" {
		t.Fatalf("PING over TLS = %v, %v", v, err)
	}
	// The port speaks only TLS.
	c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	_, _ = c.Write([]byte("PING\r\n"))
	buf := make([]byte, 16)
	if n, _ := c.Read(buf); strings.HasPrefix(string(buf[:n]), "+PONG") {
		t.Fatal("TLS port answered plain text")
	}
}

func TestStartProcess(t *testing.T) {
	RequireBinary(t)
	ctx := testCtx(t)
	p, err := StartProcess(ctx, t.TempDir(), "--maxmemory", "10mb")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Kill() }()
	v, err := p.Do(ctx, "CONFIG", "GET", "maxmemory")
	if err != nil || v.([]any)[1] != "10485760" {
		t.Fatalf("maxmemory = %v, %v", v, err)
	}
	pid := p.Pid()
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		t.Fatal("alive after Stop")
	}
	if err := p.Kill(); err != nil {
		t.Fatalf("Kill after exit: %v", err)
	}
}

func TestLaunchErrors(t *testing.T) {
	bin := RequireBinary(t)
	ctx := testCtx(t)
	if _, err := Launch(ctx, Config{Binary: bin}); err == nil || !strings.Contains(err.Error(), "Dir is required") {
		t.Errorf("no dir: %v", err)
	}
	if _, err := Launch(ctx, Config{Binary: "/nonexistent/redis-server", Dir: t.TempDir()}); err == nil {
		t.Error("missing binary started")
	}
	// redis-server rejects the argument and exits; the log tail says why.
	_, err := StartProcess(ctx, t.TempDir(), "--no-such-option", "1")
	if err == nil || !strings.Contains(err.Error(), "exited during start") {
		t.Errorf("bad option: %v", err)
	}
	if _, err := Launch(ctx, Config{Binary: bin, Dir: t.TempDir(), ReplicaOf: "nope"}); err == nil || !strings.Contains(err.Error(), "ReplicaOf") {
		t.Errorf("bad ReplicaOf: %v", err)
	}
}

func TestOtherLoopbackHost(t *testing.T) {
	s := Start(t, WithTLS(), WithHost("127.0.0.3"))
	if !strings.HasPrefix(s.Addr(), "127.0.0.3:") {
		t.Fatalf("Addr = %s", s.Addr())
	}
	if v, err := s.Do(testCtx(t), "PING"); err != nil || v != "PONG" {
		t.Fatalf("PING over TLS on 127.0.0.3 = %v, %v", v, err)
	}
	// Two servers on one port, distinct loopback IPs.
	a := Start(t, WithHost("127.0.0.4"))
	b := Start(t, WithHost("127.0.0.5"), WithPort(a.Port()))
	if a.Port() != b.Port() || a.Addr() == b.Addr() {
		t.Fatalf("a %s b %s", a.Addr(), b.Addr())
	}
	if _, err := Launch(testCtx(t), Config{Dir: t.TempDir(), Host: "10.0.0.5"}); err == nil || !strings.Contains(err.Error(), "not a loopback") {
		t.Fatalf("non-loopback host: %v", err)
	}
}
