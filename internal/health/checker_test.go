package health

import (
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/redis/apiv1/redispb"
	"github.com/dnsfailover/dnsfailover/internal/health/redistest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const (
	instMaster  = "projects/p1/locations/us-central1/instances/master"
	instReplica = "projects/p1/locations/us-central1/instances/replica"
	instMaint   = "projects/p1/locations/us-central1/instances/maint"
	instStray   = "projects/p1/locations/us-central1/instances/stray"
	instGone    = "projects/p1/locations/us-central1/instances/gone"
	instNamed   = "projects/p1/locations/us-central1/instances/named"
)

func memorystoreInstance(name string, addr string, state redispb.Instance_State) *redispb.Instance {
	ap := netip.MustParseAddrPort(addr)
	return &redispb.Instance{
		Name: name, Host: ap.Addr().String(), Port: int32(ap.Port()),
		State: state, Tier: redispb.Instance_BASIC,
	}
}

func hasReason(v Verdict, want string) bool {
	for _, r := range v.Reasons {
		if strings.Contains(r, want) {
			return true
		}
	}
	return false
}

func TestCheckerEndToEnd(t *testing.T) {
	master := redistest.Start(t, redistest.WithPassword("pw"))
	replica := redistest.Start(t, redistest.WithPassword("pw"), redistest.WithReplicaOf(master.Addr(), "pw"))
	dead := redistest.Start(t, redistest.WithPassword("pw"))
	deadAddr := dead.Addr()
	dead.Kill()

	fake, lookup := startMemorystore(t)
	fake.Set(memorystoreInstance(instMaster, master.Addr(), redispb.Instance_READY))
	fake.Set(memorystoreInstance(instReplica, replica.Addr(), redispb.Instance_READY))
	fake.Set(memorystoreInstance(instMaint, master.Addr(), redispb.Instance_MAINTENANCE))
	fake.Set(memorystoreInstance(instStray, "10.9.9.9:6379", redispb.Instance_READY))
	fake.Set(&redispb.Instance{Name: instNamed, Host: "redis.internal", Port: 6379, State: redispb.Instance_READY})
	fake.Set(memorystoreInstance(instGone+"-dead", deadAddr, redispb.Instance_READY))

	// The instances are listed; loopback is NOT in the CIDRs, so listed
	// instances pass on their name alone. Literal IPs need a CIDR.
	allow := mustAllow(t, []string{instMaster, instReplica, instMaint, instGone, instNamed, instGone + "-dead"}, []string{"10.0.0.0/24"})
	loopback := mustAllow(t, nil, []string{"127.0.0.0/8"})

	clock := time.Date(2026, 11, 21, 7, 0, 0, 0, time.UTC)
	c := &Checker{Lookup: lookup, Probe: ProbeOptions{Password: "pw", Timeout: 2 * time.Second}, Now: func() time.Time { return clock }}
	ctx := probeCtx(t)

	t.Run("healthy instance", func(t *testing.T) {
		v := c.Check(ctx, mustTarget(t, instMaster), allow)
		if !v.Healthy || !v.Eligible || !v.Probed || !v.Probe.OK || len(v.Reasons) != 0 || v.Err() != nil {
			t.Fatalf("verdict = %+v", v)
		}
		if v.Instance == nil || v.Instance.State != "READY" || v.Endpoint() != master.Addr() || v.Port != master.Port() {
			t.Errorf("resolution wrong: %+v instance %+v", v, v.Instance)
		}
		if !v.CheckedAt.Equal(clock) {
			t.Errorf("CheckedAt = %v", v.CheckedAt)
		}
		b, err := json.Marshal(v)
		if err != nil || !strings.Contains(string(b), `"healthy":true`) || !strings.Contains(string(b), `"role":"master"`) {
			t.Errorf("json = %s, %v", b, err)
		}
	})
	t.Run("literal IP in CIDR", func(t *testing.T) {
		v := c.Check(ctx, mustTarget(t, master.Addr()), loopback)
		if !v.Healthy || v.Instance != nil || v.Endpoint() != master.Addr() {
			t.Fatalf("verdict = %+v", v)
		}
	})
	t.Run("not READY", func(t *testing.T) {
		v := c.Check(ctx, mustTarget(t, instMaint), allow)
		if v.Healthy || v.Probed || !hasReason(v, "instance state is MAINTENANCE, want READY") {
			t.Fatalf("verdict = %+v", v)
		}
		if !v.Eligible {
			t.Errorf("a listed instance is eligible even when not READY: %+v", v)
		}
	})
	t.Run("replica", func(t *testing.T) {
		v := c.Check(ctx, mustTarget(t, instReplica), allow)
		if v.Healthy || !v.Eligible || !v.Probed || v.Probe.Role != "slave" || !hasReason(v, "ROLE is slave, want master") {
			t.Fatalf("verdict = %+v", v)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		v := c.Check(ctx, mustTarget(t, instGone+"-dead"), allow)
		if v.Healthy || !hasReason(v, "probe of "+deadAddr+" failed: connect: connection refused") {
			t.Fatalf("verdict = %+v", v)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		bad := &Checker{Lookup: lookup, Probe: ProbeOptions{Password: "nope"}}
		v := bad.Check(ctx, mustTarget(t, instMaster), allow)
		if v.Healthy || !hasReason(v, "authentication failed") {
			t.Fatalf("verdict = %+v", v)
		}
	})
	t.Run("literal IP outside allowlist is never dialed", func(t *testing.T) {
		v := c.Check(ctx, mustTarget(t, "10.9.9.9:6379"), loopback)
		if v.Healthy || v.Eligible || v.Probed || !hasReason(v, "10.9.9.9 is outside the allowlist") {
			t.Fatalf("verdict = %+v", v)
		}
		// Even a live master is refused when it is not allowlisted.
		v = c.Check(ctx, mustTarget(t, master.Addr()), allow)
		if v.Healthy || v.Eligible || v.Probed || !hasReason(v, "127.0.0.1 is outside the allowlist") {
			t.Fatalf("verdict = %+v", v)
		}
	})
	t.Run("unlisted instance outside CIDRs", func(t *testing.T) {
		v := c.Check(ctx, mustTarget(t, instStray), allow)
		if v.Healthy || v.Eligible || v.Probed || !hasReason(v, "10.9.9.9 is outside the allowlist") {
			t.Fatalf("verdict = %+v", v)
		}
	})
	t.Run("not found", func(t *testing.T) {
		v := c.Check(ctx, mustTarget(t, instGone), allow)
		if v.Healthy || v.Probed || !hasReason(v, "instance "+instGone+" not found") {
			t.Fatalf("verdict = %+v", v)
		}
		if err := v.Err(); err == nil || !strings.Contains(err.Error(), "not found") {
			t.Errorf("Err() = %v", err)
		}
	})
	t.Run("hostname host", func(t *testing.T) {
		v := c.Check(ctx, mustTarget(t, instNamed), allow)
		if v.Healthy || v.Probed || !hasReason(v, `instance host "redis.internal" is not an IP address`) {
			t.Fatalf("verdict = %+v", v)
		}
	})
	t.Run("API unavailable", func(t *testing.T) {
		fake.SetFault(status.Error(codes.Unavailable, "try later"))
		defer fake.SetFault(nil)
		v := c.Check(ctx, mustTarget(t, instMaster), allow)
		if v.Healthy || v.Probed || !hasReason(v, "cannot resolve instance "+instMaster) {
			t.Fatalf("verdict = %+v", v)
		}
	})
	t.Run("no lookup configured", func(t *testing.T) {
		v := (&Checker{}).Check(ctx, mustTarget(t, instMaster), allow)
		if v.Healthy || !hasReason(v, "no Memorystore lookup configured") {
			t.Fatalf("verdict = %+v", v)
		}
	})
	t.Run("instance port 0 uses default port", func(t *testing.T) {
		name := "projects/p1/locations/us-central1/instances/noport"
		fake.Set(&redispb.Instance{Name: name, Host: "127.0.0.1", State: redispb.Instance_READY})
		cc := *c
		cc.DefaultPort = master.Port()
		v := cc.Check(ctx, mustTarget(t, name), mustAllow(t, []string{name}, nil))
		if !v.Healthy || v.Port != master.Port() {
			t.Fatalf("verdict = %+v (want port %s)", v, strconv.Itoa(master.Port()))
		}
	})
}

func TestCheckerTLSInstance(t *testing.T) {
	srv := redistest.Start(t, redistest.WithTLS())
	fake, lookup := startMemorystore(t)
	inst := memorystoreInstance(instMaster, srv.Addr(), redispb.Instance_READY)
	inst.TransitEncryptionMode = redispb.Instance_SERVER_AUTHENTICATION
	fake.Set(inst)
	c := &Checker{Lookup: lookup, Probe: ProbeOptions{TLS: true, CAFile: srv.TLS().CAFile}}
	v := c.Check(probeCtx(t), mustTarget(t, instMaster), mustAllow(t, []string{instMaster}, nil))
	if !v.Healthy || v.Instance.TransitEncryption != "SERVER_AUTHENTICATION" {
		t.Fatalf("verdict = %+v", v)
	}
}
