package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/google/uuid"

	"github.com/dnsfailover/dnsfailover/internal/clients"
	"github.com/dnsfailover/dnsfailover/internal/config"
	"github.com/dnsfailover/dnsfailover/internal/failover"
	"github.com/dnsfailover/dnsfailover/internal/logging"
	"github.com/dnsfailover/dnsfailover/internal/report"
	"github.com/dnsfailover/dnsfailover/internal/request"
)

// common flags
type globals struct {
	config  string
	project string
	json    bool
}

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.config, "config", os.Getenv(config.EnvConfigFile), "config file (default $"+config.EnvConfigFile+")")
	fs.StringVar(&g.project, "project", os.Getenv(config.EnvProject), "Google Cloud project (default from the config)")
	fs.BoolVar(&g.json, "json", false, "print JSON")
}

func (g *globals) load() (*config.Config, error) {
	if g.config != "" {
		_ = os.Setenv(config.EnvConfigFile, g.config)
	}
	if g.project != "" {
		_ = os.Setenv(config.EnvProject, g.project)
	}
	return config.Load()
}

func parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stdout)
			fs.PrintDefaults()
			return usageError{"help shown"}
		}
		return usageError{fmt.Sprintf("%s: %v", fs.Name(), err)}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("%s: unexpected arguments %q", fs.Name(), fs.Args())}
	}
	return nil
}

func cmdFailover(ctx context.Context, args []string, out, _ io.Writer) error {
	fs := flag.NewFlagSet("failover", flag.ContinueOnError)
	var g globals
	g.register(fs)
	var m request.Manual
	fs.StringVar(&m.Record, "record", "", "record name, e.g. redis-session-staging.staging.internal.")
	fs.StringVar(&m.Target, "target", "", "Memorystore instance (projects/P/locations/L/instances/I) or IP; empty = best healthy configured target")
	fs.StringVar(&m.Mode, "mode", "", "planned or emergency")
	fs.StringVar(&m.Reason, "reason", "", "why (kept in the state record and the result)")
	fs.BoolVar(&m.DryRun, "dry-run", false, "ask the function for a dry run")
	fs.StringVar(&m.RequestID, "request-id", "", "idempotency key (default: a new UUID)")
	topic := fs.String("topic", "redis-failover-requests", "requests topic")
	wait := fs.Duration("wait", 0, "wait this long for the result on the results topic (0: do not wait)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if m.RequestID == "" {
		m.RequestID = uuid.NewString()
	}
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	// The same decoder the function uses: what passes here passes there.
	if _, err := request.Decode(body); err != nil {
		return usageError{err.Error()}
	}
	cfg, err := g.load()
	if err != nil {
		return err
	}
	if _, ok := cfg.Record(m.Record); !ok {
		return usageError{fmt.Sprintf("record %q is not in the configuration", m.Record)}
	}
	client, err := pubsub.NewClient(ctx, cfg.Project)
	if err != nil {
		return fmt.Errorf("pubsub client: %w", err)
	}
	defer func() { _ = client.Close() }()

	var results <-chan *failover.Result
	if *wait > 0 {
		if cfg.ResultsTopic == "" {
			return usageError{"--wait needs resultsTopic in the config (or DNSFAILOVER_RESULTS_TOPIC)"}
		}
		wctx, cancel := context.WithTimeout(ctx, *wait)
		defer cancel()
		if results, err = watchResults(wctx, client, cfg, m.RequestID); err != nil {
			return err
		}
	}
	id, err := client.Publisher(*topic).Publish(ctx, &pubsub.Message{Data: body}).Get(ctx)
	if err != nil {
		return fmt.Errorf("publish to %s: %w", *topic, err)
	}
	fmt.Fprintf(out, "published request %s to %s (message %s)\n", m.RequestID, *topic, id)
	if results == nil {
		return nil
	}
	res, ok := <-results
	if !ok {
		return fmt.Errorf("no result for %s within %s", m.RequestID, *wait)
	}
	printResult(out, res, g.json)
	if res.Outcome == failover.OutcomeRejected || res.Outcome == failover.OutcomeFailed || res.Outcome == failover.OutcomeUnverified {
		return fmt.Errorf("failover %s: %s", res.Outcome, res.Error)
	}
	return nil
}

// watchResults subscribes to the results topic (a temporary subscription,
// created before publishing so the result cannot be missed) and delivers the
// result with the given request id.
func watchResults(ctx context.Context, client *pubsub.Client, cfg *config.Config, requestID string) (<-chan *failover.Result, error) {
	sub := fmt.Sprintf("projects/%s/subscriptions/dnsfailover-cli-%s", cfg.Project, uuid.NewString()[:8])
	topic := cfg.ResultsTopic
	if !strings.HasPrefix(topic, "projects/") {
		topic = "projects/" + cfg.Project + "/topics/" + topic
	}
	if _, err := client.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{Name: sub, Topic: topic, AckDeadlineSeconds: 30}); err != nil {
		return nil, fmt.Errorf("subscribe to %s: %w", topic, err)
	}
	ch := make(chan *failover.Result, 1)
	go func() {
		defer close(ch)
		defer func() {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_ = client.SubscriptionAdminClient.DeleteSubscription(dctx, &pubsubpb.DeleteSubscriptionRequest{Subscription: sub})
		}()
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		_ = client.Subscriber(sub).Receive(rctx, func(_ context.Context, msg *pubsub.Message) {
			msg.Ack()
			_, res, err := report.DecodeResult(msg.Data)
			if err != nil || res.RequestID != requestID {
				return
			}
			select {
			case ch <- res:
				cancel()
			default:
			}
		})
	}()
	return ch, nil
}

func cmdStatus(ctx context.Context, args []string, out, _ io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	var g globals
	g.register(fs)
	only := fs.String("record", "", "only this record")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := g.load()
	if err != nil {
		return err
	}
	eng, err := clients.NewEngine(cfg, logging.New(io.Discard))
	if err != nil {
		return err
	}
	var all []*failover.RecordStatus
	for _, rec := range cfg.Records {
		if *only != "" && !strings.EqualFold(config.LabelValue(*only), config.LabelValue(rec.Name)) {
			continue
		}
		st, err := eng.Status(ctx, rec.Name)
		if err != nil {
			return err
		}
		all = append(all, st)
	}
	if *only != "" && len(all) == 0 {
		return usageError{fmt.Sprintf("record %q is not in the configuration", *only)}
	}
	if g.json {
		return json.NewEncoder(out).Encode(all)
	}
	for _, st := range all {
		printStatus(out, st)
	}
	return nil
}

func cmdPlan(ctx context.Context, args []string, out, _ io.Writer) error {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	var g globals
	g.register(fs)
	var m request.Manual
	fs.StringVar(&m.Record, "record", "", "record name")
	fs.StringVar(&m.Target, "target", "", "instance or IP; empty = best healthy configured target")
	fs.StringVar(&m.Mode, "mode", "emergency", "planned or emergency")
	if err := parse(fs, args); err != nil {
		return err
	}
	m.DryRun, m.Reason = true, "plan from the CLI"
	if err := m.Validate(); err != nil {
		return usageError{err.Error()}
	}
	cfg, err := g.load()
	if err != nil {
		return err
	}
	eng, err := clients.NewEngine(cfg, logging.New(io.Discard))
	if err != nil {
		return err
	}
	req := m.Failover("cli-plan")
	req.Source = "cli"
	res, err := eng.Run(ctx, req)
	printResult(out, res, g.json)
	return err
}
