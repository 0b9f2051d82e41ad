package server

import (
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/dnsfailover/dnsfailover/internal/gateway/index"
	"github.com/dnsfailover/dnsfailover/internal/gateway/source"
	"github.com/dnsfailover/dnsfailover/internal/gateway/wire"
)

// Label values are fixed sets so the hot path indexes arrays of counters
// instead of hashing label strings per query.
var (
	metricQtypes = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME, dns.TypeTXT, dns.TypeSOA, dns.TypeNS, dns.TypeANY, dns.TypeMX, dns.TypeSRV, dns.TypePTR, dns.TypeCAA, dns.TypeHTTPS}
	metricRcodes = []int{dns.RcodeSuccess, dns.RcodeFormatError, dns.RcodeServerFailure, dns.RcodeNameError, dns.RcodeNotImplemented, dns.RcodeRefused, dns.RcodeBadVers}
)

const otherLabel = "other"

// Metrics are the gateway's Prometheus metrics, in their own registry.
type Metrics struct {
	Registry *prometheus.Registry

	queries   [][]prometheus.Counter // [qtype index][rcode index], last of each = other
	latency   [2]prometheus.Observer // udp, tcp
	truncated prometheus.Counter
	wildcard  prometheus.Counter
	slow      prometheus.Counter
	dropped   prometheus.Counter
}

// NewMetrics registers the metrics; index and watcher feed gauges read at
// scrape time.
func NewMetrics(ix *index.Index, w *source.Watcher) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{Registry: reg}
	qv := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dnsgw_queries_total", Help: "DNS queries answered, by query type and response code.",
	}, []string{"qtype", "rcode"})
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "dnsgw_query_duration_seconds",
		Help:    "Time from a query's arrival to its answer being written, by transport.",
		Buckets: []float64{5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 5e-3, 0.025, 0.1},
	}, []string{"transport"})
	m.truncated = prometheus.NewCounter(prometheus.CounterOpts{Name: "dnsgw_truncated_total", Help: "UDP answers sent truncated (TC) because they did not fit."})
	m.wildcard = prometheus.NewCounter(prometheus.CounterOpts{Name: "dnsgw_wildcard_answers_total", Help: "Answers synthesized from a wildcard name."})
	m.slow = prometheus.NewCounter(prometheus.CounterOpts{Name: "dnsgw_slow_path_total", Help: "Queries the fast parser handed to the miekg/dns path."})
	m.dropped = prometheus.NewCounter(prometheus.CounterOpts{Name: "dnsgw_dropped_total", Help: "Packets dropped without an answer (responses, runts)."})
	reg.MustRegister(qv, lat, m.truncated, m.wildcard, m.slow, m.dropped)

	qtypes := append(qtypeLabels(), otherLabel)
	rcodes := append(rcodeLabels(), otherLabel)
	m.queries = make([][]prometheus.Counter, len(qtypes))
	for i, qt := range qtypes {
		m.queries[i] = make([]prometheus.Counter, len(rcodes))
		for j, rc := range rcodes {
			m.queries[i][j] = qv.WithLabelValues(qt, rc)
		}
	}
	m.latency[0] = lat.WithLabelValues("udp")
	m.latency[1] = lat.WithLabelValues("tcp")

	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "dnsgw_index_names", Help: "Names that own records in the index.",
	}, func() float64 { return float64(ix.DataNames()) }))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "dnsgw_index_last_update_timestamp_seconds", Help: "Unix time of the last change to served data (0 before the first).",
	}, func() float64 {
		t := ix.LastUpdate()
		if t.IsZero() {
			return 0
		}
		return float64(t.UnixNano()) / 1e9
	}))
	reg.MustRegister(&stateCollector{ix: ix, w: w})
	return m
}

func qtypeLabels() []string {
	out := make([]string, len(metricQtypes))
	for i, t := range metricQtypes {
		out[i] = dns.TypeToString[t]
	}
	return out
}

func rcodeLabels() []string {
	out := make([]string, len(metricRcodes))
	for i, r := range metricRcodes {
		out[i] = dns.RcodeToString[r]
	}
	return out
}

// observe records one answered query.
func (m *Metrics) observe(res wire.Result, tcp bool, start time.Time) {
	if m == nil {
		return
	}
	qi := len(metricQtypes)
	for i, t := range metricQtypes {
		if t == res.Qtype {
			qi = i
			break
		}
	}
	ri := len(metricRcodes)
	for i, r := range metricRcodes {
		if r == res.Rcode {
			ri = i
			break
		}
	}
	m.queries[qi][ri].Inc()
	if res.Truncated {
		m.truncated.Inc()
	}
	if res.Wildcard {
		m.wildcard.Inc()
	}
	if res.Slow {
		m.slow.Inc()
	}
	t := 0
	if tcp {
		t = 1
	}
	m.latency[t].Observe(time.Since(start).Seconds())
}

// stateCollector exports per-source sync state and zone serials at scrape time.
type stateCollector struct {
	ix *index.Index
	w  *source.Watcher
}

var (
	sourceStateDesc = prometheus.NewDesc("dnsgw_source_state",
		"1 for the current state of each source (pending, synced, unavailable, failing).", []string{"source", "state"}, nil)
	sourceSyncedDesc = prometheus.NewDesc("dnsgw_source_synced_timestamp_seconds",
		"Unix time a source finished its first sync (0 if not yet).", []string{"source"}, nil)
	zoneSerialDesc = prometheus.NewDesc("dnsgw_zone_serial", "Current SOA serial of each zone.", []string{"zone"}, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- sourceStateDesc
	ch <- sourceSyncedDesc
	ch <- zoneSerialDesc
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	if c.w != nil {
		for _, s := range c.w.Statuses() {
			for _, st := range []source.State{source.Pending, source.Synced, source.Unavailable, source.Failing} {
				v := 0.0
				if s.State == st {
					v = 1
				}
				ch <- prometheus.MustNewConstMetric(sourceStateDesc, prometheus.GaugeValue, v, string(s.Kind), st.String())
			}
			synced := 0.0
			if !s.SyncedAt.IsZero() {
				synced = float64(s.SyncedAt.Unix())
			}
			ch <- prometheus.MustNewConstMetric(sourceSyncedDesc, prometheus.GaugeValue, synced, string(s.Kind))
		}
	}
	for _, z := range c.ix.Zones() {
		ch <- prometheus.MustNewConstMetric(zoneSerialDesc, prometheus.GaugeValue, float64(z.Serial()), index.PresentationName(z.Apex))
	}
}
