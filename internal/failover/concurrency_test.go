package failover_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsfailover/dnsfailover/internal/clouddnsemu"
	"github.com/dnsfailover/dnsfailover/internal/config"
	"github.com/dnsfailover/dnsfailover/internal/dnsrec"
	"github.com/dnsfailover/dnsfailover/internal/failover"
)

func TestConcurrentConflictingSwaps(t *testing.T) {
	f := newFixture(t, func(r *config.Record) {
		r.Cooldown.Duration = 0 // let them fight: the point is the CAS, not the cooldown
		r.Verify.Consecutive, r.Verify.Timeout.Duration = 1, 2*time.Second
		r.Settle.Duration = time.Hour // no inline TTL restores: count swaps only
	})
	e := f.engine(t)
	// Start from a third address so that every writer sees a swap to make.
	p, _ := f.providers.Provider(context.Background(), project, zoneName)
	if err := p.Apply(context.Background(), dnsrec.Change{
		Deletions: []dnsrec.RecordSet{*f.liveA(t)},
		Additions: []dnsrec.RecordSet{{Name: recordFQD, Type: "A", TTL: 300, Data: []string{"127.0.0.4"}}},
	}); err != nil {
		t.Fatal(err)
	}
	applied0 := f.emu.Counters().ChangesApplied

	const n = 50
	results := make([]*failover.Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			target := instA
			if i%2 == 0 {
				target = instB
			}
			results[i], errs[i] = e.Run(ctxTimeout(t, 60*time.Second), failover.Request{
				ID: fmt.Sprintf("race-%d", i), Record: recordFQD, Target: target, Mode: failover.Emergency,
			})
		}()
	}
	wg.Wait()

	swaps := 0
	ids := map[string]string{} // request id -> address it wrote
	for i, res := range results {
		if errs[i] != nil {
			t.Errorf("request %d: %v (outcome %q): every conflict must be retried, not surfaced", i, errs[i], res.Outcome)
			continue
		}
		switch res.Outcome {
		case failover.OutcomeSwapped, failover.OutcomeUnverified:
			swaps++
			ids[res.RequestID] = res.After.Data[0]
		case failover.OutcomeNoop:
		default:
			t.Errorf("request %d: outcome %q", i, res.Outcome)
		}
	}
	c := f.emu.Counters()
	if got := c.ChangesApplied - applied0; got != int64(swaps) {
		t.Errorf("emulator applied %d changes, engine reports %d swaps: something was lost or doubled", got, swaps)
	}
	if swaps == 0 {
		t.Fatal("no swap happened")
	}
	t.Logf("%d swaps, %d no-ops, %d precondition failures retried", swaps, n-swaps, c.PreconditionFailed)
	if c.PreconditionFailed == 0 {
		t.Error("no 412 happened: the writers did not actually conflict")
	}

	a := f.liveA(t)
	if len(a.Data) != 1 || (a.Data[0] != hostA && a.Data[0] != hostB) {
		t.Fatalf("final A %v is not exactly one allowlisted address", a)
	}
	st := f.liveState(t)
	if st.Current != a.Data[0] {
		t.Errorf("state says current %s, A record says %s", st.Current, a.Data[0])
	}
	if ids[st.LastID] != a.Data[0] {
		t.Errorf("state's last id %q wrote %q, but the record holds %s", st.LastID, ids[st.LastID], a.Data[0])
	}
	if got, _ := f.resolve(t, "udp"); !slices.Equal(got, a.Data) {
		t.Errorf("DNS serves %v, API holds %v", got, a.Data)
	}
}

func TestFaultsEitherCompleteOrLeaveTheRecordUnchanged(t *testing.T) {
	recoverable := []struct {
		name   string
		faults clouddnsemu.Faults
		kind   string
	}{
		{"503 twice", clouddnsemu.Faults{Status503: 2, Match: "changes"}, "503"},
		{"429 three times", clouddnsemu.Faults{Status429: 3}, "429"},
		{"dropped connection", clouddnsemu.Faults{DropConnections: 1, Match: "POST"}, "drop"},
	}
	for i, c := range recoverable {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			e := f.engine(t)
			f.emu.SetFaults(c.faults)
			res, err := e.Run(ctxTimeout(t, 30*time.Second), failover.Request{ID: fmt.Sprintf("fault-%d", i), Record: recordFQD, Target: instB, Mode: failover.Emergency})
			if err != nil || res.Outcome != failover.OutcomeSwapped {
				t.Fatalf("outcome %q err %v: a transient fault should be retried", res.Outcome, err)
			}
			if got := f.emu.Counters().FaultsInjected[c.kind]; got == 0 {
				t.Errorf("no %s fault was injected: the test proves nothing", c.kind)
			}
			if a := f.liveA(t); !slices.Equal(a.Data, []string{hostB}) {
				t.Errorf("live A %v", a)
			}
		})
	}
	permanent := []struct {
		name   string
		faults clouddnsemu.Faults
	}{
		{"500 forever", clouddnsemu.Faults{Status500: 1 << 20, Match: "changes"}},
		{"latency past the deadline", clouddnsemu.Faults{Latency: 10 * time.Second, Match: "changes"}},
	}
	for _, c := range permanent {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			e := f.engine(t)
			before := f.snapshot(t)
			f.emu.SetFaults(c.faults)
			res, err := e.Run(ctxTimeout(t, 3*time.Second), failover.Request{ID: "fault-x", Record: recordFQD, Target: instB, Mode: failover.Emergency})
			if err == nil || errors.Is(err, failover.ErrRejected) || res.Outcome != failover.OutcomeFailed {
				t.Fatalf("outcome %q err %v: want a clean transient failure", res.Outcome, err)
			}
			f.emu.SetFaults(clouddnsemu.Faults{})
			if f.snapshot(t) != before {
				t.Error("a failed swap changed the zone")
			}
		})
	}
}

// staleResolver answers every A query with addr, like a resolver whose
// cache still holds the old record.
func staleResolver(t *testing.T, addr string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		rr, _ := dns.NewRR(r.Question[0].Name + " 300 IN A " + addr)
		m.Answer = append(m.Answer, rr)
		_ = w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

func TestVerificationTimeoutIsReported(t *testing.T) {
	f := newFixture(t)
	stale := staleResolver(t, hostA)
	f.cfg.Records[0].Resolvers = []string{f.emu.DNSAddr(), stale}
	f.cfg.Records[0].Verify.Timeout.Duration = 300 * time.Millisecond
	e := f.engine(t)
	res, err := e.Run(ctxTimeout(t, 30*time.Second), failover.Request{ID: "v1", Record: recordFQD, Target: instB, Mode: failover.Emergency})
	if err != nil {
		t.Fatalf("err %v: the swap happened, so the request is finished", err)
	}
	if res.Outcome != failover.OutcomeUnverified || res.Verification == nil || res.Verification.OK {
		t.Fatalf("outcome %q verification %+v, want unverified", res.Outcome, res.Verification)
	}
	byServer := map[string]bool{}
	for _, r := range res.Verification.Resolvers {
		byServer[r.Server] = r.OK
		if r.Server == stale && !slices.Equal(r.Answers, []string{hostA}) {
			t.Errorf("stale resolver report %+v should show the old answer", r)
		}
	}
	if !byServer[f.emu.DNSAddr()] || byServer[stale] {
		t.Errorf("per-resolver results %v: want emulator ok, stale not ok", byServer)
	}
	// Unverified: the TTL stays low, nothing is restored on trust.
	if a := f.liveA(t); a.TTL != 60 {
		t.Errorf("live A %v: TTL restored although verification failed", a)
	}
}
