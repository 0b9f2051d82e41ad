package prober

import (
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves /healthz (the probe loop is alive), /readyz (this replica's
// observations reach the API server, so it counts in the quorum) and
// /metrics.
func (p *Prober) Handler(g prometheus.Gatherer) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		p.answer(w, p.lastTick.Load(), 5*p.interval(), "probe loop")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		p.answer(w, p.lastWrite.Load(), p.freshness(), "observation lease write")
	})
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	return mux
}

func (p *Prober) answer(w http.ResponseWriter, lastNanos int64, limit time.Duration, what string) {
	if lastNanos == 0 {
		http.Error(w, what+": not yet", http.StatusServiceUnavailable)
		return
	}
	age := time.Since(time.Unix(0, lastNanos))
	if age > limit {
		http.Error(w, fmt.Sprintf("%s: last success %s ago (limit %s)", what, age.Round(time.Millisecond), limit), http.StatusServiceUnavailable)
		return
	}
	role := "follower"
	if p.Leading() {
		role = "leader"
	}
	_, _ = fmt.Fprintf(w, "ok (%s, %s %s ago)\n", role, what, age.Round(time.Millisecond))
}

func (p *Prober) interval() time.Duration {
	if p.Config == nil {
		return DefaultInterval
	}
	return p.Config.Interval.Duration
}

func (p *Prober) freshness() time.Duration {
	if p.Config == nil {
		return DefaultFreshIntervals * DefaultInterval
	}
	return p.Config.Freshness.Duration
}
