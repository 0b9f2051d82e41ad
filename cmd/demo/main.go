// Command demo runs the whole failover on loopback: see internal/demo.
// `make demo` runs it. It starts itself a second time, with
// DNSFAILOVER_DEMO_ROLE=functions, to serve the Cloud Functions in their
// own process through the functions framework, as Cloud Run functions do.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	_ "github.com/dnsfailover/dnsfailover" // registers OnAlert and OnRequest
	"github.com/dnsfailover/dnsfailover/internal/demo"
)

const roleEnv = "DNSFAILOVER_DEMO_ROLE"

func main() {
	if os.Getenv(roleEnv) == "functions" {
		// Every registered function is served at /<Name>.
		if err := funcframework.StartHostPort("127.0.0.1", os.Getenv("PORT")); err != nil {
			fmt.Fprintln(os.Stderr, "functions:", err)
			os.Exit(1)
		}
		return
	}
	pubsub := flag.String("pubsub", "auto", "Pub/Sub backend: auto, emulator or pstest")
	verbose := flag.Bool("v", false, "show the components' own logs")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up after this long")
	flag.Parse()

	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
	var logs io.Writer = io.Discard
	if *verbose {
		logs = os.Stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	err = demo.Run(ctx, demo.Options{
		PubSub: *pubsub, Out: os.Stdout, Log: logs,
		FunctionsCommand: []string{"env", roleEnv + "=functions", self},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
