package report

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/dnsfailover/dnsfailover/internal/failover"
	"github.com/dnsfailover/dnsfailover/internal/logging"
)

// DefaultTimeout bounds publishing and metrics per result.
const DefaultTimeout = 5 * time.Second

// Reporter sends each result to a Publisher and a Metrics sink, concurrently
// and best effort. A nil sink is skipped.
type Reporter struct {
	Publisher Publisher
	Metrics   Metrics
	Logger    *slog.Logger
	Timeout   time.Duration // default DefaultTimeout
}

// Report never fails and never takes longer than the timeout: it runs
// detached from ctx's cancellation, so a result is still published when the
// request that produced it has run out of time.
func (r *Reporter) Report(ctx context.Context, res *failover.Result) {
	if r == nil || res == nil {
		return
	}
	log := r.Logger
	if log == nil {
		log = slog.Default()
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	attrs := []any{logging.LabelRecord, res.Record, logging.LabelRequestID, res.RequestID, "outcome", string(res.Outcome)}
	var wg sync.WaitGroup
	if r.Publisher != nil {
		wg.Go(func() {
			if err := r.Publisher.Publish(ctx, res); err != nil {
				log.Warn("result not published (best effort)", slices.Concat(attrs, []any{"error", err.Error()})...)
			} else {
				log.Debug("result published", attrs...)
			}
		})
	}
	if r.Metrics != nil {
		wg.Go(func() {
			if err := r.Metrics.Record(ctx, res); err != nil {
				log.Warn("metrics not written (best effort)", slices.Concat(attrs, []any{"error", err.Error()})...)
			}
		})
	}
	wg.Wait()
}
