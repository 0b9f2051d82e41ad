// Package gwproc builds cmd/gateway and runs it as a child process for
// end-to-end tests and benchmarks: the real binary, its flags, its signals,
// its listening addresses read from its own log, and its memory from /proc.
package gwproc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildMu    sync.Mutex
	buildCache = map[string]string{} // package -> binary
)

// Binary builds cmd/gateway once per test process and returns its path;
// GATEWAY_BINARY names a prebuilt binary instead (to compare builds).
func Binary(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("GATEWAY_BINARY"); bin != "" {
		return bin
	}
	return Build(t, "./cmd/gateway")
}

// Build builds the main package pkg (relative to the module root) once per
// test process and returns the binary's path.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if bin, ok := buildCache[pkg]; ok {
		return bin
	}
	dir, err := os.MkdirTemp("", "gateway-bin-")
	if err != nil {
		t.Fatalf("temp dir: %v", err)
	}
	bin := filepath.Join(dir, filepath.Base(pkg))
	_, self, _, _ := runtime.Caller(0)
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = filepath.Join(filepath.Dir(self), "..", "..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	buildCache[pkg] = bin
	return bin
}

// Process is a running gateway binary.
type Process struct {
	Cmd *exec.Cmd
	// Started is when the process was started (just before exec).
	Started time.Time
	// DNSAddr and HTTPAddr are the bound addresses from the "gateway
	// listening" log line.
	DNSAddr, HTTPAddr string

	mu     sync.Mutex
	log    bytes.Buffer
	exited chan struct{}
	err    error
}

// Options for Start.
type Options struct {
	// Args are the gateway's flags; --dns-addr and --http-addr default to
	// 127.0.0.1:0 and --log-level to info (the address line is read from it).
	Args []string
	// CPUs, when set, runs the binary under taskset with this CPU list.
	CPUs string
	// Env is added to the environment (e.g. GOMAXPROCS=1).
	Env []string
	// Binary replaces the gateway binary (e.g. a reference server that logs
	// the same "gateway listening" line).
	Binary string
}

// Start runs the gateway and waits (up to 30 s) for its listening line. The
// process gets SIGKILL at test cleanup if still running.
func Start(t testing.TB, o Options) *Process {
	t.Helper()
	args := o.Args
	if !hasFlag(args, "dns-addr") {
		args = append(args, "--dns-addr", "127.0.0.1:0")
	}
	if !hasFlag(args, "http-addr") {
		args = append(args, "--http-addr", "127.0.0.1:0")
	}
	if !hasFlag(args, "log-level") {
		args = append(args, "--log-level", "info")
	}
	bin := o.Binary
	if bin == "" {
		bin = Binary(t)
	}
	var cmd *exec.Cmd
	if o.CPUs != "" {
		cmd = exec.Command("taskset", append([]string{"-c", o.CPUs, bin}, args...)...)
	} else {
		cmd = exec.Command(bin, args...)
	}
	cmd.Env = append(os.Environ(), o.Env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &Process{Cmd: cmd, exited: make(chan struct{})}
	listening := make(chan [2]string, 1)
	p.Started = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start gateway: %v", err)
	}
	go p.readLog(stderr, listening)
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
		if t.Failed() {
			t.Logf("gateway log:\n%s", p.Log())
		}
	})
	select {
	case a := <-listening:
		p.DNSAddr, p.HTTPAddr = a[0], a[1]
	case <-p.exited:
		t.Fatalf("gateway exited before listening: %v\n%s", p.ExitErr(), p.Log())
	case <-time.After(30 * time.Second):
		t.Fatalf("gateway did not log its addresses within 30s:\n%s", p.Log())
	}
	return p
}

func hasFlag(args []string, name string) bool {
	for _, a := range args {
		a = strings.TrimLeft(a, "-")
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

func (p *Process) readLog(r io.Reader, listening chan<- [2]string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sent := false
	for sc.Scan() {
		line := sc.Bytes()
		p.mu.Lock()
		p.log.Write(line)
		p.log.WriteByte('\n')
		p.mu.Unlock()
		if sent {
			continue
		}
		var rec struct {
			Msg  string `json:"msg"`
			DNS  string `json:"dns"`
			HTTP string `json:"http"`
		}
		if json.Unmarshal(line, &rec) == nil && rec.Msg == "gateway listening" {
			listening <- [2]string{rec.DNS, rec.HTTP}
			sent = true
		}
	}
}

// Log is everything the process wrote to stderr so far.
func (p *Process) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// ExitErr is the process's exit error once it exited.
func (p *Process) ExitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error { return p.Cmd.Process.Signal(sig) }

// PID of the gateway itself (taskset execs it, so the PID is the same).
func (p *Process) PID() int { return p.Cmd.Process.Pid }

// HTTPGet returns status and body of a GET on the HTTP listener.
func (p *Process) HTTPGet(ctx context.Context, path string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.HTTPAddr+path, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// WaitReady polls /readyz every interval until 200 and returns when that
// was first seen, measured from Started.
func (p *Process) WaitReady(t testing.TB, timeout, interval time.Duration) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		code, body, err := p.HTTPGet(ctx, "/readyz")
		if err == nil && code == http.StatusOK {
			return time.Since(p.Started)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("gateway not ready within %v: %d %v\n%s\nlog:\n%s", timeout, code, err, body, p.Log())
		case <-p.exited:
			t.Fatalf("gateway exited: %v\n%s", p.ExitErr(), p.Log())
		case <-time.After(interval):
		}
	}
}

// RSS returns the process's resident set size (VmRSS) in bytes.
func (p *Process) RSS() (int64, error) {
	return statusField(p.PID(), "VmRSS:")
}

// PeakRSS returns the process's peak resident set size (VmHWM) in bytes.
func (p *Process) PeakRSS() (int64, error) {
	return statusField(p.PID(), "VmHWM:")
}

func statusField(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read process status: %w", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			f := strings.Fields(rest)
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("unexpected %s line %q", field, line)
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse %s: %w", field, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no %s in process status", field)
}
