// Package gateway wires the in-cluster authoritative DNS server: Kubernetes
// sources feed a precomputed index (source -> index), and the query path
// answers from it over UDP and TCP (wire, server).
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"syscall"
	"time"

	"k8s.io/client-go/rest"

	"github.com/dnsfailover/dnsfailover/internal/gateway/index"
	"github.com/dnsfailover/dnsfailover/internal/gateway/server"
	"github.com/dnsfailover/dnsfailover/internal/gateway/source"
	"github.com/dnsfailover/dnsfailover/internal/gateway/wire"
)

// Config configures a Gateway.
type Config struct {
	Zones       []string
	TTL         uint32
	NegativeTTL uint32
	NameServers []index.NameServer
	Sources     []source.Kind
	Filter      source.Filter // Zones is filled from Zones
	// DNSAddr is the UDP and TCP listen address ("127.0.0.1:0" picks a port).
	DNSAddr    string
	HTTPAddr   string
	MaxUDPSize int
	// Pprof serves the Go profiler under /debug/pprof/ on HTTPAddr.
	Pprof bool
	REST  *rest.Config
	Log   *slog.Logger
}

// Gateway is a running DNS server. Create with New, then Start.
type Gateway struct {
	cfg     Config
	Index   *index.Index
	Watcher *source.Watcher
	Metrics *server.Metrics

	// Listening addresses, set by Start.
	UDPAddr, TCPAddr, HTTPAddr net.Addr

	done chan error
}

// Validate checks everything in cfg but the Kubernetes connection, so a
// command can reject bad flags before it looks for credentials.
func (cfg Config) Validate() error {
	_, err := cfg.newIndex()
	return err
}

func (cfg Config) newIndex() (*index.Index, error) {
	if len(cfg.Zones) == 0 {
		return nil, errors.New("gateway: no zones configured")
	}
	if cfg.MaxUDPSize != 0 && (cfg.MaxUDPSize < wire.MinUDPSize || cfg.MaxUDPSize > 65535) {
		return nil, fmt.Errorf("gateway: max UDP size %d outside %d..65535", cfg.MaxUDPSize, wire.MinUDPSize)
	}
	zones := make([]index.ZoneConfig, 0, len(cfg.Zones))
	for _, z := range cfg.Zones {
		zones = append(zones, index.ZoneConfig{Name: z, TTL: cfg.TTL, NegativeTTL: cfg.NegativeTTL, NameServers: cfg.NameServers})
	}
	ix, err := index.New(zones)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	return ix, nil
}

// New validates cfg and builds the (empty) index.
func New(cfg Config) (*Gateway, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.REST == nil {
		return nil, errors.New("gateway: no Kubernetes client config")
	}
	ix, err := cfg.newIndex()
	if err != nil {
		return nil, err
	}
	cfg.Filter.Zones = cfg.Zones
	kube, err := source.NewClients(cfg.REST)
	if err != nil {
		return nil, fmt.Errorf("gateway: kubernetes client: %w", err)
	}
	w := &source.Watcher{Kube: kube, Filter: &cfg.Filter, Index: ix, Kinds: cfg.Sources, Log: cfg.Log}
	return &Gateway{cfg: cfg, Index: ix, Watcher: w, Metrics: server.NewMetrics(ix, w), done: make(chan error, 3)}, nil
}

// Start binds the listeners, starts the informers and serves until ctx ends.
// It returns once every socket is bound; Wait reports serving errors.
func (g *Gateway) Start(ctx context.Context) error {
	udps, tcp, err := listenDNS(ctx, g.cfg.DNSAddr)
	if err != nil {
		return err
	}
	closeUDP := func() {
		for _, c := range udps {
			c.Close()
		}
	}
	udpAddr := udps[0].LocalAddr().(*net.UDPAddr)
	httpLn, err := net.Listen("tcp", g.cfg.HTTPAddr)
	if err != nil {
		closeUDP()
		tcp.Close()
		return fmt.Errorf("gateway: listen http: %w", err)
	}
	g.UDPAddr, g.TCPAddr, g.HTTPAddr = udpAddr, tcp.Addr(), httpLn.Addr()

	if err := g.Watcher.Start(ctx); err != nil {
		closeUDP()
		tcp.Close()
		httpLn.Close()
		return fmt.Errorf("gateway: %w", err)
	}
	d := &server.DNS{Responder: &wire.Responder{Index: g.Index, MaxUDPSize: g.cfg.MaxUDPSize}, Metrics: g.Metrics, Log: g.cfg.Log}
	hs := &http.Server{Handler: server.HTTPHandler(g.Watcher, g.Metrics, g.cfg.Pprof), ReadHeaderTimeout: 5 * time.Second}
	go func() { g.done <- d.ServeUDP(ctx, udps) }()
	go func() { g.done <- d.ServeTCP(ctx, tcp) }()
	go func() {
		stop := context.AfterFunc(ctx, func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = hs.Shutdown(sctx)
		})
		defer stop()
		if err := hs.Serve(httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.done <- fmt.Errorf("serve http: %w", err)
			return
		}
		g.done <- nil
	}()
	go g.releaseMemoryAfterSync(ctx)
	g.cfg.Log.Info("gateway listening", "dns", g.UDPAddr.String(), "http", g.HTTPAddr.String(), "zones", g.cfg.Zones, "sources", g.cfg.Sources)
	return nil
}

// Wait blocks until all servers stopped (after ctx ended) or one failed.
func (g *Gateway) Wait() error {
	var errs []error
	for range 3 {
		if err := <-g.done; err != nil {
			errs = append(errs, err)
			break
		}
	}
	return errors.Join(errs...)
}

// Ready reports whether every enabled source has synced (or is known to be
// missing or forbidden).
func (g *Gateway) Ready() bool { return g.Watcher.Ready() }

// releaseMemoryAfterSync returns the initial lists' garbage to the OS once
// every source has synced: the decoded lists are several times the size of
// the trimmed objects kept, and the runtime would otherwise hold on to those
// pages for minutes, so RSS would overstate what the gateway needs.
func (g *Gateway) releaseMemoryAfterSync(ctx context.Context) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for !g.Ready() {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	debug.FreeOSMemory()
}

// listenDNS binds UDP and TCP on the same port. With port 0 the kernel picks
// a free UDP port, but that port may be taken for TCP (by another listener,
// or by an outgoing connection's ephemeral port): then it tries another.
func listenDNS(ctx context.Context, addr string) ([]*net.UDPConn, *net.TCPListener, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("gateway: dns address %q: %w", addr, err)
	}
	attempts := 1
	if port == "0" {
		attempts = 10
	}
	for i := 1; ; i++ {
		udps, err := server.ListenUDP(ctx, addr)
		if err != nil {
			return nil, nil, fmt.Errorf("gateway: %w", err)
		}
		// TCP on the same port as UDP (a :0 request resolves to UDP's port).
		udpAddr := udps[0].LocalAddr().(*net.UDPAddr)
		tcp, err := net.ListenTCP("tcp", &net.TCPAddr{IP: udpAddr.IP, Port: udpAddr.Port, Zone: udpAddr.Zone})
		if err == nil {
			return udps, tcp, nil
		}
		for _, c := range udps {
			c.Close()
		}
		if i >= attempts || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, fmt.Errorf("gateway: listen tcp: %w", err)
		}
	}
}
