package failover

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/dnsfailover/dnsfailover/internal/health"
)

// chooseTarget checks the requested target, or, when none was named, the
// configured candidates in order, skipping the address the record already
// serves (that is the one being failed away from). It returns the verdict
// to move to, or nil with the request already ended (no-op or refusal).
func (r *run) chooseTarget(ctx context.Context, current []string) (*health.Verdict, error) {
	done := r.step("check-target")
	if r.req.Target != "" {
		t, _ := health.ParseTarget(r.req.Target, r.rec.Port) // validated already
		v := r.e.d.Checker(r.rec).Check(ctx, t, r.allow)
		r.res.Target = &v
		if !v.Eligible {
			done(false, strings.Join(v.Reasons, "; "))
			return nil, r.reject("target %s is not allowed for %s: %s", r.req.Target, r.rec.Name, strings.Join(v.Reasons, "; "))
		}
		if v.Addr.IsValid() && slices.Equal(current, []string{v.Addr.String()}) {
			done(true, "record already points at "+v.Addr.String())
			r.res.Outcome = OutcomeNoop
			return nil, nil
		}
		if !v.Healthy {
			done(false, strings.Join(v.Reasons, "; "))
			return nil, r.reject("target %s is not fit for traffic: %s", r.req.Target, strings.Join(v.Reasons, "; "))
		}
		done(true, fmt.Sprintf("%s healthy (%s, %s)", v.Endpoint(), v.Probe.Role, v.Probe.Latency))
		return &v, nil
	}
	if len(r.rec.Targets) == 0 {
		done(false, "no target named and none configured")
		return nil, r.reject("no target given and %s has no configured targets", r.rec.Name)
	}
	var why []string
	for _, name := range r.rec.Targets {
		t, err := health.ParseTarget(name, r.rec.Port)
		if err != nil {
			why = append(why, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		if name == r.req.From {
			why = append(why, name+": is the instance being failed away from")
			continue
		}
		v := r.e.d.Checker(r.rec).Check(ctx, t, r.allow)
		r.res.Candidates = append(r.res.Candidates, v)
		if v.Addr.IsValid() && slices.Contains(current, v.Addr.String()) {
			why = append(why, name+": is the current address")
			continue
		}
		if v.Eligible && v.Healthy {
			r.res.Target = &v
			done(true, fmt.Sprintf("%s chose %s (%s)", name, v.Endpoint(), v.Probe.Latency))
			return &v, nil
		}
		why = append(why, fmt.Sprintf("%s: %s", name, strings.Join(v.Reasons, "; ")))
	}
	done(false, strings.Join(why, " | "))
	// Candidates may recover (a standby restarting): worth a retry.
	return nil, r.fail(fmt.Errorf("no healthy candidate for %s: %s", r.rec.Name, strings.Join(why, " | ")))
}

// targetName is how the state names the target: the instance if there is one.
func targetName(v *health.Verdict) string {
	if v.Target.Instance != "" {
		return v.Target.Instance
	}
	return v.Addr.String()
}

// previousTarget names what the record pointed at before the swap: the
// instance the request fails away from, else a checked candidate with that
// address, else the address itself.
func (r *run) previousTarget(current []string) string {
	if r.req.From != "" {
		return r.req.From
	}
	for _, c := range r.res.Candidates {
		if c.Addr.IsValid() && slices.Equal(current, []string{c.Addr.String()}) {
			return targetName(&c)
		}
	}
	return strings.Join(current, ",")
}
