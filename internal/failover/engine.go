package failover

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/dnsfailover/dnsfailover/internal/config"
	"github.com/dnsfailover/dnsfailover/internal/dnsrec"
	"github.com/dnsfailover/dnsfailover/internal/health"
)

// TargetChecker says whether a target may receive traffic (internal/health.Checker).
type TargetChecker interface {
	Check(ctx context.Context, t health.Target, allow health.Allowlist) health.Verdict
}

// Deps are the engine's collaborators; every one is created lazily by the
// caller so a cold start stays fast.
type Deps struct {
	// Provider returns the provider for a zone (project, managed zone name).
	Provider func(ctx context.Context, project, zone string) (dnsrec.Provider, error)
	// Checker returns the checker for a record's targets (probe settings
	// such as TLS and AUTH are per record); see HealthChecker.
	Checker func(rec *config.Record) TargetChecker
	// Lookup resolves Memorystore instances; optional, used by InstanceRecords.
	Lookup   health.InstanceLookup
	Verifier *dnsrec.Verifier
	Logger   *slog.Logger
	Now      func() time.Time                                 // default time.Now
	Sleep    func(ctx context.Context, d time.Duration) error // default: timer or ctx done
}

// Engine runs failover requests against the configured records.
type Engine struct {
	cfg *config.Config
	d   Deps
}

// New returns an engine for cfg.
func New(cfg *config.Config, d Deps) (*Engine, error) {
	if cfg == nil || d.Provider == nil || d.Checker == nil || d.Verifier == nil {
		return nil, errors.New("failover: config, Provider, Checker and Verifier are required")
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Sleep == nil {
		d.Sleep = sleepCtx
	}
	return &Engine{cfg: cfg, d: d}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
