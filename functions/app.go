// Package functions holds the Cloud Functions handlers: OnAlert (Cloud
// Monitoring incidents) and OnRequest (manual requests), both CloudEvent
// functions for Pub/Sub messages. They decode, hand the request to the
// failover engine and report the result; every decision is the engine's.
// The module root's function.go registers them for the Go buildpack.
package functions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/dnsfailover/dnsfailover/internal/config"
	"github.com/dnsfailover/dnsfailover/internal/failover"
	"github.com/dnsfailover/dnsfailover/internal/incident"
	"github.com/dnsfailover/dnsfailover/internal/logging"
	"github.com/dnsfailover/dnsfailover/internal/report"
)

// Entry point names: gcloud functions deploy --entry-point=...
const (
	NameOnAlert   = "OnAlert"
	NameOnRequest = "OnRequest"
)

// Sources recorded in requests and results.
const (
	SourceAlert  = "alert"
	SourceManual = "manual"
)

// App is what both handlers share; one per function instance.
type App struct {
	Config  *config.Config
	Engine  *failover.Engine
	Routing incident.Options
	// Reporters, by entry point name; a missing one reports nothing.
	Reporters map[string]*report.Reporter
	Logger    *slog.Logger
}

// OnAlert handles a Cloud Monitoring notification published to Pub/Sub.
func OnAlert(ctx context.Context, e event.Event) error {
	a, err := defaultApp.Load().get()
	if err != nil {
		return err
	}
	return a.HandleAlert(ctx, e)
}

// OnRequest handles a manual failover request published to Pub/Sub.
func OnRequest(ctx context.Context, e event.Event) error {
	a, err := defaultApp.Load().get()
	if err != nil {
		return err
	}
	return a.HandleRequest(ctx, e)
}

// run hands one request to the engine, reports the result and maps the
// outcome to the handler's return: nil acknowledges (done or permanently
// rejected), an error asks for redelivery (transient).
func (a *App) run(ctx context.Context, function string, req failover.Request, log *slog.Logger) error {
	log = log.With(logging.LabelRecord, req.Record, logging.LabelRequestID, req.ID)
	res, err := a.Engine.Run(ctx, req)
	if res == nil { // the engine promises a result; never publish nothing
		res = &failover.Result{RequestID: req.ID, Source: req.Source, Record: req.Record, Action: req.Action,
			Mode: req.Mode, DryRun: req.DryRun, Outcome: failover.OutcomeFailed, Steps: []failover.Step{}}
		if err != nil {
			res.Error = err.Error()
		}
	}
	a.Reporters[function].Report(ctx, res)
	attrs := []any{"outcome", string(res.Outcome), "action", string(req.Action), "duration", res.Duration().String()}
	switch {
	case err == nil:
		log.Info("request done", attrs...)
		return nil
	case errors.Is(err, failover.ErrRejected):
		log.Error("request rejected", append(attrs, "error", err.Error())...)
		return nil
	default:
		log.Error("request failed, redelivery may help", append(attrs, "error", err.Error())...)
		return fmt.Errorf("%s %s: %w", req.Action, req.Record, err)
	}
}

// reject reports input that can never be processed and acknowledges it: a
// poison message must not be redelivered for days.
func (a *App) reject(ctx context.Context, function string, res *failover.Result, err error, log *slog.Logger) error {
	now := time.Now()
	res.Outcome, res.Error = failover.OutcomeRejected, err.Error()
	if res.Started.IsZero() {
		res.Started = now
	}
	res.Finished = now
	if res.Steps == nil {
		res.Steps = []failover.Step{}
	}
	log.Error("message rejected", logging.LabelRequestID, res.RequestID, logging.LabelRecord, res.Record, "error", err.Error())
	a.Reporters[function].Report(ctx, res)
	return nil
}
