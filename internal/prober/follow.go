package prober

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/dnsfailover/dnsfailover/internal/failover"
	"github.com/dnsfailover/dnsfailover/internal/prober/sentinel"
	"github.com/dnsfailover/dnsfailover/internal/request"
)

// SentinelResend is how long the follower waits before publishing the same
// switch again while the record still disagrees with Sentinel (e.g. the
// engine refused it inside its cooldown). The engine ignores a repeat of a
// request it already carried out.
const SentinelResend = 15 * time.Second

// follower points a record at whatever master Sentinel agrees on.
type follower struct {
	p    *Prober
	rs   *recordState
	sent map[string]time.Time // request id -> last publish
}

// followSentinel runs while leading.
func (p *Prober) followSentinel(ctx context.Context, rs *recordState) {
	s := rs.cfg.Sentinel
	f := &follower{p: p, rs: rs, sent: map[string]time.Time{}}
	w := &sentinel.Watcher{
		MasterName: s.MasterName, Addrs: s.Addrs, Poll: s.Poll.Duration,
		Timeout: p.Config.ProbeTimeout.Duration, Logger: p.Logger.With("record", rs.cfg.Name),
		OnMaster: f.onMaster,
	}
	if s.PasswordEnv != "" {
		w.Password = os.Getenv(s.PasswordEnv)
	}
	if err := w.Run(ctx); err != nil {
		p.Logger.Error("sentinel follower stopped", "record", rs.cfg.Name, "err", err)
	}
}

func (f *follower) onMaster(ctx context.Context, m sentinel.Master) {
	p, rec := f.p, f.rs.cfg
	log := p.Logger.With("record", rec.Name, "master", m.Name, "addr", m.Addr.String(), "epoch", m.Epoch)
	if int(m.Addr.Port()) != rec.Port {
		// An A record cannot carry a port: the apps keep dialing rec.Port.
		log.Error("sentinel master listens on another port than the record's; not following", "record_port", rec.Port)
		p.Metrics.Decisions.WithLabelValues(rec.Name, "sentinel", "port-mismatch").Inc()
		return
	}
	dl, hasDNS := f.rs.locator.(*DNSLocator)
	if hasDNS {
		qctx, cancel := context.WithTimeout(ctx, DefaultResolveTimeout*2)
		cur, err := dl.Query(qctx)
		cancel()
		if err == nil && cur == m.Addr.Addr() {
			return // the record already follows
		}
	}
	id := m.RequestID()
	// Without DNS to tell whether the record follows, each switch is sent once.
	if last, ok := f.sent[id]; ok && (!hasDNS || time.Since(last) < SentinelResend) {
		return
	}
	req := request.Manual{
		Record: rec.Name, Target: m.Addr.Addr().String(), Mode: string(failover.Emergency), RequestID: id,
		Reason: fmt.Sprintf("sentinel: master %s is now %s (config epoch %d, via %s)", m.Name, m.Addr, m.Epoch, m.Via),
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	msgID, err := p.Publisher.Publish(pctx, req)
	if err != nil {
		log.Error("cannot publish the sentinel switch; will retry", "err", err)
		p.Metrics.Decisions.WithLabelValues(rec.Name, "sentinel", "publish-failed").Inc()
		return
	}
	f.sent[id] = time.Now()
	p.Metrics.Decisions.WithLabelValues(rec.Name, "sentinel", "published").Inc()
	log.Warn("sentinel switched master: failover requested", "request_id", id, "message_id", msgID, "event", m.Event)
}
