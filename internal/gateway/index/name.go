package index

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// WireName converts a domain name in presentation format ("www.Example.com"
// or "www.example.com.") to lowercase uncompressed wire format, the key used
// throughout the index and the query path.
func WireName(name string) (string, error) {
	fqdn := dns.Fqdn(strings.ToLower(strings.TrimSpace(name)))
	if _, ok := dns.IsDomainName(fqdn); !ok {
		return "", fmt.Errorf("invalid domain name %q", name)
	}
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(fqdn, buf, 0, nil, false)
	if err != nil {
		return "", fmt.Errorf("pack domain name %q: %w", name, err)
	}
	return string(buf[:n]), nil
}

// PresentationName converts a wire name back to "a.b.c." form (for logs and
// tests).
func PresentationName(wire string) string {
	name, _, err := dns.UnpackDomainName([]byte(wire), 0)
	if err != nil {
		return fmt.Sprintf("<invalid %q>", wire)
	}
	return name
}

// parent returns the wire name with its first label removed ("" for the root).
func parent(wire string) string {
	if len(wire) <= 1 {
		return ""
	}
	return wire[1+int(wire[0]):]
}

// isSubdomain reports whether wire name child equals or is below parent.
func isSubdomain(child, zone string) bool {
	for n := child; n != ""; n = parent(n) {
		if n == zone {
			return true
		}
	}
	return false
}
