package gateway

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/dnsfailover/dnsfailover/internal/gateway/index"
	"github.com/dnsfailover/dnsfailover/internal/gateway/source"
)

// ParseNameServer parses "ns1.gw.example.com=192.0.2.1,2001:db8::1" (an NS
// name with its glue addresses) or a bare name for an out-of-zone server.
func ParseNameServer(s string) (index.NameServer, error) {
	name, addrs, _ := strings.Cut(strings.TrimSpace(s), "=")
	if name == "" {
		return index.NameServer{}, fmt.Errorf("name server %q: empty name", s)
	}
	if _, err := index.WireName(name); err != nil {
		return index.NameServer{}, fmt.Errorf("name server %q: %w", s, err)
	}
	ns := index.NameServer{Name: name}
	if addrs == "" {
		return ns, nil
	}
	for a := range strings.SplitSeq(addrs, ",") {
		ip, err := netip.ParseAddr(strings.TrimSpace(a))
		if err != nil {
			return index.NameServer{}, fmt.Errorf("name server %q: address: %w", s, err)
		}
		ns.Addrs = append(ns.Addrs, ip)
	}
	return ns, nil
}

// ParseSources parses a comma-separated list of source kinds.
func ParseSources(s string) ([]source.Kind, error) {
	var out []source.Kind
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		k, err := source.ParseKind(part)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, errors.New("no sources enabled")
	}
	return out, nil
}

// SplitList splits a comma-separated flag value, dropping empty items.
func SplitList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
