// Package prober detects a lost Redis primary in seconds, from inside the
// cluster, without false positives: every replica probes the primary each
// interval and publishes its observation in its own Lease; one elected
// replica declares the primary down only when a quorum of fresh
// observations failed N times in a row, and then publishes one emergency
// request to the requests topic. It can also follow Redis Sentinel. The
// failover function stays the only writer of the DNS record.
package prober

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/dnsfailover/dnsfailover/internal/health"
)

// Prober is one replica.
type Prober struct {
	Config    *Config
	Identity  string // unique per replica: the pod name
	Namespace string
	Kube      kubernetes.Interface
	Publisher Publisher
	Lookup    health.InstanceLookup                                                            // for instance primaries; may be nil
	Owner     *metav1.OwnerReference                                                           // the pod, for garbage collection of its Lease
	Metrics   *Metrics                                                                         // NewMetrics(nil) when nil
	Logger    *slog.Logger                                                                     // slog.Default when nil
	Probe     func(ctx context.Context, addr string, o health.ProbeOptions) health.ProbeResult // health.Probe when nil

	records   []*recordState
	leases    *Leases
	lastTick  atomic.Int64 // unix nanos of the last probe round
	lastWrite atomic.Int64 // unix nanos of the last successful Lease write
	leading   atomic.Bool
}

type recordState struct {
	cfg     Record
	label   string
	locator Locator
	opts    health.ProbeOptions
	tracker tracker
}

func (p *Prober) init() error {
	if p.Config == nil || p.Kube == nil || p.Publisher == nil {
		return errors.New("prober: Config, Kube and Publisher are required")
	}
	if p.Identity == "" || p.Namespace == "" {
		return errors.New("prober: Identity and Namespace are required (POD_NAME, POD_NAMESPACE)")
	}
	if p.Metrics == nil {
		p.Metrics = NewMetrics(nil)
	}
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	p.Logger = p.Logger.With("identity", p.Identity)
	if p.Probe == nil {
		p.Probe = health.Probe
	}
	for _, r := range p.Config.Records {
		rs := &recordState{cfg: r, label: r.Label(), opts: r.ProbeOptions(p.Config.ProbeTimeout.Duration)}
		if r.ProbeEnabled() || len(r.Primary.Resolvers) > 0 || r.Primary.Instance != "" || r.Primary.Endpoint != "" {
			loc, err := NewLocator(r, p.Lookup)
			if err != nil && r.ProbeEnabled() {
				return fmt.Errorf("prober: %w", err)
			}
			rs.locator = loc
		}
		p.records = append(p.records, rs)
	}
	p.leases = &Leases{
		Client: p.Kube.CoordinationV1(), Namespace: p.Namespace, Group: p.Config.LeaseName,
		Identity: p.Identity, Owner: p.Owner, Duration: p.Config.Freshness.Duration,
	}
	return nil
}

// Run probes and takes part in the election until ctx ends.
func (p *Prober) Run(ctx context.Context) error {
	if err := p.init(); err != nil {
		return err
	}
	p.Logger.Info("prober starting", "records", len(p.records), "interval", p.Config.Interval.Duration,
		"failures", p.Config.Failures, "quorum", p.Config.Quorum, "replicas", p.Config.Replicas)
	p.leases.Watch(ctx, p.Kube)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.elect(ctx)
	}()
	p.probeLoop(ctx)
	wg.Wait()
	return nil
}

// probeLoop probes every record each interval and writes the observations.
func (p *Prober) probeLoop(ctx context.Context) {
	t := time.NewTicker(p.Config.Interval.Duration)
	defer t.Stop()
	for {
		p.probeRound(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *Prober) probeRound(ctx context.Context) {
	obs := make(map[string]Observation, len(p.records))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, rs := range p.records {
		if !rs.cfg.ProbeEnabled() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := p.probeRecord(ctx, rs)
			mu.Lock()
			obs[rs.label] = o
			mu.Unlock()
		}()
	}
	wg.Wait()
	now := time.Now()
	p.lastTick.Store(now.UnixNano())
	if len(obs) == 0 {
		p.lastWrite.Store(now.UnixNano())
		return
	}
	wctx, cancel := context.WithTimeout(ctx, p.Config.Interval.Duration)
	defer cancel()
	if err := p.leases.Publish(wctx, obs, now); err != nil {
		if ctx.Err() == nil {
			p.Logger.Warn("cannot write observation lease", "err", err)
		}
		return
	}
	p.lastWrite.Store(now.UnixNano())
}

func (p *Prober) probeRecord(ctx context.Context, rs *recordState) Observation {
	start := time.Now()
	endpoint, err := rs.locator.Locate(ctx)
	if err != nil {
		p.Metrics.Observations.WithLabelValues(rs.cfg.Name, "unknown").Inc()
		return rs.tracker.record("", false, err.Error(), start)
	}
	res := p.Probe(ctx, endpoint, rs.opts)
	p.Metrics.ProbeSeconds.WithLabelValues(rs.cfg.Name).Observe(time.Since(start).Seconds())
	prev := rs.tracker.last
	o := rs.tracker.record(endpoint, res.OK, res.Err, start)
	result := "ok"
	if !o.OK {
		result = "fail"
	}
	p.Metrics.Observations.WithLabelValues(rs.cfg.Name, result).Inc()
	if prev.OK != o.OK || prev.Endpoint != o.Endpoint {
		p.Logger.Info("primary observation changed", "record", rs.cfg.Name, "endpoint", endpoint, "ok", o.OK, "err", o.Err)
	}
	return o
}

// elect runs for leadership again and again: a replica that lost it goes on
// probing and stands again.
func (p *Prober) elect(ctx context.Context) {
	le := p.Config.LeaderElection
	for ctx.Err() == nil {
		lock := &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Name: p.Config.LeaseName, Namespace: p.Namespace},
			Client:     p.Kube.CoordinationV1(),
			LockConfig: resourcelock.ResourceLockConfig{Identity: p.Identity},
		}
		elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock: lock, Name: p.Config.LeaseName, ReleaseOnCancel: true,
			LeaseDuration: le.LeaseDuration.Duration, RenewDeadline: le.RenewDeadline.Duration, RetryPeriod: le.RetryPeriod.Duration,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: p.lead,
				OnStoppedLeading: func() {},
				OnNewLeader: func(id string) {
					p.Logger.Info("leader observed", "leader", id)
				},
			},
		})
		if err != nil {
			p.Logger.Error("leader election config", "err", err)
			return
		}
		elector.Run(ctx)
		if p.leading.Swap(false) {
			p.Metrics.Leader.Set(0)
			p.Logger.Warn("lost leadership; probing on and standing again")
		}
		select {
		case <-ctx.Done():
		case <-time.After(le.RetryPeriod.Duration):
		}
	}
}

// Leading reports whether this replica is the leader now.
func (p *Prober) Leading() bool { return p.leading.Load() }
