package prober

import (
	"strings"
	"testing"
	"time"
)

const minimal = `
project: p
records:
  - name: redis-session-staging.staging.internal
    port: 6378
    primary: {resolvers: ["169.254.169.254:53"]}
`

func TestParseDefaults(t *testing.T) {
	c, err := Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if c.Replicas != 3 || c.Quorum != 2 || c.Failures != 3 || c.Interval.Duration != time.Second ||
		c.ProbeTimeout.Duration != 500*time.Millisecond || c.Freshness.Duration != 3*time.Second ||
		c.RequestsTopic != DefaultRequestsTopic || c.LeaseName != DefaultLeaseName {
		t.Fatalf("defaults: %+v", c)
	}
	r := c.Records[0]
	if r.Name != "redis-session-staging.staging.internal." || !r.ProbeEnabled() || r.Label() != "redis-session-staging_staging_internal" {
		t.Fatalf("record: %+v", r)
	}
	c5, err := Parse([]byte(minimal + "replicas: 5\n"))
	if err != nil || c5.Quorum != 3 {
		t.Fatalf("5 replicas: quorum %d, %v", c5.Quorum, err)
	}
}

func TestParseRefuses(t *testing.T) {
	cases := map[string]struct{ cfg, want string }{
		"unknown field":              {minimal + "intervall: 1s\n", "unknown field"},
		"one replica decides alone":  {minimal + "quorum: 1\n", "one replica"},
		"quorum above replicas":      {minimal + "quorum: 4\n", "quorum 4"},
		"probe slower than interval": {minimal + "interval: 1s\nprobeTimeout: 2s\n", "probeTimeout"},
		"no project":                 {strings.Replace(minimal, "project: p", "", 1), "project is required"},
		"two primaries": {`project: p
records: [{name: r.example., primary: {endpoint: "10.0.0.5:6379", instance: "projects/p/locations/r/instances/i"}}]`, "exclusive"},
		"no primary":             {"project: p\nrecords: [{name: r.example.}]", "exactly one of"},
		"hostname primary":       {"project: p\nrecords: [{name: r.example., primary: {endpoint: \"redis.example:6379\"}}]", "not IP:port"},
		"sentinel without addrs": {"project: p\nrecords: [{name: r.example., probe: false, sentinel: {masterName: m}}]", "sentinel.addrs"},
		"nothing to do":          {"project: p\nrecords: [{name: r.example., probe: false}]", "nothing to do"},
		"bad lease name":         {minimal + "leaseName: Prober_1\n", "leaseName"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(c.cfg))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want it to mention %q", err, c.want)
			}
		})
	}
}
