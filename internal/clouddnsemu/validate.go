package clouddnsemu

import (
	"fmt"
	"math"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// supportedTypes are the record types Cloud DNS accepts in a record set.
var supportedTypes = map[string]bool{
	"A": true, "AAAA": true, "CAA": true, "CNAME": true, "DNSKEY": true, "DS": true, "HTTPS": true,
	"IPSECKEY": true, "MX": true, "NAPTR": true, "NS": true, "PTR": true, "SOA": true, "SPF": true,
	"SRV": true, "SSHFP": true, "SVCB": true, "TLSA": true, "TXT": true,
}

// rrsetInput is a record set as a client sends it.
type rrsetInput struct {
	Kind          string          `json:"kind,omitempty"`
	Name          string          `json:"name"`
	Type          string          `json:"type"`
	TTL           *int64          `json:"ttl,omitempty"`
	Rrdatas       []string        `json:"rrdatas"`
	RoutingPolicy *map[string]any `json:"routingPolicy,omitempty"`
}

// normalizeName lower-cases a DNS name; the API requires a fully qualified name.
func normalizeName(name string) string { return strings.ToLower(name) }

// validateRRSet checks one record set against zone origin and parses its rrdatas.
// field names the entity in messages, e.g. "entity.change.additions[0]".
func validateRRSet(origin, field string, in rrsetInput) (*rrset, *apiError) {
	name := normalizeName(in.Name)
	typ := strings.ToUpper(in.Type)
	switch {
	case name == "":
		return nil, errInvalid("Required value for '%s.name' is missing.", field)
	case !strings.HasSuffix(name, ".") || !validDomain(name):
		return nil, errInvalid("Invalid value for '%s.name': '%s'", field, in.Name)
	case !dns.IsSubDomain(origin, name):
		return nil, errInvalid("The resource '%s' named '%s (%s)' is outside the zone '%s'", field, in.Name, typ, origin)
	case typ == "":
		return nil, errInvalid("Required value for '%s.type' is missing.", field)
	case !supportedTypes[typ]:
		return nil, errInvalid("Invalid value for '%s.type': '%s'", field, in.Type)
	case in.RoutingPolicy != nil:
		return nil, errInvalid("Invalid value for '%s.routingPolicy': routing policies are not supported by the emulator", field)
	}
	var ttl int64
	if in.TTL != nil {
		ttl = *in.TTL
	}
	if ttl < 0 || ttl > math.MaxInt32 {
		return nil, errInvalid("Invalid value for '%s.ttl': '%d'", field, ttl)
	}
	if len(in.Rrdatas) == 0 {
		return nil, errInvalid("The resource record set '%s' is invalid because it has no rrdatas.", field)
	}
	out := &rrset{Name: name, Type: typ, TTL: ttl, Rrdatas: append([]string(nil), in.Rrdatas...)}
	seen := map[string]bool{}
	for i, data := range in.Rrdatas {
		rr, err := parseRRData(name, typ, ttl, data)
		if err != nil {
			return nil, errInvalid("Invalid value for '%s.rrdata[%d]': '%s' (%v)", field, i, data, err)
		}
		c := canonicalRData(rr)
		if seen[c] {
			return nil, errInvalid("The resource record set '%s' is invalid because it contains duplicate rrdata '%s'.", field, data)
		}
		seen[c] = true
		out.rrs = append(out.rrs, rr)
	}
	return out, nil
}

func validDomain(name string) bool {
	_, ok := dns.IsDomainName(name)
	return ok && !strings.Contains(name, "..") && len(name) <= 255
}

// parseRRData parses one rrdata string as miekg/dns would read it from a zone file.
func parseRRData(name, typ string, ttl int64, data string) (dns.RR, error) {
	if strings.TrimSpace(data) == "" || strings.ContainsAny(data, "\n\r") {
		return nil, fmt.Errorf("empty or multi-line rrdata")
	}
	switch typ {
	case "A":
		ip, err := netip.ParseAddr(data)
		if err != nil || !ip.Is4() {
			return nil, fmt.Errorf("not an IPv4 address")
		}
	case "AAAA":
		ip, err := netip.ParseAddr(data)
		if err != nil || !ip.Is6() || ip.Is4In6() {
			return nil, fmt.Errorf("not an IPv6 address")
		}
	}
	rr, err := dns.NewRR(fmt.Sprintf("%s %d IN %s %s", name, ttl, typ, data))
	if err != nil {
		return nil, err
	}
	if rr == nil || dns.TypeToString[rr.Header().Rrtype] != typ {
		return nil, fmt.Errorf("does not parse as %s", typ)
	}
	return rr, nil
}

// canonicalRData is the rdata part of rr in presentation form, used to compare rrdatas as a set.
func canonicalRData(rr dns.RR) string {
	return strings.TrimPrefix(rr.String(), rr.Header().String())
}

// sameRRSet reports whether two record sets match exactly: TTL and rrdatas as a set.
func sameRRSet(a, b *rrset) bool {
	if a.Name != b.Name || a.Type != b.Type || a.TTL != b.TTL || len(a.rrs) != len(b.rrs) {
		return false
	}
	set := make(map[string]bool, len(a.rrs))
	for _, rr := range a.rrs {
		set[canonicalRData(rr)] = true
	}
	for _, rr := range b.rrs {
		if !set[canonicalRData(rr)] {
			return false
		}
	}
	return true
}
