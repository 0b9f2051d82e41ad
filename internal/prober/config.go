package prober

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"time"

	"github.com/dnsfailover/dnsfailover/internal/config"
	"github.com/dnsfailover/dnsfailover/internal/dnsrec"
	"github.com/dnsfailover/dnsfailover/internal/health"
)

// Defaults, chosen so that a primary lost for good is reported in about
// Failures x Interval (3 s) while a single lost probe or one replica that
// alone loses sight of Redis never is.
const (
	DefaultInterval       = time.Second
	DefaultFailures       = 3
	DefaultFreshIntervals = 3 // an observation older than this many intervals is ignored
	DefaultReplicas       = 3
	DefaultLeaseName      = "dnsfailover-prober"
	DefaultSentinelPoll   = 2 * time.Second
	DefaultLeaseDuration  = 15 * time.Second
	DefaultRenewDeadline  = 10 * time.Second
	DefaultRetryPeriod    = 2 * time.Second
	DefaultResolveTimeout = 500 * time.Millisecond
	// DefaultRequestsTopic matches the functions' trigger topic.
	DefaultRequestsTopic = "redis-failover-requests"
)

// Config is the prober's whole configuration (YAML or JSON, strict).
type Config struct {
	Project       string `json:"project"`
	RequestsTopic string `json:"requestsTopic,omitempty"`
	// Replicas is the number of prober replicas deployed. The default quorum
	// is a majority of this number, not of the replicas currently reporting:
	// two replicas out of three that died must not leave the third deciding.
	Replicas int `json:"replicas,omitempty"`
	Quorum   int `json:"quorum,omitempty"`
	// Interval between probes; ProbeTimeout bounds one probe (default half
	// the interval); Failures is how many consecutive failed probes each
	// quorum member must have seen; Freshness is how recent an observation
	// must be to count (default 3 intervals).
	Interval     config.Duration `json:"interval,omitzero"`
	ProbeTimeout config.Duration `json:"probeTimeout,omitzero"`
	Failures     int             `json:"failures,omitempty"`
	Freshness    config.Duration `json:"freshness,omitzero"`
	// LeaseName names the leader-election Lease; observation Leases are
	// LeaseName-obs-<identity>, the episode memory LeaseName-episodes.
	LeaseName      string         `json:"leaseName,omitempty"`
	LeaderElection LeaderElection `json:"leaderElection,omitzero"`
	Records        []Record       `json:"records"`
}

// LeaderElection tunes client-go's leaderelection (its defaults).
type LeaderElection struct {
	LeaseDuration config.Duration `json:"leaseDuration,omitzero"`
	RenewDeadline config.Duration `json:"renewDeadline,omitzero"`
	RetryPeriod   config.Duration `json:"retryPeriod,omitzero"`
}

// Record is one protected DNS name.
type Record struct {
	Name string `json:"name"`
	// Port is the Redis port of the record's targets (default 6379).
	Port    int     `json:"port,omitempty"`
	Primary Primary `json:"primary"`
	Redis   Redis   `json:"redis,omitzero"`
	// Quorum turns quorum probing off for this record when false (e.g. a
	// record that only follows Sentinel). Default true.
	Probe    *bool     `json:"probe,omitempty"`
	Sentinel *Sentinel `json:"sentinel,omitempty"`
}

// Primary says where the record's current primary is. Exactly one way:
//   - Resolvers: ask DNS what the record points at now (the default: the
//     prober follows every swap, whoever made it, and "the record changed"
//     ends an episode by itself);
//   - Instance: a Memorystore instance, resolved through the admin API;
//   - Endpoint: a fixed IP:port.
type Primary struct {
	Resolvers []string `json:"resolvers,omitempty"`
	Instance  string   `json:"instance,omitempty"`
	Endpoint  string   `json:"endpoint,omitempty"`
}

// Redis says how to probe (mirrors the functions' config).
type Redis struct {
	TLS         bool   `json:"tls,omitempty"`
	CAFile      string `json:"caFile,omitempty"`
	ServerName  string `json:"serverName,omitempty"`
	PasswordEnv string `json:"passwordEnv,omitempty"`
	Username    string `json:"username,omitempty"`
}

// Sentinel makes the prober follow Redis Sentinel's decisions for the record.
type Sentinel struct {
	MasterName  string          `json:"masterName"`
	Addrs       []string        `json:"addrs"`
	PasswordEnv string          `json:"passwordEnv,omitempty"`
	Poll        config.Duration `json:"poll,omitzero"`
}

// ProbeEnabled reports whether the record is probed by the quorum.
func (r Record) ProbeEnabled() bool { return r.Probe == nil || *r.Probe }

// ProbeOptions builds health.ProbeOptions, reading the password from the
// environment variable named in the config.
func (r Record) ProbeOptions(timeout time.Duration) health.ProbeOptions {
	o := health.ProbeOptions{
		TLS: r.Redis.TLS, CAFile: r.Redis.CAFile, ServerName: r.Redis.ServerName,
		Username: r.Redis.Username, Timeout: timeout,
	}
	if r.Redis.PasswordEnv != "" {
		o.Password = os.Getenv(r.Redis.PasswordEnv)
	}
	return o
}

// Label is the record as alert labels and request ids carry it.
func (r Record) Label() string { return config.LabelValue(r.Name) }

// Load reads the config file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("prober config: %w", err)
	}
	return Parse(data)
}

// Parse decodes YAML or JSON strictly, applies defaults and validates.
func Parse(data []byte) (*Config, error) {
	var c Config
	if err := config.DecodeStrict(data, &c); err != nil {
		return nil, fmt.Errorf("prober config: %w", err)
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) applyDefaults() {
	if c.RequestsTopic == "" {
		c.RequestsTopic = DefaultRequestsTopic
	}
	if c.Replicas == 0 {
		c.Replicas = DefaultReplicas
	}
	if c.Quorum == 0 {
		c.Quorum = c.Replicas/2 + 1
	}
	if c.Interval.Duration == 0 {
		c.Interval.Duration = DefaultInterval
	}
	if c.ProbeTimeout.Duration == 0 {
		c.ProbeTimeout.Duration = c.Interval.Duration / 2
	}
	if c.Failures == 0 {
		c.Failures = DefaultFailures
	}
	if c.Freshness.Duration == 0 {
		c.Freshness.Duration = DefaultFreshIntervals * c.Interval.Duration
	}
	if c.LeaseName == "" {
		c.LeaseName = DefaultLeaseName
	}
	le := &c.LeaderElection
	if le.LeaseDuration.Duration == 0 {
		le.LeaseDuration.Duration = DefaultLeaseDuration
	}
	if le.RenewDeadline.Duration == 0 {
		le.RenewDeadline.Duration = DefaultRenewDeadline
	}
	if le.RetryPeriod.Duration == 0 {
		le.RetryPeriod.Duration = DefaultRetryPeriod
	}
	for i := range c.Records {
		r := &c.Records[i]
		r.Name = dnsrec.FQDN(r.Name)
		if r.Port == 0 {
			r.Port = health.DefaultRedisPort
		}
		if r.Sentinel != nil && r.Sentinel.Poll.Duration == 0 {
			r.Sentinel.Poll.Duration = DefaultSentinelPoll
		}
	}
}

var (
	topicRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._~%+-]{2,254}$`)
	// Lease names are DNS subdomains; ours get suffixes, so keep room.
	leaseRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$`)
)

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Project == "" {
		add("project is required (the requests topic's project)")
	}
	if !topicRe.MatchString(c.RequestsTopic) {
		add("requestsTopic %q is not a Pub/Sub topic id", c.RequestsTopic)
	}
	if c.Replicas < 1 {
		add("replicas %d must be at least 1", c.Replicas)
	}
	if c.Quorum < 1 || c.Quorum > c.Replicas {
		add("quorum %d must be between 1 and replicas (%d)", c.Quorum, c.Replicas)
	} else if c.Replicas > 1 && c.Quorum < 2 {
		add("quorum %d would let one replica that alone loses sight of Redis start a failover; use at least 2", c.Quorum)
	}
	if c.Interval.Duration < 50*time.Millisecond {
		add("interval %s is below 50ms", c.Interval.Duration)
	}
	if c.ProbeTimeout.Duration <= 0 || c.ProbeTimeout.Duration > c.Interval.Duration {
		add("probeTimeout %s must be positive and at most the interval %s", c.ProbeTimeout.Duration, c.Interval.Duration)
	}
	if c.Failures < 1 {
		add("failures %d must be at least 1", c.Failures)
	}
	if c.Freshness.Duration < c.Interval.Duration {
		add("freshness %s must be at least the interval %s", c.Freshness.Duration, c.Interval.Duration)
	}
	if !leaseRe.MatchString(c.LeaseName) {
		add("leaseName %q: want lowercase letters, digits and '-', at most 40 characters", c.LeaseName)
	}
	le := c.LeaderElection
	if le.LeaseDuration.Duration <= le.RenewDeadline.Duration || le.RenewDeadline.Duration <= le.RetryPeriod.Duration || le.RetryPeriod.Duration <= 0 {
		add("leaderElection: want leaseDuration > renewDeadline > retryPeriod > 0")
	}
	if len(c.Records) == 0 {
		add("no records configured")
	}
	seen := map[string]bool{}
	for i, r := range c.Records {
		if seen[r.Name] {
			add("records[%d] (%s): duplicate record", i, r.Name)
		}
		seen[r.Name] = true
		if err := r.validate(); err != nil {
			add("records[%d] (%s): %w", i, r.Name, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("prober config: %w", err)
	}
	return nil
}

func (r Record) validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if r.Name == "." || len(r.Name) > 254 || !recordNameRe.MatchString(r.Name) {
		add("name %q is not a DNS name", r.Name)
	}
	if r.Port < 1 || r.Port > 65535 {
		add("port %d out of range 1-65535", r.Port)
	}
	ways := 0
	p := r.Primary
	if len(p.Resolvers) > 0 {
		ways++
		for _, rs := range p.Resolvers {
			if _, err := netip.ParseAddrPort(rs); err != nil {
				add("primary.resolvers: %q is not IP:port", rs)
			}
		}
	}
	if p.Instance != "" {
		ways++
		if err := health.ValidateInstanceName(p.Instance); err != nil {
			add("primary.instance: %w", err)
		}
	}
	if p.Endpoint != "" {
		ways++
		if _, err := netip.ParseAddrPort(p.Endpoint); err != nil {
			add("primary.endpoint: %q is not IP:port", p.Endpoint)
		}
	}
	if ways != 1 && r.ProbeEnabled() {
		add("primary: set exactly one of resolvers (follow the record over DNS), instance or endpoint")
	}
	if ways > 1 {
		add("primary: resolvers, instance and endpoint are exclusive")
	}
	if !r.ProbeEnabled() && r.Sentinel == nil {
		add("probe is off and no sentinel is configured: nothing to do for this record")
	}
	if s := r.Sentinel; s != nil {
		if s.MasterName == "" {
			add("sentinel.masterName is required")
		}
		if len(s.Addrs) == 0 {
			add("sentinel.addrs needs at least one Sentinel host:port")
		}
		for _, a := range s.Addrs {
			if _, err := netip.ParseAddrPort(a); err != nil {
				add("sentinel.addrs: %q is not IP:port", a)
			}
		}
		if s.Poll.Duration < 100*time.Millisecond {
			add("sentinel.poll %s is below 100ms", s.Poll.Duration)
		}
	}
	return errors.Join(errs...)
}

var recordNameRe = regexp.MustCompile(`^([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)+$`)
