package prober

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Observation is one replica's latest view of one record's primary. It
// travels to the leader in an annotation of the replica's own Lease.
type Observation struct {
	Endpoint string `json:"endpoint,omitempty"` // IP:port probed; "" when the primary could not be resolved
	OK       bool   `json:"ok"`
	// Failures counts consecutive failed probes of Endpoint (0 when OK).
	Failures     int       `json:"failures"`
	FirstFailure time.Time `json:"firstFailure,omitzero"` // first probe of the current failure run
	ObservedAt   time.Time `json:"observedAt"`
	Err          string    `json:"err,omitempty"`
}

// Lease labels and annotation keys.
const (
	annotationPrefix = "prober.dnsfailover.io/"
	LabelComponent   = "app.kubernetes.io/component"
	ComponentObs     = "prober-observation"
	LabelGroup       = "prober.dnsfailover.io/group" // the LeaseName, so two prober deployments never mix
	maxKeyName       = 63
)

// annotationKey is the key that carries a record's observation (or
// episode), e.g. prober.dnsfailover.io/redis-session-staging_staging_internal.
// Long labels are shortened with a hash so the name part stays a valid key.
func annotationKey(label string) string {
	if len(label) <= maxKeyName {
		return annotationPrefix + label
	}
	sum := sha256.Sum256([]byte(label))
	return annotationPrefix + label[:maxKeyName-9] + "-" + hex.EncodeToString(sum[:4])
}

func (o Observation) encode() string {
	b, _ := json.Marshal(o) // plain struct: cannot fail
	return string(b)
}

func decodeObservation(s string) (Observation, error) {
	var o Observation
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		return o, fmt.Errorf("observation annotation: %w", err)
	}
	return o, nil
}

// prober tracks consecutive failures for one record on one replica.
type tracker struct {
	last Observation
}

// record folds one probe result into the running observation. A change of
// endpoint starts counting afresh: failures of the old primary say nothing
// about the new one.
func (t *tracker) record(endpoint string, ok bool, errText string, at time.Time) Observation {
	prev := t.last
	o := Observation{Endpoint: endpoint, OK: ok, ObservedAt: at.UTC(), Err: errText}
	if !ok && endpoint != "" {
		o.Failures = 1
		o.FirstFailure = at.UTC()
		if prev.Endpoint == endpoint && !prev.OK && prev.Failures > 0 {
			o.Failures = prev.Failures + 1
			o.FirstFailure = prev.FirstFailure
		}
	}
	t.last = o
	return o
}
