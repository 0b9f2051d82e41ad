package functions

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"cloud.google.com/go/redis/apiv1/redispb"
	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/dnsfailover/dnsfailover/internal/clients"
	"github.com/dnsfailover/dnsfailover/internal/clouddnsemu"
	"github.com/dnsfailover/dnsfailover/internal/config"
	"github.com/dnsfailover/dnsfailover/internal/failover"
	"github.com/dnsfailover/dnsfailover/internal/health/memorystorefake"
	"github.com/dnsfailover/dnsfailover/internal/health/redistest"
	"github.com/dnsfailover/dnsfailover/internal/incident"
	"github.com/dnsfailover/dnsfailover/internal/report"
	"github.com/dnsfailover/dnsfailover/internal/syncbuf"
)

const (
	project   = "acme-staging"
	zoneName  = "staging-internal"
	recordFQD = "redis-session-staging.staging.internal."
	jobsFQD   = "redis-jobs.staging.internal."
	instA     = "projects/acme-staging/locations/europe-west1/instances/session-a"
	instB     = "projects/acme-staging/locations/europe-west1/instances/session-b"
	hostA     = "127.0.0.2"
	hostB     = "127.0.0.3"
)

// ffAddr is the functions framework server every test talks to: the real
// HTTP handler (funcframework + cloudevents HTTP), serving the exported
// OnAlert and OnRequest at /OnAlert and /OnRequest.
var ffAddr string

func TestMain(m *testing.M) {
	os.Unsetenv("FUNCTION_TARGET")
	functions.CloudEvent(NameOnAlert, OnAlert)
	functions.CloudEvent(NameOnRequest, OnRequest)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ffAddr = l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(ffAddr)
	go func() {
		if err := funcframework.StartHostPort("127.0.0.1", port); err != nil {
			fmt.Fprintln(os.Stderr, "functions framework:", err)
			os.Exit(1)
		}
	}()
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", ffAddr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if i > 100 {
			fmt.Fprintln(os.Stderr, "functions framework did not start:", err)
			os.Exit(1)
		}
		time.Sleep(50 * time.Millisecond)
	}
	os.Exit(m.Run())
}

// logLines returns the app's decoded JSON log lines.
func logLines(t *testing.T, s *syncbuf.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		out = append(out, m)
	}
	return out
}

// world is a whole failover setup on loopback: the Cloud DNS emulator
// (API + DNS), the Memorystore API, two real redis-server processes standing
// for two instances, a pstest results topic, and the exported handlers
// configured purely through the environment, as in Cloud Functions.
type world struct {
	emu  *clouddnsemu.Server
	ms   *memorystorefake.Server
	a, b *redistest.Server
	ps   *pstest.Server
	logs *syncbuf.Buffer
	port int
}

type worldOpt func(cfg map[string]any)

func newWorld(t *testing.T, opts ...worldOpt) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{logs: &syncbuf.Buffer{}}
	var err error
	w.emu, err = clouddnsemu.Start(ctx, clouddnsemu.Options{HTTPAddr: "127.0.0.1:0", DNSAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("Cloud DNS emulator: %v", err)
	}
	t.Cleanup(func() { _ = w.emu.Close() })
	if err := w.emu.CreateZone(project, zoneName, "staging.internal.", true); err != nil {
		t.Fatal(err)
	}
	w.a = redistest.Start(t, redistest.WithHost(hostA))
	w.port = w.a.Port()
	w.b = redistest.Start(t, redistest.WithHost(hostB), redistest.WithPort(w.port))
	w.ms, err = memorystorefake.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.ms.Close)
	for _, in := range []struct{ name, host string }{{instA, hostA}, {instB, hostB}} {
		w.ms.Set(&redispb.Instance{Name: in.name, Host: in.host, Port: int32(w.port), State: redispb.Instance_READY, Tier: redispb.Instance_BASIC})
	}
	w.ps = pstest.NewServer()
	t.Cleanup(func() { _ = w.ps.Close() })
	psc, err := pubsub.NewClient(ctx, project, option.WithEndpoint(w.ps.Addr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := psc.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: "projects/" + project + "/topics/results"}); err != nil {
		t.Fatal(err)
	}
	psc.Close()

	rec := func(name string) map[string]any {
		return map[string]any{
			"name": name, "zone": zoneName, "normalTTL": 300, "failoverTTL": 60, "port": w.port,
			"targets":   []string{instA, instB},
			"allow":     map[string]any{"instances": []string{instA, instB}, "cidrs": []string{"127.0.0.2/31"}},
			"resolvers": []string{w.emu.DNSAddr()},
			"verify":    map[string]any{"consecutive": 2, "interval": "5ms", "timeout": "5s"},
			"cooldown":  "10m", "settle": "1s",
		}
	}
	// The jobs record may point at the same addresses but does not name the
	// instances: an incident about an instance concerns the session record only.
	jobs := rec(jobsFQD)
	jobs["targets"] = []string{hostA, hostB}
	jobs["allow"] = map[string]any{"cidrs": []string{"127.0.0.2/31"}}
	cfg := map[string]any{"project": project, "records": []any{rec(recordFQD), jobs}}
	for _, o := range opts {
		o(cfg)
	}
	// Each record starts on instance A with its normal TTL.
	for _, r := range cfg["records"].([]any) {
		r := r.(map[string]any)
		rs := clouddnsemu.RecordSet{Name: r["name"].(string), Type: "A", TTL: int64(r["normalTTL"].(int)), Rrdatas: []string{hostA}}
		if err := w.emu.AddRecordSets(project, zoneName, rs); err != nil {
			t.Fatal(err)
		}
	}
	js, _ := json.Marshal(cfg)
	t.Setenv(config.EnvConfigInline, string(js))
	t.Setenv(config.EnvConfigFile, "")
	t.Setenv(config.EnvResultsTopic, "results")
	t.Setenv(clients.EnvDNSEndpoint, w.emu.URL())
	t.Setenv(clients.EnvRedisAPIEndpoint, w.ms.Addr())
	t.Setenv("PUBSUB_EMULATOR_HOST", w.ps.Addr)
	t.Setenv(report.EnvMetrics, "off")
	t.Setenv(incident.EnvRestoreTTLOnClose, "")
	w.install(t)
	return w
}

// install gives the exported handlers a fresh lazily built app, reading the
// environment as it is now.
func (w *world) install(t *testing.T) {
	t.Helper()
	defaultApp.Store(&lazyApp{load: FromEnv, out: w.logs})
	t.Cleanup(func() { defaultApp.Store(&lazyApp{load: FromEnv}) })
}

// results are the result events published so far.
func (w *world) results(t *testing.T) []*failover.Result {
	t.Helper()
	var out []*failover.Result
	for _, m := range w.ps.Messages() {
		e, res, err := report.DecodeResult(m.Data)
		if err != nil {
			t.Fatalf("results topic holds a bad event: %v", err)
		}
		if m.Attributes[report.AttrOutcome] != string(res.Outcome) || m.Attributes[report.AttrContentType] != report.StructuredContentType {
			t.Fatalf("attributes %v do not match result %q", m.Attributes, res.Outcome)
		}
		if !strings.HasPrefix(e.Source(), "//dnsfailover/On") {
			t.Fatalf("event source %q", e.Source())
		}
		out = append(out, res)
	}
	return out
}

// onlyResult asserts that exactly one result was published and returns it.
func (w *world) onlyResult(t *testing.T) *failover.Result {
	t.Helper()
	rs := w.results(t)
	if len(rs) != 1 {
		t.Fatalf("%d results published, want 1: %+v", len(rs), rs)
	}
	return rs[0]
}

func (w *world) snapshot(t *testing.T) string {
	t.Helper()
	b, err := w.emu.Snapshot(project, zoneName)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// liveA returns the A record's data and TTL as the emulator holds it.
func (w *world) liveA(t *testing.T, name string) ([]string, int64) {
	t.Helper()
	sets, err := w.emu.RecordSets(project, zoneName)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sets {
		if s.Name == name && s.Type == "A" {
			return s.Rrdatas, s.TTL
		}
	}
	t.Fatalf("no A record %s", name)
	return nil, 0
}

// Encodings in which a Pub/Sub message reaches the function.
type encoding int

const (
	binaryCE     encoding = iota // Eventarc's delivery: ce-* headers, envelope as body
	structuredCE                 // application/cloudevents+json
	pushEnvelope                 // a plain Pub/Sub push body; the framework converts it
)

func (e encoding) String() string {
	return [...]string{"binary", "structured", "push"}[e]
}

var msgSeq int64
var msgSeqMu sync.Mutex

// deliver posts a Pub/Sub message carrying data to the function and returns
// the HTTP status.
func deliver(t *testing.T, function string, enc encoding, data []byte) int {
	t.Helper()
	msgSeqMu.Lock()
	msgSeq++
	id := fmt.Sprintf("msg-%d", msgSeq)
	msgSeqMu.Unlock()
	return deliverID(t, function, enc, id, data)
}

func deliverID(t *testing.T, function string, enc encoding, id string, data []byte) int {
	t.Helper()
	env := map[string]any{
		"message": map[string]any{
			"data": base64.StdEncoding.EncodeToString(data), "messageId": id,
			"publishTime": time.Now().UTC().Format(time.RFC3339Nano), "attributes": map[string]string{"origin": "test"},
		},
		"subscription": "projects/" + project + "/subscriptions/eventarc-sub",
	}
	envJSON, _ := json.Marshal(env)
	var body []byte
	hdr := http.Header{}
	path := "/" + function
	switch enc {
	case binaryCE:
		body = envJSON
		hdr.Set("Content-Type", "application/json")
		hdr.Set("ce-specversion", "1.0")
		hdr.Set("ce-id", id)
		hdr.Set("ce-type", "google.cloud.pubsub.topic.v1.messagePublished")
		hdr.Set("ce-source", "//pubsub.googleapis.com/projects/"+project+"/topics/t")
		hdr.Set("ce-time", time.Now().UTC().Format(time.RFC3339))
	case structuredCE:
		body, _ = json.Marshal(map[string]any{
			"specversion": "1.0", "id": id, "type": "google.cloud.pubsub.topic.v1.messagePublished",
			"source": "//pubsub.googleapis.com/projects/" + project + "/topics/t", "datacontenttype": "application/json",
			"time": time.Now().UTC().Format(time.RFC3339), "data": json.RawMessage(envJSON),
		})
		hdr.Set("Content-Type", "application/cloudevents+json")
	case pushEnvelope:
		body = envJSON
		hdr.Set("Content-Type", "application/json")
	}
	return post(t, path, hdr, body)
}

func post(t *testing.T, path string, hdr http.Header, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+ffAddr+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = hdr
	c := &http.Client{Timeout: 60 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	return resp.StatusCode
}
