package failover

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dnsfailover/dnsfailover/internal/config"
	"github.com/dnsfailover/dnsfailover/internal/dnsrec"
	"github.com/dnsfailover/dnsfailover/internal/health"
)

// Run carries out one request. The Result is never nil. A nil error means the
// request is finished (including no-ops, duplicates and dry runs); an error
// wrapping ErrRejected means it can never succeed as sent; any other error is
// transient and the request may be retried as is.
func (e *Engine) Run(ctx context.Context, req Request) (*Result, error) {
	r := &run{e: e, req: req, res: &Result{
		RequestID: req.ID, Source: req.Source, Record: dnsrec.FQDN(req.Record), Mode: req.Mode,
		Action: req.Action, DryRun: req.DryRun, Reason: req.Reason, Started: e.d.Now(), Steps: []Step{},
	}}
	err := r.do(ctx)
	r.res.Finished = e.d.Now()
	if err != nil && r.res.Error == "" {
		r.res.Error = err.Error()
	}
	if err != nil && r.res.Outcome == "" {
		r.res.Outcome = OutcomeFailed
	}
	return r.res, err
}

// run is the working state of one request.
type run struct {
	e     *Engine
	req   Request
	res   *Result
	rec   *config.Record
	allow health.Allowlist
	p     dnsrec.Provider
	// live holds the record sets read last, for the next compare-and-swap to
	// start from; taken once, since a write makes it stale.
	live map[dnsrec.Key]*dnsrec.RecordSet
}

// takeLive hands over the record sets read last, at most once.
func (r *run) takeLive() map[dnsrec.Key]*dnsrec.RecordSet {
	live := r.live
	r.live = nil
	return live
}

func (r *run) do(ctx context.Context) error {
	if r.req.Action == "" {
		r.req.Action, r.res.Action = ActionFailover, ActionFailover
	}
	if err := r.validate(); err != nil {
		return r.reject("%v", err)
	}
	p, err := r.e.d.Provider(ctx, r.rec.Project, r.rec.Zone)
	if err != nil {
		return r.fail(fmt.Errorf("provider for zone %s/%s: %w", r.rec.Project, r.rec.Zone, err))
	}
	r.p = p
	switch r.req.Action {
	case ActionFailover:
		return r.failover(ctx)
	case ActionPrepare:
		return r.prepare(ctx)
	case ActionRestoreTTL:
		return r.restoreTTL(ctx)
	default: // ActionClose; validate admits nothing else
		return r.close(ctx)
	}
}

// validate checks the request against the configuration; nothing is read yet.
func (r *run) validate() error {
	var errs []error
	if strings.TrimSpace(r.req.Record) == "" {
		errs = append(errs, errors.New("record is required"))
	} else if rec, ok := r.e.cfg.Record(r.req.Record); !ok {
		errs = append(errs, fmt.Errorf("unknown record %q (configured: %s)", r.req.Record, strings.Join(r.e.recordNames(), ", ")))
	} else {
		r.rec = rec
		r.res.Record = rec.Name
	}
	switch r.req.Action {
	case ActionFailover:
		if r.req.Mode != Emergency && r.req.Mode != Planned {
			errs = append(errs, fmt.Errorf("mode %q: want %q or %q", r.req.Mode, Planned, Emergency))
		}
	case ActionPrepare, ActionRestoreTTL, ActionClose:
	default:
		errs = append(errs, fmt.Errorf("unknown action %q", r.req.Action))
	}
	if r.req.Target != "" && r.rec != nil {
		if _, err := health.ParseTarget(r.req.Target, r.rec.Port); err != nil {
			errs = append(errs, fmt.Errorf("target: %w", err))
		}
	}
	if r.req.ID == "" && !r.req.DryRun && r.req.Action != ActionClose {
		errs = append(errs, errors.New("request id is required for idempotency"))
	}
	if r.rec != nil {
		allow, err := r.e.allowlist(r.rec)
		if err != nil {
			errs = append(errs, err)
		}
		r.allow = allow
	}
	return errors.Join(errs...)
}

// reject ends the request as permanently refused.
func (r *run) reject(format string, args ...any) error {
	err := fmt.Errorf("%w: "+format, append([]any{ErrRejected}, args...)...)
	r.res.Outcome, r.res.Error = OutcomeRejected, err.Error()
	return err
}

// fail ends the request with a transient failure.
func (r *run) fail(err error) error {
	r.res.Outcome, r.res.Error = OutcomeFailed, err.Error()
	return err
}

// step starts a timed step; call the returned func to finish it.
func (r *run) step(name string) func(ok bool, detail string) {
	i := len(r.res.Steps)
	r.res.Steps = append(r.res.Steps, Step{Name: name, Start: r.e.d.Now()})
	return func(ok bool, detail string) {
		s := &r.res.Steps[i]
		s.End, s.OK, s.Detail = r.e.d.Now(), ok, detail
	}
}

func (r *run) keys() []dnsrec.Key {
	return []dnsrec.Key{{Name: r.rec.Name, Type: "A"}, {Name: StateName(r.rec.Name), Type: "TXT"}}
}

// read returns the live A record set and the parsed state.
func (r *run) read(ctx context.Context) (*dnsrec.RecordSet, *dnsrec.RecordSet, *State, error) {
	done := r.step("read")
	a, err := r.p.Get(ctx, dnsrec.Key{Name: r.rec.Name, Type: "A"})
	if errors.Is(err, dnsrec.ErrNotFound) {
		done(false, "A record missing")
		return nil, nil, nil, r.reject("%s has no A record in zone %s: create it first (scripts/bootstrap-dns.sh)", r.rec.Name, r.rec.Zone)
	}
	if err != nil {
		done(false, err.Error())
		return nil, nil, nil, r.fail(err)
	}
	txt, err := r.p.Get(ctx, dnsrec.Key{Name: StateName(r.rec.Name), Type: "TXT"})
	if errors.Is(err, dnsrec.ErrNotFound) {
		txt, err = nil, nil
	}
	if err != nil {
		done(false, err.Error())
		return nil, nil, nil, r.fail(err)
	}
	st, err := ParseState(txt)
	if err != nil {
		done(false, err.Error())
		return nil, nil, nil, r.reject("%v (fix or delete the state record by hand)", err)
	}
	r.res.Before, r.res.State = ptr(a.Clone()), st
	r.live = map[dnsrec.Key]*dnsrec.RecordSet{r.keys()[0]: a, r.keys()[1]: txt}
	done(true, a.String())
	return a, txt, st, nil
}

// seenBefore ends the request early when its id (or a superseding id) was handled.
func (r *run) seenBefore(st *State) bool {
	if r.req.ID != "" && st.HasSeen(r.req.ID) {
		r.res.Outcome = OutcomeDuplicate
		return true
	}
	if slices.ContainsFunc(r.req.StaleIf, st.HasSeen) {
		r.res.Outcome = OutcomeStale
		return true
	}
	return false
}

func (e *Engine) recordNames() []string {
	out := make([]string, len(e.cfg.Records))
	for i, rec := range e.cfg.Records {
		out[i] = rec.Name
	}
	return out
}

func (e *Engine) allowlist(rec *config.Record) (health.Allowlist, error) {
	a, err := health.ParseAllowlist(rec.Allow.Instances, rec.Allow.CIDRs)
	if err != nil {
		return a, fmt.Errorf("allowlist of %s: %w", rec.Name, err)
	}
	return a, nil
}

func ptr[T any](v T) *T { return &v }
