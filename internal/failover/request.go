// Package failover decides, applies and verifies a move of a protected DNS
// record to a healthy Redis target. It owns every failover decision:
// idempotency, cooldown, target choice, the order of steps and the state
// record kept beside the A record.
package failover

import (
	"errors"
	"time"

	"github.com/dnsfailover/dnsfailover/internal/dnsrec"
	"github.com/dnsfailover/dnsfailover/internal/health"
)

// Mode says how fast and how carefully to move.
type Mode string

const (
	// Emergency: check the target, swap now with the failover TTL, verify,
	// restore the normal TTL after the settle period.
	Emergency Mode = "emergency"
	// Planned: lower the TTL, wait the old TTL out, re-check, swap, verify,
	// restore the TTL after the settle period.
	Planned Mode = "planned"
)

// Action is what a request asks for.
type Action string

const (
	ActionFailover   Action = "failover"    // move the record to a target
	ActionPrepare    Action = "prepare"     // only lower the TTL, ahead of a likely failover
	ActionRestoreTTL Action = "restore-ttl" // put the normal TTL back (after settle)
	// ActionClose remembers that an incident closed, so a late or redelivered
	// opening of the same incident (see Request.StaleIf) is ignored.
	ActionClose Action = "close"
)

// Request is one failover request, whatever its source.
type Request struct {
	ID     string // idempotency key: request id, incident id, or Pub/Sub message id
	Source string // "alert", "manual", "prober", "sentinel", "cli"
	Record string // the protected record's name
	Target string // instance resource name or IP[:port]; empty = best healthy candidate
	// From names the instance (or IP) being failed away from, as an incident
	// does. If the record no longer points at it, the request is a no-op:
	// a late alert about a Redis we already left must not move the record again.
	From   string
	Mode   Mode
	Action Action
	Reason string
	DryRun bool
	// StaleIf lists request ids whose presence in the state makes this request
	// stale (e.g. the incident's close was already handled).
	StaleIf []string
}

// Outcome is how a request ended.
type Outcome string

const (
	OutcomeSwapped     Outcome = "swapped"      // the record now points at the target, verified
	OutcomeNoop        Outcome = "noop"         // the record already pointed at the target
	OutcomeDuplicate   Outcome = "duplicate"    // this request id was already handled
	OutcomeStale       Outcome = "stale"        // superseded by a request already handled (StaleIf)
	OutcomeClosed      Outcome = "closed"       // an incident's close was recorded
	OutcomeDryRun      Outcome = "dry-run"      // the plan and checks, nothing changed
	OutcomePrepared    Outcome = "prepared"     // TTL lowered
	OutcomeTTLRestored Outcome = "ttl-restored" // TTL back to normal
	OutcomeRejected    Outcome = "rejected"     // bad input or unsafe: nothing changed, do not retry
	OutcomeFailed      Outcome = "failed"       // transient failure: retry may help
	OutcomeUnverified  Outcome = "unverified"   // swapped, but resolvers did not all confirm in time
)

// ErrRejected marks permanent failures: bad input, unknown record, target not
// allowed or not healthy, cooldown. Retrying the same request cannot help.
var ErrRejected = errors.New("rejected")

// Step is one thing the executor did or checked.
type Step struct {
	Name   string    `json:"name"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	OK     bool      `json:"ok"`
	Detail string    `json:"detail,omitempty"`
}

// Result is the structured account of a request.
type Result struct {
	RequestID    string            `json:"request_id"`
	Source       string            `json:"source,omitempty"`
	Record       string            `json:"record"`
	Mode         Mode              `json:"mode,omitempty"`
	Action       Action            `json:"action"`
	DryRun       bool              `json:"dry_run"`
	Outcome      Outcome           `json:"outcome"`
	Error        string            `json:"error,omitempty"`
	Reason       string            `json:"reason,omitempty"`
	Target       *health.Verdict   `json:"target,omitempty"`
	Candidates   []health.Verdict  `json:"candidates,omitempty"`
	Before       *dnsrec.RecordSet `json:"before,omitempty"`
	After        *dnsrec.RecordSet `json:"after,omitempty"`
	State        *State            `json:"state,omitempty"`
	Plan         []string          `json:"plan,omitempty"`
	Steps        []Step            `json:"steps"`
	Verification *dnsrec.Report    `json:"verification,omitempty"`
	Started      time.Time         `json:"started"`
	Finished     time.Time         `json:"finished"`
}

// Duration is how long the request took.
func (r *Result) Duration() time.Duration { return r.Finished.Sub(r.Started) }
