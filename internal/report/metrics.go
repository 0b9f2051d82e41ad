package report

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	monitoring "cloud.google.com/go/monitoring/apiv3/v2"
	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"google.golang.org/api/option"
	"google.golang.org/genproto/googleapis/api/metric"
	"google.golang.org/genproto/googleapis/api/monitoredres"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dnsfailover/dnsfailover/internal/failover"
)

// Custom metric types. Each request writes one GAUGE point per series: a
// count of 1 (chart with ALIGN_SUM / ALIGN_COUNT), its duration and, when it
// verified over DNS, the verification time.
const (
	MetricFailovers    = "custom.googleapis.com/dnsfailover/failovers"
	MetricDuration     = "custom.googleapis.com/dnsfailover/duration_seconds"
	MetricVerification = "custom.googleapis.com/dnsfailover/verification_seconds"
)

// EnvMetrics set to "off" disables metrics (local runs: Monitoring has no emulator).
const EnvMetrics = "DNSFAILOVER_METRICS"

// MetricsEnabled reports whether DNSFAILOVER_METRICS allows metrics.
func MetricsEnabled() bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv(EnvMetrics))) {
	case "off", "false", "0", "disabled", "no":
		return false
	}
	return true
}

// Metrics records a result.
type Metrics interface {
	Record(ctx context.Context, res *failover.Result) error
}

// TimeSeries builds the points for one result, written to project as the
// "global" monitored resource at time at.
func TimeSeries(project string, res *failover.Result, at time.Time) []*monitoringpb.TimeSeries {
	res0 := &monitoredres.MonitoredResource{Type: "global", Labels: map[string]string{"project_id": project}}
	interval := &monitoringpb.TimeInterval{EndTime: timestamppb.New(at)}
	labels := map[string]string{"outcome": string(res.Outcome), "record": res.Record}
	point := func(v *monitoringpb.TypedValue) []*monitoringpb.Point {
		return []*monitoringpb.Point{{Interval: interval, Value: v}}
	}
	ts := []*monitoringpb.TimeSeries{
		{
			Metric:     &metric.Metric{Type: MetricFailovers, Labels: labels},
			Resource:   res0,
			MetricKind: metric.MetricDescriptor_GAUGE,
			ValueType:  metric.MetricDescriptor_INT64,
			Points:     point(&monitoringpb.TypedValue{Value: &monitoringpb.TypedValue_Int64Value{Int64Value: 1}}),
		},
	}
	if d := res.Duration(); d >= 0 && !res.Started.IsZero() {
		ts = append(ts, &monitoringpb.TimeSeries{
			Metric:     &metric.Metric{Type: MetricDuration, Labels: labels},
			Resource:   res0,
			MetricKind: metric.MetricDescriptor_GAUGE,
			ValueType:  metric.MetricDescriptor_DOUBLE,
			Unit:       "s",
			Points:     point(&monitoringpb.TypedValue{Value: &monitoringpb.TypedValue_DoubleValue{DoubleValue: d.Seconds()}}),
		})
	}
	if v := res.Verification; v != nil && v.Elapsed > 0 {
		ts = append(ts, &monitoringpb.TimeSeries{
			Metric: &metric.Metric{Type: MetricVerification, Labels: map[string]string{
				"record": res.Record, "verified": fmt.Sprint(v.OK)}},
			Resource:   res0,
			MetricKind: metric.MetricDescriptor_GAUGE,
			ValueType:  metric.MetricDescriptor_DOUBLE,
			Unit:       "s",
			Points:     point(&monitoringpb.TypedValue{Value: &monitoringpb.TypedValue_DoubleValue{DoubleValue: v.Elapsed.Seconds()}}),
		})
	}
	return ts
}

// Monitoring writes result metrics with the Cloud Monitoring API; the client
// is created on first use.
type Monitoring struct {
	project string
	opts    []option.ClientOption
	now     func() time.Time

	mu     sync.Mutex
	client *monitoring.MetricClient
}

// NewMonitoring returns a metrics writer for project.
func NewMonitoring(project string, opts ...option.ClientOption) *Monitoring {
	return &Monitoring{project: project, opts: opts, now: time.Now}
}

func (m *Monitoring) metricClient(ctx context.Context) (*monitoring.MetricClient, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.client != nil {
		return m.client, nil
	}
	c, err := monitoring.NewMetricClient(context.WithoutCancel(ctx), m.opts...)
	if err != nil {
		return nil, fmt.Errorf("monitoring client: %w", err)
	}
	m.client = c
	return c, nil
}

// Record writes the result's time series.
func (m *Monitoring) Record(ctx context.Context, res *failover.Result) error {
	c, err := m.metricClient(ctx)
	if err != nil {
		return err
	}
	err = c.CreateTimeSeries(ctx, &monitoringpb.CreateTimeSeriesRequest{
		Name:       "projects/" + m.project,
		TimeSeries: TimeSeries(m.project, res, m.now()),
	})
	if err != nil {
		return fmt.Errorf("write metrics to project %s: %w", m.project, err)
	}
	return nil
}

// Close closes the client.
func (m *Monitoring) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.client == nil {
		return nil
	}
	err := m.client.Close()
	m.client = nil
	return err
}
