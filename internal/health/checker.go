package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Checker decides whether a target is fit to receive traffic:
// resolve (instance must be READY) -> allowlist -> probe.
type Checker struct {
	Lookup InstanceLookup // needed only for instance targets
	Probe  ProbeOptions
	// DefaultPort is used for instances that report no port (0 means 6379).
	DefaultPort int
	// Now is the clock for Verdict.CheckedAt (time.Now when nil).
	Now func() time.Time
	// Logger receives one debug line per check (slog.Default when nil).
	Logger *slog.Logger
}

// Verdict is the full answer for one target. Eligible means the allowlist
// admits it; Healthy means eligible, READY (for instances) and the probe
// found a master. Reasons lists every failed condition.
type Verdict struct {
	Target    Target      `json:"target"`
	Instance  *Instance   `json:"instance,omitempty"`
	Addr      netip.Addr  `json:"addr,omitzero"`
	Port      int         `json:"port,omitempty"`
	Eligible  bool        `json:"eligible"`
	Healthy   bool        `json:"healthy"`
	Reasons   []string    `json:"reasons,omitempty"`
	Probed    bool        `json:"probed"` // false when an earlier step already failed
	Probe     ProbeResult `json:"probe,omitzero"`
	CheckedAt time.Time   `json:"checkedAt"`
}

// Endpoint is Addr:Port, or "" when the address is unknown.
func (v Verdict) Endpoint() string {
	if !v.Addr.IsValid() {
		return ""
	}
	return netip.AddrPortFrom(v.Addr, uint16(v.Port)).String()
}

// Err is nil for a healthy verdict, else an error listing the reasons.
func (v Verdict) Err() error {
	if v.Healthy {
		return nil
	}
	if len(v.Reasons) == 0 {
		return fmt.Errorf("%s is not healthy", v.Target)
	}
	return fmt.Errorf("%s is not fit for traffic: %s", v.Target, strings.Join(v.Reasons, "; "))
}

// Check runs the checks in order. It never dials an address that the
// allowlist does not admit, so a bad target cannot be used to scan the
// network either.
func (c *Checker) Check(ctx context.Context, t Target, allow Allowlist) Verdict {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	v := Verdict{Target: t, CheckedAt: now().UTC()}
	ready := c.resolve(ctx, t, &v)

	if err := allow.Check(t, v.Addr); err != nil {
		v.Reasons = append(v.Reasons, err.Error())
	} else {
		v.Eligible = true
	}

	if ready && v.Eligible && v.Addr.IsValid() {
		v.Probed = true
		v.Probe = Probe(ctx, v.Endpoint(), c.Probe)
		if !v.Probe.OK {
			v.Reasons = append(v.Reasons, fmt.Sprintf("probe of %s failed: %s", v.Endpoint(), v.Probe.Err))
		}
	}
	v.Healthy = ready && v.Eligible && v.Probed && v.Probe.OK

	log := c.Logger
	if log == nil {
		log = slog.Default()
	}
	log.DebugContext(ctx, "health check", "target", t.String(), "endpoint", v.Endpoint(),
		"eligible", v.Eligible, "healthy", v.Healthy, "reasons", v.Reasons)
	return v
}

// resolve fills Addr/Port (and Instance) and reports whether the target is
// in a state that may take traffic.
func (c *Checker) resolve(ctx context.Context, t Target, v *Verdict) bool {
	if !t.IsInstance() {
		if !t.Addr.IsValid() {
			v.Reasons = append(v.Reasons, "target has neither an instance name nor an address")
			return false
		}
		v.Addr, v.Port = t.Addr, t.Port
		if v.Port == 0 {
			v.Port = c.defaultPort()
		}
		return true
	}
	if c.Lookup == nil {
		v.Reasons = append(v.Reasons, fmt.Sprintf("cannot resolve instance %s: no Memorystore lookup configured", t.Instance))
		return false
	}
	inst, err := c.Lookup.Lookup(ctx, t.Instance)
	if err != nil {
		if errors.Is(err, ErrInstanceNotFound) {
			v.Reasons = append(v.Reasons, fmt.Sprintf("instance %s not found", t.Instance))
		} else {
			v.Reasons = append(v.Reasons, fmt.Sprintf("cannot resolve instance %s: %v", t.Instance, err))
		}
		return false
	}
	v.Instance = inst
	v.Port = inst.Port
	if v.Port == 0 {
		v.Port = c.defaultPort()
	}
	ok := true
	if inst.Addr.IsValid() {
		v.Addr = inst.Addr
	} else {
		v.Reasons = append(v.Reasons, fmt.Sprintf("instance host %s is not an IP address", strconv.Quote(inst.Host)))
		ok = false
	}
	if inst.State != StateReady {
		v.Reasons = append(v.Reasons, fmt.Sprintf("instance state is %s, want %s", inst.State, StateReady))
		ok = false
	}
	return ok
}

func (c *Checker) defaultPort() int {
	if c.DefaultPort > 0 {
		return c.DefaultPort
	}
	return DefaultRedisPort
}
