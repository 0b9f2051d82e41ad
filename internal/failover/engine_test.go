package failover_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/redis/apiv1/redispb"

	"github.com/dnsfailover/dnsfailover/internal/config"
	"github.com/dnsfailover/dnsfailover/internal/failover"
	"github.com/dnsfailover/dnsfailover/internal/health"
)

func stepNames(r *failover.Result) []string {
	var out []string
	for _, s := range r.Steps {
		out = append(out, s.Name)
	}
	return out
}

func TestEmergencyFailoverToHealthyStandby(t *testing.T) {
	f := newFixture(t)
	e := f.engine(t)
	f.a.Kill() // the primary is lost

	res, err := e.Run(ctxTimeout(t, 30*time.Second), failover.Request{ID: "incident:0.abc:failover", Source: "alert", Record: recordFQD, Mode: failover.Emergency, Reason: "primary lost"})
	if err != nil {
		t.Fatalf("Run: %v (result %+v)", err, res)
	}
	if res.Outcome != failover.OutcomeSwapped {
		t.Fatalf("outcome %q, want swapped; error %q", res.Outcome, res.Error)
	}
	if res.Target == nil || res.Target.Target.Instance != instB {
		t.Fatalf("chose %+v, want %s", res.Target, instB)
	}
	if res.Before == nil || !slices.Equal(res.Before.Data, []string{hostA}) || res.Before.TTL != 300 {
		t.Errorf("before = %v, want %s TTL 300", res.Before, hostA)
	}
	if res.Verification == nil || !res.Verification.OK {
		t.Fatalf("verification %+v", res.Verification)
	}
	// Settle is 1s and the deadline allows it, so the TTL is back to normal.
	a := f.liveA(t)
	if !slices.Equal(a.Data, []string{hostB}) || a.TTL != 300 {
		t.Errorf("live A = %v, want %s TTL 300 after restore", a, hostB)
	}
	wantSteps := []string{"read", "check-target", "swap", "verify", "settle", "restore-ttl"}
	if got := stepNames(res); !slices.Equal(got, wantSteps) {
		t.Errorf("steps %v, want %v", got, wantSteps)
	}
	for _, s := range res.Steps {
		if !s.OK || s.End.Before(s.Start) {
			t.Errorf("step %+v not ok or badly timed", s)
		}
	}
	st := f.liveState(t)
	if st.Phase != failover.PhaseSteady || st.Current != hostB || st.Previous != hostA || st.Target != instB || st.LastID != "incident:0.abc:failover" || st.Reason != "primary lost" {
		t.Errorf("state %+v", st)
	}
	for _, proto := range []string{"udp", "tcp"} {
		if got, ttl := f.resolve(t, proto); !slices.Equal(got, []string{hostB}) || ttl != 300 {
			t.Errorf("%s answer %v ttl %d, want %s ttl 300", proto, got, ttl, hostB)
		}
	}

	// The same delivery again changes nothing.
	before := f.snapshot(t)
	res, err = e.Run(ctxTimeout(t, 10*time.Second), failover.Request{ID: "incident:0.abc:failover", Record: recordFQD, Mode: failover.Emergency})
	if err != nil || res.Outcome != failover.OutcomeDuplicate {
		t.Fatalf("redelivery: outcome %q err %v, want duplicate", res.Outcome, err)
	}
	if f.snapshot(t) != before {
		t.Error("redelivery changed the zone")
	}
}

func TestRestoreDeferredWithoutDeadline(t *testing.T) {
	f := newFixture(t)
	e := f.engine(t)
	res, err := e.Run(context.Background(), failover.Request{ID: "m1", Record: recordFQD, Target: instB, Mode: failover.Emergency})
	if err != nil || res.Outcome != failover.OutcomeSwapped {
		t.Fatalf("outcome %q err %v", res.Outcome, err)
	}
	a := f.liveA(t)
	if a.TTL != 60 || !slices.Equal(a.Data, []string{hostB}) {
		t.Fatalf("live A %v, want %s TTL 60 (restore deferred)", a, hostB)
	}
	st := f.liveState(t)
	if st.Phase != failover.PhaseSwapped || st.RestoreAt.IsZero() {
		t.Fatalf("state %+v, want swapped with restore time", st)
	}
	// Restoring before the settle period ends is a transient failure.
	res, err = e.Run(context.Background(), failover.Request{ID: "restore-early", Record: recordFQD, Action: failover.ActionRestoreTTL})
	if err == nil || errors.Is(err, failover.ErrRejected) || !strings.Contains(err.Error(), "settle") || res.Outcome != failover.OutcomeFailed {
		t.Fatalf("early restore: outcome %q err %v, want a transient settle failure", res.Outcome, err)
	}
	time.Sleep(time.Until(st.RestoreAt) + 10*time.Millisecond)
	res, err = e.Run(context.Background(), failover.Request{ID: "restore-1", Record: recordFQD, Action: failover.ActionRestoreTTL})
	if err != nil || res.Outcome != failover.OutcomeTTLRestored {
		t.Fatalf("restore: outcome %q err %v", res.Outcome, err)
	}
	if a := f.liveA(t); a.TTL != 300 || !slices.Equal(a.Data, []string{hostB}) {
		t.Fatalf("after restore A = %v", a)
	}
	if st := f.liveState(t); st.Phase != failover.PhaseSteady || !st.HasSeen("restore-1") {
		t.Fatalf("after restore state %+v", st)
	}
}

func TestNoopWhenAlreadyPointingAtTarget(t *testing.T) {
	f := newFixture(t)
	e := f.engine(t)
	before := f.snapshot(t)
	for _, target := range []string{instA, hostA} {
		res, err := e.Run(ctxTimeout(t, 10*time.Second), failover.Request{ID: "noop-" + target, Record: recordFQD, Target: target, Mode: failover.Emergency})
		if err != nil || res.Outcome != failover.OutcomeNoop {
			t.Fatalf("target %s: outcome %q err %v, want noop", target, res.Outcome, err)
		}
	}
	if f.snapshot(t) != before {
		t.Error("a no-op changed the zone")
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	f := newFixture(t)
	e := f.engine(t)
	before := f.snapshot(t)
	for _, mode := range []failover.Mode{failover.Emergency, failover.Planned} {
		res, err := e.Run(ctxTimeout(t, 10*time.Second), failover.Request{Record: recordFQD, Target: instB, Mode: mode, DryRun: true})
		if err != nil || res.Outcome != failover.OutcomeDryRun {
			t.Fatalf("%s: outcome %q err %v", mode, res.Outcome, err)
		}
		if res.Target == nil || !res.Target.Healthy {
			t.Errorf("%s: dry run did not report the target check: %+v", mode, res.Target)
		}
		if len(res.Plan) == 0 || !strings.Contains(strings.Join(res.Plan, "\n"), hostB) {
			t.Errorf("%s: plan %q does not mention the target", mode, res.Plan)
		}
		if mode == failover.Planned && !strings.Contains(res.Plan[0], "lower TTL") {
			t.Errorf("planned dry run should start by lowering the TTL: %q", res.Plan)
		}
	}
	if f.snapshot(t) != before {
		t.Error("dry run changed the zone")
	}
}

func TestBadInputIsRejectedAndChangesNothing(t *testing.T) {
	f := newFixture(t)
	e := f.engine(t)
	f.b.ReplicaOf(f.a.Addr()) // b answers ROLE as a replica
	if pr := health.Probe(context.Background(), f.b.Addr(), health.ProbeOptions{}); pr.Role != "slave" {
		t.Fatalf("precondition: b should report ROLE slave, probe says %+v", pr)
	}
	f.ms.Set(&redispb.Instance{Name: "projects/acme-staging/locations/europe-west1/instances/session-c", Host: "127.0.0.3", Port: int32(f.port), State: redispb.Instance_MAINTENANCE})
	f.cfg.Records[0].Allow.Instances = append(f.cfg.Records[0].Allow.Instances, "projects/acme-staging/locations/europe-west1/instances/session-c")
	before := f.snapshot(t)
	cases := []struct {
		name string
		req  failover.Request
		want string
	}{
		{"unknown record", failover.Request{Record: "other.staging.internal.", Target: instB, Mode: failover.Emergency}, "unknown record"},
		{"outside allowlist", failover.Request{Record: recordFQD, Target: "127.0.0.9", Mode: failover.Emergency}, "allow"},
		{"unlisted instance", failover.Request{Record: recordFQD, Target: "projects/x/locations/y/instances/z", Mode: failover.Emergency}, "not allowed"},
		{"not READY", failover.Request{Record: recordFQD, Target: "projects/acme-staging/locations/europe-west1/instances/session-c", Mode: failover.Emergency}, "MAINTENANCE"},
		{"replica", failover.Request{Record: recordFQD, Target: instB, Mode: failover.Emergency}, "master"},
		{"malformed address", failover.Request{Record: recordFQD, Target: "10.0.0.300", Mode: failover.Emergency}, "target"},
		{"hostname target", failover.Request{Record: recordFQD, Target: "redis.example.com", Mode: failover.Emergency}, "target"},
		{"bad mode", failover.Request{Record: recordFQD, Target: instB, Mode: "now"}, "mode"},
		{"unknown action", failover.Request{Record: recordFQD, Target: instB, Mode: failover.Emergency, Action: "delete"}, "action"},
		{"missing id", failover.Request{Record: recordFQD, Target: instB, Mode: failover.Emergency, ID: "-"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := c.req
			switch req.ID {
			case "":
				req.ID = "bad-" + c.name
			case "-":
				req.ID = ""
				c.want = "request id"
			}
			res, err := e.Run(ctxTimeout(t, 10*time.Second), req)
			if !errors.Is(err, failover.ErrRejected) {
				t.Fatalf("err = %v, want ErrRejected; outcome %q target verdict %+v", err, res.Outcome, res.Target)
			}
			if res.Outcome != failover.OutcomeRejected || !strings.Contains(res.Error, c.want) {
				t.Errorf("outcome %q error %q, want rejected mentioning %q", res.Outcome, res.Error, c.want)
			}
			if f.snapshot(t) != before {
				t.Errorf("zone changed")
			}
		})
	}
}

func TestTTLOutOfRangeIsAConfigError(t *testing.T) {
	for _, ttl := range []string{"0", "-5", "90000"} {
		_, err := config.Parse([]byte(`
project: p
records:
  - {name: r.example., zone: z, normalTTL: ` + ttl + `, failoverTTL: 1, allow: {cidrs: [10.0.0.0/8]}}
`))
		if err == nil || !strings.Contains(err.Error(), "normalTTL") {
			t.Errorf("normalTTL %s: err %v, want a normalTTL range error", ttl, err)
		}
	}
}

func TestCooldownPreventsFlapping(t *testing.T) {
	f := newFixture(t)
	e := f.engine(t)
	if res, err := e.Run(context.Background(), failover.Request{ID: "m1", Record: recordFQD, Target: instB, Mode: failover.Emergency}); err != nil || res.Outcome != failover.OutcomeSwapped {
		t.Fatalf("first swap: %q %v", res.Outcome, err)
	}
	before := f.snapshot(t)
	res, err := e.Run(context.Background(), failover.Request{ID: "m2", Record: recordFQD, Target: instA, Mode: failover.Emergency})
	if !errors.Is(err, failover.ErrRejected) || !strings.Contains(res.Error, "cooldown") {
		t.Fatalf("swap back within cooldown: outcome %q err %v, want cooldown rejection", res.Outcome, err)
	}
	if f.snapshot(t) != before {
		t.Error("refused swap changed the zone")
	}
	// Asking for where it already is stays a no-op during cooldown.
	if res, err := e.Run(context.Background(), failover.Request{ID: "m3", Record: recordFQD, Target: instB, Mode: failover.Emergency}); err != nil || res.Outcome != failover.OutcomeNoop {
		t.Fatalf("same target during cooldown: %q %v", res.Outcome, err)
	}
}

func TestPlannedFailoverLowersTTLWaitsAndRestores(t *testing.T) {
	f := newFixture(t)
	var waits []time.Duration
	e := f.engine(t, func(d *failover.Deps) {
		d.Sleep = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return ctx.Err() }
	})
	res, err := e.Run(ctxTimeout(t, 9*time.Minute), failover.Request{ID: "planned-1", Record: recordFQD, Target: instB, Mode: failover.Planned, Reason: "maintenance"})
	if err != nil || res.Outcome != failover.OutcomeSwapped {
		t.Fatalf("outcome %q err %v (%s)", res.Outcome, err, res.Error)
	}
	want := []string{"read", "check-target", "lower-ttl", "wait-ttl", "recheck-target", "swap", "verify", "settle", "restore-ttl"}
	if got := stepNames(res); !slices.Equal(got, want) {
		t.Fatalf("steps %v, want %v", got, want)
	}
	if len(waits) != 2 || waits[0] != 300*time.Second || waits[1] != time.Second {
		t.Errorf("waits %v, want [5m0s 1s] (old TTL, then settle)", waits)
	}
	if a := f.liveA(t); a.TTL != 300 || !slices.Equal(a.Data, []string{hostB}) {
		t.Errorf("live A %v", a)
	}
}

func TestPlannedFailoverTooLongForDeadlineKeepsTTLLoweredForRetry(t *testing.T) {
	f := newFixture(t)
	e := f.engine(t)
	res, err := e.Run(ctxTimeout(t, 20*time.Second), failover.Request{ID: "planned-2", Record: recordFQD, Target: instB, Mode: failover.Planned})
	if err == nil || errors.Is(err, failover.ErrRejected) || res.Outcome != failover.OutcomeFailed {
		t.Fatalf("outcome %q err %v, want a transient failure (deadline shorter than the TTL wait)", res.Outcome, err)
	}
	if a := f.liveA(t); a.TTL != 60 || !slices.Equal(a.Data, []string{hostA}) {
		t.Fatalf("live A %v, want the old address with the TTL lowered", a)
	}
	if st := f.liveState(t); st.Phase != failover.PhaseTTLLowered || st.LoweredAt.IsZero() || st.HasSeen("planned-2") {
		t.Fatalf("state %+v: want ttl-lowered, and the id not yet remembered so a retry continues", st)
	}
}

func TestPrepareThenRestore(t *testing.T) {
	f := newFixture(t)
	e := f.engine(t)
	res, err := e.Run(context.Background(), failover.Request{ID: "incident:1:prepare", Record: recordFQD, Action: failover.ActionPrepare})
	if err != nil || res.Outcome != failover.OutcomePrepared {
		t.Fatalf("prepare: %q %v", res.Outcome, err)
	}
	if a := f.liveA(t); a.TTL != 60 || !slices.Equal(a.Data, []string{hostA}) {
		t.Fatalf("after prepare A = %v", a)
	}
	res, err = e.Run(context.Background(), failover.Request{ID: "incident:1:closed", Record: recordFQD, Action: failover.ActionRestoreTTL})
	if err != nil || res.Outcome != failover.OutcomeTTLRestored {
		t.Fatalf("restore: %q %v", res.Outcome, err)
	}
	if a := f.liveA(t); a.TTL != 300 {
		t.Fatalf("after restore A = %v", a)
	}
	// A late redelivery of the opening is stale once the close is recorded.
	before := f.snapshot(t)
	res, err = e.Run(context.Background(), failover.Request{ID: "incident:1:failover", Record: recordFQD, Mode: failover.Emergency, StaleIf: []string{"incident:1:closed"}})
	if err != nil || res.Outcome != failover.OutcomeStale {
		t.Fatalf("late open: %q %v, want stale", res.Outcome, err)
	}
	if f.snapshot(t) != before {
		t.Error("stale request changed the zone")
	}
}

func TestInstanceRecords(t *testing.T) {
	f := newFixture(t)
	e := f.engine(t)
	got, err := e.InstanceRecords(context.Background(), instA)
	if err != nil || !slices.Equal(got, []string{recordFQD}) {
		t.Fatalf("InstanceRecords(a) = %v, %v", got, err)
	}
	got, err = e.InstanceRecords(context.Background(), instB)
	if err != nil || len(got) != 0 {
		t.Fatalf("InstanceRecords(b) = %v, %v: b is not the current address", got, err)
	}
}

func TestStatus(t *testing.T) {
	f := newFixture(t)
	e := f.engine(t)
	f.b.Kill()
	st, err := e.Status(context.Background(), recordFQD)
	if err != nil {
		t.Fatal(err)
	}
	if st.Current == nil || !slices.Equal(st.Current.Data, []string{hostA}) || st.State.Phase != failover.PhaseSteady {
		t.Errorf("status %+v", st)
	}
	if len(st.Candidates) != 2 || !st.Candidates[0].Healthy || st.Candidates[1].Healthy {
		t.Errorf("candidates %+v: want a healthy, b down", st.Candidates)
	}
}
