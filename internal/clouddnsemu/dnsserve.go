package clouddnsemu

import (
	"strings"

	"github.com/miekg/dns"
)

// maxCNAMEChain bounds in-zone CNAME chasing.
const maxCNAMEChain = 8

// dnsHandler answers authoritatively from the served (done) version of each zone.
type dnsHandler struct {
	st *store
}

func (h *dnsHandler) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := h.answer(r)
	if w.LocalAddr().Network() == "udp" {
		size := dns.MinMsgSize
		if opt := r.IsEdns0(); opt != nil && int(opt.UDPSize()) > size {
			size = int(opt.UDPSize())
		}
		m.Truncate(size)
	}
	_ = w.WriteMsg(m)
}

func (h *dnsHandler) answer(r *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	if r.Opcode != dns.OpcodeQuery {
		return m.SetRcode(r, dns.RcodeNotImplemented)
	}
	if len(r.Question) != 1 {
		return m.SetRcode(r, dns.RcodeFormatError)
	}
	m.SetReply(r)
	m.RecursionAvailable = false
	if opt := r.IsEdns0(); opt != nil {
		m.SetEdns0(1232, false)
	}
	q := r.Question[0]
	if q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY {
		m.Rcode = dns.RcodeRefused
		return m
	}
	qname := strings.ToLower(q.Name)
	h.st.mu.RLock()
	z := h.st.zoneForQuery(qname)
	var v *version
	var origin string
	if z != nil {
		v, origin = z.served(h.st.now()), z.dnsName
	}
	h.st.mu.RUnlock()
	if v == nil { // versions are immutable, so reading v after unlock is safe
		m.Rcode = dns.RcodeRefused
		return m
	}
	m.Authoritative = true
	resolve(m, v, origin, qname, q.Qtype, 0)
	return m
}

// resolve appends the answer for qname/qtype to m, following in-zone CNAMEs.
func resolve(m *dns.Msg, v *version, origin, qname string, qtype uint16, depth int) {
	if ns := delegation(v, origin, qname, qtype); ns != nil {
		m.Authoritative = depth > 0
		m.Ns = append(m.Ns, ns.rrs...)
		m.Extra = append(m.Extra, glue(v, ns)...)
		return
	}
	owner := qname
	if !v.names[qname] {
		owner = wildcardFor(v, origin, qname)
		if owner == "" {
			m.Rcode = dns.RcodeNameError
			m.Ns = append(m.Ns, negativeSOA(v, origin))
			return
		}
	}
	if cname := v.sets[rrKey{owner, "CNAME"}]; cname != nil && qtype != dns.TypeCNAME {
		rr := withOwner(cname.rrs[0], qname)
		m.Answer = append(m.Answer, rr)
		target := strings.ToLower(rr.(*dns.CNAME).Target)
		if depth < maxCNAMEChain && dns.IsSubDomain(origin, target) {
			resolve(m, v, origin, target, qtype, depth+1)
		}
		return
	}
	var sets []*rrset
	if qtype == dns.TypeANY {
		for _, set := range sortedSets(v.sets) {
			if set.Name == owner {
				sets = append(sets, set)
			}
		}
	} else if set := v.sets[rrKey{owner, dns.TypeToString[qtype]}]; set != nil {
		sets = append(sets, set)
	}
	for _, set := range sets {
		for _, rr := range set.rrs {
			m.Answer = append(m.Answer, withOwner(rr, qname))
		}
	}
	if len(sets) == 0 { // NODATA
		m.Ns = append(m.Ns, negativeSOA(v, origin))
	}
}

// delegation returns the NS set of a zone cut at or above qname (below the apex), if any.
// A DS query for the cut itself is answered from this side, as the parent does.
func delegation(v *version, origin, qname string, qtype uint16) *rrset {
	var cut *rrset
	for n := qname; n != origin && n != "."; n = parentName(n) {
		if ns := v.sets[rrKey{n, "NS"}]; ns != nil {
			if n == qname && qtype == dns.TypeDS {
				continue
			}
			cut = ns // keep walking: the highest cut wins
		}
	}
	return cut
}

// glue returns in-zone A/AAAA records of the delegated name servers.
func glue(v *version, ns *rrset) []dns.RR {
	var out []dns.RR
	for _, rr := range ns.rrs {
		host := strings.ToLower(rr.(*dns.NS).Ns)
		for _, t := range []string{"A", "AAAA"} {
			if set := v.sets[rrKey{host, t}]; set != nil {
				out = append(out, set.rrs...)
			}
		}
	}
	return out
}

// wildcardFor returns the wildcard owner ("*.<closest encloser>") that covers qname, or "".
func wildcardFor(v *version, origin, qname string) string {
	for n := parentName(qname); ; n = parentName(n) {
		if v.names[n] {
			if w := "*." + n; v.names[w] {
				return w
			}
			return ""
		}
		if n == origin || n == "." {
			return ""
		}
	}
}

// negativeSOA is the apex SOA with the negative-caching TTL of RFC 2308: min(SOA TTL, MINIMUM).
func negativeSOA(v *version, origin string) dns.RR {
	soa := dns.Copy(v.sets[rrKey{origin, "SOA"}].rrs[0]).(*dns.SOA)
	soa.Hdr.Ttl = min(soa.Hdr.Ttl, soa.Minttl)
	return soa
}

// withOwner copies rr, renaming it to name (wildcard synthesis and case preservation).
func withOwner(rr dns.RR, name string) dns.RR {
	c := dns.Copy(rr)
	c.Header().Name = name
	return c
}
