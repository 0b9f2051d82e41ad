package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"cloud.google.com/go/redis/apiv1/redispb"

	"github.com/dnsfailover/dnsfailover/internal/clouddnsemu"
	"github.com/dnsfailover/dnsfailover/internal/eventarc"
	"github.com/dnsfailover/dnsfailover/internal/health/memorystorefake"
	"github.com/dnsfailover/dnsfailover/internal/health/redistest"
)

// The demo's names: the ADR's staging record and two Memorystore instances.
const (
	project   = "demo-project"
	zoneName  = "staging-internal"
	zoneDNS   = "staging.internal."
	record    = "redis-session-staging.staging.internal."
	instA     = "projects/demo-project/locations/europe-west1/instances/session-a"
	instB     = "projects/demo-project/locations/europe-west1/instances/session-b"
	hostA     = "127.0.0.2"
	hostB     = "127.0.0.3"
	alerts    = "redis-failover-alerts"
	requests  = "redis-failover-requests"
	results   = "redis-failover-results"
	normalTTL = 5
	lowTTL    = 2
	cooldown  = 15 * time.Second
	settle    = 3 * time.Second
)

// world is every running part of the demo.
type world struct {
	o   Options
	t0  time.Time
	dir string

	emu    *clouddnsemu.Server
	ms     *memorystorefake.Server
	a, b   *redistest.Process
	port   int
	ps     *pubsubWorld
	fn     *exec.Cmd
	fnURL  string
	env    []string // what configures the functions (and the CLI)
	bridge *http.Server

	mu      sync.Mutex
	closers []func() error // run in reverse order
}

func newWorld(o Options) *world {
	if o.Log == nil {
		o.Log = ioDiscard{}
	}
	return &world{o: o, t0: time.Now()}
}

type ioDiscard struct{}

func (ioDiscard) Write(p []byte) (int, error) { return len(p), nil }

func (w *world) say(format string, args ...any) { _, _ = fmt.Fprintf(w.o.Out, format+"\n", args...) }

func (w *world) onClose(f func() error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closers = append(w.closers, f)
}

// close stops everything, newest first, and reports every failure.
func (w *world) close() error {
	w.mu.Lock()
	cs := w.closers
	w.closers = nil
	w.mu.Unlock()
	var errs []error
	for i := len(cs) - 1; i >= 0; i-- {
		if err := cs[i](); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (w *world) start(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "dnsfailover-demo-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	w.dir = dir
	w.onClose(func() error { return os.RemoveAll(dir) })

	if err := w.startRedis(ctx); err != nil {
		return err
	}
	if err := w.startCloudDNS(ctx); err != nil {
		return err
	}
	if err := w.startMemorystore(ctx); err != nil {
		return err
	}
	if w.ps, err = startPubSub(ctx, w); err != nil {
		return err
	}
	if err := w.startFunctions(ctx); err != nil {
		return err
	}
	return w.ps.wire(ctx, w)
}

func (w *world) startRedis(ctx context.Context) error {
	if err := ensureRedis(w); err != nil {
		return err
	}
	var err error
	if w.a, err = redistest.Launch(ctx, redistest.Config{Dir: w.dir, Host: hostA}); err != nil {
		return fmt.Errorf("redis primary: %w", err)
	}
	w.onClose(w.a.Kill)
	w.port = w.a.Port()
	if w.b, err = redistest.Launch(ctx, redistest.Config{Dir: w.dir, Host: hostB, Port: w.port}); err != nil {
		return fmt.Errorf("redis standby: %w", err)
	}
	w.onClose(w.b.Kill)
	w.say("redis-server  session-a (primary) %s, session-b (standby) %s", w.a.Addr(), w.b.Addr())
	return nil
}

func (w *world) startCloudDNS(ctx context.Context) error {
	var err error
	w.emu, err = clouddnsemu.Start(ctx, clouddnsemu.Options{HTTPAddr: "127.0.0.1:0", DNSAddr: "127.0.0.1:0"})
	if err != nil {
		return fmt.Errorf("cloud dns emulator: %w", err)
	}
	w.onClose(w.emu.Close)
	w.say("cloud dns     API %s, DNS %s (UDP+TCP)", w.emu.URL(), w.emu.DNSAddr())
	return w.bootstrapZone(ctx)
}

func (w *world) startMemorystore(ctx context.Context) error {
	var err error
	if w.ms, err = memorystorefake.Start(ctx); err != nil {
		return fmt.Errorf("memorystore API: %w", err)
	}
	w.onClose(func() error { w.ms.Close(); return nil })
	for _, in := range []struct{ name, host string }{{instA, hostA}, {instB, hostB}} {
		w.ms.Set(&redispb.Instance{Name: in.name, Host: in.host, Port: int32(w.port), State: redispb.Instance_READY, Tier: redispb.Instance_BASIC, RedisVersion: "REDIS_7_0"})
	}
	w.say("memorystore   admin API (gRPC) %s: session-a and session-b READY", w.ms.Addr())
	return nil
}

// startFunctions runs the functions in their own process, as Cloud Run
// functions would, configured only through the environment.
func (w *world) startFunctions(ctx context.Context) error {
	if len(w.o.FunctionsCommand) == 0 {
		return errors.New("no functions command")
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	cfg, err := w.functionConfig()
	if err != nil {
		return err
	}
	w.env = []string{
		"DNSFAILOVER_CONFIG_JSON=" + cfg,
		"DNSFAILOVER_PROJECT=" + project,
		"DNSFAILOVER_RESULTS_TOPIC=" + results,
		"DNSFAILOVER_DNS_ENDPOINT=" + w.emu.URL(),
		"DNSFAILOVER_REDIS_API_ENDPOINT=" + w.ms.Addr(),
		"DNSFAILOVER_METRICS=off",
		"DNSFAILOVER_RESTORE_TTL_ON_CLOSE=true",
		"PUBSUB_EMULATOR_HOST=" + w.ps.host,
	}
	cmd := exec.Command(w.o.FunctionsCommand[0], w.o.FunctionsCommand[1:]...)
	cmd.Env = append(append(os.Environ(), w.env...),
		"PORT="+strconv.Itoa(port),
		"CLOUD_RUN_TIMEOUT_SECONDS=540",
		"K_SERVICE=dnsfailover-demo",
	)
	cmd.Stdout, cmd.Stderr = w.o.Log, w.o.Log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start functions: %w", err)
	}
	w.fn = cmd
	w.onClose(func() error { return stopGroup(cmd) })
	w.fnURL = "http://127.0.0.1:" + strconv.Itoa(port)
	if err := waitTCP(ctx, "127.0.0.1:"+strconv.Itoa(port), 60*time.Second); err != nil {
		return fmt.Errorf("functions did not start: %w", err)
	}
	w.say("functions     OnAlert and OnRequest served by the functions framework at %s", w.fnURL)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("bridge listen: %w", err)
	}
	w.bridge = &http.Server{Handler: &eventarc.Bridge{FunctionURL: w.fnURL}, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = w.bridge.Serve(ln) }()
	w.onClose(func() error { return w.bridge.Close() })
	w.ps.bridgeURL = "http://" + ln.Addr().String()
	return nil
}

func (w *world) functionConfig() (string, error) {
	return fmt.Sprintf(`{"project":%q,"resultsTopic":%q,"records":[{"name":%q,"zone":%q,"normalTTL":%d,"failoverTTL":%d,"port":%d,
"targets":[%q,%q],"allow":{"instances":[%q,%q],"cidrs":["127.0.0.2/31"]},"resolvers":[%q],
"verify":{"consecutive":3,"interval":"200ms","timeout":"20s"},"cooldown":%q,"settle":%q}]}`,
		project, results, record, zoneName, normalTTL, lowTTL, w.port, instA, instB, instA, instB, w.emu.DNSAddr(),
		cooldown.String(), settle.String()), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitTCP(ctx context.Context, addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not listening after %s: %w", addr, limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stopGroup ends a process and everything it started.
func stopGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	return nil
}
