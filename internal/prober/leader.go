package prober

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/dnsfailover/dnsfailover/internal/failover"
	"github.com/dnsfailover/dnsfailover/internal/request"
)

// leader is the elected replica's state while it leads.
type leader struct {
	p        *Prober
	episodes *Episodes
	open     map[string]*Episode // by record label
	seen     map[string]seenLease
}

// seenLease remembers when the leader, on its own clock, last saw a
// replica's Lease change; freshness is judged on that clock, so clock skew
// between nodes cannot make a stale observation look fresh.
type seenLease struct {
	renewed time.Time // the replica's renewTime as written
	at      time.Time // leader's clock when that renewTime was first seen
}

// lead is OnStartedLeading: decide until leadership ends.
func (p *Prober) lead(ctx context.Context) {
	p.leading.Store(true)
	p.Metrics.Leader.Set(1)
	p.Logger.Info("leading: deciding for all replicas")
	l := &leader{
		p:        p,
		episodes: &Episodes{Client: p.Kube.CoordinationV1(), Namespace: p.Namespace, Group: p.Config.LeaseName},
		seen:     map[string]seenLease{},
	}
	var wg sync.WaitGroup
	for _, rs := range p.records {
		if rs.cfg.Sentinel != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.followSentinel(ctx, rs)
			}()
		}
	}
	defer wg.Wait()

	for ctx.Err() == nil {
		open, err := l.episodes.Load(ctx)
		if err == nil {
			l.open = map[string]*Episode{}
			for _, rs := range p.records {
				if ep := open[keyName(rs.label)]; ep != nil {
					l.open[rs.label] = ep
					p.Logger.Info("episode in flight from an earlier leader", "record", rs.cfg.Name, "episode", ep.ID)
				}
			}
			break
		}
		p.Logger.Warn("cannot read the episode lease; retrying", "err", err)
		sleep(ctx, p.Config.Interval.Duration)
	}
	// Half an interval: a failure is acted on soon after the replica that
	// completes the quorum writes it.
	t := time.NewTicker(p.Config.Interval.Duration / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		l.evaluate(ctx)
	}
}

func (l *leader) evaluate(ctx context.Context) {
	p := l.p
	ectx, cancel := context.WithTimeout(ctx, p.Config.Interval.Duration)
	defer cancel()
	replicas, err := p.leases.List(ectx)
	if err != nil {
		p.Logger.Warn("cannot read observations", "err", err)
		return
	}
	now := time.Now()
	for i := range replicas {
		r := &replicas[i]
		s, ok := l.seen[r.Identity]
		switch {
		case !ok:
			// First sight: trust the replica's clock, but never the future.
			at := r.Renewed
			if at.After(now) {
				at = now
			}
			s = seenLease{renewed: r.Renewed, at: at}
		case !r.Renewed.Equal(s.renewed):
			s = seenLease{renewed: r.Renewed, at: now}
		}
		l.seen[r.Identity] = s
		r.Renewed = s.at
	}
	policy := Policy{Quorum: p.Config.Quorum, Failures: p.Config.Failures, Freshness: p.Config.Freshness.Duration}
	for _, rs := range p.records {
		if !rs.cfg.ProbeEnabled() {
			continue
		}
		a := Assess(Views(replicas, rs.label), now, policy)
		l.report(rs, a)
		l.act(ctx, rs, a, now)
	}
}

func (l *leader) report(rs *recordState, a Assessment) {
	m := l.p.Metrics
	for state, n := range map[string]int{"fresh": a.Fresh, "agree": a.Agree, "healthy": a.Healthy, "failing": a.Failing} {
		m.Quorum.WithLabelValues(rs.cfg.Name, state).Set(float64(n))
	}
	down := 0.0
	if a.Down {
		down = 1
	}
	m.Down.WithLabelValues(rs.cfg.Name).Set(down)
}

func (l *leader) act(ctx context.Context, rs *recordState, a Assessment, now time.Time) {
	p := l.p
	log := p.Logger.With("record", rs.cfg.Name)
	decision, ep := Decide(l.open[rs.label], a, rs.label, p.Config.Quorum)
	switch decision {
	case Wait, AlreadyPublished:
		l.open[rs.label] = ep
		return
	case EpisodeOver:
		old := l.open[rs.label]
		log.Info("episode over", "episode", old.ID, "assessment", a.String())
		p.Metrics.Decisions.WithLabelValues(rs.cfg.Name, "prober", "episode-over").Inc()
		if err := l.episodes.Save(ctx, rs.label, nil); err != nil {
			log.Warn("cannot clear the episode lease; keeping the episode open", "err", err)
			return
		}
		delete(l.open, rs.label)
		return
	}
	// Publish: remember the episode first, so that a leader that dies right
	// after publishing leaves the next one knowing it was (maybe) sent; the
	// id is the same either way and the engine ignores a repeat.
	if err := l.episodes.Save(ctx, rs.label, ep); err != nil {
		log.Warn("cannot record the episode; not publishing yet", "err", err)
		return
	}
	l.open[rs.label] = ep
	m := request.Manual{
		Record: rs.cfg.Name, From: a.Endpoint, Mode: string(failover.Emergency), RequestID: ep.ID,
		Reason: fmt.Sprintf("prober quorum: %d of %d replicas failed to reach primary %s %d times in a row since %s",
			a.Failing, p.Config.Replicas, a.Endpoint, p.Config.Failures, a.FirstFailure.UTC().Format(time.RFC3339)),
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	msgID, err := p.Publisher.Publish(pctx, m)
	if err != nil {
		log.Error("cannot publish the failover request; will retry", "episode", ep.ID, "err", err)
		p.Metrics.Decisions.WithLabelValues(rs.cfg.Name, "prober", "publish-failed").Inc()
		return
	}
	ep.Published = time.Now().UTC()
	detect := ep.Published.Sub(a.FirstFailure)
	p.Metrics.Decisions.WithLabelValues(rs.cfg.Name, "prober", "published").Inc()
	p.Metrics.Detection.WithLabelValues(rs.cfg.Name).Observe(detect.Seconds())
	log.Warn("primary down by quorum: emergency failover requested", "episode", ep.ID, "endpoint", a.Endpoint,
		"failing", a.Failing, "fresh", a.Fresh, "message_id", msgID, "detection_seconds", detect.Seconds(), "assessment", a.String())
	// The request is out: the mark must survive losing leadership this very
	// moment, or the next leader would take the episode for a failed attempt
	// and publish it again. Bounded, so a dead API server cannot hold us.
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer scancel()
	if err := l.episodes.Save(sctx, rs.label, ep); err != nil {
		log.Warn("cannot mark the episode published (a new leader would publish the same id again, harmlessly)", "err", err)
	}
}

// keyName is the annotation name part used for a record label.
func keyName(label string) string { return annotationKey(label)[len(annotationPrefix):] }

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
