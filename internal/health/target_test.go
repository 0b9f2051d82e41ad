package health

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseTargetAccepts(t *testing.T) {
	cases := []struct {
		in   string
		want Target
	}{
		{"projects/my-proj/locations/us-central1/instances/redis-a", Target{Instance: "projects/my-proj/locations/us-central1/instances/redis-a"}},
		{"  10.0.0.5 ", Target{Addr: netip.MustParseAddr("10.0.0.5"), Port: 6378}},
		{"10.0.0.5:6379", Target{Addr: netip.MustParseAddr("10.0.0.5"), Port: 6379}},
		{"[::1]:6379", Target{Addr: netip.MustParseAddr("::1"), Port: 6379}},
		{"fd00::5", Target{Addr: netip.MustParseAddr("fd00::5"), Port: 6378}},
		{"::ffff:10.0.0.5", Target{Addr: netip.MustParseAddr("10.0.0.5"), Port: 6378}},
	}
	for _, c := range cases {
		got, err := ParseTarget(c.in, 6378)
		if err != nil {
			t.Errorf("ParseTarget(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("ParseTarget(%q) = %+v, want %+v", c.in, got, c.want)
		}
		// String round-trips.
		again, err := ParseTarget(got.String(), 1)
		if err != nil || again.Instance != got.Instance || again.Addr != got.Addr || (got.Port != 0 && again.Port != got.Port) {
			t.Errorf("round trip of %q via %q = %+v, %v", c.in, got.String(), again, err)
		}
	}
}

func TestParseTargetDefaultPort(t *testing.T) {
	got, err := ParseTarget("10.0.0.5", 0)
	if err != nil || got.Port != DefaultRedisPort {
		t.Fatalf("ParseTarget with default port 0 = %+v, %v; want port %d", got, err, DefaultRedisPort)
	}
	if _, err := ParseTarget("10.0.0.5", 70000); err == nil || !strings.Contains(err.Error(), "default port 70000") {
		t.Fatalf("bad default port: err = %v", err)
	}
}

func TestParseTargetRejects(t *testing.T) {
	cases := []struct{ in, wantErr string }{
		{"", "empty target"},
		{"redis.example.com", "hostnames are not accepted"},
		{"redis.example.com:6379", "hostnames are not accepted"},
		{"localhost", "hostnames are not accepted"},
		{"10.0.0.5:70000", "port 70000 out of range"},
		{"10.0.0.5:0", "port 0 out of range"},
		{"10.0.0.5:-1", "out of range"},
		{"10.0.0.5:redis", `port "redis" is not a number`},
		{"10.0.0.256", "neither an instance name"},
		{"10.0.0.5/32", "neither an instance name"},
		{"::1:6379:x", "neither an instance name"},
		{"fe80::1%eth0", "zones are not allowed"},
		{"0.0.0.0", "unspecified address"},
		{"[::]:6379", "unspecified address"},
		{"224.0.0.1", "multicast"},
		{"255.255.255.255", "broadcast"},
		{"projects/p", "want projects/PROJECT/locations/REGION/instances/ID"},
		{"projects/my-proj/locations/us-central1/instances/", "id \"\""},
		{"projects/my-proj/locations/us-central1/instances/Bad_Name", "id \"Bad_Name\""},
		{"projects/My Proj/locations/us-central1/instances/a", "not a valid project id"},
		{"projects/p1/locations/us central1/instances/a", "not a valid region"},
		{"projects/p1/locations/us-central1/instances/a/extra", "want projects/PROJECT"},
		{"projects/p1/regions/us-central1/instances/a", "want projects/PROJECT"},
	}
	for _, c := range cases {
		got, err := ParseTarget(c.in, 6379)
		if err == nil {
			t.Errorf("ParseTarget(%q) = %+v, want error containing %q", c.in, got, c.wantErr)
			continue
		}
		if !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("ParseTarget(%q) error = %q, want it to contain %q", c.in, err, c.wantErr)
		}
		if got != (Target{}) {
			t.Errorf("ParseTarget(%q) returned %+v with an error", c.in, got)
		}
	}
}
