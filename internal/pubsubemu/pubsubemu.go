// Package pubsubemu starts Google's Pub/Sub emulator
// (`gcloud beta emulators pubsub start`, Debian package
// google-cloud-cli-pubsub-emulator, needs java) on a free loopback port, for
// tests and the local demo. The emulator runs in its own process group,
// which Stop kills whole: gcloud starts java, and neither may outlive us.
package pubsubemu

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dnsfailover/dnsfailover/internal/syncbuf"
)

// ErrNotInstalled is wrapped when gcloud, java or the emulator component is missing.
var ErrNotInstalled = errors.New("Pub/Sub emulator not installed (apt-get install google-cloud-cli-pubsub-emulator default-jre-headless)")

// StartTimeout bounds the wait for the emulator to listen (java start-up).
const StartTimeout = 60 * time.Second

// Emulator is a running Pub/Sub emulator.
type Emulator struct {
	// HostPort is the emulator's address: PUBSUB_EMULATOR_HOST.
	HostPort string

	cmd    *exec.Cmd
	tmp    string
	out    *syncbuf.Buffer
	exited chan struct{}
	once   sync.Once
	err    error
}

// Available reports whether the emulator can be started here.
func Available() error {
	for _, bin := range []string{"gcloud", "java"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%w: %s not on PATH", ErrNotInstalled, bin)
		}
	}
	return nil
}

// StartProcess starts the emulator with a fresh data directory and gcloud
// configuration under a temporary directory, and waits until it accepts
// connections. Call Stop when done.
func StartProcess(ctx context.Context) (*Emulator, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "pubsubemu-")
	if err != nil {
		return nil, fmt.Errorf("pubsubemu: %w", err)
	}
	data := tmp + "/data"
	if err := os.MkdirAll(data, 0o755); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("pubsubemu: %w", err)
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	e := &Emulator{HostPort: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), tmp: tmp, out: &syncbuf.Buffer{}, exited: make(chan struct{})}
	// Not CommandContext: ctx bounds the start-up only, Stop ends the process.
	e.cmd = exec.Command("gcloud", "beta", "emulators", "pubsub", "start",
		"--host-port="+e.HostPort, "--data-dir="+data, "--quiet")
	e.cmd.Env = append(os.Environ(),
		"CLOUDSDK_CONFIG="+tmp+"/gcloud",
		"CLOUDSDK_CORE_DISABLE_PROMPTS=1",
		"CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK=1",
	)
	e.cmd.Stdout, e.cmd.Stderr = e.out, e.out
	e.cmd.SysProcAttr = sysProcAttr()
	if err := e.cmd.Start(); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("pubsubemu: start gcloud: %w", err)
	}
	go func() { e.err = e.cmd.Wait(); close(e.exited) }()

	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	for {
		select {
		case <-e.exited:
			out := e.Output()
			e.cleanup()
			if strings.Contains(out, "component") || strings.Contains(out, "not installed") || strings.Contains(out, "java") {
				return nil, fmt.Errorf("%w: %s", ErrNotInstalled, lastLines(out, 5))
			}
			return nil, fmt.Errorf("pubsubemu: emulator exited (%v): %s", e.err, lastLines(out, 10))
		case <-ctx.Done():
			_ = e.Stop()
			return nil, fmt.Errorf("pubsubemu: emulator not ready on %s: %w: %s", e.HostPort, ctx.Err(), lastLines(e.Output(), 10))
		case <-time.After(100 * time.Millisecond):
		}
		if strings.Contains(e.Output(), "Server started") {
			if c, err := net.DialTimeout("tcp", e.HostPort, time.Second); err == nil {
				c.Close()
				return e, nil
			}
		}
	}
}

// Env is what clients need to talk to the emulator: PUBSUB_EMULATOR_HOST for
// the client libraries, and the endpoint override that makes
// `gcloud pubsub ...` use it.
func (e *Emulator) Env() []string {
	return []string{
		"PUBSUB_EMULATOR_HOST=" + e.HostPort,
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB=http://" + e.HostPort + "/",
		"CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true",
	}
}

// Output is what gcloud and the emulator printed so far.
func (e *Emulator) Output() string { return e.out.String() }

// Pgid is the emulator's process group id (gcloud and its java child).
func (e *Emulator) Pgid() int { return e.cmd.Process.Pid }

// Stop kills the whole process group (SIGTERM, then SIGKILL after 5 s),
// waits for gcloud to exit and removes the temporary directory.
func (e *Emulator) Stop() error {
	e.once.Do(func() {
		pgid := e.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-e.exited:
		case <-time.After(5 * time.Second):
		}
		// java may still be shutting down after gcloud exited: make sure.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-e.exited
		deadline := time.Now().Add(5 * time.Second)
		for groupAlive(pgid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		e.cleanup()
	})
	if groupAlive(e.cmd.Process.Pid) {
		return fmt.Errorf("pubsubemu: process group %d still alive after SIGKILL", e.cmd.Process.Pid)
	}
	return nil
}

func (e *Emulator) cleanup() { _ = os.RemoveAll(e.tmp) }

// groupAlive reports whether any process of the group exists.
func groupAlive(pgid int) bool {
	return syscall.Kill(-pgid, 0) == nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pubsubemu: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
