package dnsrec_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/dnsfailover/dnsfailover/internal/clouddnsemu"
	"github.com/dnsfailover/dnsfailover/internal/dnsrec"
)

// moveTo decides to replace the live A record with ip, TTL 60.
func moveTo(ip string) dnsrec.Decide {
	return func(live map[dnsrec.Key]*dnsrec.RecordSet) (dnsrec.Change, error) {
		a := live[keyA]
		if a == nil {
			return dnsrec.Change{}, errors.New("A record missing")
		}
		if dnsrec.SameData(a.Data, []string{ip}) {
			return dnsrec.Change{}, nil
		}
		return dnsrec.Change{Deletions: []dnsrec.RecordSet{*a}, Additions: []dnsrec.RecordSet{rsA(60, ip)}}, nil
	}
}

// A writer that slips in between our read and our write forces a 412; the
// swap re-reads, sees the other writer's record and decides again from it.
func TestCompareAndSwapRedecidesAfterConflict(t *testing.T) {
	emu := emulator(t, 0)
	p := providerAt(t, emu.URL(), zone)
	other := providerAt(t, emu.URL(), zone)
	ctx := testCtx(t)
	var seen []string
	decide := func(live map[dnsrec.Key]*dnsrec.RecordSet) (dnsrec.Change, error) {
		a := live[keyA]
		seen = append(seen, a.String())
		ch, err := moveTo("10.0.0.6")(live)
		if len(seen) == 1 { // the other writer wins the race, once
			if err := other.Apply(ctx, dnsrec.Change{Deletions: []dnsrec.RecordSet{*a}, Additions: []dnsrec.RecordSet{rsA(120, "10.0.0.7")}}); err != nil {
				t.Errorf("other writer: %v", err)
			}
		}
		return ch, err
	}
	before := emu.Counters()
	res, err := dnsrec.CompareAndSwap(ctx, p, []dnsrec.Key{keyA, {Name: "absent.staging.internal.", Type: "TXT"}}, decide, 5)
	if err != nil {
		t.Fatalf("CompareAndSwap: %v", err)
	}
	if res.Attempts != 2 || res.Conflicts != 1 {
		t.Errorf("attempts=%d conflicts=%d, want 2 and 1", res.Attempts, res.Conflicts)
	}
	if len(seen) != 2 || seen[1] != rsA(120, "10.0.0.7").String() {
		t.Errorf("second decision saw %v, want the other writer's record", seen)
	}
	if live := res.Live[keyA]; live == nil || !live.Equal(rsA(120, "10.0.0.7")) {
		t.Errorf("res.Live = %v", res.Live)
	}
	if v, ok := res.Live[dnsrec.Key{Name: "absent.staging.internal.", Type: "TXT"}]; !ok || v != nil {
		t.Errorf("a missing key should be present in Live as nil, got %v (present %v)", v, ok)
	}
	if len(res.Applied.Deletions) != 1 || !res.Applied.Deletions[0].Equal(rsA(120, "10.0.0.7")) {
		t.Errorf("applied deletions %v, want the other writer's record", res.Applied.Deletions)
	}
	after := emu.Counters()
	if n := after.PreconditionFailed - before.PreconditionFailed; n != 1 {
		t.Errorf("%d 412s, want 1", n)
	}
	if n := after.ChangesApplied - before.ChangesApplied; n != 2 {
		t.Errorf("%d changes applied, want 2 (other writer's and ours)", n)
	}
	got, _ := p.Get(ctx, keyA)
	if !got.Equal(rsA(60, "10.0.0.6")) {
		t.Errorf("live %v", got)
	}
}

// A writer that always gets in first exhausts the attempts: the error wraps
// ErrConflict and says so, and only the other writer's changes landed.
func TestCompareAndSwapGivesUpAfterAttempts(t *testing.T) {
	emu := emulator(t, 0)
	p := providerAt(t, emu.URL(), zone)
	other := providerAt(t, emu.URL(), zone)
	ctx := testCtx(t)
	n := 0
	decide := func(live map[dnsrec.Key]*dnsrec.RecordSet) (dnsrec.Change, error) {
		n++
		a := live[keyA]
		if err := other.Apply(ctx, dnsrec.Change{Deletions: []dnsrec.RecordSet{*a}, Additions: []dnsrec.RecordSet{rsA(a.TTL+1, "10.0.0.7")}}); err != nil {
			t.Errorf("other writer: %v", err)
		}
		return dnsrec.Change{Deletions: []dnsrec.RecordSet{*a}, Additions: []dnsrec.RecordSet{rsA(60, "10.0.0.6")}}, nil
	}
	res, err := dnsrec.CompareAndSwap(ctx, p, []dnsrec.Key{keyA}, decide, 4)
	if !errors.Is(err, dnsrec.ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
	if n != 4 || res.Attempts != 4 || res.Conflicts != 4 {
		t.Errorf("decisions=%d attempts=%d conflicts=%d, want 4 each", n, res.Attempts, res.Conflicts)
	}
	if !res.Applied.Empty() {
		t.Errorf("Applied = %v after giving up", res.Applied)
	}
	got, _ := p.Get(ctx, keyA)
	if !got.Equal(rsA(304, "10.0.0.7")) {
		t.Errorf("live %v, want the other writer's fourth record", got)
	}
}

func TestCompareAndSwapDefaultAttempts(t *testing.T) {
	emu := emulator(t, 0)
	p := providerAt(t, emu.URL(), zone)
	n := 0
	stale := rsA(1, "10.0.0.9") // never live: every Apply is a 412
	_, err := dnsrec.CompareAndSwap(testCtx(t), p, []dnsrec.Key{keyA}, func(map[dnsrec.Key]*dnsrec.RecordSet) (dnsrec.Change, error) {
		n++
		return dnsrec.Change{Deletions: []dnsrec.RecordSet{stale}, Additions: []dnsrec.RecordSet{rsA(60, "10.0.0.6")}}, nil
	}, 0)
	if !errors.Is(err, dnsrec.ErrConflict) || n != dnsrec.DefaultSwapAttempts {
		t.Fatalf("err=%v after %d decisions, want ErrConflict after %d", err, n, dnsrec.DefaultSwapAttempts)
	}
}

func TestCompareAndSwapDecisionErrorAndNoop(t *testing.T) {
	emu := emulator(t, 0)
	p := providerAt(t, emu.URL(), zone)
	before := snapshot(t, emu)
	stop := errors.New("target not allowed")
	_, err := dnsrec.CompareAndSwap(testCtx(t), p, []dnsrec.Key{keyA}, func(map[dnsrec.Key]*dnsrec.RecordSet) (dnsrec.Change, error) {
		return dnsrec.Change{}, fmt.Errorf("decide: %w", stop)
	}, 3)
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the decision's error", err)
	}
	res, err := dnsrec.CompareAndSwap(testCtx(t), p, []dnsrec.Key{keyA}, moveTo("10.0.0.5"), 3)
	if err != nil || res.Attempts != 1 || !res.Applied.Empty() {
		t.Fatalf("no-op swap: %+v, %v", res, err)
	}
	if snapshot(t, emu) != before {
		t.Fatal("a refused or no-op swap changed the zone")
	}
}

// A permanent error other than a conflict is not retried.
func TestCompareAndSwapInvalidChangeNotRetried(t *testing.T) {
	emu := emulator(t, 0)
	p := providerAt(t, emu.URL(), zone)
	n := 0
	res, err := dnsrec.CompareAndSwap(testCtx(t), p, []dnsrec.Key{keyA}, func(live map[dnsrec.Key]*dnsrec.RecordSet) (dnsrec.Change, error) {
		n++
		return dnsrec.Change{Deletions: []dnsrec.RecordSet{*live[keyA]}, Additions: []dnsrec.RecordSet{rsA(60, "not-an-ip")}}, nil
	}, 5)
	if !errors.Is(err, dnsrec.ErrInvalid) || n != 1 || res.Conflicts != 0 {
		t.Fatalf("err=%v decisions=%d conflicts=%d, want ErrInvalid after 1", err, n, res.Conflicts)
	}
}

// A missing zone reads like missing record sets (both are 404), so the
// decision runs; its change must then fail with ErrNotFound, not succeed.
func TestCompareAndSwapMissingZone(t *testing.T) {
	emu := emulator(t, 0)
	p := providerAt(t, emu.URL(), "no-such-zone")
	_, err := dnsrec.CompareAndSwap(testCtx(t), p, []dnsrec.Key{keyA}, func(live map[dnsrec.Key]*dnsrec.RecordSet) (dnsrec.Change, error) {
		if live[keyA] != nil {
			t.Errorf("live record in a missing zone: %v", live[keyA])
		}
		return dnsrec.Change{Additions: []dnsrec.RecordSet{rsA(60, "10.0.0.6")}}, nil
	}, 3)
	if !errors.Is(err, dnsrec.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

// A read failure other than 404 stops the swap before any decision.
func TestCompareAndSwapReadErrorStops(t *testing.T) {
	emu := emulator(t, 0)
	p := providerAt(t, emu.URL(), zone)
	emu.SetFaults(clouddnsemu.Faults{Status503: 1000, Match: "GET"})
	called := false
	_, err := dnsrec.CompareAndSwap(testCtx(t), p, []dnsrec.Key{keyA}, func(map[dnsrec.Key]*dnsrec.RecordSet) (dnsrec.Change, error) {
		called = true
		return dnsrec.Change{}, nil
	}, 3)
	if err == nil || called {
		t.Fatalf("err=%v called=%v; want a read error and no decision", err, called)
	}
}

func TestCompareAndSwapHonoursCancel(t *testing.T) {
	emu := emulator(t, 0)
	p := providerAt(t, emu.URL(), zone)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stale := rsA(1, "10.0.0.9")
	n := 0
	_, err := dnsrec.CompareAndSwap(ctx, p, []dnsrec.Key{keyA}, func(map[dnsrec.Key]*dnsrec.RecordSet) (dnsrec.Change, error) {
		n++
		cancel()
		return dnsrec.Change{Deletions: []dnsrec.RecordSet{stale}, Additions: []dnsrec.RecordSet{rsA(60, "10.0.0.6")}}, nil
	}, 10)
	if err == nil || n > 1 {
		t.Fatalf("err=%v after %d decisions; want a cancel error after 1", err, n)
	}
}
