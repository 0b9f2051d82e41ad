// Package demo runs the whole failover on this machine, end to end: the
// Cloud DNS emulator serving the zone over DNS, the Memorystore API, two real
// redis-server processes, Google's Pub/Sub emulator with push subscriptions,
// and the two Cloud Functions served by the functions framework in their own
// process, receiving the CloudEvents Eventarc would deliver. It kills the
// primary, publishes a Monitoring incident, prints the timeline, then moves
// the record back with a planned failover published by the real gcloud CLI.
package demo

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Options tune a demo run.
type Options struct {
	// PubSub picks the Pub/Sub backend: "auto" (the emulator when installed,
	// else pstest), "emulator" or "pstest".
	PubSub string
	// Out receives the story; Log receives component logs (may be io.Discard).
	Out, Log io.Writer
	// FunctionsCommand starts the functions process: it is run with the
	// functions' environment and must serve them on $PORT (see ServeFunctions).
	FunctionsCommand []string
}

// Run plays the demo and tears everything down, whatever happens.
func Run(ctx context.Context, o Options) (err error) {
	w := newWorld(o)
	defer func() {
		if cerr := w.close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	w.say("dnsfailover demo: everything runs on loopback and stops by itself")
	if err := w.start(ctx); err != nil {
		return fmt.Errorf("demo: start: %w", err)
	}
	if err := w.alertFailover(ctx); err != nil {
		return fmt.Errorf("demo: alert-driven failover: %w", err)
	}
	if err := w.manualFailback(ctx); err != nil {
		return fmt.Errorf("demo: manual planned failover: %w", err)
	}
	w.say("")
	w.say("demo finished in %s; stopping everything", time.Since(w.t0).Round(time.Millisecond))
	return nil
}
