// Package redistest runs real redis-server processes on loopback for tests
// and for the demo: plain, password-protected, TLS-only and replicas.
package redistest

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// DefaultBinary is where Debian's redis-server package installs the server.
const DefaultBinary = "/usr/bin/redis-server"

// startTimeout bounds how long a start waits for the server to accept.
const startTimeout = 10 * time.Second

// FindBinary returns the redis-server to run: $PATH first, then DefaultBinary.
func FindBinary() (string, error) {
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p, nil
	}
	if _, err := os.Stat(DefaultBinary); err == nil {
		return DefaultBinary, nil
	}
	return "", errors.New("redis-server not found in $PATH or " + DefaultBinary + " (install it: apt-get install -y redis-server)")
}

// Config describes one server.
type Config struct {
	Binary    string    // default FindBinary()
	Dir       string    // working directory for logs and dumps (required)
	Host      string    // loopback address to bind; default 127.0.0.1 (127.0.0.2 etc. give distinct IPs)
	Port      int       // 0 picks a free port on Host
	Password  string    // requirepass
	TLS       *TLSFiles // serve TLS only, on Port
	ReplicaOf string    // "127.0.0.1:PORT" of a master (masterauth = MasterAuth)
	// MasterAuth is the master's password when ReplicaOf points at a
	// password-protected server.
	MasterAuth string
	Args       []string // extra redis-server arguments
}

// Process is a running redis-server. Its lifetime is independent of the
// context given to start it: end it with Kill or Stop.
type Process struct {
	cfg Config

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// StartProcess starts a plain redis-server on a free 127.0.0.1 port, with
// dir as its working directory and args appended to the command line.
func StartProcess(ctx context.Context, dir string, args ...string) (*Process, error) {
	return Launch(ctx, Config{Dir: dir, Args: args})
}

// Launch starts a server as configured and waits until it answers.
func Launch(ctx context.Context, cfg Config) (*Process, error) {
	if cfg.Dir == "" {
		return nil, errors.New("redistest: Config.Dir is required")
	}
	if cfg.Binary == "" {
		bin, err := FindBinary()
		if err != nil {
			return nil, fmt.Errorf("redistest: %w", err)
		}
		cfg.Binary = bin
	}
	if cfg.Host != "" {
		// Tests may only use loopback; refuse anything else before binding.
		if a, err := netip.ParseAddr(cfg.Host); err != nil || !a.IsLoopback() {
			return nil, fmt.Errorf("redistest: Host %q is not a loopback IP address", cfg.Host)
		}
	}
	p := &Process{cfg: cfg}
	// A free port found by listening can be taken before redis binds it;
	// retry with another port in that rare case.
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if cfg.Port == 0 {
			if p.cfg.Port, err = freePort(p.Host()); err != nil {
				return nil, err
			}
		}
		if err = p.start(ctx); err == nil {
			return p, nil
		}
		if cfg.Port != 0 || ctx.Err() != nil {
			break
		}
	}
	return nil, err
}

// Addr is "HOST:PORT".
func (p *Process) Addr() string { return net.JoinHostPort(p.Host(), strconv.Itoa(p.cfg.Port)) }

// Host is the address the server binds.
func (p *Process) Host() string {
	if p.cfg.Host == "" {
		return "127.0.0.1"
	}
	return p.cfg.Host
}

// Port is the TCP port (TLS when the server serves TLS).
func (p *Process) Port() int { return p.cfg.Port }

// Password is the server's requirepass ("" when none).
func (p *Process) Password() string { return p.cfg.Password }

// TLS returns the server's certificate files, nil for a plain server.
func (p *Process) TLS() *TLSFiles { return p.cfg.TLS }

// LogFile is the server's log.
func (p *Process) LogFile() string {
	return filepath.Join(p.cfg.Dir, fmt.Sprintf("redis-%d.log", p.cfg.Port))
}

// Pid of the running process, 0 if none.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Running reports whether the process is alive.
func (p *Process) Running() bool {
	p.mu.Lock()
	ch := p.exited
	p.mu.Unlock()
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return false
	default:
		return true
	}
}

func (p *Process) args() []string {
	c := p.cfg
	port := strconv.Itoa(c.Port)
	a := []string{
		"--bind", p.Host(),
		"--daemonize", "no",
		"--save", "",
		"--appendonly", "no",
		// Replicas sync at once instead of after the default 5 s delay.
		"--repl-diskless-sync-delay", "0",
		"--dir", c.Dir,
		"--dbfilename", "dump-" + port + ".rdb",
		"--logfile", p.LogFile(),
	}
	if c.TLS != nil {
		a = append(a, "--port", "0", "--tls-port", port,
			"--tls-cert-file", c.TLS.CertFile, "--tls-key-file", c.TLS.KeyFile,
			"--tls-ca-cert-file", c.TLS.CAFile, "--tls-auth-clients", "no",
			"--tls-replication", "yes")
	} else {
		a = append(a, "--port", port)
	}
	if c.Password != "" {
		a = append(a, "--requirepass", c.Password)
	}
	if c.ReplicaOf != "" {
		host, rport, _ := net.SplitHostPort(c.ReplicaOf)
		a = append(a, "--replicaof", host, rport)
	}
	if c.MasterAuth != "" {
		a = append(a, "--masterauth", c.MasterAuth)
	}
	return append(a, c.Args...)
}

func (p *Process) start(ctx context.Context) error {
	if p.cfg.ReplicaOf != "" {
		if _, _, err := net.SplitHostPort(p.cfg.ReplicaOf); err != nil {
			return fmt.Errorf("redistest: ReplicaOf %q: %w", p.cfg.ReplicaOf, err)
		}
	}
	cmd := exec.Command(p.cfg.Binary, p.args()...)
	cmd.Dir = p.cfg.Dir
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redistest: start %s: %w", p.cfg.Binary, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		if err := p.ready(ctx); err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("redistest: redis-server on port %d exited during start: %s", p.cfg.Port, p.logTail(5))
		case <-ctx.Done():
			_ = p.Kill()
			return fmt.Errorf("redistest: redis-server on port %d not ready: %w; log: %s", p.cfg.Port, ctx.Err(), p.logTail(5))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ready sends PING (over TLS if configured) and accepts PONG or NOAUTH:
// either proves it is our redis answering, not some other listener.
func (p *Process) ready(ctx context.Context) error {
	d := net.Dialer{Timeout: time.Second}
	conn, err := d.DialContext(ctx, "tcp", p.Addr())
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if p.cfg.TLS != nil {
		tc := tls.Client(conn, p.clientTLS())
		if err := tc.HandshakeContext(ctx); err != nil {
			return err
		}
		conn = tc
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH") {
		return nil
	}
	return fmt.Errorf("unexpected reply %q", line)
}

func (p *Process) clientTLS() *tls.Config {
	if p.cfg.TLS == nil {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.cfg.TLS.CAPEM)
	return &tls.Config{RootCAs: pool, ServerName: p.Host(), MinVersion: tls.VersionTLS12}
}

// Kill sends SIGKILL to the server's process group and waits for it to exit.
func (p *Process) Kill() error { return p.signal(syscall.SIGKILL) }

// Stop sends SIGTERM and waits for a clean exit.
func (p *Process) Stop() error { return p.signal(syscall.SIGTERM) }

func (p *Process) signal(sig syscall.Signal) error {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return nil
	}
	select {
	case <-exited:
		return nil
	default:
	}
	// Negative pid: the whole group, so redis' fork()ed save children die too.
	if err := syscall.Kill(-cmd.Process.Pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("redistest: signal %v to %d: %w", sig, cmd.Process.Pid, err)
	}
	select {
	case <-exited:
		return nil
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		return fmt.Errorf("redistest: redis-server %d ignored %v for 10s; killed", cmd.Process.Pid, sig)
	}
}

// Restart kills the server (if running) and starts it again on the same
// port with the same configuration. A replica made with ReplicaOf after
// start comes back as a master.
func (p *Process) Restart(ctx context.Context) error {
	if err := p.Kill(); err != nil {
		return err
	}
	return p.start(ctx)
}

// Client returns a go-redis client for this server (password and TLS set);
// the caller closes it.
func (p *Process) Client() *goredis.Client {
	return goredis.NewClient(&goredis.Options{
		Addr:      p.Addr(),
		Password:  p.cfg.Password,
		TLSConfig: p.clientTLS(),
		Protocol:  2,
	})
}

// Do runs one command on a fresh connection.
func (p *Process) Do(ctx context.Context, args ...any) (any, error) {
	c := goredis.NewClient(&goredis.Options{
		Addr:      p.Addr(),
		Password:  p.cfg.Password,
		TLSConfig: p.clientTLS(),
		Protocol:  2,
		// No retries: a dead server should say so at once.
		MaxRetries:    -1,
		DialerRetries: 1,
		PoolSize:      1,
	})
	defer func() { _ = c.Close() }()
	v, err := c.Do(ctx, args...).Result()
	if err != nil {
		return nil, fmt.Errorf("redistest: %v on %s: %w", args, p.Addr(), err)
	}
	return v, nil
}

// ReplicaOf makes the server a replica of addr ("host:port"); it answers
// ROLE with "slave" at once, before the link is up.
func (p *Process) ReplicaOf(ctx context.Context, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("redistest: ReplicaOf %q: %w", addr, err)
	}
	_, err = p.Do(ctx, "REPLICAOF", host, port)
	return err
}

// PromoteToMaster runs REPLICAOF NO ONE.
func (p *Process) PromoteToMaster(ctx context.Context) error {
	_, err := p.Do(ctx, "REPLICAOF", "NO", "ONE")
	return err
}

// WaitReplicaLinkUp polls INFO replication until master_link_status is up.
func (p *Process) WaitReplicaLinkUp(ctx context.Context) error {
	for {
		v, err := p.Do(ctx, "INFO", "replication")
		if err == nil {
			if s, _ := v.(string); strings.Contains(s, "master_link_status:up") {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redistest: replica %s link not up: %w", p.Addr(), ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (p *Process) logTail(n int) string {
	b, err := os.ReadFile(p.LogFile())
	if err != nil {
		return "(no log)"
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("redistest: find free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}
