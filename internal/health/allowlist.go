package health

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Allowlist says which targets a record may point at. A target is eligible
// only if it is a listed Memorystore instance or its address is inside a
// listed CIDR. This is the project's answer to the DNS-rebinding concern
// (AVD-KSV-0108): nobody can point the name at an arbitrary address through
// this tool.
type Allowlist struct {
	Instances []string
	CIDRs     []netip.Prefix
}

// ParseAllowlist validates instance names and CIDRs. A bare IP is taken as a
// single-address prefix. Prefixes with host bits set and /0 prefixes are
// refused: both usually mean a typo that would open the allowlist wide.
func ParseAllowlist(instances, cidrs []string) (Allowlist, error) {
	var a Allowlist
	var errs []error
	for _, name := range instances {
		name = strings.TrimSpace(name)
		if err := ValidateInstanceName(name); err != nil {
			errs = append(errs, fmt.Errorf("allowlist: %w", err))
			continue
		}
		if !slices.Contains(a.Instances, name) {
			a.Instances = append(a.Instances, name)
		}
	}
	for _, s := range cidrs {
		p, err := parsePrefix(strings.TrimSpace(s))
		if err != nil {
			errs = append(errs, fmt.Errorf("allowlist: %w", err))
			continue
		}
		if !slices.Contains(a.CIDRs, p) {
			a.CIDRs = append(a.CIDRs, p)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Allowlist{}, err
	}
	return a, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		addr, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("CIDR %q: not a prefix (want e.g. 10.0.0.0/24 or fd00::/64) nor an IP", s)
		}
		if addr.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("CIDR %q: IPv6 zones are not allowed", s)
		}
		addr = addr.Unmap()
		return netip.PrefixFrom(addr, addr.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("CIDR %q: %w", s, err)
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("CIDR %q: write IPv4-mapped prefixes as plain IPv4", s)
	}
	if p.Bits() == 0 {
		return netip.Prefix{}, fmt.Errorf("CIDR %q: a /0 prefix would allow every address", s)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("CIDR %q has host bits set: did you mean %s or %s/%d?", s, p.Masked(), p.Addr(), p.Addr().BitLen())
	}
	return p, nil
}

// Empty reports whether nothing at all is allowed.
func (a Allowlist) Empty() bool { return len(a.Instances) == 0 && len(a.CIDRs) == 0 }

// HasInstance reports whether name is listed.
func (a Allowlist) HasInstance(name string) bool { return slices.Contains(a.Instances, name) }

// Contains reports whether addr is inside one of the CIDRs.
func (a Allowlist) Contains(addr netip.Addr) bool {
	if !addr.IsValid() {
		return false
	}
	addr = addr.Unmap().WithZone("")
	for _, p := range a.CIDRs {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Check returns nil if t may receive traffic. resolvedAddr is the address
// the record would point at: the instance's host for instance targets; for a
// literal IP it may be left zero (t.Addr is used) and must equal t.Addr if set.
func (a Allowlist) Check(t Target, resolvedAddr netip.Addr) error {
	if a.Empty() {
		return fmt.Errorf("%s is not allowed: the allowlist is empty", t)
	}
	if t.IsInstance() {
		if a.HasInstance(t.Instance) {
			return nil
		}
		if !resolvedAddr.IsValid() {
			return fmt.Errorf("instance %s is not in the allowlist and has no address to match against the allowed CIDRs", t.Instance)
		}
		if a.Contains(resolvedAddr) {
			return nil
		}
		return fmt.Errorf("instance %s is not in the allowlist and its address %s is outside the allowlist (CIDRs %s)", t.Instance, resolvedAddr, a.cidrList())
	}
	if !t.Addr.IsValid() {
		return errors.New("target has neither an instance name nor an address")
	}
	if resolvedAddr.IsValid() && resolvedAddr.Unmap() != t.Addr.Unmap() {
		return fmt.Errorf("target %s resolved to a different address %s", t.Addr, resolvedAddr)
	}
	if a.Contains(t.Addr) {
		return nil
	}
	return fmt.Errorf("%s is outside the allowlist (CIDRs %s)", t.Addr, a.cidrList())
}

func (a Allowlist) cidrList() string {
	if len(a.CIDRs) == 0 {
		return "none"
	}
	s := make([]string, len(a.CIDRs))
	for i, p := range a.CIDRs {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}
