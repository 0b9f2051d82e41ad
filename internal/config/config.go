// Package config loads and validates the failover configuration: which DNS
// records are protected, where they live, which targets they may point at
// and how a failover behaves. A bad configuration is one clear error.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/dnsfailover/dnsfailover/internal/dnsrec"
)

// Environment variables read by Load.
const (
	EnvConfigFile   = "DNSFAILOVER_CONFIG"        // path of the YAML/JSON config file
	EnvConfigInline = "DNSFAILOVER_CONFIG_JSON"   // the config itself, instead of a file
	EnvProject      = "DNSFAILOVER_PROJECT"       // overrides Config.Project
	EnvResultsTopic = "DNSFAILOVER_RESULTS_TOPIC" // overrides Config.ResultsTopic
)

// Limits on TTLs we accept: Cloud DNS has no minimum, but a zero TTL defeats
// resolver caching entirely and a day-long one makes failover pointless.
const (
	MinTTL = 1
	MaxTTL = 86400
)

// Config is the whole configuration.
type Config struct {
	Project      string   `json:"project"`
	ResultsTopic string   `json:"resultsTopic,omitempty"`
	Records      []Record `json:"records"`
}

// Record is one protected DNS name and the rules for moving it.
type Record struct {
	Name        string   `json:"name"`              // FQDN, e.g. redis-session-staging.staging.internal.
	Zone        string   `json:"zone"`              // Cloud DNS managed zone name
	Project     string   `json:"project,omitempty"` // defaults to Config.Project
	NormalTTL   int64    `json:"normalTTL"`
	FailoverTTL int64    `json:"failoverTTL"`
	Port        int      `json:"port,omitempty"`    // Redis port for literal-IP targets; default 6379
	Targets     []string `json:"targets,omitempty"` // candidates in preference order
	Allow       Allow    `json:"allow"`
	Resolvers   []string `json:"resolvers,omitempty"` // host:port; empty = the zone's name servers
	Verify      Verify   `json:"verify"`
	Cooldown    Duration `json:"cooldown,omitempty"`
	Settle      Duration `json:"settle,omitempty"`
	Redis       Redis    `json:"redis"`
}

// Allow is the allowlist: the only places the record may ever point at.
type Allow struct {
	Instances []string `json:"instances,omitempty"`
	CIDRs     []string `json:"cidrs,omitempty"`
}

// Verify says when a change counts as visible.
type Verify struct {
	Consecutive int      `json:"consecutive,omitempty"` // identical answers in a row per resolver
	Interval    Duration `json:"interval,omitempty"`
	Timeout     Duration `json:"timeout,omitempty"`
}

// Redis says how to probe a target.
type Redis struct {
	TLS         bool     `json:"tls,omitempty"`
	CAFile      string   `json:"caFile,omitempty"`
	ServerName  string   `json:"serverName,omitempty"`
	PasswordEnv string   `json:"passwordEnv,omitempty"` // env var holding the AUTH string
	Username    string   `json:"username,omitempty"`
	Timeout     Duration `json:"timeout,omitempty"`
}

// Duration is a time.Duration written as "90s" in YAML/JSON.
type Duration struct{ time.Duration }

// UnmarshalJSON accepts "90s" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: %w", s, err)
		}
		d.Duration = v
		return nil
	}
	var n float64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration must be a string like \"90s\" or a number of seconds, got %s", b)
	}
	d.Duration = time.Duration(n * float64(time.Second))
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// Defaults applied where a field is unset.
const (
	DefaultPort        = 6379
	DefaultConsecutive = 3
	DefaultInterval    = time.Second
	DefaultVerifyLimit = 2 * time.Minute
	DefaultCooldown    = 10 * time.Minute
	DefaultSettle      = 5 * time.Minute
	DefaultProbeLimit  = 2 * time.Second
)

// Load reads the configuration named by the environment.
func Load() (*Config, error) {
	var data []byte
	switch {
	case os.Getenv(EnvConfigInline) != "":
		data = []byte(os.Getenv(EnvConfigInline))
	case os.Getenv(EnvConfigFile) != "":
		b, err := os.ReadFile(os.Getenv(EnvConfigFile))
		if err != nil {
			return nil, fmt.Errorf("config: read %s: %w", EnvConfigFile, err)
		}
		data = b
	default:
		return nil, fmt.Errorf("config: set %s to a config file or %s to the config itself", EnvConfigFile, EnvConfigInline)
	}
	c, err := decode(data)
	if err != nil {
		return nil, err
	}
	// Overrides come before defaults, so records that inherit the project get
	// the overriding one (and a project given only by the env is enough).
	if p := os.Getenv(EnvProject); p != "" {
		c.Project = p
	}
	if t := os.Getenv(EnvResultsTopic); t != "" {
		c.ResultsTopic = t
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Parse decodes YAML or JSON strictly (unknown fields are errors), applies
// defaults and validates.
func Parse(data []byte) (*Config, error) {
	c, err := decode(data)
	if err != nil {
		return nil, err
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// decode parses YAML or JSON strictly, without defaults or validation.
func decode(data []byte) (*Config, error) {
	var c Config
	if err := DecodeStrict(data, &c); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &c, nil
}

// DecodeStrict decodes YAML or JSON into v through its JSON tags; an unknown
// field is an error, so a typo in a config file never passes silently.
func DecodeStrict(data []byte, v any) error {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return fmt.Errorf("not valid YAML/JSON: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func (c *Config) applyDefaults() {
	for i := range c.Records {
		r := &c.Records[i]
		r.Name = dnsrec.FQDN(r.Name)
		if r.Project == "" {
			r.Project = c.Project
		}
		if r.Port == 0 {
			r.Port = DefaultPort
		}
		if r.Verify.Consecutive == 0 {
			r.Verify.Consecutive = DefaultConsecutive
		}
		if r.Verify.Interval.Duration == 0 {
			r.Verify.Interval.Duration = DefaultInterval
		}
		if r.Verify.Timeout.Duration == 0 {
			r.Verify.Timeout.Duration = DefaultVerifyLimit
		}
		if r.Cooldown.Duration == 0 {
			r.Cooldown.Duration = DefaultCooldown
		}
		if r.Settle.Duration == 0 {
			r.Settle.Duration = DefaultSettle
		}
		if r.Redis.Timeout.Duration == 0 {
			r.Redis.Timeout.Duration = DefaultProbeLimit
		}
	}
}

// Validate reports every problem at once, joined.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Records) == 0 {
		errs = append(errs, errors.New("no records configured"))
	}
	seen := map[string]bool{}
	for i, r := range c.Records {
		where := fmt.Sprintf("records[%d] (%s)", i, r.Name)
		if seen[r.Name] {
			errs = append(errs, fmt.Errorf("%s: duplicate record name", where))
		}
		seen[r.Name] = true
		if err := r.validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

func (r Record) validate() error {
	var errs []error
	if r.Name == "." || strings.Contains(r.Name, "..") || strings.ContainsAny(r.Name, " /*") {
		errs = append(errs, fmt.Errorf("name %q is not a valid DNS name", r.Name))
	}
	if r.Zone == "" {
		errs = append(errs, errors.New("zone is required"))
	}
	if r.Project == "" {
		errs = append(errs, errors.New("project is required (per record or at the top)"))
	}
	for _, t := range []struct {
		n string
		v int64
	}{{"normalTTL", r.NormalTTL}, {"failoverTTL", r.FailoverTTL}} {
		if t.v < MinTTL || t.v > MaxTTL {
			errs = append(errs, fmt.Errorf("%s %d out of range [%d, %d]", t.n, t.v, MinTTL, MaxTTL))
		}
	}
	if r.FailoverTTL > r.NormalTTL {
		errs = append(errs, fmt.Errorf("failoverTTL %d must not exceed normalTTL %d", r.FailoverTTL, r.NormalTTL))
	}
	if r.Port < 1 || r.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d out of range", r.Port))
	}
	if len(r.Allow.Instances) == 0 && len(r.Allow.CIDRs) == 0 {
		errs = append(errs, errors.New("allow needs at least one instance or CIDR: an empty allowlist would refuse every target"))
	}
	for _, p := range r.Allow.CIDRs {
		if _, err := netip.ParsePrefix(p); err != nil {
			errs = append(errs, fmt.Errorf("allow.cidrs: %w", err))
		}
	}
	for _, in := range r.Allow.Instances {
		if !IsInstanceName(in) {
			errs = append(errs, fmt.Errorf("allow.instances: %q is not projects/P/locations/L/instances/I", in))
		}
	}
	for _, rs := range r.Resolvers {
		if _, err := netip.ParseAddrPort(rs); err != nil {
			errs = append(errs, fmt.Errorf("resolvers: %q is not IP:port: %w", rs, err))
		}
	}
	if r.Verify.Consecutive < 1 {
		errs = append(errs, errors.New("verify.consecutive must be at least 1"))
	}
	if r.Verify.Interval.Duration <= 0 || r.Verify.Timeout.Duration <= 0 {
		errs = append(errs, errors.New("verify.interval and verify.timeout must be positive"))
	}
	if r.Cooldown.Duration < 0 || r.Settle.Duration < 0 {
		errs = append(errs, errors.New("cooldown and settle must not be negative"))
	}
	return errors.Join(errs...)
}

// IsInstanceName reports whether s looks like a Memorystore instance resource name.
func IsInstanceName(s string) bool {
	p := strings.Split(s, "/")
	return len(p) == 6 && p[0] == "projects" && p[2] == "locations" && p[4] == "instances" &&
		p[1] != "" && p[3] != "" && p[5] != ""
}

// Record returns the configured record with that name (case-insensitive, dot optional).
func (c *Config) Record(name string) (*Record, bool) {
	n := dnsrec.FQDN(name)
	for i := range c.Records {
		if c.Records[i].Name == n {
			return &c.Records[i], true
		}
	}
	return nil, false
}

// LabelValue encodes a record name the way alert policy user labels carry it:
// lowercase, no trailing dot, dots as underscores (label values allow only [a-z0-9_-]).
func LabelValue(name string) string {
	return strings.ReplaceAll(strings.TrimSuffix(dnsrec.FQDN(name), "."), ".", "_")
}

// RecordByLabel finds the record whose LabelValue is v.
func (c *Config) RecordByLabel(v string) (*Record, bool) {
	v = strings.ToLower(strings.TrimSpace(v))
	for i := range c.Records {
		if LabelValue(c.Records[i].Name) == v || c.Records[i].Name == dnsrec.FQDN(v) {
			return &c.Records[i], true
		}
	}
	return nil, false
}
