package failover

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/dnsfailover/dnsfailover/internal/dnsrec"
	"github.com/dnsfailover/dnsfailover/internal/health"
)

// movedAway reports whether the record no longer points at req.From, which
// ends the request as a no-op. When From's address cannot be known (the
// instance was deleted, which is what an instance-loss alert often means),
// the state decides: the record has moved away if its last swap went to
// another target.
func (r *run) movedAway(ctx context.Context, a *dnsrec.RecordSet, st *State) bool {
	done := r.step("check-source")
	addr, err := r.e.addressOf(ctx, r.req.From)
	switch {
	case err == nil && !slices.Contains(a.Data, addr):
		done(true, fmt.Sprintf("record already points away from %s (%s): nothing to do", r.req.From, addr))
		return true
	case err == nil:
		done(true, fmt.Sprintf("record points at %s (%s): move away", r.req.From, addr))
	case st.Target != "" && st.Target != r.req.From:
		done(true, fmt.Sprintf("%s unknown (%v); the record last moved to %s: nothing to do", r.req.From, err, st.Target))
		return true
	default:
		done(true, fmt.Sprintf("%s unknown (%v); assuming the record still points at it", r.req.From, err))
	}
	return false
}

// addressOf resolves an instance name (through Memorystore) or an IP[:port].
func (e *Engine) addressOf(ctx context.Context, name string) (string, error) {
	t, err := health.ParseTarget(name, 0)
	if err != nil {
		return "", err
	}
	if !t.IsInstance() {
		return t.Addr.String(), nil
	}
	if e.d.Lookup == nil {
		return "", errors.New("no Memorystore lookup configured")
	}
	inst, err := e.d.Lookup.Lookup(ctx, name)
	if err != nil {
		return "", err
	}
	return inst.Host, nil
}

// notFound reports whether a lookup error says the instance does not exist.
func notFound(err error) bool { return errors.Is(err, health.ErrInstanceNotFound) }
