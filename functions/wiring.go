package functions

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/dnsfailover/dnsfailover/internal/clients"
	"github.com/dnsfailover/dnsfailover/internal/config"
	"github.com/dnsfailover/dnsfailover/internal/incident"
	"github.com/dnsfailover/dnsfailover/internal/logging"
	"github.com/dnsfailover/dnsfailover/internal/report"
)

// FromEnv builds the app the way a deployed function runs: config.Load
// (DNSFAILOVER_CONFIG / DNSFAILOVER_CONFIG_JSON), endpoint overrides for
// emulators (DNSFAILOVER_DNS_ENDPOINT, DNSFAILOVER_REDIS_API_ENDPOINT,
// PUBSUB_EMULATOR_HOST), DNSFAILOVER_RESTORE_TTL_ON_CLOSE and
// DNSFAILOVER_METRICS. Clients connect on first use, so this is cheap.
// Logs go to w (os.Stdout in Cloud Functions, where Cloud Logging reads them).
func FromEnv(_ context.Context, w io.Writer) (*App, error) {
	log := logging.New(w)
	cfg, err := config.Load()
	if err != nil {
		return nil, err
	}
	routing, err := incident.OptionsFromEnv()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	engine, err := clients.NewEngine(cfg, log)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	metrics := report.MetricsEnabled()
	a := &App{Config: cfg, Engine: engine, Routing: routing, Logger: log, Reporters: map[string]*report.Reporter{}}
	for _, fn := range []string{NameOnAlert, NameOnRequest} {
		r := &report.Reporter{Logger: log}
		if cfg.ResultsTopic != "" {
			r.Publisher = report.NewPubSub(cfg.Project, cfg.ResultsTopic, fn)
		}
		if metrics {
			r.Metrics = report.NewMonitoring(cfg.Project)
		}
		a.Reporters[fn] = r
	}
	return a, nil
}

// lazyApp builds the app once per instance and remembers a failure, which
// is logged once: a bad configuration is one clear line, and every event
// then fails (HTTP 500) so that, with --retry, nothing is lost while the
// configuration is fixed.
type lazyApp struct {
	once sync.Once
	load func(context.Context, io.Writer) (*App, error)
	out  io.Writer // default os.Stdout
	app  *App
	err  error
}

// defaultApp serves the exported handlers; an atomic pointer so tests can
// install a fresh one between requests.
var defaultApp atomic.Pointer[lazyApp]

func init() { defaultApp.Store(&lazyApp{load: FromEnv}) }

func (l *lazyApp) get() (*App, error) {
	l.once.Do(func() {
		out := l.out
		if out == nil {
			out = os.Stdout
		}
		l.app, l.err = l.load(context.Background(), out)
		if l.err != nil {
			l.err = fmt.Errorf("dnsfailover is not configured: %w", l.err)
			logging.New(out).Error(l.err.Error())
		}
	})
	return l.app, l.err
}

// Warm loads and validates the configuration now (at cold start, from the
// root package's init) instead of on the first event. It never panics; the
// error is logged once and returned by every handler call.
//
// Only a process that serves functions warms up: Cloud Run sets K_SERVICE,
// the functions framework's runners FUNCTION_TARGET. A program that merely
// links the package (the demo's parent, the CLI's tests) stays quiet.
func Warm() error {
	if os.Getenv("K_SERVICE") == "" && os.Getenv("FUNCTION_TARGET") == "" {
		return nil
	}
	_, err := defaultApp.Load().get()
	return err
}
