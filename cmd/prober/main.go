// Command prober is dnsfailover's in-cluster detector: replicas probe the
// protected Redis primaries, share observations through Leases, and the
// elected one requests an emergency failover when a quorum lost the primary
// (or when Redis Sentinel switched masters). See docs/prober.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"cloud.google.com/go/pubsub/v2"
	redisapi "cloud.google.com/go/redis/apiv1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/dnsfailover/dnsfailover/internal/clients"
	"github.com/dnsfailover/dnsfailover/internal/health"
	"github.com/dnsfailover/dnsfailover/internal/logging"
	"github.com/dnsfailover/dnsfailover/internal/prober"
)

func main() {
	log := logging.New(os.Stdout)
	// client-go (leader election, informers) logs through klog: same JSON lines.
	klog.SetSlogLogger(log.With("component", "client-go"))
	if err := run(log); err != nil {
		log.Error("prober failed", "err", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	configPath := flag.String("config", envOr("DNSFAILOVER_PROBER_CONFIG", "/etc/dnsfailover-prober/config/config.yaml"), "prober config file (YAML or JSON)")
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig; empty means in-cluster")
	identity := flag.String("identity", os.Getenv("POD_NAME"), "this replica's unique name (the pod name)")
	namespace := flag.String("namespace", os.Getenv("POD_NAMESPACE"), "namespace of the Leases")
	listen := flag.String("listen", envOr("DNSFAILOVER_PROBER_LISTEN", ":8080"), "address of /healthz, /readyz and /metrics")
	flag.Parse()

	cfg, err := prober.Load(*configPath)
	if err != nil {
		return err
	}
	if *identity == "" {
		host, _ := os.Hostname()
		*identity = host
	}
	if *namespace == "" {
		if b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace"); err == nil {
			*namespace = string(b)
		}
	}
	rc, err := restConfig(*kubeconfig)
	if err != nil {
		return err
	}
	rc.UserAgent = "dnsfailover-prober/" + *identity
	// One Lease write per interval, election renewals and a watch: well
	// under this, but client-go's default (5/s) is too tight for short intervals.
	rc.QPS, rc.Burst = 20, 40
	kube, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ps, err := pubsub.NewClient(context.WithoutCancel(ctx), cfg.Project)
	if err != nil {
		return fmt.Errorf("pubsub client: %w", err)
	}
	defer func() { _ = ps.Close() }()

	var lookup health.InstanceLookup
	for _, r := range cfg.Records {
		if r.Primary.Instance != "" {
			c, err := redisapi.NewCloudRedisClient(context.WithoutCancel(ctx), clients.RedisAPIOptions()...)
			if err != nil {
				return fmt.Errorf("memorystore client: %w", err)
			}
			defer func() { _ = c.Close() }()
			lookup = health.NewMemorystoreLookup(c)
			break
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	p := &prober.Prober{
		Config: cfg, Identity: *identity, Namespace: *namespace, Kube: kube,
		Publisher: &prober.PubSubPublisher{Client: ps, Topic: cfg.RequestsTopic},
		Lookup:    lookup,
		Owner:     prober.PodOwner(os.Getenv("POD_NAME"), os.Getenv("POD_UID")),
		Metrics:   prober.NewMetrics(reg),
		Logger:    log,
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *listen, err)
	}
	srv := &http.Server{Handler: p.Handler(reg), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", "err", err)
		}
	}()
	log.Info("serving health and metrics", "addr", ln.Addr().String())
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return p.Run(ctx)
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		c, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("in-cluster config (pass -kubeconfig outside a cluster): %w", err)
		}
		return c, nil
	}
	c, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	return c, nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
