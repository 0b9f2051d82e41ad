package prober_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dnsfailover/dnsfailover/internal/demo"
	"github.com/dnsfailover/dnsfailover/internal/failover"
	"github.com/dnsfailover/dnsfailover/internal/prober"
)

// TestQuorum shares one API server and one demo world between its
// subtests, which run in order: the two that must not fail over first.
// Each subtest has its own Lease group, probers and counting subscription.
func TestQuorum(t *testing.T) {
	k := startKube(t)
	w := startWorld(t)
	primary, standby := w.Primary().Host(), w.Standby().Host()

	// One replica pointed at a loopback port with nothing behind it loses
	// sight of "Redis" for good; the other two see it healthy. 200ms
	// interval, default thresholds: no request over 10+ intervals.
	t.Run("partial view", func(t *testing.T) {
		const group = "partial"
		rc := countRequests(t, w, group)
		top := "interval: 200ms"
		dead := fmt.Sprintf("{endpoint: \"127.0.0.1:%d\"}", freePort(t))
		ps := []*proc{
			startProber(t, k, w, "partial-0", proberConfig(w, group, followDNS(w), top)),
			startProber(t, k, w, "partial-1", proberConfig(w, group, followDNS(w), top)),
			startProber(t, k, w, "partial-2", proberConfig(w, group, dead, top)),
		}
		k.allSee(t, group, 2, 20*time.Second, "two healthy observations", func(o prober.Observation) bool { return o.OK })
		k.allSee(t, group, 1, 20*time.Second, "the blind replica failing 10 times in a row", func(o prober.Observation) bool {
			return !o.OK && o.Failures >= 10 && strings.Contains(o.Err, "refused")
		})
		waitFor(t, 20*time.Second, "a leader", func() bool { return anyLeader(t, ps) })
		time.Sleep(10 * 200 * time.Millisecond) // 10 more intervals with the leader deciding
		reqs, _, bad := rc.snapshot()
		if len(reqs) != 0 || len(bad) != 0 {
			t.Fatalf("one blind replica caused requests: %+v %v", reqs, bad)
		}
		if got := answer(w); got != primary {
			t.Fatalf("record moved to %s", got)
		}
		if f := ps[2].metric(t, `dnsfailover_prober_observations_total{record="`+demo.Record+`",result="fail"}`); f < 10 {
			t.Fatalf("the blind replica counted only %v failed probes", f)
		}
	})

	// The primary goes down for 1 s and comes back for 1 s, five times, with
	// the default 1 s interval and 3 failures: every replica sees failures,
	// none sees three in a row, nothing is requested.
	t.Run("flapping primary", func(t *testing.T) {
		const group = "flap"
		rc := countRequests(t, w, group)
		var ps []*proc
		for i := range 3 {
			ps = append(ps, startProber(t, k, w, fmt.Sprintf("flap-%d", i), proberConfig(w, group, followDNS(w), "")))
		}
		k.allSee(t, group, 3, 20*time.Second, "three healthy observations", func(o prober.Observation) bool { return o.OK })
		waitFor(t, 20*time.Second, "a leader", func() bool { return anyLeader(t, ps) })
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		for range 5 {
			if err := w.Primary().Kill(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second)
			if err := w.Primary().Restart(ctx); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second)
		}
		time.Sleep(3 * time.Second) // a late decision would land here
		reqs, _, bad := rc.snapshot()
		if len(reqs) != 0 || len(bad) != 0 {
			t.Fatalf("a flapping primary caused requests: %+v %v", reqs, bad)
		}
		sawFailures := 0
		for _, p := range ps {
			if p.metric(t, `dnsfailover_prober_observations_total{record="`+demo.Record+`",result="fail"}`) > 0 {
				sawFailures++
			}
		}
		if sawFailures < 2 {
			t.Fatalf("only %d replicas saw the flaps: the test did not exercise the quorum", sawFailures)
		}
		if got := answer(w); got != primary {
			t.Fatalf("record moved to %s", got)
		}
	})

	// Default settings: kill the primary -> exactly one request -> the
	// function swaps and verifies -> DNS answers the standby.
	t.Run("kill primary", func(t *testing.T) {
		const group = "kill"
		rc := countRequests(t, w, group)
		var ps []*proc
		for i := range 3 {
			ps = append(ps, startProber(t, k, w, fmt.Sprintf("kill-%d", i), proberConfig(w, group, followDNS(w), "")))
		}
		k.allSee(t, group, 3, 20*time.Second, "three healthy observations", func(o prober.Observation) bool { return o.OK })
		waitFor(t, 20*time.Second, "a leader", func() bool { return anyLeader(t, ps) })
		if got := answer(w); got != primary {
			t.Fatalf("record starts at %s, want %s", got, primary)
		}

		dnsMoved := make(chan time.Time, 1)
		go func() {
			for deadline := time.Now().Add(45 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if answer(w) == standby {
					dnsMoved <- time.Now()
					return
				}
			}
		}()
		killed := time.Now()
		if err := w.Primary().Kill(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "the failover request", func() bool { r, _, _ := rc.snapshot(); return len(r) > 0 })
		reqs, at, _ := rc.snapshot()
		req := reqs[0]
		if req.Mode != string(failover.Emergency) || req.Target != "" || req.Record != demo.Record || !strings.HasPrefix(req.RequestID, "prober:") {
			t.Fatalf("request %+v", req)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		res, resAt, err := w.AwaitResult(ctx, req.RequestID, 45*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != failover.OutcomeSwapped {
			t.Fatalf("outcome %s (%s), want swapped", res.Outcome, res.Error)
		}
		var moved time.Time
		select {
		case moved = <-dnsMoved:
		case <-time.After(5 * time.Second):
			t.Fatalf("DNS still answers %s", answer(w))
		}
		// Five more intervals: the episode is over (the record moved), no repeat.
		time.Sleep(5 * time.Second)
		reqs, _, bad := rc.snapshot()
		if len(reqs) != 1 || len(bad) != 0 {
			t.Fatalf("want exactly one request, got %d: %+v %v", len(reqs), reqs, bad)
		}
		if got := answer(w); got != standby {
			t.Fatalf("record at %s, want %s", got, standby)
		}
		var published, detections float64
		for _, p := range ps {
			published += p.metric(t, `dnsfailover_prober_decisions_total{decision="published"`)
			detections += p.metric(t, "dnsfailover_prober_detection_seconds_count")
		}
		if published != 1 || detections != 1 {
			t.Fatalf("metrics: %v published decisions, %v detections; want 1 and 1", published, detections)
		}
		var verified time.Time
		for _, st := range res.Steps {
			if st.Name == "verify" && st.OK {
				verified = st.End
			}
			t.Logf("  step %-14s ok=%t end %+.2fs (%s) %s", st.Name, st.OK, st.End.Sub(killed).Seconds(), st.End.Sub(st.Start).Round(time.Millisecond), st.Detail)
		}
		if verified.IsZero() {
			t.Fatalf("no successful verify step in %+v", res.Steps)
		}
		// verified: every verifying resolver answers the standby. A cache that
		// took the old answer just before the swap keeps it for one TTL more.
		ttl := time.Duration(res.Before.TTL) * time.Second
		t.Logf("MEASURE kill->request %.2fs kill->dns %.2fs kill->verified %.2fs worst-cached(+TTL %s) %.2fs kill->result %.2fs (request %s)",
			at[0].Sub(killed).Seconds(), moved.Sub(killed).Seconds(), verified.Sub(killed).Seconds(), ttl,
			moved.Add(ttl).Sub(killed).Seconds(), resAt.Sub(killed).Seconds(), req.RequestID)
	})
}

func anyLeader(t *testing.T, ps []*proc) bool {
	for _, p := range ps {
		if p.leading() {
			return true
		}
	}
	return false
}
