package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/api/option"
	"google.golang.org/genproto/googleapis/api/metric"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/dnsfailover/dnsfailover/internal/dnsrec"
	"github.com/dnsfailover/dnsfailover/internal/failover"
	"github.com/dnsfailover/dnsfailover/internal/logging"
)

func sampleResult() *failover.Result {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &failover.Result{
		RequestID: "incident:0.abc:failover", Source: "alert", Record: "redis-session-staging.staging.internal.",
		Mode: failover.Emergency, Action: failover.ActionFailover, Outcome: failover.OutcomeSwapped,
		Steps:        []failover.Step{{Name: "swap", Start: start, End: start.Add(time.Second), OK: true}},
		Verification: &dnsrec.Report{OK: true, Name: "redis-session-staging.staging.internal.", Elapsed: 2500 * time.Millisecond},
		Started:      start, Finished: start.Add(4 * time.Second),
	}
}

func TestEventShape(t *testing.T) {
	res := sampleResult()
	e, err := NewEvent("OnAlert", res)
	if err != nil {
		t.Fatal(err)
	}
	data, attrs, err := Encode(e, res)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if m["specversion"] != "1.0" || m["type"] != ResultType || m["source"] != "//dnsfailover/OnAlert" ||
		m["datacontenttype"] != "application/json" || m["subject"] != res.Record || m["time"] != "2026-01-02T03:04:09Z" || m["id"] == "" {
		t.Fatalf("structured event %s", data)
	}
	d, ok := m["data"].(map[string]any)
	if !ok || d["outcome"] != "swapped" || d["request_id"] != res.RequestID {
		t.Fatalf("data must be the result as a JSON object: %s", data)
	}
	if attrs[AttrContentType] != StructuredContentType || attrs[AttrOutcome] != "swapped" || attrs[AttrRecord] != res.Record || attrs[AttrRequestID] != res.RequestID {
		t.Fatalf("attributes %v", attrs)
	}
	e2, _ := NewEvent("OnAlert", res)
	if e2.ID() == e.ID() {
		t.Fatal("event ids must be unique")
	}
	_, back, err := DecodeResult(data)
	if err != nil || back.Outcome != res.Outcome || back.Verification.Elapsed != res.Verification.Elapsed || !back.Finished.Equal(res.Finished) {
		t.Fatalf("round trip %+v %v", back, err)
	}
	if _, _, err := DecodeResult([]byte(`{"specversion":"1.0","id":"1","source":"x","type":"other"}`)); err == nil {
		t.Fatal("wrong type accepted")
	}
}

func startPstest(t *testing.T, topic string) (*pstest.Server, []option.ClientOption) {
	t.Helper()
	srv := pstest.NewServer()
	t.Cleanup(func() { srv.Close() })
	opts := []option.ClientOption{
		option.WithEndpoint(srv.Addr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}
	if topic != "" {
		c, err := pubsub.NewClient(context.Background(), "p", opts...)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.TopicAdminClient.CreateTopic(context.Background(), &pubsubpb.Topic{Name: "projects/p/topics/" + topic}); err != nil {
			t.Fatal(err)
		}
	}
	return srv, opts
}

func TestPubSubRoundTrip(t *testing.T) {
	srv, opts := startPstest(t, "results")
	p := NewPubSub("p", "results", "OnRequest", opts...)
	defer p.Close()
	res := sampleResult()
	for i := 0; i < 2; i++ { // the second publish reuses the lazily built client
		if err := p.Publish(context.Background(), res); err != nil {
			t.Fatal(err)
		}
	}
	msgs := srv.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages on the topic, want 2", len(msgs))
	}
	e, got, err := DecodeResult(msgs[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	if e.Source() != "//dnsfailover/OnRequest" || got.RequestID != res.RequestID || msgs[0].Attributes[AttrOutcome] != "swapped" {
		t.Fatalf("event %v result %+v attrs %v", e, got, msgs[0].Attributes)
	}
}

func TestPubSubMissingTopicIsAnError(t *testing.T) {
	_, opts := startPstest(t, "")
	p := NewPubSub("p", "projects/p/topics/nope", "OnAlert", opts...)
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Publish(ctx, sampleResult()); err == nil || !strings.Contains(err.Error(), "projects/p/topics/nope") {
		t.Fatalf("err = %v", err)
	}
}

func TestTimeSeries(t *testing.T) {
	res := sampleResult()
	at := time.Date(2026, 1, 2, 3, 4, 10, 0, time.UTC)
	ts := TimeSeries("acme", res, at)
	if len(ts) != 3 {
		t.Fatalf("%d series", len(ts))
	}
	byType := map[string]*monitoringpb.TimeSeries{}
	for _, s := range ts {
		byType[s.Metric.Type] = s
		if s.Resource.Type != "global" || s.Resource.Labels["project_id"] != "acme" || s.MetricKind != metric.MetricDescriptor_GAUGE {
			t.Errorf("%s: resource %v kind %v", s.Metric.Type, s.Resource, s.MetricKind)
		}
		if len(s.Points) != 1 || !s.Points[0].Interval.EndTime.AsTime().Equal(at) || s.Points[0].Interval.StartTime != nil {
			t.Errorf("%s: points %v", s.Metric.Type, s.Points)
		}
	}
	c := byType[MetricFailovers]
	if c.ValueType != metric.MetricDescriptor_INT64 || c.Points[0].Value.GetInt64Value() != 1 ||
		c.Metric.Labels["outcome"] != "swapped" || c.Metric.Labels["record"] != res.Record || len(c.Metric.Labels) != 2 {
		t.Errorf("failovers %v", c)
	}
	if d := byType[MetricDuration]; d.Points[0].Value.GetDoubleValue() != 4 || d.Unit != "s" || d.Metric.Labels["outcome"] != "swapped" {
		t.Errorf("duration %v", d)
	}
	if v := byType[MetricVerification]; v.Points[0].Value.GetDoubleValue() != 2.5 || v.Metric.Labels["verified"] != "true" {
		t.Errorf("verification %v", v)
	}
	// A rejected request: no verification, still counted.
	res.Outcome, res.Verification = failover.OutcomeRejected, nil
	ts = TimeSeries("acme", res, at)
	if len(ts) != 2 || ts[0].Metric.Labels["outcome"] != "rejected" {
		t.Fatalf("rejected: %v", ts)
	}
}

// metricServer is the Monitoring API's CreateTimeSeries, in process: the
// real client library talks gRPC to it.
type metricServer struct {
	monitoringpb.UnimplementedMetricServiceServer
	mu   sync.Mutex
	reqs []*monitoringpb.CreateTimeSeriesRequest
	fail error
}

func (s *metricServer) CreateTimeSeries(_ context.Context, r *monitoringpb.CreateTimeSeriesRequest) (*emptypb.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	s.reqs = append(s.reqs, r)
	return &emptypb.Empty{}, nil
}

func startMetricServer(t *testing.T) (*metricServer, []option.ClientOption) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	ms := &metricServer{}
	monitoringpb.RegisterMetricServiceServer(gs, ms)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	return ms, []option.ClientOption{
		option.WithEndpoint(lis.Addr().String()), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}
}

func TestMonitoringWritesThroughClient(t *testing.T) {
	ms, opts := startMetricServer(t)
	m := NewMonitoring("acme", opts...)
	defer m.Close()
	if err := m.Record(context.Background(), sampleResult()); err != nil {
		t.Fatal(err)
	}
	if len(ms.reqs) != 1 || ms.reqs[0].Name != "projects/acme" || len(ms.reqs[0].TimeSeries) != 3 {
		t.Fatalf("requests %v", ms.reqs)
	}
	ms.fail = errors.New("quota")
	if err := m.Record(context.Background(), sampleResult()); err == nil || !strings.Contains(err.Error(), "project acme") {
		t.Fatalf("err = %v", err)
	}
}

func TestMetricsEnabled(t *testing.T) {
	for v, want := range map[string]bool{"": true, "on": true, "off": false, "OFF": false, "false": false} {
		t.Setenv(EnvMetrics, v)
		if MetricsEnabled() != want {
			t.Errorf("%s=%q: enabled=%v", EnvMetrics, v, !want)
		}
	}
}

// blockingPublisher never answers until ctx ends.
type blockingPublisher struct{ called chan struct{} }

func (b *blockingPublisher) Publish(ctx context.Context, _ *failover.Result) error {
	close(b.called)
	<-ctx.Done()
	return ctx.Err()
}

func TestReporterIsBestEffortAndBounded(t *testing.T) {
	var logs bytes.Buffer
	ms, opts := startMetricServer(t)
	ms.fail = errors.New("monitoring down")
	bp := &blockingPublisher{called: make(chan struct{})}
	r := &Reporter{Publisher: bp, Metrics: NewMonitoring("acme", opts...), Logger: logging.New(&logs), Timeout: 300 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the request's own context is already gone: results still go out
	start := time.Now()
	r.Report(ctx, sampleResult())
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("Report took %v despite a 300ms timeout", el)
	}
	<-bp.called
	out := logs.String()
	if !strings.Contains(out, "result not published") || !strings.Contains(out, "metrics not written") || !strings.Contains(out, `"severity":"WARNING"`) {
		t.Fatalf("logs: %s", out)
	}
	var nilR *Reporter
	nilR.Report(context.Background(), sampleResult()) // must not panic
}

func TestReporterPublishesToPstest(t *testing.T) {
	srv, opts := startPstest(t, "results")
	p := NewPubSub("p", "results", "OnAlert", opts...)
	defer p.Close()
	r := &Reporter{Publisher: p, Logger: logging.New(&bytes.Buffer{})}
	r.Report(context.Background(), sampleResult())
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("%d messages", n)
	}
}
