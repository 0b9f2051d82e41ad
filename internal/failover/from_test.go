package failover_test

import (
	"context"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/dnsfailover/dnsfailover/internal/failover"
)

// An alert about session-a that arrives after the record already moved to
// session-b must not move it again.
func TestLateIncidentAboutALeftInstanceIsNoop(t *testing.T) {
	f := newFixture(t)
	e := f.engine(t)
	if res, err := e.Run(context.Background(), failover.Request{ID: "m1", Record: recordFQD, Target: instB, Mode: failover.Emergency}); err != nil || res.Outcome != failover.OutcomeSwapped {
		t.Fatalf("setup swap: %q %v", res.Outcome, err)
	}
	before := f.snapshot(t)
	res, err := e.Run(ctxTimeout(t, 10*time.Second), failover.Request{ID: "incident:9:failover", Source: "alert", Record: recordFQD, From: instA, Mode: failover.Emergency})
	if err != nil || res.Outcome != failover.OutcomeNoop {
		t.Fatalf("late incident: outcome %q err %v, want noop", res.Outcome, err)
	}
	// The prober names the primary it saw fail by address and port.
	res, err = e.Run(ctxTimeout(t, 10*time.Second), failover.Request{ID: "prober:x:1", Source: "prober", Record: recordFQD, From: net.JoinHostPort(hostA, strconv.Itoa(f.port)), Mode: failover.Emergency})
	if err != nil || res.Outcome != failover.OutcomeNoop {
		t.Fatalf("late prober request: outcome %q err %v, want noop", res.Outcome, err)
	}
	if f.snapshot(t) != before {
		t.Error("late requests changed the zone")
	}
	// Its record is still found for the incident's close, through the state.
	got, err := e.InstanceRecords(context.Background(), instA)
	if err != nil || !slices.Equal(got, []string{recordFQD}) {
		t.Errorf("InstanceRecords(a) after the move = %v, %v; want the record (it pointed there before)", got, err)
	}
}

// Losing the whole instance is what an instance-loss alert means: the
// Memorystore API no longer knows it, and the record must still move.
func TestIncidentForADeletedInstanceFailsOver(t *testing.T) {
	f := newFixture(t)
	e := f.engine(t)
	f.a.Kill()
	f.ms.Delete(instA)

	got, err := e.InstanceRecords(context.Background(), instA)
	if err != nil || !slices.Equal(got, []string{recordFQD}) {
		t.Fatalf("InstanceRecords(deleted a) = %v, %v; want the record whose first target it is", got, err)
	}
	res, err := e.Run(ctxTimeout(t, 30*time.Second), failover.Request{ID: "incident:10:failover", Source: "alert", Record: recordFQD, From: instA, Mode: failover.Emergency})
	if err != nil || res.Outcome != failover.OutcomeSwapped {
		t.Fatalf("outcome %q err %v (%s), want swapped", res.Outcome, err, res.Error)
	}
	if a := f.liveA(t); !slices.Equal(a.Data, []string{hostB}) {
		t.Fatalf("live A %v", a)
	}
	st := f.liveState(t)
	if st.PrevTarget != instA || st.Target != instB {
		t.Errorf("state %+v: want prev target %s, target %s", st, instA, instB)
	}
	// The incident's close still finds the record although a is gone.
	got, err = e.InstanceRecords(context.Background(), instA)
	if err != nil || !slices.Equal(got, []string{recordFQD}) {
		t.Errorf("InstanceRecords(deleted a) after the swap = %v, %v", got, err)
	}
	// A second, different alert about the lost instance is now a no-op.
	res, err = e.Run(ctxTimeout(t, 10*time.Second), failover.Request{ID: "incident:11:failover", Record: recordFQD, From: instA, Mode: failover.Emergency})
	if err != nil || res.Outcome != failover.OutcomeNoop {
		t.Errorf("second alert: outcome %q err %v, want noop", res.Outcome, err)
	}
}
