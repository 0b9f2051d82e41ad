package incident

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/dnsfailover/dnsfailover/internal/config"
	"github.com/dnsfailover/dnsfailover/internal/failover"
)

// Alert policy user labels that route an incident. Label values allow only
// [a-z0-9_-], so the record is written in config.LabelValue form
// (redis-session-staging_staging_internal).
const (
	LabelRecord = "dnsfailover_record"
	LabelAction = "dnsfailover_action" // failover (default) | prepare
)

// ResourceTypeRedis is the monitored resource type of Memorystore for Redis.
const ResourceTypeRedis = "redis_instance"

// EnvRestoreTTLOnClose turns a closed incident into a restore-ttl request.
const EnvRestoreTTLOnClose = "DNSFAILOVER_RESTORE_TTL_ON_CLOSE"

// Options tune routing.
type Options struct {
	// RestoreTTLOnClose: a closed incident restores the normal TTL of its
	// records (Action restore-ttl) instead of only recording the close
	// (Action close). It never moves a record back.
	RestoreTTLOnClose bool
}

// OptionsFromEnv reads DNSFAILOVER_RESTORE_TTL_ON_CLOSE (a Go bool; empty = false).
func OptionsFromEnv() (Options, error) {
	v := strings.TrimSpace(os.Getenv(EnvRestoreTTLOnClose))
	if v == "" {
		return Options{}, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return Options{}, fmt.Errorf("%s=%q: want true or false", EnvRestoreTTLOnClose, v)
	}
	return Options{RestoreTTLOnClose: b}, nil
}

// InstanceRecords names the configured records that currently use or may use
// a Memorystore instance (failover.Engine.InstanceRecords).
type InstanceRecords func(ctx context.Context, instance string) ([]string, error)

// Routing is what an incident asks for.
type Routing struct {
	Requests []failover.Request
	// Ignored says why there is nothing to do; empty when Requests is not.
	Ignored string
	// Records the incident was matched to (also set when closed and ignored).
	Records []string
	Action  failover.Action
}

// ErrUnroutable is wrapped when the policy's labels are wrong (unknown
// record, unknown action): permanent, so acknowledge and report.
var ErrUnroutable = errors.New("incident cannot be routed")

// MaxReason bounds the reason carried into requests and results.
const MaxReason = 500

// Route turns a decoded notification into failover requests. The record comes
// from the policy's dnsfailover_record label; without it, a redis_instance
// incident is matched by instance through lookup. Errors wrap ErrUnroutable
// (permanent) or come from lookup (transient).
func Route(ctx context.Context, n *Notification, cfg *config.Config, lookup InstanceRecords, opt Options) (Routing, error) {
	if n.IsTest() {
		return Routing{Ignored: "Monitoring test notification: logged only"}, nil
	}
	in := &n.Incident
	action, err := actionOf(in)
	if err != nil {
		return Routing{}, err
	}
	if in.State == StateClosed {
		// A closed incident never moves a record. It is recorded in the zone
		// state so that a late or redelivered opening becomes stale, and may
		// restore the normal TTL.
		action = failover.ActionClose
		if opt.RestoreTTLOnClose {
			action = failover.ActionRestoreTTL
		}
	}
	r := Routing{Action: action}
	records, ignored, err := recordsOf(ctx, in, cfg, lookup)
	if err != nil {
		return r, err
	}
	r.Records = records
	if ignored != "" {
		r.Ignored = ignored
		return r, nil
	}
	closeID := CloseID(in.ID)
	for _, rec := range records {
		req := failover.Request{
			ID:     RequestID(in.ID, action),
			Source: "alert",
			Record: rec,
			Action: action,
			Reason: reason(in),
		}
		switch action {
		case failover.ActionFailover:
			req.Mode = failover.Emergency
			req.StaleIf = []string{closeID}
			if in.Resource.Type == ResourceTypeRedis {
				// Move away from the failing instance, and only if the
				// record still points at it.
				req.From = InstanceName(in.Resource.Labels)
			}
		case failover.ActionPrepare:
			req.StaleIf = []string{closeID}
		}
		r.Requests = append(r.Requests, req)
	}
	return r, nil
}

// RequestID is the idempotency key of an incident's request:
// incident:<id>:failover, incident:<id>:prepare, and for the close (whether
// it only records the close or also restores the TTL) incident:<id>:closed.
func RequestID(incidentID string, a failover.Action) string {
	if a == "" {
		return "incident:" + incidentID
	}
	if a == failover.ActionClose || a == failover.ActionRestoreTTL {
		return CloseID(incidentID)
	}
	return "incident:" + incidentID + ":" + string(a)
}

// CloseID is the id under which an incident's close is remembered; openings
// of the same incident carry it in StaleIf.
func CloseID(incidentID string) string { return "incident:" + incidentID + ":closed" }

func actionOf(in *Incident) (failover.Action, error) {
	v := strings.ToLower(strings.TrimSpace(in.PolicyUserLabels[LabelAction]))
	switch v {
	case "", string(failover.ActionFailover):
		return failover.ActionFailover, nil
	case string(failover.ActionPrepare):
		return failover.ActionPrepare, nil
	}
	return "", fmt.Errorf("%w: policy label %s=%q: want failover or prepare", ErrUnroutable, LabelAction, v)
}

// recordsOf returns the configured record names, or a reason to ignore.
func recordsOf(ctx context.Context, in *Incident, cfg *config.Config, lookup InstanceRecords) ([]string, string, error) {
	if v, ok := in.PolicyUserLabels[LabelRecord]; ok {
		rec, found := cfg.RecordByLabel(v)
		if !found {
			return nil, "", fmt.Errorf("%w: policy label %s=%q matches no configured record (label form of a name: %s)",
				ErrUnroutable, LabelRecord, v, labelExamples(cfg))
		}
		return []string{rec.Name}, "", nil
	}
	if in.Resource.Type != ResourceTypeRedis {
		return nil, fmt.Sprintf("policy has no %s label and resource type %q is not %s: nothing to fail over",
			LabelRecord, in.Resource.Type, ResourceTypeRedis), nil
	}
	inst := InstanceName(in.Resource.Labels)
	if inst == "" {
		return nil, fmt.Sprintf("policy has no %s label and the %s resource has no instance_id label", LabelRecord, ResourceTypeRedis), nil
	}
	if lookup == nil {
		return nil, "", errors.New("incident: no instance lookup configured")
	}
	names, err := lookup(ctx, inst)
	if err != nil {
		return nil, "", fmt.Errorf("incident: records of instance %s: %w", inst, err)
	}
	if len(names) == 0 {
		return nil, fmt.Sprintf("no configured record uses instance %s (add a %s label to the policy, or the instance to a record's targets)", inst, LabelRecord), nil
	}
	names = slices.Clone(names)
	slices.Sort(names)
	return slices.Compact(names), "", nil
}

// InstanceName returns the full instance resource name from redis_instance
// labels. instance_id is the full path; a bare id is completed from
// project_id and region when both are there.
func InstanceName(l Labels) string {
	id := strings.TrimSpace(l["instance_id"])
	if id == "" || config.IsInstanceName(id) {
		return id
	}
	if p, r := l["project_id"], l["region"]; p != "" && r != "" && !strings.Contains(id, "/") {
		return "projects/" + p + "/locations/" + r + "/instances/" + id
	}
	return id
}

func labelExamples(cfg *config.Config) string {
	var s []string
	for _, r := range cfg.Records {
		s = append(s, config.LabelValue(r.Name))
	}
	return strings.Join(s, ", ")
}

func reason(in *Incident) string {
	s := fmt.Sprintf("alert %q incident %s %s", in.PolicyName, in.ID, in.State)
	if in.Summary != "" {
		s += ": " + in.Summary
	}
	if len(s) > MaxReason {
		s = strings.ToValidUTF8(s[:MaxReason-3], "") + "..."
	}
	return s
}
