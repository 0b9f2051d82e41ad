package prober

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// View is one replica's observation of one record, as the leader read it.
type View struct {
	Identity string
	Obs      Observation
	Renewed  time.Time // the Lease's renewTime
}

// Policy is the quorum rule.
type Policy struct {
	Quorum    int           // failing observations needed (of the configured replicas)
	Failures  int           // consecutive failed probes each of them must have seen
	Freshness time.Duration // older observations are ignored
}

// Assessment is the leader's reading of all observations of one record.
type Assessment struct {
	// Endpoint is the primary most fresh observations agree on ("" if none).
	Endpoint string
	Fresh    int // fresh observations, any endpoint
	Agree    int // fresh observations of Endpoint
	Healthy  int // of those, OK
	Failing  int // of those, failed at least Policy.Failures times in a row
	// Down: at least Quorum replicas failed Endpoint Failures times in a row.
	Down bool
	// FirstFailure is the earliest start of a failure run among the failing
	// replicas: the moment the episode began.
	FirstFailure time.Time
}

func (a Assessment) String() string {
	return fmt.Sprintf("endpoint=%s fresh=%d agree=%d healthy=%d failing=%d down=%t", a.Endpoint, a.Fresh, a.Agree, a.Healthy, a.Failing, a.Down)
}

// Assess applies the policy. Observations that are stale (not renewed
// within Freshness of now), or that name no endpoint, never
// count; nor do observations of another endpoint than the one most fresh
// replicas see (a replica with a stale DNS answer must not vote about the
// new primary). Since Quorum is a majority of the configured replicas, at
// most one endpoint can ever be declared down.
func Assess(views []View, now time.Time, p Policy) Assessment {
	var a Assessment
	byEndpoint := map[string]int{}
	var fresh []View
	for _, v := range views {
		// Renewed is on the leader's clock (see leader.evaluate), never the
		// replica's ObservedAt: skew between nodes must not decide freshness.
		// A replica writes its Lease only after a whole probe round, so a
		// renewed Lease always carries a new observation.
		if v.Renewed.IsZero() || now.Sub(v.Renewed) > p.Freshness || v.Obs.Endpoint == "" {
			continue
		}
		fresh = append(fresh, v)
		byEndpoint[v.Obs.Endpoint]++
	}
	a.Fresh = len(fresh)
	// The endpoint seen by most; ties broken by name so every leader agrees.
	eps := make([]string, 0, len(byEndpoint))
	for e := range byEndpoint {
		eps = append(eps, e)
	}
	sort.Slice(eps, func(i, j int) bool {
		if byEndpoint[eps[i]] != byEndpoint[eps[j]] {
			return byEndpoint[eps[i]] > byEndpoint[eps[j]]
		}
		return eps[i] < eps[j]
	})
	if len(eps) == 0 {
		return a
	}
	a.Endpoint = eps[0]
	for _, v := range fresh {
		if v.Obs.Endpoint != a.Endpoint {
			continue
		}
		a.Agree++
		switch {
		case v.Obs.OK:
			a.Healthy++
		case v.Obs.Failures >= p.Failures:
			a.Failing++
			if a.FirstFailure.IsZero() || v.Obs.FirstFailure.Before(a.FirstFailure) {
				a.FirstFailure = v.Obs.FirstFailure
			}
		}
	}
	a.Down = p.Quorum > 0 && a.Failing >= p.Quorum
	return a
}

// Episode is one declared loss of a record's primary.
type Episode struct {
	Endpoint     string    `json:"endpoint"`
	ID           string    `json:"id"` // the request id published
	FirstFailure time.Time `json:"firstFailure"`
	Published    time.Time `json:"published,omitzero"` // zero until the request is out
}

// EpisodeID names an episode: record, primary and the unix second its first
// failed probe. Replays and a new leader computing the same id are harmless:
// the engine remembers the ids it handled.
func EpisodeID(recordLabel, endpoint string, firstFailure time.Time) string {
	ep := strings.NewReplacer("[", "", "]", "").Replace(endpoint)
	id := fmt.Sprintf("prober:%s:%s:%d", recordLabel, ep, firstFailure.Unix())
	if len(id) > 128 {
		id = fmt.Sprintf("prober:%s:%s:%d", shortHash(recordLabel), ep, firstFailure.Unix())
	}
	return id
}

// Decision is what the leader should do for one record after an assessment.
type Decision int

const (
	// Wait: nothing to do.
	Wait Decision = iota
	// Publish: a new episode; publish its request.
	Publish
	// AlreadyPublished: the primary is still down, the request is out.
	AlreadyPublished
	// EpisodeOver: the episode ended (primary healthy again by quorum, or the
	// record points elsewhere now).
	EpisodeOver
)

func (d Decision) String() string {
	return [...]string{"wait", "publish", "already-published", "episode-over"}[d]
}

// Decide moves one record's episode along. open is the episode in flight
// (nil if none); the returned episode replaces it. An episode ends when a
// quorum sees the primary healthy again or the record names another
// primary, never merely because the failing replicas went quiet.
func Decide(open *Episode, a Assessment, label string, quorum int) (Decision, *Episode) {
	if a.Down {
		if open != nil && open.Endpoint == a.Endpoint {
			if open.Published.IsZero() {
				return Publish, open // the last attempt to publish failed: retry, same id
			}
			return AlreadyPublished, open
		}
		ep := &Episode{Endpoint: a.Endpoint, FirstFailure: a.FirstFailure, ID: EpisodeID(label, a.Endpoint, a.FirstFailure)}
		return Publish, ep
	}
	if open == nil {
		return Wait, nil
	}
	if (a.Endpoint != "" && a.Endpoint != open.Endpoint) || a.Healthy >= quorum {
		return EpisodeOver, nil
	}
	return Wait, open
}
