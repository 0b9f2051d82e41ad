package failover

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dnsfailover/dnsfailover/internal/dnsrec"
)

// edit looks at the live A record and state and returns the TTL the A record
// should have and the next state, or a nil state when nothing needs writing.
type edit func(a *dnsrec.RecordSet, st *State) (ttl int64, next *State, err error)

// rewrite applies an edit as one compare-and-swap: the A record keeps its
// addresses, only its TTL and the state change. With dedupe, a request whose
// id the state already holds changes nothing.
func (r *run) rewrite(ctx context.Context, name string, dedupe bool, fn edit) (bool, error) {
	done := r.step(name)
	var wrote *State
	var newA dnsrec.RecordSet
	decide := func(live map[dnsrec.Key]*dnsrec.RecordSet) (dnsrec.Change, error) {
		wrote = nil
		a := live[r.keys()[0]]
		if a == nil {
			return dnsrec.Change{}, r.reject("%s A record disappeared", r.rec.Name)
		}
		st, err := ParseState(live[r.keys()[1]])
		if err != nil {
			return dnsrec.Change{}, r.reject("%v", err)
		}
		if dedupe && r.seenBefore(st) {
			return dnsrec.Change{}, nil
		}
		ttl, next, err := fn(a, st)
		if err != nil || next == nil {
			return dnsrec.Change{}, err
		}
		wrote = next
		newA = dnsrec.RecordSet{Name: a.Name, Type: "A", TTL: ttl, Data: append([]string(nil), a.Data...)}
		ch := r.change(live, newA, *next)
		if a.TTL == ttl { // state only: leave the A record alone
			ch.Deletions, ch.Additions = ch.Deletions[1:], ch.Additions[1:]
		}
		return ch, nil
	}
	res, err := dnsrec.CompareAndSwapFrom(ctx, r.p, r.keys(), r.takeLive(), decide, 0)
	detail := fmt.Sprintf("%d attempt(s), %d conflict(s)", res.Attempts, res.Conflicts)
	if err != nil {
		done(false, detail+": "+err.Error())
		if errors.Is(err, ErrRejected) {
			return false, err
		}
		return false, r.fail(fmt.Errorf("%s %s: %w", name, r.rec.Name, err))
	}
	if wrote == nil {
		done(true, detail+": nothing to change")
		return false, nil
	}
	r.res.After, r.res.State = ptr(newA), wrote
	done(true, detail+": "+newA.String())
	return true, nil
}

// clone copies a state so an edit never aliases the live one.
func (s *State) clone() *State {
	c := *s
	c.Seen = append([]string(nil), s.Seen...)
	return &c
}

// prepare lowers the TTL ahead of a likely failover (ActionPrepare).
func (r *run) prepare(ctx context.Context) error {
	a, _, st, err := r.read(ctx)
	if err != nil || r.seenBefore(st) {
		return err
	}
	if r.req.DryRun {
		r.res.Plan = []string{fmt.Sprintf("lower TTL of %s from %d to %d", r.rec.Name, a.TTL, r.rec.FailoverTTL)}
		r.res.Outcome = OutcomeDryRun
		return nil
	}
	_, err = r.rewrite(ctx, "lower-ttl", true, func(a *dnsrec.RecordSet, st *State) (int64, *State, error) {
		next := st.clone()
		next.remember(r.req.ID)
		if a.TTL > r.rec.FailoverTTL {
			next.LoweredAt = r.e.d.Now()
			if next.Phase == PhaseSteady {
				next.Phase = PhaseTTLLowered
			}
		}
		return min(a.TTL, r.rec.FailoverTTL), next, nil
	})
	if err == nil && r.res.Outcome == "" {
		r.res.Outcome = OutcomePrepared
	}
	return err
}

// lowerAndWait is the first half of a planned failover: lower the TTL, then
// wait until every answer cached with the old TTL has expired.
func (r *run) lowerAndWait(ctx context.Context, a *dnsrec.RecordSet, st *State) error {
	now := r.e.d.Now()
	var wait time.Duration
	if a.TTL > r.rec.FailoverTTL {
		old := a.TTL
		// The request id is not remembered here: the swap still has to happen,
		// and a retry of this request must be able to finish it.
		if _, err := r.rewrite(ctx, "lower-ttl", true, func(a *dnsrec.RecordSet, st *State) (int64, *State, error) {
			next := st.clone()
			next.LoweredAt = now
			if next.Phase == PhaseSteady {
				next.Phase = PhaseTTLLowered
			}
			return r.rec.FailoverTTL, next, nil
		}); err != nil {
			return err
		}
		wait = time.Duration(old) * time.Second
	} else if !st.LoweredAt.IsZero() {
		wait = st.LoweredAt.Add(time.Duration(r.rec.NormalTTL) * time.Second).Sub(now)
	}
	if wait <= 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && now.Add(wait).After(dl) {
		return r.fail(fmt.Errorf("planned failover must wait %s for cached answers but the deadline is %s away; the TTL is lowered, so a retry after %s continues",
			wait, time.Until(dl).Round(time.Second), now.Add(wait).Format(time.RFC3339)))
	}
	done := r.step("wait-ttl")
	if err := r.e.d.Sleep(ctx, wait); err != nil {
		done(false, err.Error())
		return r.fail(fmt.Errorf("waiting out the old TTL: %w", err))
	}
	done(true, fmt.Sprintf("waited %s", wait))
	return nil
}

// restoreTTL puts the normal TTL back once the settle period is over
// (ActionRestoreTTL). The request id is remembered even when the TTL is
// already normal, so that a closed incident marks its opening stale.
func (r *run) restoreTTL(ctx context.Context) error {
	a, _, st, err := r.read(ctx)
	if err != nil || r.seenBefore(st) {
		return err
	}
	if now := r.e.d.Now(); now.Before(st.RestoreAt) && a.TTL != r.rec.NormalTTL {
		return r.fail(fmt.Errorf("settle period of %s runs until %s; restore the TTL after that", r.rec.Name, st.RestoreAt.Format(time.RFC3339)))
	}
	if r.req.DryRun {
		r.res.Plan = []string{fmt.Sprintf("restore TTL of %s from %d to %d", r.rec.Name, a.TTL, r.rec.NormalTTL)}
		r.res.Outcome = OutcomeDryRun
		return nil
	}
	_, err = r.rewrite(ctx, "restore-ttl", true, func(a *dnsrec.RecordSet, st *State) (int64, *State, error) {
		next := st.clone()
		next.remember(r.req.ID)
		next.Phase, next.RestoreAt = PhaseSteady, time.Time{}
		return r.rec.NormalTTL, next, nil
	})
	if err == nil && r.res.Outcome == "" {
		r.res.Outcome = OutcomeTTLRestored
	}
	return err
}

// restoreInline restores the TTL within this request when the settle period
// fits before the deadline; otherwise the state says when it is due.
func (r *run) restoreInline(ctx context.Context) {
	settle := r.rec.Settle.Duration
	dl, ok := ctx.Deadline()
	if !ok || r.e.d.Now().Add(settle+15*time.Second).After(dl) {
		done := r.step("restore-ttl")
		done(true, fmt.Sprintf("deferred: due at %s; send action %q (a closed incident or a scheduler does)",
			r.e.d.Now().Add(settle).Format(time.RFC3339), ActionRestoreTTL))
		return
	}
	wait := r.step("settle")
	if err := r.e.d.Sleep(ctx, settle); err != nil {
		wait(false, err.Error())
		return
	}
	wait(true, settle.String())
	id, addr := r.req.ID, r.res.After.Data
	after := r.res.After
	_, err := r.rewrite(ctx, "restore-ttl", false, func(a *dnsrec.RecordSet, st *State) (int64, *State, error) {
		if st.LastID != id || !dnsrec.SameData(a.Data, addr) {
			return 0, nil, nil // someone moved the record since: leave it to them
		}
		next := st.clone()
		next.Phase, next.RestoreAt = PhaseSteady, time.Time{}
		return r.rec.NormalTTL, next, nil
	})
	if err != nil {
		// The swap itself succeeded; a failed restore is reported, not fatal.
		r.res.Error = "TTL restore deferred: " + err.Error()
		r.res.Outcome, r.res.After = OutcomeSwapped, after
	}
}

// close remembers that an incident closed (ActionClose).
func (r *run) close(ctx context.Context) error {
	_, _, st, err := r.read(ctx)
	if err != nil || r.seenBefore(st) {
		return err
	}
	if r.req.DryRun {
		r.res.Outcome = OutcomeDryRun
		return nil
	}
	_, err = r.rewrite(ctx, "record-close", true, func(a *dnsrec.RecordSet, st *State) (int64, *State, error) {
		next := st.clone()
		next.remember(r.req.ID)
		return a.TTL, next, nil
	})
	if err == nil && r.res.Outcome == "" {
		r.res.Outcome = OutcomeClosed
	}
	return err
}
