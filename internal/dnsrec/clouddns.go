package dnsrec

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	dns "google.golang.org/api/dns/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
)

// CloudDNS is a Provider for one Google Cloud DNS managed zone.
type CloudDNS struct {
	svc     *dns.Service
	project string
	zone    string
	// Retry governs retries of transient API failures.
	Retry Backoff
	// PollInterval is the first wait between changes.get polls (it doubles, capped at 1s).
	PollInterval time.Duration
}

// NewCloudDNS returns a provider for project/zone. Pass option.WithEndpoint
// to talk to an emulator.
func NewCloudDNS(ctx context.Context, project, zone string, opts ...option.ClientOption) (*CloudDNS, error) {
	if project == "" || zone == "" {
		return nil, errors.New("clouddns: project and zone are required")
	}
	svc, err := dns.NewService(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("clouddns: create client: %w", err)
	}
	return &CloudDNS{svc: svc, project: project, zone: zone, PollInterval: 20 * time.Millisecond}, nil
}

// Zone returns "project/zone".
func (c *CloudDNS) Zone() string { return c.project + "/" + c.zone }

// Get reads one record set.
func (c *CloudDNS) Get(ctx context.Context, k Key) (*RecordSet, error) {
	var got *dns.ResourceRecordSet
	_, err := c.Retry.Do(ctx, func(ctx context.Context) error {
		var err error
		got, err = c.svc.ResourceRecordSets.Get(c.project, c.zone, FQDN(k.Name), k.Type).Context(ctx).Do()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("clouddns: get %s %s in %s: %w", k.Name, k.Type, c.Zone(), classify(err))
	}
	rs := fromAPI(got)
	return &rs, nil
}

// Apply submits the change atomically and waits until Cloud DNS reports it done.
//
// A retried create can hit a change that an earlier, seemingly failed attempt
// already applied (the response was lost). That shows up as 412 or 409; if the
// zone then holds exactly the additions, the change is ours and counts as done.
func (c *CloudDNS) Apply(ctx context.Context, ch Change) error {
	if ch.Empty() {
		return nil
	}
	body := &dns.Change{}
	for _, d := range ch.Deletions {
		body.Deletions = append(body.Deletions, toAPI(d))
	}
	for _, a := range ch.Additions {
		body.Additions = append(body.Additions, toAPI(a))
	}
	var created *dns.Change
	ambiguous := false
	_, err := c.Retry.Do(ctx, func(ctx context.Context) error {
		var err error
		created, err = c.svc.Changes.Create(c.project, c.zone, body).Context(ctx).Do()
		if err != nil && Transient(err) {
			ambiguous = true
		}
		return err
	})
	if err != nil {
		cerr := classify(err)
		if ambiguous && (errors.Is(cerr, ErrConflict) || errors.Is(cerr, ErrExists)) && c.holds(ctx, ch) {
			return c.waitLatest(ctx)
		}
		return fmt.Errorf("clouddns: change %s: %w", c.Zone(), cerr)
	}
	return c.waitDone(ctx, created)
}

// holds reports whether the zone already reflects the change: every addition
// present exactly, every deleted key not replaced by something else.
func (c *CloudDNS) holds(ctx context.Context, ch Change) bool {
	for _, a := range ch.Additions {
		live, err := c.Get(ctx, a.Key())
		if err != nil || !live.Equal(a) {
			return false
		}
	}
	return true
}

// waitLatest waits for the zone's newest change to be done. Used when our
// change landed but its id was lost with the answer: changes are applied in
// sequence, so once the newest is done ours is too.
func (c *CloudDNS) waitLatest(ctx context.Context) error {
	var list *dns.ChangesListResponse
	_, err := c.Retry.Do(ctx, func(ctx context.Context) error {
		var err error
		list, err = c.svc.Changes.List(c.project, c.zone).SortBy("changeSequence").SortOrder("descending").MaxResults(1).Context(ctx).Do()
		return err
	})
	if err != nil {
		return fmt.Errorf("clouddns: list changes of %s: %w", c.Zone(), classify(err))
	}
	if len(list.Changes) == 0 {
		return nil
	}
	return c.waitDone(ctx, list.Changes[0])
}

func (c *CloudDNS) waitDone(ctx context.Context, ch *dns.Change) error {
	wait := c.PollInterval
	for ch.Status != "done" {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("clouddns: change %s still %q: %w", ch.Id, ch.Status, ctx.Err())
		case <-t.C:
		}
		if wait *= 2; wait > time.Second {
			wait = time.Second
		}
		id := ch.Id
		_, err := c.Retry.Do(ctx, func(ctx context.Context) error {
			got, err := c.svc.Changes.Get(c.project, c.zone, id).Context(ctx).Do()
			if err == nil {
				ch = got
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("clouddns: poll change %s: %w", id, classify(err))
		}
	}
	return nil
}

// NameServers returns the zone's name servers as listed by Cloud DNS.
func (c *CloudDNS) NameServers(ctx context.Context) ([]string, error) {
	var z *dns.ManagedZone
	_, err := c.Retry.Do(ctx, func(ctx context.Context) error {
		var err error
		z, err = c.svc.ManagedZones.Get(c.project, c.zone).Context(ctx).Do()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("clouddns: get zone %s: %w", c.Zone(), classify(err))
	}
	return z.NameServers, nil
}

// classify wraps API errors with this package's sentinel errors.
func classify(err error) error {
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		return err
	}
	reason := ""
	if len(ge.Errors) > 0 {
		reason = ge.Errors[0].Reason
	}
	switch {
	case ge.Code == http.StatusPreconditionFailed || reason == "conditionNotMet":
		return fmt.Errorf("%w: %w", ErrConflict, err)
	case ge.Code == http.StatusConflict || reason == "alreadyExists":
		return fmt.Errorf("%w: %w", ErrExists, err)
	case ge.Code == http.StatusNotFound || reason == "notFound":
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case ge.Code == http.StatusBadRequest:
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return err
}

func toAPI(r RecordSet) *dns.ResourceRecordSet {
	return &dns.ResourceRecordSet{Name: FQDN(r.Name), Type: strings.ToUpper(r.Type), Ttl: r.TTL, Rrdatas: r.Data}
}

func fromAPI(r *dns.ResourceRecordSet) RecordSet {
	return RecordSet{Name: FQDN(r.Name), Type: r.Type, TTL: r.Ttl, Data: append([]string(nil), r.Rrdatas...)}
}
