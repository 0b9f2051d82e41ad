package config_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnsfailover/dnsfailover/internal/config"
)

// valid is a minimal good configuration; tests edit one thing at a time.
const valid = `
project: acme-staging
records:
  - name: Redis-Session-Staging.staging.internal
    zone: staging-internal
    normalTTL: 300
    failoverTTL: 60
    allow:
      instances: [projects/acme-staging/locations/europe-west1/instances/session-a]
      cidrs: [10.0.0.0/29]
`

func mustParse(t *testing.T, s string) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

func TestParseAppliesDefaults(t *testing.T) {
	c := mustParse(t, valid)
	r := c.Records[0]
	if r.Name != "redis-session-staging.staging.internal." {
		t.Errorf("name not normalised: %q", r.Name)
	}
	if r.Project != "acme-staging" {
		t.Errorf("record project %q, want inherited", r.Project)
	}
	want := map[string][2]any{
		"port":        {r.Port, config.DefaultPort},
		"consecutive": {r.Verify.Consecutive, config.DefaultConsecutive},
		"interval":    {r.Verify.Interval.Duration, config.DefaultInterval},
		"timeout":     {r.Verify.Timeout.Duration, config.DefaultVerifyLimit},
		"cooldown":    {r.Cooldown.Duration, config.DefaultCooldown},
		"settle":      {r.Settle.Duration, config.DefaultSettle},
		"probe":       {r.Redis.Timeout.Duration, config.DefaultProbeLimit},
	}
	for k, v := range want {
		if v[0] != v[1] {
			t.Errorf("%s = %v, want default %v", k, v[0], v[1])
		}
	}
}

func TestParseKeepsExplicitValues(t *testing.T) {
	c := mustParse(t, valid+`    project: other
    port: 6378
    verify: {consecutive: 5, interval: 250ms, timeout: 90}
    cooldown: 1h
    settle: 30s
    redis: {timeout: 1.5}
    resolvers: ["127.0.0.1:5353", "[::1]:53"]
`)
	r := c.Records[0]
	if r.Project != "other" || r.Port != 6378 || r.Verify.Consecutive != 5 ||
		r.Verify.Interval.Duration != 250*time.Millisecond || r.Verify.Timeout.Duration != 90*time.Second ||
		r.Cooldown.Duration != time.Hour || r.Settle.Duration != 30*time.Second ||
		r.Redis.Timeout.Duration != 1500*time.Millisecond || len(r.Resolvers) != 2 {
		t.Errorf("explicit values lost: %+v", r)
	}
}

func TestParseJSON(t *testing.T) {
	c := mustParse(t, `{"project":"p","records":[{"name":"a.b.","zone":"z","normalTTL":300,"failoverTTL":30,"allow":{"cidrs":["10.0.0.0/8"]}}]}`)
	if c.Records[0].FailoverTTL != 30 {
		t.Fatalf("%+v", c.Records[0])
	}
}

func TestParseStrict(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown top-level field": valid + "extra: 1\n",
		"unknown record field":    strings.Replace(valid, "zone: staging-internal", "zone: staging-internal\n    ttl: 60", 1),
		"misspelled nested field": strings.Replace(valid, "cidrs:", "cidr:", 1),
		"wrong type":              strings.Replace(valid, "normalTTL: 300", "normalTTL: three hundred", 1),
		"not YAML":                "records: [",
	} {
		_, err := config.Parse([]byte(doc))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !strings.HasPrefix(err.Error(), "config: ") {
			t.Errorf("%s: error without context: %v", name, err)
		}
	}
	_, err := config.Parse([]byte(valid + "extra: 1\n"))
	if !strings.Contains(err.Error(), "extra") {
		t.Errorf("unknown field error does not name the field: %v", err)
	}
}

func TestValidationErrors(t *testing.T) {
	rep := func(old, new string) string { return strings.Replace(valid, old, new, 1) }
	cases := []struct {
		name, doc, want string
	}{
		{"no records", "project: p\nrecords: []\n", "no records"},
		{"normalTTL zero", rep("normalTTL: 300", "normalTTL: 0"), "normalTTL 0 out of range"},
		{"normalTTL too long", rep("normalTTL: 300", "normalTTL: 86401"), "normalTTL 86401 out of range"},
		{"failoverTTL negative", rep("failoverTTL: 60", "failoverTTL: -1"), "failoverTTL -1 out of range"},
		{"failoverTTL > normalTTL", rep("failoverTTL: 60", "failoverTTL: 600"), "failoverTTL 600 must not exceed normalTTL 300"},
		{"bad CIDR", rep("10.0.0.0/29", "10.0.0.0/33"), "allow.cidrs"},
		{"CIDR without length", rep("10.0.0.0/29", "10.0.0.1"), "allow.cidrs"},
		{"bad instance name", rep("projects/acme-staging/locations/europe-west1/instances/session-a", "session-a"), `"session-a" is not projects/P/locations/L/instances/I`},
		{"instance name missing a part", rep("projects/acme-staging/locations/europe-west1/instances/session-a", "projects/acme-staging/locations//instances/session-a"), "allow.instances"},
		{"resolver without port", valid + "    resolvers: [127.0.0.1]\n", `"127.0.0.1" is not IP:port`},
		{"resolver host name", valid + "    resolvers: [\"ns1.example.com:53\"]\n", "is not IP:port"},
		{"empty allowlist", rep("    allow:\n      instances: [projects/acme-staging/locations/europe-west1/instances/session-a]\n      cidrs: [10.0.0.0/29]\n", "    allow: {}\n"), "allow needs at least one"},
		{"duplicate record", valid + "  - name: redis-session-staging.staging.internal.\n    zone: z\n    normalTTL: 300\n    failoverTTL: 60\n    allow: {cidrs: [10.0.0.0/8]}\n", "duplicate record name"},
		{"missing zone", rep("zone: staging-internal", "zone: \"\""), "zone is required"},
		{"missing project", strings.Replace(valid, "project: acme-staging\n", "", 1), "project is required"},
		{"bad name", rep("name: Redis-Session-Staging.staging.internal", "name: redis..internal"), "not a valid DNS name"},
		{"port out of range", valid + "    port: 70000\n", "port 70000 out of range"},
		{"consecutive negative", valid + "    verify: {consecutive: -1}\n", "verify.consecutive"},
		{"negative interval", valid + "    verify: {interval: -1s}\n", "must be positive"},
		{"negative cooldown", valid + "    cooldown: -5m\n", "must not be negative"},
		{"bad duration", valid + "    settle: soon\n", "duration \"soon\""},
		{"duration of wrong type", valid + "    settle: [1]\n", "duration must be"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(c.doc))
			if err == nil {
				t.Fatalf("accepted: %+v", cfg)
			}
			if cfg != nil {
				t.Errorf("returned a config with the error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

// Every problem is reported at once, each with the record it belongs to.
func TestValidationReportsEveryProblem(t *testing.T) {
	doc := strings.NewReplacer("normalTTL: 300", "normalTTL: 0", "10.0.0.0/29", "nonsense").Replace(valid)
	_, err := config.Parse([]byte(doc))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"normalTTL 0", "allow.cidrs", "records[0] (redis-session-staging.staging.internal.)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestDurationJSON(t *testing.T) {
	for in, want := range map[string]time.Duration{
		`"90s"`: 90 * time.Second, `"1m30s"`: 90 * time.Second, `90`: 90 * time.Second,
		`0.25`: 250 * time.Millisecond, `"250ms"`: 250 * time.Millisecond,
	} {
		var d config.Duration
		if err := json.Unmarshal([]byte(in), &d); err != nil || d.Duration != want {
			t.Errorf("%s -> %v, %v; want %v", in, d.Duration, err, want)
		}
	}
	for _, bad := range []string{`"90"`, `"x"`, `true`, `{}`} {
		var d config.Duration
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("%s accepted as %v", bad, d.Duration)
		}
	}
	b, err := json.Marshal(config.Duration{Duration: 90 * time.Second})
	if err != nil || string(b) != `"1m30s"` {
		t.Errorf("Marshal = %s, %v", b, err)
	}
	var back config.Duration
	if err := json.Unmarshal(b, &back); err != nil || back.Duration != 90*time.Second {
		t.Errorf("round trip = %v, %v", back.Duration, err)
	}
}

func TestLabelValueAndRecordByLabel(t *testing.T) {
	if got := config.LabelValue("Redis-Session-Staging.staging.internal."); got != "redis-session-staging_staging_internal" {
		t.Errorf("LabelValue = %q", got)
	}
	if got := config.LabelValue("a.b"); got != "a_b" {
		t.Errorf("LabelValue(a.b) = %q", got)
	}
	c := mustParse(t, valid)
	for _, in := range []string{"redis-session-staging_staging_internal", " REDIS-SESSION-STAGING_STAGING_INTERNAL ", "redis-session-staging.staging.internal", "redis-session-staging.staging.internal."} {
		r, ok := c.RecordByLabel(in)
		if !ok || r.Name != "redis-session-staging.staging.internal." {
			t.Errorf("RecordByLabel(%q) = %v, %v", in, r, ok)
		}
	}
	if _, ok := c.RecordByLabel("redis-session-staging"); ok {
		t.Error("a prefix matched")
	}
	if r, ok := c.Record("REDIS-session-staging.staging.internal"); !ok || r != &c.Records[0] {
		t.Errorf("Record = %v, %v", r, ok)
	}
	if _, ok := c.Record("other.staging.internal."); ok {
		t.Error("Record found an unknown name")
	}
}

func TestIsInstanceName(t *testing.T) {
	for s, want := range map[string]bool{
		"projects/p/locations/l/instances/i":   true,
		"projects/p/locations/l/instances/":    false,
		"projects/p/locations/l/instances/i/x": false,
		"project/p/locations/l/instances/i":    false,
		"10.0.0.5":                             false,
		"":                                     false,
		"projects/p/regions/l/instances/i":     false,
	} {
		if got := config.IsInstanceName(s); got != want {
			t.Errorf("IsInstanceName(%q) = %v", s, got)
		}
	}
}

func clearEnv(t *testing.T) {
	for _, k := range []string{config.EnvConfigFile, config.EnvConfigInline, config.EnvProject, config.EnvResultsTopic} {
		t.Setenv(k, "")
	}
}

func TestLoadFromFile(t *testing.T) {
	clearEnv(t)
	path := filepath.Join(t.TempDir(), "dnsfailover.yaml")
	if err := os.WriteFile(path, []byte(valid+"resultsTopic: results\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(config.EnvConfigFile, path)
	c, err := config.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Project != "acme-staging" || c.ResultsTopic != "results" || c.Records[0].Verify.Consecutive != config.DefaultConsecutive {
		t.Errorf("loaded %+v", c)
	}
}

func TestLoadInlineWinsOverFile(t *testing.T) {
	clearEnv(t)
	t.Setenv(config.EnvConfigFile, filepath.Join(t.TempDir(), "missing.yaml"))
	t.Setenv(config.EnvConfigInline, `{"project":"inline","records":[{"name":"a.b.","zone":"z","normalTTL":300,"failoverTTL":30,"allow":{"cidrs":["10.0.0.0/8"]}}]}`)
	c, err := config.Load()
	if err != nil || c.Project != "inline" {
		t.Fatalf("Load = %+v, %v", c, err)
	}
}

func TestLoadEnvOverrides(t *testing.T) {
	clearEnv(t)
	t.Setenv(config.EnvConfigInline, valid+`  - name: pinned.staging.internal.
    project: pinned-project
    zone: z
    normalTTL: 300
    failoverTTL: 60
    allow: {cidrs: [10.0.0.0/8]}
`)
	t.Setenv(config.EnvProject, "acme-prod")
	t.Setenv(config.EnvResultsTopic, "prod-results")
	c, err := config.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Project != "acme-prod" || c.ResultsTopic != "prod-results" {
		t.Errorf("top level not overridden: %q %q", c.Project, c.ResultsTopic)
	}
	// A record that inherits the project follows the override; one that
	// names its own keeps it.
	if c.Records[0].Project != "acme-prod" {
		t.Errorf("inheriting record has project %q, want the override acme-prod", c.Records[0].Project)
	}
	if c.Records[1].Project != "pinned-project" {
		t.Errorf("pinned record has project %q", c.Records[1].Project)
	}
}

// The project may come from the environment alone (one config for several projects).
func TestLoadProjectOnlyFromEnv(t *testing.T) {
	clearEnv(t)
	t.Setenv(config.EnvConfigInline, strings.Replace(valid, "project: acme-staging\n", "", 1))
	t.Setenv(config.EnvProject, "acme-prod")
	c, err := config.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Records[0].Project != "acme-prod" {
		t.Errorf("record project %q", c.Records[0].Project)
	}
}

func TestLoadErrors(t *testing.T) {
	clearEnv(t)
	if _, err := config.Load(); err == nil || !strings.Contains(err.Error(), config.EnvConfigFile) {
		t.Errorf("no env: %v", err)
	}
	t.Setenv(config.EnvConfigFile, filepath.Join(t.TempDir(), "missing.yaml"))
	if _, err := config.Load(); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
	t.Setenv(config.EnvConfigInline, strings.Replace(valid, "failoverTTL: 60", "failoverTTL: 0", 1))
	c, err := config.Load()
	if err == nil || c != nil {
		t.Errorf("invalid inline config: %v, %v", c, err)
	}
}
