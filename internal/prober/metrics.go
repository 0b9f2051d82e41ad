package prober

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the prober's Prometheus metrics.
type Metrics struct {
	Observations *prometheus.CounterVec   // record, result=ok|fail|unknown
	Quorum       *prometheus.GaugeVec     // record, state=fresh|agree|healthy|failing
	Down         *prometheus.GaugeVec     // record: 1 while the quorum declares the primary down
	Decisions    *prometheus.CounterVec   // record, source=prober|sentinel, decision
	Detection    *prometheus.HistogramVec // record: first failed probe -> request published
	ProbeSeconds *prometheus.HistogramVec // record
	Leader       prometheus.Gauge
}

// NewMetrics registers the metrics with reg (a fresh registry per prober in
// tests, prometheus.DefaultRegisterer in the binary).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Observations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "dnsfailover", Subsystem: "prober", Name: "observations_total",
			Help: "Probes of the record's primary by result (unknown: the primary could not be located).",
		}, []string{"record", "result"}),
		Quorum: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "dnsfailover", Subsystem: "prober", Name: "quorum_observations",
			Help: "Leader's last count of observations: fresh, agreeing on the primary, healthy, failing.",
		}, []string{"record", "state"}),
		Down: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "dnsfailover", Subsystem: "prober", Name: "primary_down",
			Help: "1 while a quorum declares the record's primary down.",
		}, []string{"record"}),
		Decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "dnsfailover", Subsystem: "prober", Name: "decisions_total",
			Help: "Leader decisions: published, publish-failed, episode-over, sentinel-switch, ...",
		}, []string{"record", "source", "decision"}),
		Detection: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "dnsfailover", Subsystem: "prober", Name: "detection_seconds",
			Help:    "Seconds from the first failed probe of an episode to its request being published.",
			Buckets: []float64{0.5, 1, 2, 3, 4, 5, 7.5, 10, 15, 20, 30, 60},
		}, []string{"record"}),
		ProbeSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "dnsfailover", Subsystem: "prober", Name: "probe_seconds",
			Help:    "Duration of one probe of the primary.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 12),
		}, []string{"record"}),
		Leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "dnsfailover", Subsystem: "prober", Name: "leader",
			Help: "1 while this replica is the elected leader.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Observations, m.Quorum, m.Down, m.Decisions, m.Detection, m.ProbeSeconds, m.Leader)
	}
	return m
}
