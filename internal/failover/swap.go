package failover

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dnsfailover/dnsfailover/internal/dnsrec"
	"github.com/dnsfailover/dnsfailover/internal/health"
)

// failover moves the record to a healthy target (ActionFailover).
func (r *run) failover(ctx context.Context) error {
	a, _, st, err := r.read(ctx)
	if err != nil {
		return err
	}
	if r.seenBefore(st) {
		return nil
	}
	if r.req.From != "" && r.movedAway(ctx, a, st) {
		r.res.Outcome = OutcomeNoop
		return nil
	}
	v, err := r.chooseTarget(ctx, a.Data)
	if v == nil {
		return err
	}
	addr := v.Addr.String()
	if err := r.checkCooldown(st, addr); err != nil {
		return err
	}
	r.res.Plan = r.plan(a, addr)
	if r.req.DryRun {
		r.res.Outcome = OutcomeDryRun
		return nil
	}
	if r.req.Mode == Planned {
		if err := r.lowerAndWait(ctx, a, st); err != nil {
			return err
		}
		// The wait may have been long: check again right before the swap.
		done := r.step("recheck-target")
		again := r.e.d.Checker(r.rec).Check(ctx, v.Target, r.allow)
		if !again.Healthy || again.Addr != v.Addr {
			done(false, strings.Join(again.Reasons, "; "))
			return r.fail(fmt.Errorf("target %s no longer fit after waiting out the TTL: %s", v.Endpoint(), strings.Join(again.Reasons, "; ")))
		}
		done(true, again.Endpoint()+" still healthy")
	}
	if err := r.swap(ctx, v); err != nil || r.res.Outcome != "" {
		return err
	}
	if !r.verify(ctx, addr) {
		r.res.Outcome = OutcomeUnverified
		return nil
	}
	r.res.Outcome = OutcomeSwapped
	r.restoreInline(ctx)
	return nil
}

// checkCooldown refuses to move the record again too soon, which is what
// keeps two alerts (or an alert and an operator) from flapping it.
func (r *run) checkCooldown(st *State, addr string) error {
	if st.SwappedAt.IsZero() || r.rec.Cooldown.Duration <= 0 || st.Current == addr {
		return nil
	}
	until := st.SwappedAt.Add(r.rec.Cooldown.Duration)
	if now := r.e.d.Now(); now.Before(until) {
		return r.reject("cooldown: %s moved to %s at %s (%s); next move allowed after %s",
			r.rec.Name, st.Current, st.SwappedAt.Format(time.RFC3339), st.LastID, until.Format(time.RFC3339))
	}
	return nil
}

// plan lists what the executor will do, for dry runs and results.
func (r *run) plan(a *dnsrec.RecordSet, addr string) []string {
	var p []string
	if r.req.Mode == Planned && a.TTL > r.rec.FailoverTTL {
		p = append(p,
			fmt.Sprintf("lower TTL of %s from %d to %d", r.rec.Name, a.TTL, r.rec.FailoverTTL),
			fmt.Sprintf("wait %ds for cached answers to expire", a.TTL),
			"re-check the target")
	}
	p = append(p,
		fmt.Sprintf("swap %s A %v -> [%s] TTL %d, with state, in one atomic change", r.rec.Name, a.Data, addr, r.rec.FailoverTTL),
		fmt.Sprintf("verify %d identical answers in a row from each resolver", r.rec.Verify.Consecutive),
		fmt.Sprintf("restore TTL %d after %s", r.rec.NormalTTL, r.rec.Settle.Duration))
	return p
}

// swap writes the new A record and its state in one atomic change, re-reading
// and re-deciding when another writer got there first.
func (r *run) swap(ctx context.Context, v *health.Verdict) error {
	done := r.step("swap")
	addr := v.Addr.String()
	newA := dnsrec.RecordSet{Name: r.rec.Name, Type: "A", TTL: r.rec.FailoverTTL, Data: []string{addr}}
	var next *State
	decide := func(live map[dnsrec.Key]*dnsrec.RecordSet) (dnsrec.Change, error) {
		next = nil
		a, txt := live[r.keys()[0]], live[r.keys()[1]]
		if a == nil {
			return dnsrec.Change{}, r.reject("%s A record disappeared", r.rec.Name)
		}
		st, err := ParseState(txt)
		if err != nil {
			return dnsrec.Change{}, r.reject("%v", err)
		}
		if r.seenBefore(st) {
			return dnsrec.Change{}, nil
		}
		if dnsrec.SameData(a.Data, newA.Data) {
			r.res.Outcome = OutcomeNoop // a concurrent writer made the same move
			return dnsrec.Change{}, nil
		}
		if err := r.checkCooldown(st, addr); err != nil {
			return dnsrec.Change{}, err
		}
		now := r.e.d.Now()
		s := *st
		s.Seen = append([]string(nil), st.Seen...)
		s.Phase, s.LastID, s.SwappedAt, s.RestoreAt = PhaseSwapped, r.req.ID, now, now.Add(r.rec.Settle.Duration)
		s.Previous, s.Current, s.Target, s.Reason = strings.Join(a.Data, ","), addr, targetName(v), r.req.Reason
		s.PrevTarget = r.previousTarget(a.Data)
		s.remember(r.req.ID)
		next = &s
		r.res.Before = ptr(a.Clone())
		return r.change(live, newA, s), nil
	}
	res, err := dnsrec.CompareAndSwapFrom(ctx, r.p, r.keys(), r.takeLive(), decide, 0)
	detail := fmt.Sprintf("%d attempt(s), %d conflict(s)", res.Attempts, res.Conflicts)
	if err != nil {
		done(false, detail+": "+err.Error())
		if errors.Is(err, ErrRejected) {
			return err
		}
		return r.fail(fmt.Errorf("swap %s: %w", r.rec.Name, err))
	}
	if next == nil { // duplicate, stale or no-op decided inside the loop
		done(true, detail+": "+string(r.res.Outcome))
		return nil
	}
	r.res.After, r.res.State = ptr(newA), next
	done(true, detail+": "+newA.String())
	return nil
}

// change replaces the A record and the state record, deleting exactly what is live.
func (r *run) change(live map[dnsrec.Key]*dnsrec.RecordSet, newA dnsrec.RecordSet, s State) dnsrec.Change {
	var ch dnsrec.Change
	for _, k := range r.keys() {
		if old := live[k]; old != nil {
			ch.Deletions = append(ch.Deletions, *old)
		}
	}
	ch.Additions = []dnsrec.RecordSet{newA, s.RecordSet(r.rec.Name, r.rec.FailoverTTL)}
	return ch
}

// verify asks every resolver until each confirms addr, and records the report.
func (r *run) verify(ctx context.Context, addr string) bool {
	done := r.step("verify")
	resolvers := r.rec.Resolvers
	if len(resolvers) == 0 {
		ns, err := r.p.NameServers(ctx)
		if err != nil {
			done(false, err.Error())
			r.res.Error = "verification: " + err.Error()
			return false
		}
		resolvers = ns
	}
	rep := r.e.d.Verifier.Verify(ctx, dnsrec.VerifyRequest{
		Name: r.rec.Name, Type: "A", Want: []string{addr}, Resolvers: resolvers,
		Consecutive: r.rec.Verify.Consecutive, Interval: r.rec.Verify.Interval.Duration, Timeout: r.rec.Verify.Timeout.Duration,
	})
	r.res.Verification = &rep
	if !rep.OK {
		done(false, rep.Err)
		r.res.Error = "verification failed: " + rep.Err
		return false
	}
	done(true, fmt.Sprintf("%d resolver(s) confirmed in %s", len(rep.Resolvers), rep.Elapsed.Round(time.Millisecond)))
	return true
}
