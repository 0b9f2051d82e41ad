package dnsrec_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"google.golang.org/api/option"

	"github.com/dnsfailover/dnsfailover/internal/clouddnsemu"
	"github.com/dnsfailover/dnsfailover/internal/dnsrec"
)

const (
	proj   = "acme-staging"
	zone   = "staging-internal"
	record = "redis-session-staging.staging.internal."
)

var keyA = dnsrec.Key{Name: record, Type: "A"}

// emulator starts the Cloud DNS emulator with one zone holding record -> 10.0.0.5 TTL 300.
func emulator(t *testing.T, delay time.Duration) *clouddnsemu.Server {
	t.Helper()
	emu, err := clouddnsemu.Start(context.Background(), clouddnsemu.Options{PropagationDelay: delay})
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	if err := emu.CreateZone(proj, zone, "staging.internal.", true); err != nil {
		t.Fatalf("create zone: %v", err)
	}
	if err := emu.AddRecordSets(proj, zone, clouddnsemu.RecordSet{Name: record, Type: "A", TTL: 300, Rrdatas: []string{"10.0.0.5"}}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	return emu
}

// providerAt returns a CloudDNS provider on endpoint with fast retries.
func providerAt(t *testing.T, endpoint, zoneName string) *dnsrec.CloudDNS {
	t.Helper()
	p, err := dnsrec.NewCloudDNS(context.Background(), proj, zoneName, option.WithEndpoint(endpoint), option.WithoutAuthentication())
	if err != nil {
		t.Fatalf("provider: %v", err)
	}
	p.Retry = dnsrec.Backoff{Base: 5 * time.Millisecond, Max: 50 * time.Millisecond, MaxAttempts: 6, PerAttempt: 10 * time.Second}
	p.PollInterval = 5 * time.Millisecond
	return p
}

func snapshot(t *testing.T, emu *clouddnsemu.Server) string {
	t.Helper()
	b, err := emu.Snapshot(proj, zone)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return string(b)
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dnsAnswer asks the emulator's DNS server over UDP.
func dnsAnswer(t *testing.T, addr, name string) []string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	in, _, err := (&dns.Client{Timeout: 5 * time.Second}).Exchange(m, addr)
	if err != nil {
		t.Fatalf("dns query: %v", err)
	}
	var out []string
	for _, rr := range in.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	return out
}

func rsA(ttl int64, ips ...string) dnsrec.RecordSet {
	return dnsrec.RecordSet{Name: record, Type: "A", TTL: ttl, Data: ips}
}

func TestCloudDNSGet(t *testing.T) {
	emu := emulator(t, 0)
	p := providerAt(t, emu.URL(), zone)
	got, err := p.Get(testCtx(t), dnsrec.Key{Name: "REDIS-session-staging.staging.internal", Type: "A"})
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if !got.Equal(rsA(300, "10.0.0.5")) {
		t.Fatalf("Get = %v", got)
	}
	if p.Zone() != proj+"/"+zone {
		t.Errorf("Zone() = %q", p.Zone())
	}
	ns, err := p.NameServers(testCtx(t))
	if err != nil || len(ns) == 0 {
		t.Fatalf("NameServers = %v, %v", ns, err)
	}
}

func TestNewCloudDNSRequiresProjectAndZone(t *testing.T) {
	if _, err := dnsrec.NewCloudDNS(context.Background(), "", zone, option.WithoutAuthentication()); err == nil {
		t.Error("empty project accepted")
	}
	if _, err := dnsrec.NewCloudDNS(context.Background(), proj, "", option.WithoutAuthentication()); err == nil {
		t.Error("empty zone accepted")
	}
}

// Each HTTP error class maps to its sentinel, and a refused change changes nothing.
func TestCloudDNSClassifiesErrors(t *testing.T) {
	emu := emulator(t, 0)
	p := providerAt(t, emu.URL(), zone)
	before := snapshot(t, emu)
	cases := []struct {
		name string
		do   func(ctx context.Context) error
		want error
	}{
		{"412 deletion with stale TTL", func(ctx context.Context) error {
			return p.Apply(ctx, dnsrec.Change{Deletions: []dnsrec.RecordSet{rsA(60, "10.0.0.5")}, Additions: []dnsrec.RecordSet{rsA(60, "10.0.0.6")}})
		}, dnsrec.ErrConflict},
		{"412 deletion with stale data", func(ctx context.Context) error {
			return p.Apply(ctx, dnsrec.Change{Deletions: []dnsrec.RecordSet{rsA(300, "10.0.0.9")}, Additions: []dnsrec.RecordSet{rsA(60, "10.0.0.6")}})
		}, dnsrec.ErrConflict},
		{"409 addition of an existing set", func(ctx context.Context) error {
			return p.Apply(ctx, dnsrec.Change{Additions: []dnsrec.RecordSet{rsA(60, "10.0.0.6")}})
		}, dnsrec.ErrExists},
		{"404 deletion of a missing set", func(ctx context.Context) error {
			return p.Apply(ctx, dnsrec.Change{Deletions: []dnsrec.RecordSet{{Name: "nope.staging.internal.", Type: "A", TTL: 60, Data: []string{"10.0.0.5"}}}})
		}, dnsrec.ErrNotFound},
		{"404 get of a missing set", func(ctx context.Context) error {
			_, err := p.Get(ctx, dnsrec.Key{Name: "nope.staging.internal.", Type: "A"})
			return err
		}, dnsrec.ErrNotFound},
		{"404 missing zone", func(ctx context.Context) error {
			_, err := providerAt(t, emu.URL(), "no-such-zone").Get(ctx, keyA)
			return err
		}, dnsrec.ErrNotFound},
		{"400 malformed address", func(ctx context.Context) error {
			return p.Apply(ctx, dnsrec.Change{Additions: []dnsrec.RecordSet{{Name: "new.staging.internal.", Type: "A", TTL: 60, Data: []string{"not-an-ip"}}}})
		}, dnsrec.ErrInvalid},
		{"400 name outside the zone", func(ctx context.Context) error {
			return p.Apply(ctx, dnsrec.Change{Additions: []dnsrec.RecordSet{{Name: "redis.example.com.", Type: "A", TTL: 60, Data: []string{"10.0.0.5"}}}})
		}, dnsrec.ErrInvalid},
	}
	all := []error{dnsrec.ErrConflict, dnsrec.ErrExists, dnsrec.ErrNotFound, dnsrec.ErrInvalid}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.do(testCtx(t))
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want one wrapping %v", err, c.want)
			}
			for _, other := range all {
				if other != c.want && errors.Is(err, other) {
					t.Errorf("error %v also wraps %v", err, other)
				}
			}
			if !strings.Contains(err.Error(), "clouddns") {
				t.Errorf("error lacks context: %v", err)
			}
			if after := snapshot(t, emu); after != before {
				t.Fatalf("a refused call changed the zone:\n%s\n---\n%s", before, after)
			}
		})
	}
}

// Apply returns only when the change is done, so DNS already serves it.
func TestCloudDNSApplyWaitsUntilDone(t *testing.T) {
	emu := emulator(t, 0)
	emu.SetPropagationDelay(300 * time.Millisecond)
	if got := dnsAnswer(t, emu.DNSAddr(), record); !dnsrec.SameData(got, []string{"10.0.0.5"}) {
		t.Fatalf("seed not served: %v", got)
	}
	p := providerAt(t, emu.URL(), zone)
	before := emu.Counters()
	err := p.Apply(testCtx(t), dnsrec.Change{Deletions: []dnsrec.RecordSet{rsA(300, "10.0.0.5")}, Additions: []dnsrec.RecordSet{rsA(60, "10.0.0.6")}})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := dnsAnswer(t, emu.DNSAddr(), record); !dnsrec.SameData(got, []string{"10.0.0.6"}) {
		t.Fatalf("DNS answers %v right after Apply returned; the change was not done", got)
	}
	after := emu.Counters()
	if polls := after.Calls["dns.changes.get"] - before.Calls["dns.changes.get"]; polls < 1 {
		t.Errorf("Apply never polled changes.get (pending -> done)")
	}
	if n := after.ChangesApplied - before.ChangesApplied; n != 1 {
		t.Errorf("ChangesApplied grew by %d, want 1", n)
	}
}

func TestCloudDNSApplyEmptyChangeDoesNothing(t *testing.T) {
	emu := emulator(t, 0)
	p := providerAt(t, emu.URL(), zone)
	before := emu.Counters()
	if err := p.Apply(testCtx(t), dnsrec.Change{}); err != nil {
		t.Fatal(err)
	}
	if n := emu.Counters().Calls["dns.changes.create"] - before.Calls["dns.changes.create"]; n != 0 {
		t.Errorf("empty change made %d API calls", n)
	}
}

// Rate limits and server errors on changes.create are retried; the change lands once.
func TestCloudDNSApplyRetriesTransientFaults(t *testing.T) {
	for _, f := range []clouddnsemu.Faults{{Status429: 2}, {Status500: 1, Status503: 1}, {DropConnections: 2}} {
		emu := emulator(t, 0)
		p := providerAt(t, emu.URL(), zone)
		f.Match = "POST /dns/v1/projects/" + proj + "/managedZones/" + zone + "/changes"
		emu.SetFaults(f)
		before := emu.Counters()
		err := p.Apply(testCtx(t), dnsrec.Change{Deletions: []dnsrec.RecordSet{rsA(300, "10.0.0.5")}, Additions: []dnsrec.RecordSet{rsA(60, "10.0.0.6")}})
		if err != nil {
			t.Fatalf("faults %+v: Apply: %v", f, err)
		}
		after := emu.Counters()
		if n := after.ChangesApplied - before.ChangesApplied; n != 1 {
			t.Errorf("faults %+v: ChangesApplied grew by %d, want 1", f, n)
		}
		if injected := sum(after.FaultsInjected) - sum(before.FaultsInjected); injected < 2 {
			t.Errorf("faults %+v: only %d faults injected; the test did not exercise retries", f, injected)
		}
		got, err := p.Get(testCtx(t), keyA)
		if err != nil || !got.Equal(rsA(60, "10.0.0.6")) {
			t.Errorf("faults %+v: live %v, %v", f, got, err)
		}
	}
}

// Faults that outlast the retry budget end in a clean error and no change.
func TestCloudDNSApplyGivesUpCleanly(t *testing.T) {
	emu := emulator(t, 0)
	p := providerAt(t, emu.URL(), zone)
	emu.SetFaults(clouddnsemu.Faults{Status503: 100, Match: "/changes"})
	before := snapshot(t, emu)
	err := p.Apply(testCtx(t), dnsrec.Change{Deletions: []dnsrec.RecordSet{rsA(300, "10.0.0.5")}, Additions: []dnsrec.RecordSet{rsA(60, "10.0.0.6")}})
	if err == nil {
		t.Fatal("Apply succeeded through 100 injected 503s")
	}
	for _, s := range []error{dnsrec.ErrConflict, dnsrec.ErrExists, dnsrec.ErrNotFound, dnsrec.ErrInvalid} {
		if errors.Is(err, s) {
			t.Errorf("a 503 was classified as %v", s)
		}
	}
	if !dnsrec.Transient(err) {
		t.Errorf("exhausted 503s not reported as transient: %v", err)
	}
	emu.SetFaults(clouddnsemu.Faults{})
	if after := snapshot(t, emu); after != before {
		t.Fatal("a failed Apply changed the zone")
	}
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// lossyProxy forwards to the emulator, but for the first n changes.create
// calls it lets the emulator apply the change and then drops the connection
// instead of relaying the answer: the client cannot know the change landed.
func lossyProxy(t *testing.T, upstream string, n int32) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	left := &atomic.Int32{}
	left.Store(n)
	dropped := &atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/changes") && left.Add(-1) >= 0 {
			body, _ := io.ReadAll(r.Body)
			req, _ := http.NewRequestWithContext(r.Context(), r.Method, strings.TrimSuffix(upstream, "/")+r.URL.RequestURI(), bytes.NewReader(body))
			req.Header = r.Header.Clone()
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
			dropped.Add(1)
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, dropped
}

// The answer to changes.create is lost after the change was applied; the
// retry meets 412 (its deletion is stale: it was its own). Apply must see
// that the zone holds its additions and succeed, with exactly one change.
func TestCloudDNSApplyAmbiguousRetry(t *testing.T) {
	emu := emulator(t, 0)
	proxy, dropped := lossyProxy(t, emu.URL(), 1)
	p := providerAt(t, proxy.URL+"/", zone)
	before := emu.Counters()
	err := p.Apply(testCtx(t), dnsrec.Change{Deletions: []dnsrec.RecordSet{rsA(300, "10.0.0.5")}, Additions: []dnsrec.RecordSet{rsA(60, "10.0.0.6")}})
	if err != nil {
		t.Fatalf("Apply after a lost answer: %v", err)
	}
	after := emu.Counters()
	if dropped.Load() != 1 {
		t.Fatalf("proxy dropped %d answers, want 1", dropped.Load())
	}
	if n := after.ChangesApplied - before.ChangesApplied; n != 1 {
		t.Errorf("ChangesApplied grew by %d, want exactly 1", n)
	}
	if n := after.PreconditionFailed - before.PreconditionFailed; n != 1 {
		t.Errorf("the retry saw %d 412s, want 1", n)
	}
	got, err := p.Get(testCtx(t), keyA)
	if err != nil || !got.Equal(rsA(60, "10.0.0.6")) {
		t.Fatalf("live %v, %v", got, err)
	}
}

// Same for a pure addition: the retry meets 409.
func TestCloudDNSApplyAmbiguousCreate(t *testing.T) {
	emu := emulator(t, 0)
	proxy, _ := lossyProxy(t, emu.URL(), 1)
	p := providerAt(t, proxy.URL+"/", zone)
	add := dnsrec.RecordSet{Name: "new.staging.internal.", Type: "TXT", TTL: 60, Data: []string{`"hello"`}}
	before := emu.Counters()
	if err := p.Apply(testCtx(t), dnsrec.Change{Additions: []dnsrec.RecordSet{add}}); err != nil {
		t.Fatalf("Apply after a lost answer: %v", err)
	}
	if n := emu.Counters().ChangesApplied - before.ChangesApplied; n != 1 {
		t.Errorf("ChangesApplied grew by %d, want exactly 1", n)
	}
}

// A lost answer is not licence to claim someone else's change: if the zone
// holds something other than our additions, the conflict is reported.
func TestCloudDNSApplyAmbiguousButOverwritten(t *testing.T) {
	emu := emulator(t, 0)
	// The first create lands and its answer is lost; the proxy then lets a
	// third writer move the record before our retry.
	u, _ := url.Parse(emu.URL())
	rp := httputil.NewSingleHostReverseProxy(u)
	var once atomic.Bool
	other := providerAt(t, emu.URL(), zone)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/changes") && once.CompareAndSwap(false, true) {
			body, _ := io.ReadAll(r.Body)
			req, _ := http.NewRequestWithContext(r.Context(), r.Method, strings.TrimSuffix(emu.URL(), "/")+r.URL.RequestURI(), bytes.NewReader(body))
			req.Header = r.Header.Clone()
			if resp, err := http.DefaultClient.Do(req); err == nil {
				_ = resp.Body.Close()
			}
			if err := other.Apply(r.Context(), dnsrec.Change{Deletions: []dnsrec.RecordSet{rsA(60, "10.0.0.6")}, Additions: []dnsrec.RecordSet{rsA(60, "10.0.0.7")}}); err != nil {
				t.Errorf("third writer: %v", err)
			}
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				_ = conn.Close()
			}
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p := providerAt(t, srv.URL+"/", zone)
	err := p.Apply(testCtx(t), dnsrec.Change{Deletions: []dnsrec.RecordSet{rsA(300, "10.0.0.5")}, Additions: []dnsrec.RecordSet{rsA(60, "10.0.0.6")}})
	if !errors.Is(err, dnsrec.ErrConflict) {
		t.Fatalf("Apply = %v, want ErrConflict (the zone no longer holds our change)", err)
	}
}

// With propagation delay, a change whose answer was lost must still be
// waited for: Apply's contract is "returns when done", which is what lets
// the verifier start right after it.
func TestCloudDNSApplyAmbiguousWaitsUntilDone(t *testing.T) {
	emu := emulator(t, 0)
	emu.SetPropagationDelay(500 * time.Millisecond) // the seed is served already
	proxy, _ := lossyProxy(t, emu.URL(), 1)
	p := providerAt(t, proxy.URL+"/", zone)
	err := p.Apply(testCtx(t), dnsrec.Change{Deletions: []dnsrec.RecordSet{rsA(300, "10.0.0.5")}, Additions: []dnsrec.RecordSet{rsA(60, "10.0.0.6")}})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := dnsAnswer(t, emu.DNSAddr(), record); !dnsrec.SameData(got, []string{"10.0.0.6"}) {
		t.Fatalf("DNS answers %v right after Apply returned: the recovered change was still pending", got)
	}
}
