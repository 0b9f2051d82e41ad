package incident

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dnsfailover/dnsfailover/internal/config"
	"github.com/dnsfailover/dnsfailover/internal/failover"
)

const testConfig = `
project: acme-prod
records:
- name: redis-session-staging.staging.internal.
  zone: staging-internal
  normalTTL: 300
  failoverTTL: 30
  targets:
  - projects/acme-prod/locations/europe-west1/instances/cache-primary
  - projects/acme-prod/locations/europe-west4/instances/cache-standby
  allow:
    instances:
    - projects/acme-prod/locations/europe-west1/instances/cache-primary
    - projects/acme-prod/locations/europe-west4/instances/cache-standby
- name: redis-jobs.staging.internal.
  zone: staging-internal
  normalTTL: 300
  failoverTTL: 30
  allow:
    cidrs: [10.20.0.0/24]
`

func testCfg(t *testing.T) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// targetsLookup answers from the configured targets, the way the engine's
// InstanceRecords does for records whose targets name the instance.
func targetsLookup(cfg *config.Config, calls *[]string) InstanceRecords {
	return func(_ context.Context, inst string) ([]string, error) {
		*calls = append(*calls, inst)
		var out []string
		for _, r := range cfg.Records {
			for _, t := range r.Targets {
				if t == inst {
					out = append(out, r.Name)
				}
			}
		}
		return out, nil
	}
}

func mustDecode(t *testing.T, name string) *Notification {
	t.Helper()
	n, err := Decode(readTestdata(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRouteByInstance(t *testing.T) {
	cfg := testCfg(t)
	var calls []string
	r, err := Route(context.Background(), mustDecode(t, "open-redis.json"), cfg, targetsLookup(cfg, &calls), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || calls[0] != "projects/acme-prod/locations/europe-west1/instances/cache-primary" {
		t.Fatalf("lookup calls %v", calls)
	}
	if r.Ignored != "" || len(r.Requests) != 1 {
		t.Fatalf("routing %+v", r)
	}
	q := r.Requests[0]
	want := failover.Request{ID: "incident:0.nq3k2l8x7z1a:failover", Source: "alert", Record: "redis-session-staging.staging.internal.",
		Mode: failover.Emergency, Action: failover.ActionFailover}
	if q.ID != want.ID || q.Source != want.Source || q.Record != want.Record || q.Mode != want.Mode || q.Action != want.Action || q.Target != "" || q.DryRun {
		t.Fatalf("request %+v, want %+v", q, want)
	}
	if !strings.Contains(q.Reason, "Memorystore cache-primary lost") || !strings.Contains(q.Reason, "0.nq3k2l8x7z1a") {
		t.Fatalf("reason %q", q.Reason)
	}
}

func TestRouteByLabels(t *testing.T) {
	cfg := testCfg(t)
	var calls []string
	r, err := Route(context.Background(), mustDecode(t, "open-labelled-strings.json"), cfg, targetsLookup(cfg, &calls), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 0 {
		t.Fatalf("labels must win over instance lookup, got calls %v", calls)
	}
	if len(r.Requests) != 1 || r.Requests[0].Action != failover.ActionPrepare || r.Requests[0].ID != "incident:0.labelled1:prepare" ||
		r.Requests[0].Record != "redis-session-staging.staging.internal." || r.Requests[0].Mode != "" {
		t.Fatalf("routing %+v", r)
	}
}

func TestRouteClosed(t *testing.T) {
	cfg := testCfg(t)
	var calls []string
	n := mustDecode(t, "closed-redis.json")
	for _, tc := range []struct {
		opt  Options
		want failover.Action
	}{{Options{}, failover.ActionClose}, {Options{RestoreTTLOnClose: true}, failover.ActionRestoreTTL}} {
		r, err := Route(context.Background(), n, cfg, targetsLookup(cfg, &calls), tc.opt)
		if err != nil {
			t.Fatal(err)
		}
		if r.Ignored != "" || len(r.Requests) != 1 {
			t.Fatalf("%+v: routing %+v", tc.opt, r)
		}
		q := r.Requests[0]
		if q.Action != tc.want || q.ID != "incident:0.nq3k2l8x7z1a:closed" || q.Target != "" || q.Mode != "" || len(q.StaleIf) != 0 {
			t.Fatalf("%+v: request %+v", tc.opt, q)
		}
		if q.Action == failover.ActionFailover {
			t.Fatal("a closed incident must never fail over (or back)")
		}
	}
}

func TestOpenRequestsAreStaleOnceClosed(t *testing.T) {
	cfg := testCfg(t)
	var calls []string
	for _, name := range []string{"open-redis.json", "open-labelled-strings.json"} {
		n := mustDecode(t, name)
		r, err := Route(context.Background(), n, cfg, targetsLookup(cfg, &calls), Options{})
		if err != nil || len(r.Requests) != 1 {
			t.Fatal(r, err)
		}
		if want := []string{CloseID(n.Incident.ID)}; !slices.Equal(r.Requests[0].StaleIf, want) {
			t.Fatalf("%s: StaleIf %v, want %v", name, r.Requests[0].StaleIf, want)
		}
	}
}

func TestRouteIgnored(t *testing.T) {
	cfg := testCfg(t)
	var calls []string
	lookup := targetsLookup(cfg, &calls)
	for _, tc := range []struct{ name, body, want string }{
		{"test channel", string(readTestdata(t, "test-channel.json")), "test notification"},
		{"other resource type", string(readTestdata(t, "open-gce.json")), `resource type "gce_instance" is not redis_instance`},
		{"no instance label", `{"version":"1.2","incident":{"incident_id":"1","state":"open","resource":{"type":"redis_instance","labels":{}}}}`, "no instance_id"},
		{"unknown instance", `{"version":"1.2","incident":{"incident_id":"1","state":"open","resource":{"type":"redis_instance","labels":{"instance_id":"projects/x/locations/y/instances/z"}}}}`, "no configured record uses instance projects/x/locations/y/instances/z"},
		{"no resource, no labels", `{"version":"1.2","incident":{"incident_id":"1","state":"open"}}`, `resource type ""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := Decode([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			r, err := Route(context.Background(), n, cfg, lookup, Options{RestoreTTLOnClose: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Requests) != 0 || !strings.Contains(r.Ignored, tc.want) {
				t.Fatalf("routing %+v, want ignored containing %q", r, tc.want)
			}
		})
	}
}

func TestRouteUnroutableLabels(t *testing.T) {
	cfg := testCfg(t)
	for _, tc := range []struct{ labels, want string }{
		{`{"dnsfailover_record":"nope_example"}`, "matches no configured record"},
		{`{"dnsfailover_record":"redis-jobs_staging_internal","dnsfailover_action":"failback"}`, `"failback": want failover or prepare`},
	} {
		n, err := Decode([]byte(`{"version":"1.2","incident":{"incident_id":"1","state":"open","policy_user_labels":` + tc.labels + `}}`))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Route(context.Background(), n, cfg, nil, Options{})
		if !errors.Is(err, ErrUnroutable) || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("labels %s: err = %v, want ErrUnroutable containing %q", tc.labels, err, tc.want)
		}
	}
}

func TestRouteLookupErrorIsReturned(t *testing.T) {
	cfg := testCfg(t)
	boom := errors.New("dns 503")
	_, err := Route(context.Background(), mustDecode(t, "open-redis.json"), cfg, func(context.Context, string) ([]string, error) { return nil, boom }, Options{})
	if !errors.Is(err, boom) || errors.Is(err, ErrUnroutable) {
		t.Fatalf("err = %v: a lookup failure is transient, not unroutable", err)
	}
}

func TestInstanceName(t *testing.T) {
	full := "projects/p/locations/r/instances/i"
	for _, tc := range []struct {
		l    Labels
		want string
	}{
		{Labels{"instance_id": full}, full},
		{Labels{"instance_id": "i", "project_id": "p", "region": "r"}, full},
		{Labels{"instance_id": "i"}, "i"},
		{Labels{}, ""},
	} {
		if got := InstanceName(tc.l); got != tc.want {
			t.Errorf("InstanceName(%v) = %q, want %q", tc.l, got, tc.want)
		}
	}
}

func TestOptionsFromEnv(t *testing.T) {
	t.Setenv(EnvRestoreTTLOnClose, "true")
	if o, err := OptionsFromEnv(); err != nil || !o.RestoreTTLOnClose {
		t.Fatal(o, err)
	}
	t.Setenv(EnvRestoreTTLOnClose, "")
	if o, err := OptionsFromEnv(); err != nil || o.RestoreTTLOnClose {
		t.Fatal(o, err)
	}
	t.Setenv(EnvRestoreTTLOnClose, "yes please")
	if _, err := OptionsFromEnv(); err == nil || !strings.Contains(err.Error(), EnvRestoreTTLOnClose) {
		t.Fatal(err)
	}
}

func TestRequestIDs(t *testing.T) {
	for _, tc := range []struct {
		a    failover.Action
		want string
	}{
		{failover.ActionFailover, "incident:7:failover"},
		{failover.ActionPrepare, "incident:7:prepare"},
		{failover.ActionClose, "incident:7:closed"},
		{failover.ActionRestoreTTL, "incident:7:closed"},
		{"", "incident:7"},
	} {
		if got := RequestID("7", tc.a); got != tc.want {
			t.Errorf("RequestID(7, %q) = %q, want %q", tc.a, got, tc.want)
		}
	}
}

func TestRouteClosedLookupErrorKeepsCloseAction(t *testing.T) {
	cfg := testCfg(t)
	r, err := Route(context.Background(), mustDecode(t, "closed-redis.json"), cfg,
		func(context.Context, string) ([]string, error) { return nil, errors.New("unavailable") }, Options{})
	if err == nil || r.Action != failover.ActionClose {
		t.Fatalf("routing %+v err %v: a failed close must still say close", r, err)
	}
}
