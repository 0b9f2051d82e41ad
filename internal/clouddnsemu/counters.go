package clouddnsemu

import (
	"maps"
	"sync"
)

// Counters is a copy of what the emulator has seen since Start.
type Counters struct {
	Calls              map[string]int64 // API calls by method, e.g. "dns.changes.create" (faulted calls included)
	Responses          map[int]int64    // API responses by HTTP status (dropped connections excluded)
	ChangesApplied     int64            // accepted changes, including rrsets create/patch/delete
	PreconditionFailed int64            // 412 conditionNotMet responses
	FaultsInjected     map[string]int64 // by kind: "429", "500", "503", "drop", "latency"
}

type counterSet struct {
	mu sync.Mutex
	c  Counters
}

func newCounterSet() *counterSet {
	return &counterSet{c: Counters{Calls: map[string]int64{}, Responses: map[int]int64{}, FaultsInjected: map[string]int64{}}}
}

func (cs *counterSet) update(fn func(c *Counters)) {
	cs.mu.Lock()
	fn(&cs.c)
	cs.mu.Unlock()
}

func (cs *counterSet) snapshot() Counters {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	out := cs.c
	out.Calls = maps.Clone(cs.c.Calls)
	out.Responses = maps.Clone(cs.c.Responses)
	out.FaultsInjected = maps.Clone(cs.c.FaultsInjected)
	return out
}
