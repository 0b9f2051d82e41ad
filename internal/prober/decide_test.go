package prober

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dnsfailover/dnsfailover/internal/request"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

const ep = "10.0.0.5:6378"

func ok(id string, at time.Time) View {
	return View{Identity: id, Renewed: at, Obs: Observation{Endpoint: ep, OK: true, ObservedAt: at}}
}

func failing(id string, n int, first, at time.Time) View {
	return View{Identity: id, Renewed: at, Obs: Observation{Endpoint: ep, Failures: n, FirstFailure: first, ObservedAt: at}}
}

var policy = Policy{Quorum: 2, Failures: 3, Freshness: 3 * time.Second}

func TestAssess(t *testing.T) {
	now := t0.Add(10 * time.Second)
	fresh := now.Add(-500 * time.Millisecond)
	stale := now.Add(-4 * time.Second)
	cases := []struct {
		name  string
		views []View
		down  bool
		check func(t *testing.T, a Assessment)
	}{
		{"all healthy", []View{ok("a", fresh), ok("b", fresh), ok("c", fresh)}, false, func(t *testing.T, a Assessment) {
			if a.Healthy != 3 || a.Fresh != 3 || a.Endpoint != ep {
				t.Errorf("%v", a)
			}
		}},
		{"one replica alone lost sight", []View{failing("a", 50, t0, fresh), ok("b", fresh), ok("c", fresh)}, false, nil},
		{"two failing, not yet N times", []View{failing("a", 3, t0, fresh), failing("b", 2, t0.Add(time.Second), fresh), ok("c", fresh)}, false, nil},
		{"quorum failing N times", []View{failing("a", 3, t0.Add(time.Second), fresh), failing("b", 4, t0, fresh), ok("c", fresh)}, true, func(t *testing.T, a Assessment) {
			if a.Failing != 2 || !a.FirstFailure.Equal(t0) {
				t.Errorf("want 2 failing since t0, got %v first %v", a, a.FirstFailure)
			}
		}},
		{"the quorum is of configured replicas, not of fresh ones", []View{failing("a", 9, t0, fresh), failing("b", 9, t0, stale), failing("c", 9, t0, stale)}, false, func(t *testing.T, a Assessment) {
			if a.Fresh != 1 {
				t.Errorf("stale observations counted: %v", a)
			}
		}},
		{"unresolved primary never votes", []View{
			{Identity: "a", Renewed: fresh, Obs: Observation{ObservedAt: fresh, Err: "resolve: timeout"}},
			{Identity: "b", Renewed: fresh, Obs: Observation{ObservedAt: fresh, Err: "resolve: timeout"}},
		}, false, func(t *testing.T, a Assessment) {
			if a.Fresh != 0 || a.Endpoint != "" {
				t.Errorf("%v", a)
			}
		}},
		{"a replica with a stale DNS answer does not vote about the new primary", []View{
			{Identity: "a", Renewed: fresh, Obs: Observation{Endpoint: "10.0.0.9:6378", Failures: 9, FirstFailure: t0, ObservedAt: fresh}},
			failing("b", 9, t0, fresh), ok("c", fresh), ok("d", fresh),
		}, false, func(t *testing.T, a Assessment) {
			if a.Endpoint != ep || a.Agree != 3 || a.Failing != 1 {
				t.Errorf("%v", a)
			}
		}},
		{"freshness is the leader's clock, not the replica's", []View{
			{Identity: "a", Renewed: fresh, Obs: Observation{Endpoint: ep, Failures: 9, FirstFailure: t0, ObservedAt: now.Add(-time.Hour)}},
			failing("b", 9, t0, fresh), ok("c", fresh),
		}, true, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := Assess(c.views, now, policy)
			if a.Down != c.down {
				t.Fatalf("down=%v, want %v (%v)", a.Down, c.down, a)
			}
			if c.check != nil {
				c.check(t, a)
			}
		})
	}
}

func TestDecideEpisode(t *testing.T) {
	down := Assessment{Endpoint: ep, Agree: 3, Failing: 2, Down: true, FirstFailure: t0}
	d, e := Decide(nil, down, "redis_x", 2)
	if d != Publish || e == nil || e.ID != "prober:redis_x:10.0.0.5:6378:"+itoa(t0.Unix()) {
		t.Fatalf("first assessment: %v %+v", d, e)
	}
	// Publishing failed: the same episode, same id, is tried again.
	if d2, e2 := Decide(e, down, "redis_x", 2); d2 != Publish || e2.ID != e.ID {
		t.Fatalf("unpublished episode: %v %+v", d2, e2)
	}
	e.Published = t0.Add(3 * time.Second)
	// Still down, a later first failure (a replica restarted): no new request.
	later := down
	later.FirstFailure = t0.Add(5 * time.Second)
	if d, _ := Decide(e, later, "redis_x", 2); d != AlreadyPublished {
		t.Fatalf("still down: %v", d)
	}
	// Failing replicas went quiet, nobody healthy yet: the episode stays.
	if d, e2 := Decide(e, Assessment{Endpoint: ep, Agree: 1, Healthy: 1}, "redis_x", 2); d != Wait || e2 != e {
		t.Fatalf("quiet: %v", d)
	}
	// Healthy by quorum: over; a new loss is a new episode with a new id.
	if d, e2 := Decide(e, Assessment{Endpoint: ep, Agree: 2, Healthy: 2}, "redis_x", 2); d != EpisodeOver || e2 != nil {
		t.Fatalf("recovered: %v", d)
	}
	// The record moved: over.
	if d, _ := Decide(e, Assessment{Endpoint: "10.0.0.6:6378", Agree: 3, Healthy: 3}, "redis_x", 2); d != EpisodeOver {
		t.Fatalf("moved: %v", d)
	}
	if d, e2 := Decide(e, later, "redis_x", 2); d != AlreadyPublished || e2 != e {
		t.Fatal("still the same episode")
	}
	if d, e2 := Decide(nil, later, "redis_x", 2); d != Publish || e2.ID == e.ID {
		t.Fatalf("a new episode must get a new id: %v %+v", d, e2)
	}
}

func TestEpisodeIDIsAValidRequestID(t *testing.T) {
	long := strings.Repeat("a", 120)
	for _, c := range []struct{ label, endpoint string }{
		{"redis-session-staging_staging_internal", "10.0.0.5:6378"},
		{"redis_x", "[fd00::5]:6379"},
		{long, "10.0.0.5:6378"},
	} {
		id := EpisodeID(c.label, c.endpoint, t0)
		m := request.Manual{Record: "redis.example.internal.", Mode: "emergency", Reason: "test", RequestID: id}
		if err := m.Validate(); err != nil {
			t.Errorf("EpisodeID(%q, %q) = %q: %v", c.label, c.endpoint, id, err)
		}
	}
}

func TestTrackerCountsRunsPerEndpoint(t *testing.T) {
	var tr tracker
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	tr.record(ep, true, "", at(0))
	tr.record(ep, false, "refused", at(1))
	o := tr.record(ep, false, "refused", at(2))
	if o.Failures != 2 || !o.FirstFailure.Equal(at(1)) {
		t.Fatalf("%+v", o)
	}
	// A new endpoint (the record moved) starts afresh.
	if o := tr.record("10.0.0.6:6378", false, "refused", at(3)); o.Failures != 1 || !o.FirstFailure.Equal(at(3)) {
		t.Fatalf("%+v", o)
	}
	// Unknown primary: no failure counted, and the next failure restarts the run.
	if o := tr.record("", false, "resolve", at(4)); o.Failures != 0 {
		t.Fatalf("%+v", o)
	}
	if o := tr.record("10.0.0.6:6378", false, "refused", at(5)); o.Failures != 1 {
		t.Fatalf("%+v", o)
	}
	if o := tr.record("10.0.0.6:6378", true, "", at(6)); o.Failures != 0 || !o.FirstFailure.IsZero() {
		t.Fatalf("%+v", o)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
