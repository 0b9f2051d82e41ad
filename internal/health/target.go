// Package health answers "is this target fit to receive traffic?": it
// resolves a target (Memorystore instance or literal IP), checks it against
// the record's allowlist and probes the Redis endpoint behind it.
package health

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// DefaultRedisPort is used when neither the target nor the caller names a port.
const DefaultRedisPort = 6379

// Target as named by a user or config: a Memorystore instance resource name
// (projects/P/locations/R/instances/I) or a literal IP (v4 or v6), optional port.
// Exactly one of Instance and Addr is set. Port is 0 for instances (the
// instance reports its own port).
type Target struct {
	Instance string     `json:"instance,omitempty"`
	Addr     netip.Addr `json:"addr,omitzero"`
	Port     int        `json:"port,omitempty"`
}

// IsInstance reports whether the target names a Memorystore instance.
func (t Target) IsInstance() bool { return t.Instance != "" }

// String returns the target in the form ParseTarget accepts.
func (t Target) String() string {
	if t.Instance != "" {
		return t.Instance
	}
	if !t.Addr.IsValid() {
		return ""
	}
	if t.Port == 0 {
		return t.Addr.String()
	}
	return netip.AddrPortFrom(t.Addr, uint16(t.Port)).String()
}

var (
	projectRe  = regexp.MustCompile(`^[a-z0-9][a-z0-9.:-]{0,62}$`)
	locationRe = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	instanceRe = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$`)
)

// ValidateInstanceName checks that name has the shape
// projects/{project}/locations/{region}/instances/{id}.
func ValidateInstanceName(name string) error {
	parts := strings.Split(name, "/")
	if len(parts) != 6 || parts[0] != "projects" || parts[2] != "locations" || parts[4] != "instances" {
		return fmt.Errorf("instance name %q: want projects/PROJECT/locations/REGION/instances/ID", name)
	}
	if !projectRe.MatchString(parts[1]) {
		return fmt.Errorf("instance name %q: project %q is not a valid project id", name, parts[1])
	}
	if !locationRe.MatchString(parts[3]) {
		return fmt.Errorf("instance name %q: location %q is not a valid region", name, parts[3])
	}
	if !instanceRe.MatchString(parts[5]) {
		return fmt.Errorf("instance name %q: id %q must be lowercase letters, digits and hyphens, start with a letter, at most 40 characters", name, parts[5])
	}
	return nil
}

// ParseTarget parses "projects/P/locations/R/instances/I", "10.0.0.5",
// "10.0.0.5:6378", "::1" or "[::1]:6379". Hostnames are refused on purpose:
// a name could resolve anywhere, which is the DNS-rebinding risk the
// allowlist exists to close. defaultPort (0 means 6379) applies to IPs given
// without a port.
func ParseTarget(s string, defaultPort int) (Target, error) {
	if defaultPort == 0 {
		defaultPort = DefaultRedisPort
	}
	if defaultPort < 1 || defaultPort > 65535 {
		return Target{}, fmt.Errorf("default port %d out of range 1-65535", defaultPort)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return Target{}, errors.New("empty target: want an instance name (projects/P/locations/R/instances/I) or an IP address")
	}
	if strings.HasPrefix(s, "projects/") {
		if err := ValidateInstanceName(s); err != nil {
			return Target{}, fmt.Errorf("target: %w", err)
		}
		return Target{Instance: s}, nil
	}
	// A bare address (v4, or v6 without brackets).
	if a, err := netip.ParseAddr(s); err == nil {
		if err := checkTargetAddr(s, a); err != nil {
			return Target{}, err
		}
		return Target{Addr: a.Unmap(), Port: defaultPort}, nil
	}
	host, portStr, err := net.SplitHostPort(s)
	if err != nil {
		return Target{}, notAnAddress(s)
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return Target{}, notAnAddress(s)
	}
	if a.Is6() && !a.Is4In6() && !strings.HasPrefix(s, "[") {
		return Target{}, fmt.Errorf("target %q: put IPv6 addresses in brackets when adding a port, e.g. [::1]:6379", s)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return Target{}, fmt.Errorf("target %q: port %q is not a number", s, portStr)
	}
	if port < 1 || port > 65535 {
		return Target{}, fmt.Errorf("target %q: port %d out of range 1-65535", s, port)
	}
	if err := checkTargetAddr(s, a); err != nil {
		return Target{}, err
	}
	return Target{Addr: a.Unmap(), Port: port}, nil
}

func notAnAddress(s string) error {
	return fmt.Errorf("target %q is neither an instance name (projects/P/locations/R/instances/I) nor an IP address with optional port; hostnames are not accepted because they could resolve anywhere", s)
}

func checkTargetAddr(s string, a netip.Addr) error {
	switch {
	case a.Zone() != "":
		return fmt.Errorf("target %q: IPv6 zones are not allowed in a DNS record", s)
	case a.IsUnspecified():
		return fmt.Errorf("target %q: the unspecified address cannot receive traffic", s)
	case a.IsMulticast():
		return fmt.Errorf("target %q: multicast addresses cannot receive traffic", s)
	case a.Unmap() == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return fmt.Errorf("target %q: the broadcast address cannot receive traffic", s)
	}
	return nil
}
