package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/dnsfailover/dnsfailover/internal/failover"
	"github.com/dnsfailover/dnsfailover/internal/health/redistest"
)

// World is the demo's running system without the story, for end-to-end
// tests that drive failovers their own way (the prober, Sentinel).
type World struct{ w *world }

// Names used by the world.
const (
	Project       = project
	Record        = record
	InstanceA     = instA
	InstanceB     = instB
	RequestsTopic = requests
	ResultsTopic  = results
	Cooldown      = cooldown
)

// Start brings everything up: zone, Redis pair, Memorystore API, Pub/Sub,
// the functions and their triggers. Close stops it all.
func Start(ctx context.Context, o Options) (*World, error) {
	w := newWorld(o)
	if err := w.start(ctx); err != nil {
		_ = w.close()
		return nil, fmt.Errorf("demo world: %w", err)
	}
	return &World{w: w}, nil
}

// Close stops every process and server.
func (x *World) Close() error { return x.w.close() }

// Env is the environment that configures the functions: config, project,
// emulator endpoints. The CLI works with the same.
func (x *World) Env() []string { return append([]string(nil), x.w.env...) }

// PubSubHost is host:port for PUBSUB_EMULATOR_HOST.
func (x *World) PubSubHost() string { return x.w.ps.host }

// DNSAddr is where the zone is served (UDP and TCP).
func (x *World) DNSAddr() string { return x.w.emu.DNSAddr() }

// Primary and Standby are the two redis-server processes (session-a, session-b).
func (x *World) Primary() *redistest.Process { return x.w.a }
func (x *World) Standby() *redistest.Process { return x.w.b }

// Publish sends raw data to a topic of the world's project.
func (x *World) Publish(ctx context.Context, topic string, data []byte) (string, error) {
	return x.w.ps.publish(ctx, topic, data)
}

// AwaitResult waits for the result of a request id on the results topic.
func (x *World) AwaitResult(ctx context.Context, requestID string, limit time.Duration) (*failover.Result, time.Time, error) {
	got, err := x.w.ps.await(ctx, limit, byRequestID(requestID))
	return got.res, got.at, err
}

// Results returns every result received and not yet awaited, and forgets them.
func (x *World) Results() []*failover.Result {
	ps := x.w.ps
	ps.mu.Lock()
	defer ps.mu.Unlock()
	out := make([]*failover.Result, len(ps.results))
	for i, r := range ps.results {
		out[i] = r.res
	}
	ps.results = nil
	return out
}
