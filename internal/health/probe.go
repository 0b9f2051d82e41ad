package health

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// DefaultProbeTimeout bounds a whole probe (connect, AUTH, PING, ROLE) when
// ProbeOptions.Timeout is zero.
const DefaultProbeTimeout = 3 * time.Second

// ProbeOptions configure how the Redis endpoint is reached. Memorystore
// offers AUTH (a generated password, Username empty or "default") and TLS
// with a server CA bundle (transit encryption SERVER_AUTHENTICATION).
type ProbeOptions struct {
	Password string
	Username string
	TLS      bool
	CAFile   string // PEM bundle; used together with CAPEM if both are set
	CAPEM    []byte
	// ServerName overrides the name verified in the server certificate;
	// by default the host part of the address (IP SANs work).
	ServerName string
	Timeout    time.Duration
}

// ProbeResult is the outcome of one probe. Err is a human-readable reason
// when OK is false.
type ProbeResult struct {
	Addr    string        `json:"addr"`
	OK      bool          `json:"ok"`
	Role    string        `json:"role,omitempty"`
	Latency time.Duration `json:"latency"` // round trip of PING on the established connection
	Connect time.Duration `json:"connect"` // TCP connect, TLS handshake and AUTH
	Err     string        `json:"err,omitempty"`
}

// TLSConfig builds the client TLS configuration for addr, or nil when TLS is off.
func (o ProbeOptions) TLSConfig(addr string) (*tls.Config, error) {
	if !o.TLS {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: o.ServerName}
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("tls: address %q: %w", addr, err)
		}
		cfg.ServerName = host
	}
	if o.CAFile != "" || len(o.CAPEM) > 0 {
		pool := x509.NewCertPool()
		if o.CAFile != "" {
			pem, err := os.ReadFile(o.CAFile)
			if err != nil {
				return nil, fmt.Errorf("tls: read CA bundle: %w", err)
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("tls: CA bundle %s holds no PEM certificate", o.CAFile)
			}
		}
		if len(o.CAPEM) > 0 && !pool.AppendCertsFromPEM(o.CAPEM) {
			return nil, errors.New("tls: CAPEM holds no PEM certificate")
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// Probe connects to addr ("host:port"), authenticates if asked, sends PING
// and ROLE, and reports OK only if ROLE says master. It uses one connection,
// closes it before returning, is bounded by o.Timeout and never panics.
func Probe(ctx context.Context, addr string, o ProbeOptions) (res ProbeResult) {
	res.Addr = addr
	defer func() {
		if r := recover(); r != nil {
			res.OK = false
			res.Err = fmt.Sprintf("probe panicked: %v", r)
		}
	}()
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultProbeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	tlsCfg, err := o.TLSConfig(addr)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	client := goredis.NewClient(&goredis.Options{
		Addr:     addr,
		Username: o.Username,
		Password: o.Password,
		Protocol: 2, // Memorystore speaks RESP2; avoids the HELLO fallback round trip.
		// Our own dialer so the TLS handshake is bounded by ctx too.
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			conn, err := d.DialContext(ctx, network, addr)
			if err != nil || tlsCfg == nil {
				return conn, err
			}
			tc := tls.Client(conn, tlsCfg)
			if err := tc.HandshakeContext(ctx); err != nil {
				_ = conn.Close()
				return nil, fmt.Errorf("tls handshake: %w", err)
			}
			return tc, nil
		},
		DialTimeout:           timeout,
		ReadTimeout:           timeout,
		WriteTimeout:          timeout,
		ContextTimeoutEnabled: true,
		DialerRetries:         1,
		MaxRetries:            -1,
		PoolSize:              1,
		MaxActiveConns:        1,
		DisableIdentity:       true,
	})
	defer func() { _ = client.Close() }()

	conn := client.Conn()
	defer func() { _ = conn.Close() }()

	start := time.Now()
	// The first command dials and authenticates; a cheap no-op command keeps
	// the connection setup out of the PING latency.
	if err := conn.Echo(ctx, "dnsfailover").Err(); err != nil {
		res.Err = describeProbeErr("connect", err, o)
		return res
	}
	res.Connect = time.Since(start)

	pingStart := time.Now()
	pong, err := conn.Ping(ctx).Result()
	res.Latency = time.Since(pingStart)
	if err != nil {
		res.Err = describeProbeErr("PING", err, o)
		return res
	}
	if pong != "PONG" {
		res.Err = fmt.Sprintf("PING answered %q, want PONG", pong)
		return res
	}
	role, err := readRole(ctx, conn)
	if err != nil {
		res.Err = describeProbeErr("ROLE", err, o)
		return res
	}
	res.Role = role
	if role != "master" {
		res.Err = fmt.Sprintf("ROLE is %s, want master", role)
		return res
	}
	res.OK = true
	return res
}

func readRole(ctx context.Context, conn *goredis.Conn) (string, error) {
	reply, err := conn.Do(ctx, "ROLE").Slice()
	if err != nil {
		return "", err
	}
	if len(reply) == 0 {
		return "", errors.New("empty ROLE reply")
	}
	role, ok := reply[0].(string)
	if !ok {
		return "", fmt.Errorf("unexpected ROLE reply %v", reply)
	}
	return role, nil
}

// describeProbeErr turns driver errors into reasons an operator can act on.
func describeProbeErr(step string, err error, o ProbeOptions) string {
	msg := err.Error()
	var nerr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &nerr) && nerr.Timeout()):
		if o.TLS && strings.Contains(msg, "tls handshake") {
			return fmt.Sprintf("%s: timed out in the TLS handshake (does the server speak TLS on this port?): %v", step, err)
		}
		return fmt.Sprintf("%s: timed out: %v", step, err)
	case strings.Contains(msg, "WRONGPASS") || strings.Contains(msg, "invalid password") || strings.Contains(msg, "invalid username-password"):
		return fmt.Sprintf("%s: authentication failed (wrong password or user): %v", step, err)
	case strings.Contains(msg, "NOAUTH"):
		return fmt.Sprintf("%s: server requires a password and none was given: %v", step, err)
	case strings.Contains(msg, "without any password configured"):
		return fmt.Sprintf("%s: a password was given but the server has none configured: %v", step, err)
	case strings.Contains(msg, "connection refused"):
		return fmt.Sprintf("%s: connection refused: %v", step, err)
	case strings.Contains(msg, "tls") || strings.Contains(msg, "x509") || strings.Contains(msg, "certificate"):
		return fmt.Sprintf("%s: TLS failed: %v", step, err)
	}
	if !o.TLS && (strings.Contains(msg, "EOF") || strings.Contains(msg, "connection reset")) {
		return fmt.Sprintf("%s: connection closed by server (does it require TLS?): %v", step, err)
	}
	return fmt.Sprintf("%s: %v", step, err)
}
