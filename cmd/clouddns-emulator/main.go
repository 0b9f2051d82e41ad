// Command clouddns-emulator runs the local Cloud DNS emulator: the dns/v1 REST API for the Go
// client and gcloud, and an authoritative DNS server (UDP and TCP) for the emulated zones.
//
//	clouddns-emulator --http=127.0.0.1:8053 --dns=127.0.0.1:8054 --propagation-delay=2s
//	CLOUDSDK_API_ENDPOINT_OVERRIDES_DNS=http://127.0.0.1:8053/ CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true gcloud dns managed-zones list
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/dnsfailover/dnsfailover/internal/clouddnsemu"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "clouddns-emulator:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("clouddns-emulator", flag.ContinueOnError)
	httpAddr := fs.String("http", "127.0.0.1:8053", "REST API listen address")
	dnsAddr := fs.String("dns", "127.0.0.1:8054", "DNS listen address (UDP and TCP)")
	project := fs.String("project", "default", "project for zones in --zones-file that name none")
	delay := fs.Duration("propagation-delay", 0, "how long a change stays pending before DNS serves it")
	zonesFile := fs.String("zones-file", "", "JSON file of zones to preload (see internal/clouddnsemu/README.md)")
	nameServers := fs.String("name-servers", "", "comma-separated nameServers reported for new zones")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	var f clouddnsemu.Faults
	fs.IntVar(&f.Status429, "fault-429", 0, "answer the next N API calls with 429")
	fs.IntVar(&f.Status500, "fault-500", 0, "answer the next N API calls with 500")
	fs.IntVar(&f.Status503, "fault-503", 0, "answer the next N API calls with 503")
	fs.IntVar(&f.DropConnections, "fault-drop", 0, "close the connection of the next N API calls without answering")
	fs.DurationVar(&f.Latency, "fault-latency", 0, "added to every API call")
	fs.StringVar(&f.Match, "fault-match", "", "faults apply only to calls whose \"METHOD /path\" contains this")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	opts := clouddnsemu.Options{HTTPAddr: *httpAddr, DNSAddr: *dnsAddr, PropagationDelay: *delay, Logger: log}
	if *nameServers != "" {
		opts.NameServers = strings.Split(*nameServers, ",")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := clouddnsemu.Start(ctx, opts)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	defer srv.Close()
	srv.SetFaults(f)
	if *zonesFile != "" {
		data, err := os.ReadFile(*zonesFile)
		if err != nil {
			return fmt.Errorf("read zones file: %w", err)
		}
		if err := srv.LoadZones(data, *project); err != nil {
			return fmt.Errorf("load zones file %s: %w", *zonesFile, err)
		}
	}
	fmt.Printf("API_URL=%s\nDNS_ADDR=%s\n", srv.URL(), srv.DNSAddr())
	<-ctx.Done()
	log.Info("shutting down")
	shutdown := time.AfterFunc(5*time.Second, func() { os.Exit(1) })
	defer shutdown.Stop()
	if err := srv.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}
