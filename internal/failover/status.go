package failover

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dnsfailover/dnsfailover/internal/dnsrec"
	"github.com/dnsfailover/dnsfailover/internal/health"
)

// RecordStatus is what an operator wants to see about one record.
type RecordStatus struct {
	Record     string            `json:"record"`
	Zone       string            `json:"zone"`
	Current    *dnsrec.RecordSet `json:"current,omitempty"`
	State      *State            `json:"state,omitempty"`
	Candidates []health.Verdict  `json:"candidates,omitempty"`
	Error      string            `json:"error,omitempty"`
}

// Status reads a record, its state and the health of its candidate targets.
// It changes nothing.
func (e *Engine) Status(ctx context.Context, record string) (*RecordStatus, error) {
	rec, ok := e.cfg.Record(record)
	if !ok {
		return nil, fmt.Errorf("%w: unknown record %q", ErrRejected, record)
	}
	st := &RecordStatus{Record: rec.Name, Zone: rec.Project + "/" + rec.Zone}
	p, err := e.d.Provider(ctx, rec.Project, rec.Zone)
	if err != nil {
		return nil, fmt.Errorf("provider for %s: %w", st.Zone, err)
	}
	a, err := p.Get(ctx, dnsrec.Key{Name: rec.Name, Type: "A"})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", rec.Name, err)
	}
	st.Current = a
	txt, err := p.Get(ctx, dnsrec.Key{Name: StateName(rec.Name), Type: "TXT"})
	if err != nil && !errors.Is(err, dnsrec.ErrNotFound) {
		return nil, fmt.Errorf("read state of %s: %w", rec.Name, err)
	}
	if st.State, err = ParseState(txt); err != nil {
		st.Error = err.Error()
	}
	allow, err := e.allowlist(rec)
	if err != nil {
		return nil, err
	}
	for _, name := range rec.Targets {
		t, err := health.ParseTarget(name, rec.Port)
		if err != nil {
			st.Candidates = append(st.Candidates, health.Verdict{Reasons: []string{fmt.Sprintf("%s: %v", name, err)}})
			continue
		}
		st.Candidates = append(st.Candidates, e.d.Checker(rec).Check(ctx, t, allow))
	}
	return st, nil
}

// InstanceRecords returns the records an incident about a Memorystore
// instance concerns, for policies without routing labels: those that list
// the instance as a target or in their allowlist and
//   - point at its address now, or pointed at it before the last swap (so a
//     redelivery or the close of the same incident still finds its record);
//   - or, when the instance no longer exists (deleted or lost), whose state
//     says the last swap went to it or away from it, or, never swapped,
//     whose first configured target it is.
func (e *Engine) InstanceRecords(ctx context.Context, instance string) ([]string, error) {
	addr, lookupErr := e.addressOf(ctx, instance)
	if lookupErr != nil && !notFound(lookupErr) {
		return nil, fmt.Errorf("look up %s: %w", instance, lookupErr)
	}
	var out []string
	for i := range e.cfg.Records {
		rec := &e.cfg.Records[i]
		if !slices.Contains(rec.Targets, instance) && !slices.Contains(rec.Allow.Instances, instance) {
			continue
		}
		p, err := e.d.Provider(ctx, rec.Project, rec.Zone)
		if err != nil {
			return nil, fmt.Errorf("provider for %s/%s: %w", rec.Project, rec.Zone, err)
		}
		a, err := p.Get(ctx, dnsrec.Key{Name: rec.Name, Type: "A"})
		if errors.Is(err, dnsrec.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", rec.Name, err)
		}
		txt, err := p.Get(ctx, dnsrec.Key{Name: StateName(rec.Name), Type: "TXT"})
		if err != nil && !errors.Is(err, dnsrec.ErrNotFound) {
			return nil, fmt.Errorf("read state of %s: %w", rec.Name, err)
		}
		st, err := ParseState(txt)
		if err != nil {
			return nil, err
		}
		var match bool
		if lookupErr == nil {
			match = slices.Contains(a.Data, addr) || slices.Contains(strings.Split(st.Previous, ","), addr)
		} else {
			match = st.Target == instance || st.PrevTarget == instance ||
				(st.Target == "" && len(rec.Targets) > 0 && rec.Targets[0] == instance)
		}
		if match {
			out = append(out, rec.Name)
		}
	}
	return out, nil
}
