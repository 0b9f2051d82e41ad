// Command gateway is an in-cluster authoritative DNS server for the names of
// Ingresses, LoadBalancer/ExternalName Services and Gateway API routes, meant
// to sit behind a LoadBalancer that a parent zone delegates to with NS records.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/dnsfailover/dnsfailover/internal/gateway"
	"github.com/dnsfailover/dnsfailover/internal/gateway/source"
)

type listFlag []string

func (l *listFlag) String() string     { return fmt.Sprint(*l) }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	var nsFlags listFlag
	zones := fs.String("zones", "", "comma-separated zones to serve, e.g. gw.example.com (required)")
	fs.Var(&nsFlags, "ns", "apex NS name, with glue addresses for in-zone names: ns1.gw.example.com=192.0.2.1,2001:db8::1 (repeatable; at least one)")
	ttl := fs.Uint("ttl", 60, "TTL of served records, seconds")
	negTTL := fs.Uint("negative-ttl", 30, "SOA minimum: how long NXDOMAIN/NODATA are cached, seconds")
	sources := fs.String("sources", "Ingress,Service", "comma-separated sources: Ingress, Service, HTTPRoute, GRPCRoute, TLSRoute")
	ingressClasses := fs.String("ingress-classes", "", "only Ingresses of these comma-separated classes (default all)")
	gatewayClasses := fs.String("gateway-classes", "", "only Gateways of these comma-separated classes (default all)")
	selector := fs.String("label-selector", "", "only objects whose labels match this selector")
	ignoreLabel := fs.String("ignore-label", source.DefaultIgnoreLabel, "objects with this label set to \"true\" are skipped")
	dnsAddr := fs.String("dns-addr", ":53", "UDP and TCP listen address for DNS")
	httpAddr := fs.String("http-addr", ":8080", "listen address for /healthz, /readyz and /metrics")
	maxUDP := fs.Int("max-udp-size", 1232, "largest UDP answer; bigger answers are truncated (TC) so clients retry over TCP")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file (default in-cluster config)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	pprof := fs.Bool("pprof", false, "serve the Go profiler under /debug/pprof/ on --http-addr (keep that address private)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	cfg := gateway.Config{
		Zones:       gateway.SplitList(*zones),
		TTL:         uint32(*ttl),
		NegativeTTL: uint32(*negTTL),
		DNSAddr:     *dnsAddr,
		HTTPAddr:    *httpAddr,
		MaxUDPSize:  *maxUDP,
		Pprof:       *pprof,
		Log:         log,
		Filter: source.Filter{
			IngressClasses: gateway.SplitList(*ingressClasses),
			GatewayClasses: gateway.SplitList(*gatewayClasses),
			IgnoreLabel:    *ignoreLabel,
		},
	}
	if *ttl == 0 || *ttl > 1<<31-1 || *negTTL > 1<<31-1 {
		return fmt.Errorf("--ttl and --negative-ttl must be 1..2147483647 (got %d, %d)", *ttl, *negTTL)
	}
	var err error
	if cfg.Sources, err = gateway.ParseSources(*sources); err != nil {
		return fmt.Errorf("--sources: %w", err)
	}
	for _, s := range nsFlags {
		ns, err := gateway.ParseNameServer(s)
		if err != nil {
			return fmt.Errorf("--ns: %w", err)
		}
		cfg.NameServers = append(cfg.NameServers, ns)
	}
	if *selector != "" {
		if cfg.Filter.Selector, err = labels.Parse(*selector); err != nil {
			return fmt.Errorf("--label-selector: %w", err)
		}
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.REST, err = restConfig(*kubeconfig); err != nil {
		return err
	}
	gw, err := gateway.New(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := gw.Start(ctx); err != nil {
		return err
	}
	return gw.Wait()
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("in-cluster config (use --kubeconfig outside a cluster): %w", err)
		}
		return cfg, nil
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig %s: %w", kubeconfig, err)
	}
	return cfg, nil
}
