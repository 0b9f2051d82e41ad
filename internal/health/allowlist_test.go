package health

import (
	"net/netip"
	"strings"
	"testing"
)

const (
	instA = "projects/p1/locations/us-central1/instances/redis-a"
	instB = "projects/p1/locations/us-east1/instances/redis-b"
)

func mustAllow(t *testing.T, instances, cidrs []string) Allowlist {
	t.Helper()
	a, err := ParseAllowlist(instances, cidrs)
	if err != nil {
		t.Fatalf("ParseAllowlist: %v", err)
	}
	return a
}

func mustTarget(t *testing.T, s string) Target {
	t.Helper()
	tg, err := ParseTarget(s, 6379)
	if err != nil {
		t.Fatalf("ParseTarget(%q): %v", s, err)
	}
	return tg
}

func TestParseAllowlist(t *testing.T) {
	a := mustAllow(t, []string{instA, " " + instA}, []string{"10.0.0.0/24", "fd00::/64", "10.1.2.3", "10.0.0.0/24"})
	if len(a.Instances) != 1 || a.Instances[0] != instA {
		t.Errorf("instances = %v, want deduplicated [%s]", a.Instances, instA)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("fd00::/64"), netip.MustParsePrefix("10.1.2.3/32")}
	if len(a.CIDRs) != len(want) {
		t.Fatalf("CIDRs = %v, want %v", a.CIDRs, want)
	}
	for i := range want {
		if a.CIDRs[i] != want[i] {
			t.Errorf("CIDRs[%d] = %v, want %v", i, a.CIDRs[i], want[i])
		}
	}
}

func TestParseAllowlistRejects(t *testing.T) {
	cases := []struct {
		instances, cidrs []string
		wantErr          string
	}{
		{[]string{"redis-a"}, nil, "want projects/PROJECT"},
		{nil, []string{"10.0.0.5/24"}, "host bits set: did you mean 10.0.0.0/24 or 10.0.0.5/32"},
		{nil, []string{"0.0.0.0/0"}, "/0 prefix would allow every address"},
		{nil, []string{"::/0"}, "/0 prefix"},
		{nil, []string{"10.0.0.0/33"}, `CIDR "10.0.0.0/33"`},
		{nil, []string{"example.com/24"}, `CIDR "example.com/24"`},
		{nil, []string{"redis.internal"}, "not a prefix"},
		{nil, []string{"::ffff:10.0.0.0/120"}, "IPv4-mapped"},
	}
	for _, c := range cases {
		a, err := ParseAllowlist(c.instances, c.cidrs)
		if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("ParseAllowlist(%v, %v) err = %v, want it to contain %q", c.instances, c.cidrs, err, c.wantErr)
		}
		if !a.Empty() {
			t.Errorf("ParseAllowlist(%v, %v) returned %+v with an error", c.instances, c.cidrs, a)
		}
	}
	// Every bad entry is reported, not only the first.
	_, err := ParseAllowlist([]string{"x"}, []string{"10.0.0.5/24"})
	if err == nil || !strings.Contains(err.Error(), `"x"`) || !strings.Contains(err.Error(), "10.0.0.5/24") {
		t.Errorf("both errors expected, got %v", err)
	}
}

func TestAllowlistCheck(t *testing.T) {
	a := mustAllow(t, []string{instA}, []string{"10.0.0.0/24", "fd00::/64"})
	ip := netip.MustParseAddr
	cases := []struct {
		name     string
		target   string
		resolved netip.Addr
		wantErr  string // "" = allowed
	}{
		{"listed instance", instA, ip("10.0.0.7"), ""},
		{"listed instance with host outside CIDRs", instA, ip("192.168.9.9"), ""},
		{"unlisted instance inside CIDR", instB, ip("10.0.0.9"), ""},
		{"unlisted instance outside CIDR", instB, ip("10.9.9.9"), "instance " + instB + " is not in the allowlist and its address 10.9.9.9 is outside the allowlist"},
		{"unlisted instance without address", instB, netip.Addr{}, "has no address"},
		{"literal v4 inside", "10.0.0.5:6378", netip.Addr{}, ""},
		{"literal v4 inside, resolved same", "10.0.0.5", ip("10.0.0.5"), ""},
		{"literal v4 outside", "10.9.9.9", netip.Addr{}, "10.9.9.9 is outside the allowlist (CIDRs 10.0.0.0/24, fd00::/64)"},
		{"literal v6 inside", "[fd00::5]:6379", netip.Addr{}, ""},
		{"literal v6 outside", "fd01::5", netip.Addr{}, "fd01::5 is outside the allowlist"},
		{"literal resolved elsewhere", "10.0.0.5", ip("10.0.0.6"), "resolved to a different address"},
		{"mapped resolved address", instB, ip("::ffff:10.0.0.9"), ""},
	}
	for _, c := range cases {
		err := a.Check(mustTarget(t, c.target), c.resolved)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s: Check = %v, want allowed", c.name, err)
		case c.wantErr != "" && err == nil:
			t.Errorf("%s: Check allowed, want error %q", c.name, c.wantErr)
		case c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr):
			t.Errorf("%s: Check = %q, want it to contain %q", c.name, err, c.wantErr)
		}
	}
}

func TestAllowlistLiteralNeedsCIDR(t *testing.T) {
	// Only instances listed: a literal IP is never eligible, even the
	// instance's own address.
	a := mustAllow(t, []string{instA}, nil)
	if err := a.Check(mustTarget(t, "10.0.0.7"), netip.Addr{}); err == nil || !strings.Contains(err.Error(), "CIDRs none") {
		t.Fatalf("literal IP with no CIDRs: err = %v", err)
	}
	var empty Allowlist
	if err := empty.Check(mustTarget(t, instA), netip.MustParseAddr("10.0.0.7")); err == nil || !strings.Contains(err.Error(), "allowlist is empty") {
		t.Fatalf("empty allowlist: err = %v", err)
	}
}
